"""The OpenAPI 3.0 document of `/ogc` (`/ogc/api`), built by `openapi_document` alone.

It describes the read side (Parts 1–3) and Part 4's writes on the parcels collection (create,
replace, update, delete; a bearer token of an editor, `If-Match` on changes), so that one
document is true to both modules. GDAL reads `limit`'s default and maximum from it.
"""

from __future__ import annotations

from typing import Any

from registry.features.collections import BOOLEAN
from registry.features.collections import COLLECTIONS
from registry.features.collections import DATE
from registry.features.collections import DATETIME
from registry.features.collections import INTEGER
from registry.features.collections import NUMBER
from registry.features.collections import Collection
from registry.features.cql2 import FILTER_LANGUAGES
from registry.features.crs import Crs
from registry.features.queries import DEFAULT_LIMIT
from registry.features.queries import MAX_LIMIT

#: collections whose items Part 4 writes
WRITABLE = ("parcels",)


def _parameter(name: str, where: str, schema: dict[str, Any], description: str, **extra: Any):
    return {"name": name, "in": where, "schema": schema, "description": description, **extra}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _responses(ok: str, media: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {media: {"schema": schema or {"type": "object"}}}
    content["text/html"] = {"schema": {"type": "string"}}
    return {
        "200": {"description": ok, "content": content},
        "400": {"$ref": "#/components/responses/Problem"},
        "401": {"$ref": "#/components/responses/Problem"},
    }


def _parameters(offered: tuple[Crs, ...]) -> dict[str, Any]:
    crs_schema = {"type": "string", "format": "uri", "enum": [c.uri for c in offered]}
    return {
        "f": _parameter(
            "f", "query", {"type": "string", "enum": ["json", "html"]}, "the format answered"
        ),
        "collectionId": _parameter(
            "collectionId",
            "path",
            {"type": "string", "enum": list(COLLECTIONS)},
            "a collection",
            required=True,
        ),
        "featureId": _parameter(
            "featureId", "path", {"type": "string"}, "a feature's id", required=True
        ),
        "limit": _parameter(
            "limit",
            "query",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            "the most features in one page; follow the `next` link for more",
            style="form",
            explode=False,
        ),
        "cursor": _parameter(
            "cursor", "query", {"type": "string"}, "where a page starts (from a `next` link)"
        ),
        "offset": _parameter(
            "offset",
            "query",
            {"type": "integer", "minimum": 0},
            "features skipped (only with sortby; from a `next` link)",
        ),
        "bbox": _parameter(
            "bbox",
            "query",
            {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
            "features intersecting this box (in bbox-crs, CRS84 by default)",
            style="form",
            explode=False,
        ),
        "bbox-crs": _parameter("bbox-crs", "query", crs_schema, "the CRS of bbox"),
        "crs": _parameter("crs", "query", crs_schema, "the CRS of the geometries answered"),
        "datetime": _parameter(
            "datetime",
            "query",
            {"type": "string"},
            "an instant or interval (a/b, open with ..) on the collection's date",
        ),
        "filter": _parameter("filter", "query", {"type": "string"}, "a CQL2 filter"),
        "filter-lang": _parameter(
            "filter-lang",
            "query",
            {"type": "string", "enum": list(FILTER_LANGUAGES), "default": FILTER_LANGUAGES[0]},
            "the encoding of filter",
        ),
        "filter-crs": _parameter(
            "filter-crs", "query", crs_schema, "the CRS of the geometries in filter"
        ),
        "sortby": _parameter(
            "sortby",
            "query",
            {"type": "array", "items": {"type": "string"}},
            "properties to order by, each with + (ascending) or - (descending)",
            style="form",
            explode=False,
        ),
        "properties": _parameter(
            "properties",
            "query",
            {"type": "array", "items": {"type": "string"}},
            "the properties to return",
            style="form",
            explode=False,
        ),
        "If-Match": _parameter(
            "If-Match",
            "header",
            {"type": "string"},
            "the ETag of the version edited",
            required=True,
        ),
    }


def _write_operations() -> dict[str, Any]:
    """Part 4 on the writable collections: editors with a bearer token."""
    secured = {"security": [{"bearerToken": []}], "tags": ["Part 4"]}
    feature_body = {
        "required": True,
        "content": {"application/geo+json": {"schema": {"$ref": "#/components/schemas/Feature"}}},
    }
    written = {"$ref": "#/components/responses/Problem"}
    # what every write may also answer: an unreadable body (400), one over the size limit
    # (413), one that is not GeoJSON or merge-patch JSON (415), the database gone or busy (503)
    refused = {status: written for status in ("400", "413", "415", "503")}
    versioned = {
        "ETag": {
            "description": "the version written, for the next If-Match",
            "schema": {"type": "string"},
        },
    }
    paths: dict[str, Any] = {}
    for collection_id in WRITABLE:
        paths[f"/collections/{collection_id}/items"] = {
            "post": {
                **secured,
                "operationId": f"create_{collection_id}",
                "summary": f"Add a feature to {collection_id}",
                "requestBody": feature_body,
                "responses": {
                    "201": {
                        "description": "created",
                        "headers": {
                            **versioned,
                            "Location": {
                                "description": "the new feature's item URL",
                                "schema": {"type": "string", "format": "uri"},
                            },
                        },
                    },
                    "401": written,
                    "403": written,
                    "422": written,
                    **refused,
                },
            }
        }
        paths[f"/collections/{collection_id}/items/{{featureId}}"] = {
            "parameters": [_ref("featureId")],
            "put": {
                **secured,
                "operationId": f"replace_{collection_id}",
                "summary": "Replace a feature",
                "parameters": [_ref("If-Match")],
                "requestBody": feature_body,
                "responses": {
                    "200": {"description": "replaced", "headers": versioned},
                    "401": written,
                    "403": written,
                    "404": written,
                    "412": written,
                    "422": written,
                    "428": written,
                    **refused,
                },
            },
            "patch": {
                **secured,
                "operationId": f"update_{collection_id}",
                "summary": "Change some properties or the geometry of a feature",
                "parameters": [_ref("If-Match")],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/merge-patch+json": {"schema": {"type": "object"}},
                        "application/geo+json": {"schema": {"type": "object"}},
                    },
                },
                "responses": {
                    "200": {"description": "updated", "headers": versioned},
                    "401": written,
                    "403": written,
                    "404": written,
                    "412": written,
                    "422": written,
                    "428": written,
                    **refused,
                },
            },
            "delete": {
                **secured,
                "operationId": f"delete_{collection_id}",
                "summary": "Retire a feature (its history is kept)",
                "parameters": [_ref("If-Match")],
                "responses": {
                    "204": {"description": "retired"},
                    "401": written,
                    "403": written,
                    "404": written,
                    "412": written,
                    "428": written,
                    "503": written,
                },
            },
        }
    return paths


