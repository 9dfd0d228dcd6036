"""How large one parcel's or building's shape may be (issue 15, finding 4).

A 1,000,000-corner parcel once took 26 s to save, made its page 26 MB, tripled the time of the
KPI desk for everyone and held other editors' saves behind it. Real city parcels have tens to a
few thousand corners, so a shape is refused beyond `REGISTRY_MAX_VERTICES` corners (default
20,000) or `REGISTRY_MAX_PARTS` polygons in one multi-polygon (default 500).

One rule, with one wording, counted where it is cheapest on each path and always before any
costly work (parsing into GEOS, validity, reprojection, overlap search):

- a GeoJSON shape (the API, the map editor, a restore, a repair proposal): by the lengths of its
  rings, before it is sent to PostGIS (`geojson_size` and `size_problem`);
- the staged rows of an import: by `ST_NPoints` / `ST_NumGeometries` in one set-based statement
  (`size_condition_sql`, `size_message_sql`), before any shape is validated or compared;
- shapely geometries of a bulk load: shapely's vectorized counts (`frame_size_problems`).

Corners are counted as PostGIS counts them (`ST_NPoints`): every position of every ring,
the closing one included, as GeoJSON lists them.
"""

from __future__ import annotations

from typing import Any

from registry.settings import Settings

#: The field named by every size problem (the API's, the import report's).
GEOMETRY_FIELD = "geometry"
_VERTICES = "has {count} corners; the limit is {limit}"
_PARTS = "has {count} separate parts; the limit is {limit}"
_ADVICE = ": simplify the boundary (or split the parcel)"


def size_problem(vertices: int, parts: int, settings: Settings) -> str | None:
    """The message for a shape of `vertices` corners in `parts` polygons, or None if it fits."""
    found = []
    if vertices > settings.max_vertices:
        found.append(_VERTICES.format(count=f"{vertices:,}", limit=f"{settings.max_vertices:,}"))
    if parts > settings.max_parts:
        found.append(_PARTS.format(count=f"{parts:,}", limit=f"{settings.max_parts:,}"))
    return "; ".join(found) + _ADVICE if found else None


def geojson_size(geometry: Any) -> tuple[int, int] | None:
    """(corners, polygons) of a GeoJSON Polygon or MultiPolygon, from the lengths of its lists
    (no position is read); None when it is not shaped like one (PostGIS then says why)."""
    if not isinstance(geometry, dict):
        return None
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else 0
    if not isinstance(polygons, list):
        return None
    vertices = 0
    for polygon in polygons:
        if not isinstance(polygon, list):
            return None
        for ring in polygon:
            if not isinstance(ring, list):
                return None
            vertices += len(ring)
    return vertices, len(polygons)


def geojson_size_problem(geometry: Any, settings: Settings) -> str | None:
    """`size_problem` of a GeoJSON shape; None if it fits or is not a (multi)polygon."""
    size = geojson_size(geometry)
    return None if size is None else size_problem(*size, settings)


def _sql_text(template: str, count: str, limit: int) -> str:
    """`template` as a SQL string expression, with `count` (SQL) formatted as 1,000,001."""
    before, after = template.split("{count}")
    after = after.format(limit=f"{limit:,}")
    return f"'{before}' || to_char({count}, 'FM999,999,999,990') || '{after}'"


def size_condition_sql(shape: str, settings: Settings) -> str:
    """SQL: whether the shape `shape` (a SQL expression) is over either limit."""
    return (
        f"(ST_NPoints({shape}) > {settings.max_vertices:d} "
        f"OR ST_NumGeometries({shape}) > {settings.max_parts:d})"
    )


def size_message_sql(shape: str, settings: Settings) -> str:
    """SQL: `size_problem`'s message for `shape`, word for word (for a shape over a limit)."""
    vertices, parts = f"ST_NPoints({shape})", f"ST_NumGeometries({shape})"
    return (
        "concat_ws('; ', "
        f"CASE WHEN {vertices} > {settings.max_vertices:d} "
        f"THEN {_sql_text(_VERTICES, vertices, settings.max_vertices)} END, "
        f"CASE WHEN {parts} > {settings.max_parts:d} "
        f"THEN {_sql_text(_PARTS, parts, settings.max_parts)} END) || '{_ADVICE}'"
    )


def frame_size_problems(
    ids: list[Any], vertices: list[int], parts: list[int], settings: Settings
) -> list[tuple[Any, str]]:
    """(id, message) for each shape of a bulk load over a limit, from shapely's counts."""
    found = []
    for key, count, polygons in zip(ids, vertices, parts, strict=True):
        problem = size_problem(int(count), int(polygons), settings)
        if problem is not None:
            found.append((key, problem))
    return found


#: A page draws at most this many corners of a shape; one with more (stored before the limits,
#: or under a higher one) is simplified for display only.
DISPLAY_MAX_VERTICES = 5_000


def display_shape_sql(shape: str) -> str:
    """SQL: `shape` (a geometry column or alias, evaluated more than once) as a page draws it.
    Over DISPLAY_MAX_VERTICES corners it is simplified to a 2000th of its extent (half a pixel
    on the largest map a page shows), so that a huge shape cannot make a page of megabytes;
    smaller shapes are drawn exactly."""
    return (
        f"CASE WHEN ST_NPoints({shape}) > {DISPLAY_MAX_VERTICES} THEN "
        f"ST_SimplifyPreserveTopology({shape}, greatest(ST_XMax({shape}) - ST_XMin({shape}), "
        f"ST_YMax({shape}) - ST_YMin({shape})) / 2000.0) ELSE {shape} END"
    )
