"""Council district areas for a choropleth: the city's district polygons when it keeps them
(`council_districts`, imported with `asset-registry districts import`), else derived from the
parcels themselves.

Without a boundary layer a district's area is the concave hull of its parcels (convex where a
concave hull degenerates): close enough to show where a district's assets are, and always in
step with the parcels as they are edited.
"""

from __future__ import annotations

import copy
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


# What the hulls depend on: the parcels in a district, their shapes, retirements (every change
# moves `updated_at` and `version`, an insert or delete the count) and which database this is.
_PARCELS_STAMP_SQL = """
    SELECT current_database(), count(*), max(updated_at), sum(version) FROM parcels
"""
#: The derived districts of the last parcels stamp seen: hulling every parcel of a 100,000-parcel
#: city takes seconds (most of `/kpi`'s first view), the stamp a few milliseconds.
_hull_cache: dict[tuple[Any, ...], dict[str, Any]] = {}


def district_areas(session: Session) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (WGS 84) with one feature per council district; properties
    `council_district` (as text, like KPI breakdown values) and `parcels`. The districts are the
    city's polygons when it has any; else one per district that has parcels with a shape, whose
    area is their hull (a district whose parcels are collinear or a single point is buffered a
    little so that it still has an area to colour)."""
    has_polygons = session.execute(text("SELECT EXISTS (SELECT 1 FROM council_districts)"))
    if has_polygons.scalar():
        return _collection(session, _POLYGONS_SQL)
    stamp = tuple(session.execute(text(_PARCELS_STAMP_SQL)).one())
    found = _hull_cache.get(stamp)
    if found is None:
        found = _collection(session, _DISTRICTS_SQL)
        _hull_cache.clear()
        _hull_cache[stamp] = found
    return copy.deepcopy(found)  # callers may change what they get


def _collection(session: Session, sql: str) -> dict[str, Any]:
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
