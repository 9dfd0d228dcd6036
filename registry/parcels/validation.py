"""Checks on a parcel's attributes and shape before anything is written.

Every problem is collected (not just the first), each naming its field, so that a form can show
the messages next to the inputs and an import report can list them all. Geometry checks run in
PostGIS, whose GEOS reasons ("Self-intersection at …") are what GIS staff know.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.city.departments import find_department
from registry.city.districts import district_numbers
from registry.city.ids import canonical_parcel_id
from registry.city.ids import id_problem
from registry.city.profile import city_profile
from registry.fields import FieldProblem
from registry.fields import Problems
from registry.fields import RecordInvalid
from registry.fields import to_date
from registry.fields import to_money
from registry.fields import to_text
from registry.geometry_limits import GEOMETRY_FIELD
from registry.geometry_limits import geojson_size
from registry.geometry_limits import geojson_size_problem
from registry.geometry_limits import size_problem
from registry.settings import STORAGE_SRID
from registry.settings import Settings
from registry.spatial import as_geography
from registry.vocabulary import ASSET_TYPES
from registry.vocabulary import DIGITIZATION_STATUSES
from registry.vocabulary import LEGAL_INTERESTS
from registry.vocabulary import PARCEL_STATUSES

OVERLAP_TOLERANCE_SQ_M = 1.0

# properties a client may send back unchanged from a GET: derived or managed by the registry
READ_ONLY_PROPERTIES = frozenset(
    {
        "land_area_sq_ft",
        "version",
        "updated_at",
        "retired_at",
        "department",
        "verified_by",
        "verified_at",
        "needs_confirmation",
    }
)
_ENUMS = {
    "status": PARCEL_STATUSES,
    "legal_interest": LEGAL_INTERESTS,
    "asset_type": ASSET_TYPES,
    "digitization_status": DIGITIZATION_STATUSES,
}
_TEXTS = {"address": 300, "use": 200, "overlap_accepted_reason": 1000}
_DATES = ("acquisition_date", "disposition_date")
_MONEY = ("acquisition_cost", "disposition_proceeds")
EDITABLE_PROPERTIES = frozenset(
    {"parcel_id", "council_district", "department_code", *_ENUMS, *_TEXTS, *_DATES, *_MONEY}
)


class ParcelInvalid(RecordInvalid):
    """A parcel edit failed validation; `problems` names every field at fault."""


def _check_enum(name: str, value: Any, problems: list[FieldProblem]) -> Any:
    allowed = _ENUMS[name]
    if value is None and name in {"status", "legal_interest", "digitization_status"}:
        problems.append(FieldProblem(name, "is required"))
    elif value is not None and value not in allowed:
        problems.append(FieldProblem(name, f"must be one of: {', '.join(allowed)}"))
    return value


def clean_properties(
    session: Session, properties: dict[str, Any], settings: Settings, current_id: str | None
) -> tuple[dict[str, Any], list[FieldProblem]]:
    """Validate the given properties (a create's or a patch's) and return them typed.

    `current_id` is the parcel's id when editing, None when creating.
    """
    problems = Problems()
    clean: dict[str, Any] = {}
    for name, value in properties.items():
        if name in READ_ONLY_PROPERTIES:
            continue
        if name not in EDITABLE_PROPERTIES:
            problems.append(FieldProblem(name, "is not a parcel field"))
        elif name in _ENUMS:
            clean[name] = _check_enum(name, value, problems)
        elif name in _TEXTS:
            clean[name] = to_text(problems, name, value, _TEXTS[name])
        elif name in _DATES:
            clean[name] = to_date(problems, name, value)
        elif name in _MONEY:
            clean[name] = to_money(problems, name, value)
        elif name == "council_district":
            districts = district_numbers(session, settings)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value not in districts
            ):
                problems.append(FieldProblem(name, district_rule(districts)))
            else:
                clean[name] = value
        elif name == "department_code":
            clean["department_id"] = _department_id(session, value, problems)
        elif name == "parcel_id":
            clean[name] = _check_parcel_id(session, value, settings, current_id, problems)
    acquired, disposed = clean.get("acquisition_date"), clean.get("disposition_date")
    if acquired and disposed and disposed < acquired:
        problems.append(FieldProblem("disposition_date", "is before the acquisition date"))
    return clean, problems


def district_rule(districts: tuple[int, ...]) -> str:
    """What a council district must be, in words (the API's and the imports' message)."""
    if districts == tuple(range(1, len(districts) + 1)):
        return f"must be a district number from 1 to {len(districts)}"
    return f"must be one of the council districts {', '.join(map(str, districts))}"


def _check_parcel_id(
    session: Session,
    value: Any,
    settings: Settings,
    current_id: str | None,
    problems: list[FieldProblem],
) -> Any:
    """The id in the city's canonical spelling (AIN 5056011903 is kept as 5056-011-903)."""
    if not isinstance(value, str) or not value.strip():
        problems.append(FieldProblem("parcel_id", "is required"))
        return value
    profile = city_profile(session, settings)
    problem = id_problem(profile, value)
    if problem is not None:
        problems.append(FieldProblem("parcel_id", problem))
        return value.strip()
    value = canonical_parcel_id(profile, value)
    if (
        value != current_id
        and session.execute(
            text("SELECT 1 FROM parcels WHERE parcel_id = :id"), {"id": value}
        ).first()
    ):
        problems.append(FieldProblem("parcel_id", f"{value} is already in the registry"))
    return value


