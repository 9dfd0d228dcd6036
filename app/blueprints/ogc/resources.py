"""The landing page, conformance, the OpenAPI document, the collections and their queryables."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask import url_for
from sqlalchemy import Connection

from app.blueprints.ogc import bp
from app.blueprints.ogc.formats import GEOJSON
from app.blueprints.ogc.formats import HTML
from app.blueprints.ogc.formats import JSON
from app.blueprints.ogc.formats import OPENAPI
from app.blueprints.ogc.formats import SCHEMA
from app.blueprints.ogc.formats import crs_offer
from app.blueprints.ogc.formats import link
from app.blueprints.ogc.formats import public_view
from app.blueprints.ogc.formats import reading
from app.blueprints.ogc.formats import respond
from app.blueprints.ogc.formats import self_links
from app.blueprints.ogc.openapi import openapi_document
from app.problems import ProblemError
from registry.features.collections import COLLECTIONS
from registry.features.collections import Collection
from registry.features.crs import Crs
from registry.features.crs import storage_crs_uri
from registry.features.queries import collection_extent
from registry.features.schema import queryables

_FEATURES = "http://www.opengis.net/spec/ogcapi-features-{}/1.0/conf/{}"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/{}"
CONFORMANCE: tuple[str, ...] = (
    _FEATURES.format(1, "core"),
    _FEATURES.format(1, "geojson"),
    _FEATURES.format(1, "html"),
    _FEATURES.format(1, "oas30"),
    _FEATURES.format(2, "crs"),
    _FEATURES.format(3, "queryables"),
    _FEATURES.format(3, "queryables-query-parameters"),
    _FEATURES.format(3, "filter"),
    _FEATURES.format(3, "features-filter"),
    _CQL2.format("cql2-text"),
    _CQL2.format("cql2-json"),
    _CQL2.format("basic-cql2"),
    _CQL2.format("advanced-comparison-operators"),
    _CQL2.format("basic-spatial-functions"),
    _FEATURES.format(4, "create-replace-delete"),
    _FEATURES.format(4, "update"),
    _FEATURES.format(4, "features"),
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
)
TITLE = "City Asset Registry: OGC API – Features"


def find_collection(collection_id: str) -> Collection:
    collection = COLLECTIONS.get(collection_id)
    if collection is None:
        raise ProblemError(
            404,
            "Not found",
            f"There is no collection {collection_id[:60]!r}; the collections are "
            + ", ".join(COLLECTIONS)
            + ".",
        )
    return collection


@bp.get("")
@bp.get("/")
def landing() -> Response:
    public_view()
    body = {
        "title": TITLE,
        "description": "The city's parcels, buildings, leased parcels and council districts.",
        "links": [
            *self_links("ogc.landing"),
            link("service-desc", url_for("ogc.api", _external=True), OPENAPI, "OpenAPI 3.0"),
            link("service-doc", url_for("ogc.api", _external=True, f="html"), HTML, "API docs"),
            link("conformance", url_for("ogc.conformance", _external=True), JSON, "Conformance"),
            link("data", url_for("ogc.collections", _external=True), JSON, "Collections"),
        ],
    }
    return respond(body, "landing.html")


@bp.get("/conformance")
def conformance() -> Response:
    public_view()
    return respond(
        {"conformsTo": list(CONFORMANCE), "links": self_links("ogc.conformance")},
        "conformance.html",
    )


@bp.get("/api")
def api() -> Response:
    public_view()
    offered = crs_offer()
    document = openapi_document(url_for("ogc.landing", _external=True).rstrip("/"), offered)
    return respond(document, "api.html", OPENAPI)


def _collection_body(
    collection: Collection, offered: tuple[Crs, ...], connection: Connection
) -> dict[str, Any]:
    items_url = url_for("ogc.items", collection_id=collection.id, _external=True)
    body: dict[str, Any] = {
        "id": collection.id,
        "title": collection.title,
        "description": collection.description,
        "itemType": "feature",
        "crs": [crs.uri for crs in offered],
        "storageCrs": storage_crs_uri(),
        "links": [
            link(
                "self",
                url_for("ogc.collection", collection_id=collection.id, _external=True),
                JSON,
                collection.title,
            ),
            link("items", items_url, GEOJSON, f"{collection.title} as GeoJSON"),
            link("items", items_url + "?f=html", HTML, f"{collection.title} as HTML"),
            link(
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                url_for("ogc.collection_queryables", collection_id=collection.id, _external=True),
                SCHEMA,
                "Queryables",
            ),
        ],
    }
    extent = collection_extent(connection, collection)
    if extent is not None:
        body["extent"] = {"spatial": {"bbox": [list(extent)], "crs": offered[0].uri}}
    return body


@bp.get("/collections")
def collections() -> Response:
    public_view()
    offered = crs_offer()
    with reading() as connection:
        listed = [_collection_body(c, offered, connection) for c in COLLECTIONS.values()]
    body = {
        "links": self_links("ogc.collections"),
        "crs": [crs.uri for crs in offered],
        "collections": listed,
    }
    return respond(body, "collections.html")


@bp.get("/collections/<collection_id>")
def collection(collection_id: str) -> Response:
    found = find_collection(collection_id)
    public_view()
    with reading() as connection:
        body = _collection_body(found, crs_offer(), connection)
    return respond(body, "collection.html")


@bp.get("/collections/<collection_id>/queryables")
def collection_queryables(collection_id: str) -> Response:
    found = find_collection(collection_id)
    url = url_for("ogc.collection_queryables", collection_id=found.id, _external=True)
    return respond(queryables(found, public_view(), url), "queryables.html", SCHEMA)
