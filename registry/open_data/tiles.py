"""The open-data map's tiles for a filter: the public parcel tile (same layer, same attributes,
same styling in the browser) holding only the parcels the filter selects, so the map shows what
the table lists. Unfiltered, the page uses the public tiles themselves (`geo.tiles`).
"""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy import text

from geo.tiles import PARCEL_LAYER
from geo.tiles import TILE_BUFFER
from geo.tiles import TILE_EXTENT
from geo.tiles import check_tile_address
from registry.open_data.queries import PUBLIC_FROM
from registry.open_data.queries import OpenDataFilter


def filtered_tile(connection: Connection, flt: OpenDataFilter, z: int, x: int, y: int) -> bytes:
    """The parcel tile at z/x/y holding the parcels `flt` selects; empty bytes for none."""
    check_tile_address(z, x, y)
    where, params = flt.where()
    # the envelope is a constant of the statement, so the GiST index on geom_3857 is used
    statement = f"""
WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS envelope),
features AS (
    SELECT ST_AsMVTGeom(p.geom_3857, bounds.envelope, {TILE_EXTENT}, {TILE_BUFFER}, true) AS geom,
           p.parcel_id, p.address, d.name AS department, p.use, p.status
      FROM {PUBLIC_FROM}
      JOIN bounds ON p.geom_3857 && bounds.envelope
     WHERE {where}
)
SELECT ST_AsMVT(features, '{PARCEL_LAYER}', {TILE_EXTENT}, 'geom') FROM features
 WHERE geom IS NOT NULL
"""
    data = connection.execute(text(statement), {**params, "z": z, "x": x, "y": y}).scalar()
    return bytes(data) if data else b""
