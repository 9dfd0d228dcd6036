"""Parcels as GeoJSON, built by PostGIS (`ST_AsGeoJSON`, `json_build_object`), not Python loops.

Two views of a parcel: the public one (what the city publishes: id, address, department, use,
status and the shape) and the full one for signed-in staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.errors import NotFound
from registry.search_text import escape_like
from registry.settings import STORAGE_SRID

MAX_PAGE_SIZE = 10_000
DEFAULT_PAGE_SIZE = 100

_PUBLIC_PROPERTIES = """
    'parcel_id', p.parcel_id, 'address', p.address, 'department', d.name, 'use', p.use,
    'status', p.status
"""
_FULL_PROPERTIES = (
    _PUBLIC_PROPERTIES
    + """,
    'department_code', d.code, 'council_district', p.council_district,
    'asset_type', p.asset_type, 'legal_interest', p.legal_interest,
    'acquisition_date', p.acquisition_date, 'acquisition_cost', p.acquisition_cost::text,
    'disposition_date', p.disposition_date, 'disposition_proceeds', p.disposition_proceeds::text,
    'digitization_status', p.digitization_status, 'land_area_sq_ft', p.land_area_sq_ft,
    'overlap_accepted_reason', p.overlap_accepted_reason,
    'verified_by', p.verified_by, 'verified_at', p.verified_at,
    'needs_confirmation', p.needs_confirmation,
    'version', p.version, 'updated_at', p.updated_at, 'retired_at', p.retired_at
"""
)


def _feature_sql(public: bool) -> str:
    properties = _PUBLIC_PROPERTIES if public else _FULL_PROPERTIES
    return f"""json_build_object(
        'type', 'Feature', 'id', p.parcel_id,
        'geometry', ST_AsGeoJSON(ST_Transform(p.geom, 4326), 7)::json,
        'properties', json_build_object({properties})
    )::text"""


@dataclass(frozen=True)
class ParcelFeature:
    parcel_id: str
    version: int
    geojson: str  # a serialized GeoJSON Feature


def parcel_feature(session: Session, parcel_id: str, public: bool = False) -> ParcelFeature:
    row = session.execute(
        text(
            f"SELECT p.version, {_feature_sql(public)} FROM parcels p "
            "LEFT JOIN departments d ON d.id = p.department_id WHERE p.parcel_id = :parcel_id"
            + (" AND p.retired_at IS NULL" if public else "")  # the public never sees retired
        ),
        {"parcel_id": parcel_id},
    ).one_or_none()
    if row is None:
        raise NotFound("parcel", parcel_id)
    return ParcelFeature(parcel_id, row[0], row[1])


@dataclass(frozen=True)
class ParcelQuery:
    bbox: tuple[float, float, float, float] | None = None  # lon/lat
    q: str | None = None
    statuses: tuple[str, ...] = ()
    department: str | None = None  # code or name
    include_retired: bool = False
    limit: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None  # the last parcel_id of the previous page


@dataclass(frozen=True)
class ParcelPage:
    features: list[str]  # serialized GeoJSON Features
    next_cursor: str | None


def list_parcel_features(session: Session, query: ParcelQuery, public: bool = False) -> ParcelPage:
    """One page of parcels in parcel-id order (keyset pagination: stable under edits, no OFFSET)."""
    conditions: list[str] = ["true"]
    params: dict[str, Any] = {"limit": query.limit + 1}
    if public or not query.include_retired:
        conditions.append("p.retired_at IS NULL")
    if query.bbox is not None:
        # the envelope must not depend on the row (e.g. ST_SRID(p.geom)), or the spatial index
        # cannot be used: 100 000 parcels, 690 ms instead of 4 ms
        envelope = (
            f"ST_Transform(ST_MakeEnvelope(:xmin, :ymin, :xmax, :ymax, 4326), {STORAGE_SRID})"
        )
        conditions.append(f"p.geom && {envelope} AND ST_Intersects(p.geom, {envelope})")
        params.update(zip(("xmin", "ymin", "xmax", "ymax"), query.bbox, strict=True))
    if query.q:
        conditions.append("(p.parcel_id ILIKE :q_prefix OR p.address ILIKE :q_anywhere)")
        params["q_prefix"] = escape_like(query.q.strip()) + "%"
        params["q_anywhere"] = "%" + escape_like(query.q.strip()) + "%"
    if query.statuses:
        conditions.append("p.status = ANY(:statuses)")
        params["statuses"] = list(query.statuses)
    if query.department:
        conditions.append(
            "(lower(d.code) = lower(:department) OR lower(d.name) = lower(:department))"
        )
        params["department"] = query.department
    if query.cursor:
        conditions.append("p.parcel_id > :cursor")
        params["cursor"] = query.cursor
    rows = session.execute(
        text(
            f"SELECT p.parcel_id, {_feature_sql(public)} FROM parcels p "
            f"LEFT JOIN departments d ON d.id = p.department_id WHERE {' AND '.join(conditions)} "
            "ORDER BY p.parcel_id LIMIT :limit"
        ),
        params,
    ).all()
    page = rows[: query.limit]
    next_cursor = page[-1][0] if len(rows) > query.limit else None
    return ParcelPage([row[1] for row in page], next_cursor)


def feature_collection(page: ParcelPage, links: list[dict[str, str]]) -> str:
    """Assemble the collection from PostGIS-made features without re-parsing them."""
    import json

    return (
        '{"type":"FeatureCollection","features":['
        + ",".join(page.features)
        + '],"numberReturned":'
        + str(len(page.features))
        + ',"links":'
        + json.dumps(links)
        + "}"
    )
