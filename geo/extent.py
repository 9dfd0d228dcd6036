"""The portfolio's extent, for fitting the map to the city's parcels."""

from __future__ import annotations

from sqlalchemy import Connection, text

# Los Angeles, for an empty registry: the map still opens on the city rather than on (0, 0).
DEFAULT_BOUNDS = ((33.70, -118.67), (34.34, -118.15))


def portfolio_bounds(connection: Connection) -> tuple[tuple[float, float], tuple[float, float]]:
    """South-west and north-east corners (lat, lon) of all live parcels.

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
        return DEFAULT_BOUNDS
    return ((row[1], row[0]), (row[3], row[2]))