def _department_id(session: Session, value: Any, problems: list[FieldProblem]) -> int | None:
    if value is None:
        return None
    department_id, nearest = find_department(session, str(value))
    if department_id is None:
        hint = f"; did you mean {nearest!r}?" if nearest else ""
        problems.append(FieldProblem("department_code", f"no department {value!r}{hint}"))
    return department_id


@dataclass(frozen=True)
class GeometryCheck:
    problems: list[FieldProblem]
    overlaps: list[dict[str, Any]]


_GEOMETRY_SQL = text(
    f"""
    WITH input AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(:geojson), 4326) AS g),
    facts AS (
        SELECT g, GeometryType(g) AS kind, ST_IsEmpty(g) AS empty, ST_IsValid(g) AS valid,
               (ST_IsValidDetail(g)).reason AS reason,
               ST_AsGeoJSON((ST_IsValidDetail(g)).location)::json AS location,
               ST_CoveredBy(g, ST_MakeEnvelope(:xmin, :ymin, :xmax, :ymax, 4326)) AS inside
          FROM input
    )
    SELECT kind, empty, valid, reason, location, inside,
           CASE WHEN valid AND NOT empty AND kind IN ('POLYGON', 'MULTIPOLYGON') THEN (
               SELECT json_agg(json_build_object('parcel_id', p.parcel_id,
                                                 'area_sq_m', round(o.area::numeric, 1))
                               ORDER BY p.parcel_id)
                 FROM parcels p,
                      LATERAL (SELECT ST_Area({
        as_geography(f"ST_Intersection(p.geom, ST_Transform(g, {STORAGE_SRID}))")
    }) AS area) o
                WHERE p.geom && ST_Transform(g, {STORAGE_SRID})
                  AND ST_Intersects(p.geom, ST_Transform(g, {STORAGE_SRID}))
                  AND p.retired_at IS NULL
                  AND p.parcel_id IS DISTINCT FROM :self
                  AND o.area > {OVERLAP_TOLERANCE_SQ_M}
           ) END AS overlaps
      FROM facts
    """
)


def shape_form_problem(geometry: Any, settings: Settings) -> FieldProblem | None:
    """What is wrong with a GeoJSON shape that can be told without PostGIS: not a geometry
    object, another CRS, another kind, or more corners or parts than the registry takes
    (`registry.geometry_limits`, counted from the lengths of its lists)."""
    if not isinstance(geometry, dict) or "type" not in geometry:
        return FieldProblem(GEOMETRY_FIELD, "must be a GeoJSON geometry object")
    crs = geometry.get("crs")
    if crs is not None and not _is_wgs84(crs):
        return FieldProblem(GEOMETRY_FIELD, "must be in WGS 84 longitude/latitude (EPSG:4326)")
    if geometry["type"] not in {"Polygon", "MultiPolygon"}:
        return FieldProblem(
            GEOMETRY_FIELD, f"must be a Polygon or MultiPolygon, not {geometry['type']}"
        )
    size = geojson_size(geometry)
    too_large = None if size is None else size_problem(*size, settings)
    if size is not None and too_large is not None:
        vertices, parts = size
        return FieldProblem(
            GEOMETRY_FIELD,
            too_large,
            {
                "vertices": vertices,
                "parts": parts,
                "max_vertices": settings.max_vertices,
                "max_parts": settings.max_parts,
            },
        )
    return None


