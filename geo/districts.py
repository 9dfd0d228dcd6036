"""Council district areas derived from the parcels themselves.

The registry holds no district boundary layer, so a district's area for a choropleth is the
concave hull of its parcels (convex where a concave hull degenerates): close enough to show
where a district's assets are, and always in step with the parcels as they are edited.
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


def district_areas(session: Session) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (WGS 84) with one feature per council district that has
    parcels with a shape; properties `council_district` (as text, like KPI breakdown values)
    and `parcels`. A district whose parcels are collinear or a single point is buffered a
    little so that it still has an area to colour."""
    rows = session.execute(text(_DISTRICTS_SQL)).mappings()
    features = [
        {
            "type": "Feature",
            "properties": {"council_district": str(row["council_district"]),
                           "parcels": int(row["parcels"])},
            "geometry": json.loads(row["geometry"]),
        }
        for row in rows
    ]
    return {"type": "FeatureCollection", "features": features}
