"""Features: `/ogc/collections/{id}/items` (streamed) and `/ogc/collections/{id}/items/{fid}`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Generator
from itertools import chain
from urllib.parse import urlencode

from flask import Response
from flask import render_template
from flask import request
from flask import url_for

from app import api
from app.blueprints.ogc import bp
from app.blueprints.ogc.formats import GEOJSON
from app.blueprints.ogc.formats import HTML
from app.blueprints.ogc.formats import crs_offer
from app.blueprints.ogc.formats import link
from app.blueprints.ogc.formats import public_view
from app.blueprints.ogc.formats import reading
from app.blueprints.ogc.formats import wants_html
from app.blueprints.ogc.params import item_options
from app.blueprints.ogc.params import items_query
from app.blueprints.ogc.resources import find_collection
from app.database import read_engine
from app.problems import ProblemError
from registry.errors import NotFound
from registry.features.collections import Property
from registry.features.queries import ItemsQuery
from registry.features.queries import PageEnd
from registry.features.queries import QueryRefused
from registry.features.queries import one_feature
from registry.features.queries import stream_items


def _timestamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _ItemsUrls:
    """The page's URLs with some parameters changed, built while the request is there: the
    stream's last piece (the `next` link) is written after the request context has gone."""

    def __init__(self, collection_id: str) -> None:
        self.base = url_for("ogc.items", collection_id=collection_id, _external=True)
        self.args = list(request.args.items(multi=True))

    def __call__(self, **changes: str) -> str:
        kept = [(key, value) for key, value in self.args if key not in changes]
        return self.base + "?" + urlencode([*kept, *changes.items()])


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str) -> Response:
    collection = find_collection(collection_id)
    public = public_view()
    query = items_query(collection, public, crs_offer())
    first_page = not request.args.get("cursor") and not request.args.get("offset")
    urls = _ItemsUrls(collection.id)
    if wants_html():
        return _items_page(query, urls)
    page_links = [
        link("self", urls(f="json"), GEOJSON, "this page"),
        link("alternate", urls(f="html"), HTML, "this page as HTML"),
        link(
            "collection",
            url_for("ogc.collection", collection_id=collection.id, _external=True),
            "application/json",
            collection.title,
        ),
    ]

    def head(matched: int | None) -> str:
        start = '{"type":"FeatureCollection","timeStamp":"' + _timestamp() + '",'
        if matched is not None:
            start += f'"numberMatched":{matched},'
        return start + '"features":['

    def tail(end: PageEnd) -> str:
        links = list(page_links)
        if end.next_after is not None:
            links.append(link("next", urls(cursor=end.next_after), GEOJSON, "next page"))
        if end.next_offset is not None:
            links.append(link("next", urls(offset=str(end.next_offset)), GEOJSON, "next page"))
        return f'],"numberReturned":{end.number_returned},"links":{json.dumps(links)}}}'

    body = stream_items(read_engine(), query, head, tail, count=first_page)
    first = _first_piece(body)
    response = Response(chain([first], body), mimetype=GEOJSON)
    response.headers["Content-Crs"] = f"<{query.crs.uri}>"
    return response


def _first_piece(body: Generator[str, None, None]) -> str:
    """Run the query before answering, so that what the database refuses is a 400."""
    try:
        return next(body)
    except QueryRefused as error:
        body.close()
        raise ProblemError(
            400,
            "Bad query",
            "The database could not apply this filter: a geometry in it may be invalid, or a "
            "value out of range.",
            [{"field": "filter", "message": str(error)}],
        ) from None


def _items_page(query: ItemsQuery, urls: _ItemsUrls) -> Response:
    """The HTML page of items: a table and a small map (bounded to 1,000 features)."""
    limit = min(query.limit, 1_000)
    bounded = dataclasses.replace(query, limit=limit)
    collected: dict[str, object] = {}

    def head(matched: int | None) -> str:
        collected["matched"] = matched
        return ""

    def tail(end: PageEnd) -> str:
        collected["end"] = end
        return ""

    text = "".join(stream_items(read_engine(), bounded, head, tail, count=True))
    features = json.loads(f"[{text}]") if text else []
    end = collected["end"]
    assert isinstance(end, PageEnd)
    next_link = None
    if end.next_after is not None:
        next_link = urls(cursor=end.next_after, f="html")
    elif end.next_offset is not None:
        next_link = urls(offset=str(end.next_offset), f="html")
    columns: tuple[Property, ...] = query.properties or query.collection.visible(query.public)
    return Response(
        render_template(
            "ogc/items.html",
            collection=query.collection,
            features=features,
            columns=columns,
            matched=collected["matched"],
            next_link=next_link,
            json_link=urls(f="json"),
        ),
        mimetype=HTML,
    )


@bp.get("/collections/<collection_id>/items/<path:feature_id>")
def item(collection_id: str, feature_id: str) -> Response:
    collection = find_collection(collection_id)
    public = public_view()
    crs, properties = item_options(collection, public, crs_offer())
    with reading() as connection:
        try:
            found = one_feature(connection, collection, feature_id, public, crs, properties)
        except NotFound:
            raise ProblemError(
                404, "Not found", f"{collection.title} has no feature {feature_id[:100]!r}."
            ) from None
    etag = api.etag_for(found.version)
    if request.if_none_match and request.if_none_match.contains(etag.strip('"')):
        return Response(status=304, headers={"ETag": etag})
    feature = json.loads(found.geojson)
    self_url = url_for(
        "ogc.item", collection_id=collection.id, feature_id=feature_id, _external=True
    )
    collection_url = url_for("ogc.collection", collection_id=collection.id, _external=True)
    if wants_html():
        response = Response(
            render_template(
                "ogc/item.html",
                collection=collection,
                feature=feature,
                json_link=self_url + "?f=json",
                collection_url=collection_url,
            ),
            mimetype=HTML,
        )
    else:
        feature["links"] = [
            link("self", self_url + "?f=json", GEOJSON, "this feature"),
            link("alternate", self_url + "?f=html", HTML, "this feature as HTML"),
            link("collection", collection_url, "application/json", collection.title),
        ]
        response = Response(json.dumps(feature), mimetype=GEOJSON)
        response.headers["Content-Crs"] = f"<{crs.uri}>"
    response.headers["ETag"] = etag
    return response
