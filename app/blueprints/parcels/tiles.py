"""Parcel vector tiles. Tiles carry only public attributes, so they are cacheable by anyone.

When the map is public, `PublicTileMiddleware` answers tile requests before Flask (the hot path
of every map view: no session, no routing, no hooks); this view serves them when it is not, behind
the same authentication as the rest of the app.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import abort
from flask import request
from werkzeug.wrappers import Response as BaseResponse

from app.auth import require_login
from app.database import reads_from_replica
from app.database import run_read
from app.database import run_wsgi_read
from app.request_log import ROUTE_KEY
from app.security import NON_DOCUMENT_HEADERS
from app.security import setting
from geo.tiles import MVT_MEDIA_TYPE
from geo.tiles import TileOutOfRange
from geo.tiles import check_tile_address
from geo.tiles import parcel_tile_with_retry
from geo.tiles import tile_etag
from registry.parcels.filters import FilterInvalid
from registry.parcels.filters import ParcelFilter
from registry.parcels.tiles import filtered_parcel_tile

bp = reads_from_replica(Blueprint("tiles", __name__))

#: The route of a tile, as logs and metrics name it (the middleware's requests too).
TILE_ROUTE = "/tiles/parcels/<int:z>/<int:x>/<int:y>.mvt"
# a signed-in user's tile: revalidated every time (an edited parcel must show at once; an unchanged
# tile costs a bodiless 304), and never kept by a shared cache
PRIVATE_CACHE_CONTROL = "private, no-cache"
# an impossible tile address stays impossible
NOT_FOUND_CACHE_CONTROL = "public, max-age=86400"


def public_cache_control(shared_seconds: int) -> str:
    """A public tile: browsers revalidate every time (max-age=0, an ETag makes that a 304) while
    a shared cache (the nginx of deploy/) may answer from its copy for `shared_seconds`, which
    is how stale an anonymous visitor's map may be. 0 keeps no copy anywhere unrevalidated."""
    if shared_seconds <= 0:
        return "public, no-cache"
    return f"public, max-age=0, s-maxage={shared_seconds}"


@bp.get(TILE_ROUTE)
@require_login
def parcel_tile_view(z: int, x: int, y: int) -> BaseResponse:
    """The tile, narrowed by the parcel table's filter when the query string carries one
    (`registry.parcels.filters`: staff may use every filter)."""
    try:
        flt = ParcelFilter.from_args(request.args)
    except FilterInvalid as invalid:
        abort(400, description=str(invalid))
    try:
        if flt.is_empty:
            data = run_read(lambda engine: parcel_tile_with_retry(engine, z, x, y))
        else:
            data = run_read(lambda engine: _filtered(engine, flt, z, x, y))
    except TileOutOfRange as error:
        abort(404, description=str(error))
    response = Response(data, mimetype=MVT_MEDIA_TYPE)
    response.set_etag(tile_etag(data))
    response.headers["Cache-Control"] = PRIVATE_CACHE_CONTROL
    return response.make_conditional(request)


def _filtered(engine: Any, flt: ParcelFilter, z: int, x: int, y: int) -> bytes:
    with engine.connect() as connection:
        return filtered_parcel_tile(connection, flt, z, x, y)


_TILE_PATH = re.compile(r"^/tiles/parcels/(\d{1,2})/(\d{1,9})/(\d{1,9})\.mvt$")
StartResponse = Callable[..., Any]


class PublicTileMiddleware:
    """Serve public parcel tiles straight from WSGI; everything else goes on to Flask.

    Its answers carry by themselves what Flask's hooks add to the others: the security headers
    (`NON_DOCUMENT_HEADERS`) and the route for the request log and metrics.

    A tile filtered by public fields only (`PUBLIC_PARAMETERS`) is answered here too, cached
    publicly like the others (a shared cache keys on the whole URL, query string included); a
    filter by any other field goes on to Flask, which asks for a sign-in."""

    def __init__(
        self, flask_app: Flask, wsgi_app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
    ) -> None:
        self.flask_app = flask_app
        self.wsgi_app = wsgi_app
        seconds = setting(flask_app, "REGISTRY_PUBLIC_TILE_CACHE_SECONDS")
        self.cache_control = public_cache_control(int(seconds) if seconds not in (None, "") else 60)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        match = _TILE_PATH.match(environ.get("PATH_INFO", ""))
        method = environ.get("REQUEST_METHOD")
        if match is None or method not in {"GET", "HEAD"}:
            return self.wsgi_app(environ, start_response)
        query = environ.get("QUERY_STRING", "")
        flt = ParcelFilter()
        if query:
            try:
                flt = ParcelFilter.from_args(dict(parse_qsl(query[:20_000])))
            except FilterInvalid:
                return self.wsgi_app(environ, start_response)  # Flask says what is wrong
            if not flt.is_public():
                return self.wsgi_app(environ, start_response)
        environ[ROUTE_KEY] = TILE_ROUTE
        z, x, y = (int(part) for part in match.groups())
        try:
            check_tile_address(z, x, y)
        except TileOutOfRange as error:
            body = str(error).encode()
            start_response(
                "404 Not Found",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    ("Cache-Control", NOT_FOUND_CACHE_CONTROL),
                    *NON_DOCUMENT_HEADERS,
                ],
            )
            return [body]
        if flt.is_empty:
            data = run_wsgi_read(
                self.flask_app, environ, lambda engine: parcel_tile_with_retry(engine, z, x, y)
            )
        else:
            data = run_wsgi_read(
                self.flask_app, environ, lambda engine: _filtered(engine, flt, z, x, y)
            )
        return tile_answer(environ, start_response, data, self.cache_control, method)


def tile_answer(
    environ: dict[str, Any],
    start_response: StartResponse,
    data: bytes,
    cache_control: str,
    method: str,
) -> Iterable[bytes]:
    """A vector tile answered before Flask (public tiles, the open-data page's filtered ones):
    its ETag (304 when the client has it), the caching given, and the headers every answer of
    the app carries; no body for HEAD."""
    etag = f'"{tile_etag(data)}"'
    headers = [
        ("Content-Type", MVT_MEDIA_TYPE),
        ("ETag", etag),
        ("Cache-Control", cache_control),
        *NON_DOCUMENT_HEADERS,
    ]
    if etag in environ.get("HTTP_IF_NONE_MATCH", ""):
        start_response("304 Not Modified", headers)
        return []
    headers.append(("Content-Length", str(len(data))))
    start_response("200 OK", headers)
    return [] if method == "HEAD" else [data]