def _property_parameters(collection: Collection) -> list[dict[str, Any]]:
    """`?name=value`: features whose property equals the value (queryables as parameters)."""
    found = []
    for prop in collection.properties:
        schema: dict[str, Any] = {"type": "string"}
        if prop.type in (INTEGER, NUMBER, BOOLEAN):
            schema = {"type": prop.type}
        elif prop.type in (DATE, DATETIME):
            schema = {"type": "string", "format": prop.type}
        note = "" if prop.public else " (signed-in callers only)"
        found.append(
            _parameter(prop.name, "query", schema, f"{prop.title} equals this value{note}")
        )
    return found


def openapi_document(base_url: str, offered: tuple[Crs, ...]) -> dict[str, Any]:
    """The whole document; `base_url` is `/ogc`'s absolute URL."""
    items_parameters = [
        _ref(name)
        for name in (
            "collectionId", "f", "limit", "cursor", "offset", "bbox", "bbox-crs", "crs",
            "datetime", "filter", "filter-lang", "filter-crs", "sortby", "properties",
        )
    ]  # fmt: skip
    read = {"tags": ["Parts 1-3"]}
    paths: dict[str, Any] = {
        "/": {"get": {**read, "operationId": "landing", "summary": "Landing page",
                      "parameters": [_ref("f")], "responses": _responses("the landing page",
                                                                          "application/json")}},
        "/conformance": {"get": {**read, "operationId": "conformance",
                                 "summary": "Conformance classes", "parameters": [_ref("f")],
                                 "responses": _responses("the classes", "application/json")}},
        "/api": {"get": {**read, "operationId": "api", "summary": "This document",
                         "parameters": [_ref("f")],
                         "responses": _responses("the document",
                                                 "application/vnd.oai.openapi+json;version=3.0")}},
        "/collections": {"get": {**read, "operationId": "collections",
                                 "summary": "The collections", "parameters": [_ref("f")],
                                 "responses": _responses("the collections", "application/json")}},
        "/collections/{collectionId}": {"get": {
            **read, "operationId": "collection", "summary": "One collection",
            "parameters": [_ref("collectionId"), _ref("f")],
            "responses": {**_responses("the collection", "application/json"),
                          "404": {"$ref": "#/components/responses/Problem"}}}},
        "/collections/{collectionId}/queryables": {"get": {
            **read, "operationId": "queryables", "summary": "What a filter may name",
            "parameters": [_ref("collectionId"), _ref("f")],
            "responses": _responses("JSON Schema", "application/schema+json")}},
        "/collections/{collectionId}/items": {"get": {
            **read, "operationId": "items", "summary": "Features, a page at a time",
            "parameters": items_parameters,
            "responses": {**_responses("a page of features", "application/geo+json",
                                       {"$ref": "#/components/schemas/FeatureCollection"}),
                          "404": {"$ref": "#/components/responses/Problem"}}}},
        "/collections/{collectionId}/items/{featureId}": {"get": {
            **read, "operationId": "item", "summary": "One feature, with its ETag",
            "parameters": [_ref("collectionId"), _ref("featureId"), _ref("f"), _ref("crs"),
                           _ref("properties")],
            "responses": {**_responses("the feature", "application/geo+json",
                                       {"$ref": "#/components/schemas/Feature"}),
                          "404": {"$ref": "#/components/responses/Problem"}}}},
    }  # fmt: skip
    for collection in COLLECTIONS.values():
        # each collection's own items path, naming its properties as query parameters (GDAL
        # reads the collection's path first and filters on the parameters it finds there)
        paths[f"/collections/{collection.id}/items"] = {
            "get": {
                **read,
                "operationId": f"items_{collection.id.replace('-', '_')}",
                "summary": f"{collection.title}, a page at a time",
                "parameters": items_parameters[1:] + _property_parameters(collection),
                "responses": {
                    **_responses(
                        "a page of features",
                        "application/geo+json",
                        {"$ref": "#/components/schemas/FeatureCollection"},
                    )
                },
            }
        }
    for path, operations in _write_operations().items():
        paths.setdefault(path, {}).update(operations)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "City Asset Registry: OGC API – Features",
            "version": "1.0.0",
            "description": (
                "Parts 1 (core, GeoJSON, HTML, OpenAPI 3.0), 2 (CRS by reference), 3 (CQL2 text "
                "and JSON filters) and 4 (create, replace, update, delete on parcels). Without "
                "a sign-in only the public fields are given."
            ),
        },
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {
            "parameters": _parameters(offered),
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a token from `asset-registry users token EMAIL`",
                }
            },
            "schemas": {
                "Feature": {
                    "type": "object",
                    "required": ["type", "geometry", "properties"],
                    "properties": {
                        "type": {"type": "string", "enum": ["Feature"]},
                        "id": {"type": "string"},
                        "geometry": {"type": "object", "nullable": True},
                        "properties": {"type": "object", "nullable": True},
                    },
                },
                "FeatureCollection": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"type": "string", "enum": ["FeatureCollection"]},
                        "features": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Feature"},
                        },
                        "numberMatched": {"type": "integer", "minimum": 0},
                        "numberReturned": {"type": "integer", "minimum": 0},
                        "timeStamp": {"type": "string", "format": "date-time"},
                        "links": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
            "responses": {
                "Problem": {
                    "description": "an error: title, status, detail and errors (field, message)",
                    "content": {"application/problem+json": {"schema": {"type": "object"}}},
                }
            },
        },
    }
