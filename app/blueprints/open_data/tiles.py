"""The open-data map's filtered tiles, `/tiles/open/{z}/{x}/{y}.mvt?<filter>`, answered before
Flask as the public tiles are (`app.blueprints.parcels.tiles.PublicTileMiddleware`): a map view
asks for a dozen tiles at once, each a short query, so they skip the session, the routing and
the per-visitor request limit, and are classed as tiles (their own statement timeout) by their
path. Installed only when the city publishes its map; otherwise the path is a plain 404.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask

from app.blueprints.parcels.tiles import NOT_FOUND_CACHE_CONTROL
from app.blueprints.parcels.tiles import public_cache_control
from app.blueprints.parcels.tiles import tile_answer
from app.database import run_wsgi_read
from app.request_log import ROUTE_KEY
from app.security import NON_DOCUMENT_HEADERS
from app.security import setting
from geo.tiles import TileOutOfRange
from geo.tiles import check_tile_address
from registry.open_data.queries import OpenDataFilter
from registry.open_data.queries import parse_filter
from registry.open_data.tiles import filtered_tile

TILE_PATH = "/tiles/open"
#: The route of a filtered tile, as logs and metrics name it.
TILE_ROUTE = "/tiles/open/<int:z>/<int:x>/<int:y>.mvt"
_PATH = re.compile(r"^/tiles/open/(\d{1,2})/(\d{1,9})/(\d{1,9})\.mvt$")
_MAX_QUERY = 2_000
_MAX_FIELDS = 20
StartResponse = Callable[..., Any]


def _plain(
    start_response: StartResponse, status: str, message: str, cache: str = "no-store"
) -> list[bytes]:
    body = message.encode()
    start_response(
        status,
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", cache),
            *NON_DOCUMENT_HEADERS,
        ],
    )
    return [body]


def _filter(query: str) -> OpenDataFilter | str:
    """The filter of a tile's query string, or what is wrong with it in plain words."""
    if len(query) > _MAX_QUERY:
        return "The filter is too long."
    try:
        return parse_filter(dict(parse_qsl(query, max_num_fields=_MAX_FIELDS)))
    except ValueError as error:  # RecordInvalid (its problems), or too many fields
        problems = getattr(error, "problems", None)
        if problems:
            return " ".join(problem.message for problem in problems)
        return "The filter has too many fields."


class FilteredTileMiddleware:
    """Serve filtered tiles straight from WSGI; everything else goes on to Flask."""

    def __init__(
        self, flask_app: Flask, wsgi_app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
    ) -> None:
        self.flask_app = flask_app
        self.wsgi_app = wsgi_app
        seconds = setting(flask_app, "REGISTRY_PUBLIC_TILE_CACHE_SECONDS")
        self.cache_control = public_cache_control(int(seconds) if seconds not in (None, "") else 60)

    def _published(self) -> bool:
        return bool(self.flask_app.config["REGISTRY_SETTINGS"].public_map)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        match = _PATH.match(environ.get("PATH_INFO", ""))
        method = environ.get("REQUEST_METHOD")
        if match is None or method not in {"GET", "HEAD"} or not self._published():
            return self.wsgi_app(environ, start_response)  # Flask: a 404, like /open
        environ[ROUTE_KEY] = TILE_ROUTE
        z, x, y = (int(part) for part in match.groups())
        try:
            check_tile_address(z, x, y)
        except TileOutOfRange as error:
            return _plain(start_response, "404 Not Found", str(error), NOT_FOUND_CACHE_CONTROL)
        flt = _filter(environ.get("QUERY_STRING", ""))
        if isinstance(flt, str):
            return _plain(start_response, "400 Bad Request", flt)

        def tile(engine: Any) -> bytes:
            with engine.connect() as connection:
                return filtered_tile(connection, flt, z, x, y)

        data = run_wsgi_read(self.flask_app, environ, tile)
        return tile_answer(environ, start_response, data, self.cache_control, method)
