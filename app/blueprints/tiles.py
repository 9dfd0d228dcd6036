"""Parcel vector tiles. Tiles carry only public attributes, so they are cacheable by anyone."""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, abort, request
from sqlalchemy.exc import DBAPIError

from app.database import read_engine
from geo.tiles import MVT_MEDIA_TYPE, TileOutOfRange, parcel_tile

bp = Blueprint("tiles", __name__)


@bp.get("/tiles/parcels/<int:z>/<int:x>/<int:y>.mvt")
def parcel_tile_view(z: int, x: int, y: int) -> Response:
    try:
        data = _tile_with_one_retry(z, x, y)
    except TileOutOfRange as error:
        abort(404, description=str(error))
    etag = hashlib.blake2b(data, digest_size=12).hexdigest()
    response = Response(data, mimetype=MVT_MEDIA_TYPE)
    response.set_etag(etag)
    # no-cache = revalidate every time: an edited parcel must show at once, and an unchanged
    # tile costs a 304 with no body.
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


def _tile_with_one_retry(z: int, x: int, y: int) -> bytes:
    """Tile connections skip the pre-ping; a connection the server dropped is retried once."""
    try:
        with read_engine().connect() as connection:
            return parcel_tile(connection, z, x, y)
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
    with read_engine().connect() as connection:
        return parcel_tile(connection, z, x, y)
