"""The parcel layer's vector tile narrowed by a `ParcelFilter`: the same layer and public
attributes as `geo.tiles` (so one style draws both), holding only the parcels the filter
selects, so the map shows what the parcel table lists."""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy import text

from geo.tiles import PARCEL_LAYER
from geo.tiles import TILE_BUFFER
from geo.tiles import TILE_EXTENT
from geo.tiles import check_tile_address
from registry.parcels.filters import ParcelFilter


def filtered_parcel_tile(
    connection: Connection, flt: ParcelFilter, z: int, x: int, y: int
) -> bytes:
    """The tile at z/x/y with the parcels `flt` selects; empty bytes where there are none."""
    check_tile_address(z, x, y)
    where, params = flt.where()
    # the envelope is a constant of the statement, so the GiST index on geom_3857 is used
    statement = f"""
WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS envelope),
features AS (
    SELECT ST_AsMVTGeom(p.geom_3857, bounds.envelope, {TILE_EXTENT}, {TILE_BUFFER}, true) AS geom,
           p.parcel_id, p.address, d.name AS department, p.use, p.status
      FROM parcels p
      JOIN bounds ON p.geom_3857 && bounds.envelope
      LEFT JOIN departments d ON d.id = p.department_id
     WHERE {where}
)
SELECT ST_AsMVT(features, '{PARCEL_LAYER}', {TILE_EXTENT}, 'geom') FROM features
 WHERE geom IS NOT NULL
"""
    data = connection.execute(text(statement), {**params, "z": z, "x": x, "y": y}).scalar()
    return bytes(data) if data else b""
