"""The portfolio's extent, for fitting the map to the city's parcels."""

from __future__ import annotations

from sqlalchemy import Connection
from sqlalchemy import text

Bounds = tuple[tuple[float, float], tuple[float, float]]

# Los Angeles, for an empty registry with no city extent given.
DEFAULT_BOUNDS: Bounds = ((33.70, -118.67), (34.34, -118.15))


def extent_bounds(extent: tuple[float, float, float, float]) -> Bounds:
    """A (west, south, east, north) extent as the map's south-west and north-east corners."""
    west, south, east, north = extent
    return ((south, west), (north, east))


def portfolio_bounds(connection: Connection, empty: Bounds = DEFAULT_BOUNDS) -> Bounds:
    """South-west and north-east corners (lat, lon) of all live parcels; `empty` (the city's
    extent) when there are none yet, so a new city's map opens on the city, not on (0, 0).

    `ST_EstimatedExtent` reads the planner's statistics (cheap at a million parcels) and is only
    missing before the first ANALYZE; then the exact extent is computed once.
    """
    row = connection.execute(
        text(
            """
            SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
              FROM (SELECT ST_Transform(ST_SetSRID(coalesce(
                        ST_EstimatedExtent('public', 'parcels', 'geom'),
                        (SELECT ST_Extent(geom) FROM parcels WHERE retired_at IS NULL)
                    )::geometry, Find_SRID('public', 'parcels', 'geom')), 4326) AS e) AS extent
            """
        )
    ).one()
    if row[0] is None:
        return empty
    return ((row[1], row[0]), (row[3], row[2]))
