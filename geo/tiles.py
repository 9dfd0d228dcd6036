"""Mapbox vector tiles of the parcel layer, made by PostGIS (`ST_AsMVT` over `ST_TileEnvelope`).

The parcels table keeps a Web Mercator copy of each geometry (`geom_3857`, generated and
GiST-indexed), so a tile is one index scan with no per-request reprojection.
"""

from __future__ import annotations

import hashlib

from psycopg import OperationalError
from psycopg.errors import QueryCanceled
from sqlalchemy import Connection
from sqlalchemy import Engine

from registry.statement_rows import add_rows

MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
TILE_EXTENT = 4096
TILE_BUFFER = 64
MAX_ZOOM = 24
PARCEL_LAYER = "parcels"

# Attributes in the tile are those the public may see (CONTRACT: id, address, department, use,
# status), so one tile serves everybody and can be cached by a proxy.
PARCEL_TILE_SQL = f"""
WITH bounds AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS envelope),
features AS (
    SELECT ST_AsMVTGeom(p.geom_3857, bounds.envelope, {TILE_EXTENT}, {TILE_BUFFER}, true) AS geom,
           p.parcel_id, p.address, d.name AS department, p.use, p.status
      FROM parcels p
      JOIN bounds ON p.geom_3857 && bounds.envelope
      LEFT JOIN departments d ON d.id = p.department_id
     WHERE p.retired_at IS NULL
)
SELECT ST_AsMVT(features, '{PARCEL_LAYER}', {TILE_EXTENT}, 'geom')
  FROM features WHERE geom IS NOT NULL
"""


class TileOutOfRange(ValueError):
    """The z/x/y address names no tile of the Web Mercator pyramid."""


def check_tile_address(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        raise TileOutOfRange(f"zoom {z} is outside 0..{MAX_ZOOM}")
    limit = 2**z
    if not (0 <= x < limit and 0 <= y < limit):
        raise TileOutOfRange(f"tile {x}/{y} does not exist at zoom {z}")


def parcel_tile(connection: Connection, z: int, x: int, y: int) -> bytes:
    """The parcel layer's tile at z/x/y; empty bytes where the tile holds no parcel."""
    check_tile_address(z, x, y)
    # the driver's own placeholders: this statement runs for every tile, SQLAlchemy adds nothing
    data = connection.exec_driver_sql(PARCEL_TILE_SQL, {"z": z, "x": x, "y": y}).scalar()
    return bytes(data) if data else b""


def parcel_tile_with_retry(engine: Engine, z: int, x: int, y: int) -> bytes:
    """The tile on a pooled DB-API connection, without SQLAlchemy's statement machinery: this
    runs for every tile of every map view. No pre-ping (a round trip per tile): a connection the
    server dropped is discarded and the tile retried once on a fresh one."""
    check_tile_address(z, x, y)
    params = {"z": z, "x": x, "y": y}
    for attempt in (1, 2):
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(PARCEL_TILE_SQL, params)
                add_rows(cursor.rowcount)  # a raw cursor: engine events do not count it
                row = cursor.fetchone()
            finally:
                cursor.close()
            return bytes(row[0]) if row and row[0] else b""
        except QueryCanceled:
            raise  # the statement timeout: a retry would take as long again
        except OperationalError:
            connection.invalidate()
            if attempt == 2:
                raise
        finally:
            connection.close()
    raise AssertionError("unreachable")


def tile_etag(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=12).hexdigest()