def check_geometry(
    session: Session, geometry: Any, settings: Settings, parcel_id: str | None
) -> GeometryCheck:
    """The shape must be a valid (Multi)Polygon in WGS 84 inside the city, within the size
    limits, overlapping no other parcel by more than 1 m². Overlaps are returned apart: an
    editor may accept them explicitly. A writer calls it under `shape_locks.lock_shape_write`."""
    problem = shape_form_problem(geometry, settings)
    if problem is not None:
        return GeometryCheck([problem], [])
    xmin, ymin, xmax, ymax = city_profile(session, settings).extent
    savepoint = session.begin_nested()
    try:
        row = session.execute(
            _GEOMETRY_SQL,
            {
                "geojson": json.dumps(geometry),
                "xmin": xmin,
                "ymin": ymin,
                "xmax": xmax,
                "ymax": ymax,
                "self": parcel_id,
            },
        ).one()
        savepoint.commit()
    except Exception as error:  # PostGIS rejects malformed GeoJSON with XX000
        savepoint.rollback()
        reason = str(getattr(error, "orig", error)).splitlines()[0]
        return GeometryCheck([FieldProblem("geometry", f"is not readable GeoJSON: {reason}")], [])
    problems: list[FieldProblem] = []
    if row.empty:
        problems.append(FieldProblem("geometry", "is empty"))
    elif not row.valid:
        problems.append(
            FieldProblem(
                "geometry",
                f"is not valid: {row.reason}",
                {"reason": row.reason, "location": row.location, "repair_available": True},
            )
        )
    elif not row.inside:
        problems.append(
            FieldProblem(
                "geometry",
                "lies outside the city's extent: check the coordinates and their order "
                "(longitude, latitude) and the CRS",
            )
        )
    return GeometryCheck(problems, list(row.overlaps or []))


def _is_wgs84(crs: Any) -> bool:
    name = str(crs.get("properties", {}).get("name", "")) if isinstance(crs, dict) else ""
    return name.upper().replace("::", ":") in {
        "EPSG:4326",
        "URN:OGC:DEF:CRS:EPSG:4326",
        "URN:OGC:DEF:CRS:OGC:1.3:CRS84",
        "CRS84",
    }


_OVERLAPPED_BY_STORED_SHAPE = text(
    f"""
    SELECT o.parcel_id FROM parcels p
      JOIN parcels o ON o.geom && p.geom AND ST_Intersects(o.geom, p.geom)
     WHERE p.parcel_id = :self AND o.parcel_id <> p.parcel_id AND o.retired_at IS NULL
       AND ST_Area({as_geography("ST_Intersection(o.geom, p.geom)")}) > {OVERLAP_TOLERANCE_SQ_M}
    """
)


def overlapped_by_stored_shape(session: Session, parcel_id: str) -> set[str]:
    """The parcels that the parcel's shape as stored overlaps: those an acceptance covers."""
    return set(session.execute(_OVERLAPPED_BY_STORED_SHAPE, {"self": parcel_id}).scalars())


def overlap_problem(overlaps: list[dict[str, Any]]) -> FieldProblem:
    ids = ", ".join(o["parcel_id"] for o in overlaps)
    return FieldProblem(
        "geometry",
        f"overlaps {ids} by more than {OVERLAP_TOLERANCE_SQ_M:g} m²; correct the shape, or accept "
        "the overlap by giving an Overlap reason if it is real",
        {"overlaps": overlaps},
    )


_REPAIR_SQL = text(
    """
    WITH input AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(:geojson), 4326) AS g),
    repaired AS (SELECT g, ST_Multi(ST_CollectionExtract(ST_MakeValid(g), 3)) AS r FROM input)
    SELECT ST_AsGeoJSON(r, 9)::json AS geometry,
           ST_Area(r::geography) AS repaired_sq_m,
           ST_Area(ST_Buffer(g, 0)::geography) AS original_sq_m,
           ST_IsValid(r) AND NOT ST_IsEmpty(r) AS usable
      FROM repaired
    """
)


def propose_repair(
    session: Session, geometry: dict[str, Any], settings: Settings
) -> dict[str, Any]:
    """`ST_MakeValid`'s repair of a shape, for a person to review: never applied silently.
    A shape over the size limits is refused first (`ParcelInvalid`): it could not be saved."""
    too_large = geojson_size_problem(geometry, settings)
    if too_large is not None:
        raise ParcelInvalid([FieldProblem(GEOMETRY_FIELD, too_large)])
    row = session.execute(_REPAIR_SQL, {"geojson": json.dumps(geometry)}).one()
    return {
        "geometry": row.geometry,
        "usable": bool(row.usable),
        "area_sq_m": round(row.repaired_sq_m, 1),
        "area_change_sq_m": round(row.repaired_sq_m - row.original_sq_m, 1),
    }
