"""Council district areas for a choropleth: the city's district polygons when it keeps them
(`council_districts`, imported with `asset-registry districts import`), else derived from the
parcels themselves.

Without a boundary layer a district's area is the concave hull of its parcels (convex where a
concave hull degenerates): close enough to show where a district's assets are, and always in
step with the parcels as they are edited.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

# 1.0 would be the convex hull; 0.9 hugs the parcels a little without splitting the district.
CONCAVE_HULL_TARGET = 0.9
DEGENERATE_BUFFER_M = 25

_DISTRICTS_SQL = f"""
    WITH hull AS (
        SELECT council_district,
               ST_ConcaveHull(ST_Collect(geom), {CONCAVE_HULL_TARGET}) AS shape,
               count(*) AS parcels
          FROM parcels
         WHERE council_district IS NOT NULL AND geom IS NOT NULL AND retired_at IS NULL
         GROUP BY council_district
    )
    SELECT council_district, parcels,
           ST_AsGeoJSON(
               CASE WHEN GeometryType(shape) IN ('POLYGON', 'MULTIPOLYGON') THEN shape
                    ELSE ST_Buffer(shape::geography, {DEGENERATE_BUFFER_M})::geometry END,
               6) AS geometry
      FROM (SELECT council_district, parcels, ST_Transform(shape, 4326) AS shape FROM hull) AS h
     ORDER BY council_district
"""


_POLYGONS_SQL = """
    SELECT d.district AS council_district,
           (SELECT count(*) FROM parcels p WHERE p.council_district = d.district
               AND p.geom IS NOT NULL AND p.retired_at IS NULL) AS parcels,
           ST_AsGeoJSON(ST_Transform(d.geom, 4326), 6) AS geometry
      FROM council_districts d
     ORDER BY d.district
"""


def district_areas(session: Session) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (WGS 84) with one feature per council district; properties
    `council_district` (as text, like KPI breakdown values) and `parcels`. The districts are the
    city's polygons when it has any; else one per district that has parcels with a shape, whose
    area is their hull (a district whose parcels are collinear or a single point is buffered a
    little so that it still has an area to colour)."""
    has_polygons = session.execute(text("SELECT EXISTS (SELECT 1 FROM council_districts)"))
    sql = _POLYGONS_SQL if has_polygons.scalar() else _DISTRICTS_SQL
    rows = session.execute(text(sql)).mappings()
    features = [
        {
            "type": "Feature",
            "properties": {
                "council_district": str(row["council_district"]),
                "parcels": int(row["parcels"]),
            },
            "geometry": json.loads(row["geometry"]),
        }
        for row in rows
    ]
    return {"type": "FeatureCollection", "features": features}
