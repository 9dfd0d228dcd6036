"""Reading parcels and their buildings for the parcel page and the API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.errors import NotFound
from registry.geometry_limits import display_shape_sql


@dataclass(frozen=True)
class ParcelRecord:
    attributes: dict[str, Any]
    geometry: dict[str, Any] | None  # GeoJSON in EPSG:4326, simplified if huge (for display)
    buildings: list[dict[str, Any]]


# The page's shape is drawn, not edited: a huge one is simplified (geometry_limits).
_PARCEL_SQL = text(
    f"""
    SELECT p.parcel_id, p.address, p.council_district, p.use, p.asset_type, p.legal_interest,
           p.status, d.code AS department_code, d.name AS department, p.acquisition_date,
           p.acquisition_cost, p.disposition_date, p.disposition_proceeds,
           p.digitization_status, p.land_area_sq_ft, p.version, p.created_at, p.updated_at,
           p.retired_at,
           ST_AsGeoJSON(ST_Transform({display_shape_sql("p.geom")}, 4326), 7) AS geometry
      FROM parcels p LEFT JOIN departments d ON d.id = p.department_id
     WHERE p.parcel_id = :parcel_id
    """
)
_BUILDINGS_SQL = text(
    """
    SELECT b.building_id, b.name, b.asset_type, b.gross_sq_ft, b.usable_sq_ft, b.year_built,
           b.replacement_value, b.repair_needs, b.version
      FROM buildings b JOIN parcels p ON p.id = b.parcel_id
     WHERE p.parcel_id = :parcel_id
     ORDER BY b.building_id
    """
)
_BUILDING_ON_PARCEL = text(
    "SELECT true FROM buildings b JOIN parcels p ON p.id = b.parcel_id"
    " WHERE b.building_id = :building_id AND p.parcel_id = :parcel_id"
)


def building_is_on_parcel(session: Session, building_id: str, parcel_id: str) -> bool:
    """Whether the building with the public id `building_id` stands on the parcel `parcel_id`."""
    return bool(
        session.scalar(_BUILDING_ON_PARCEL, {"building_id": building_id, "parcel_id": parcel_id})
    )


def get_parcel_record(session: Session, parcel_id: str) -> ParcelRecord:
    row = session.execute(_PARCEL_SQL, {"parcel_id": parcel_id}).mappings().one_or_none()
    if row is None:
        raise NotFound("parcel", parcel_id)
    attributes = dict(row)
    geometry = attributes.pop("geometry")
    buildings = [
        dict(b) for b in session.execute(_BUILDINGS_SQL, {"parcel_id": parcel_id}).mappings()
    ]
    return ParcelRecord(attributes, json.loads(geometry) if geometry else None, buildings)
