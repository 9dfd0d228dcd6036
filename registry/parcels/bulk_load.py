"""Set-based loading of many parcels and buildings: COPY into a staging table, then one upsert.

Rows that are identical to what is stored are not touched, so loading the same data twice writes
nothing and adds no history; changed rows are updated (and audited by the database's triggers).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.db import copy_frame
from registry.settings import STORAGE_SRID

# (column, staging type) in the order written by COPY; geometry travels as hex WKB in EPSG:4326.
_PARCEL_COLUMNS = [
    ("parcel_id", "text"),
    ("address", "text"),
    ("council_district", "smallint"),
    ("use", "text"),
    ("asset_type", "text"),
    ("legal_interest", "text"),
    ("status", "text"),
    ("department_code", "text"),
    ("acquisition_date", "date"),
    ("acquisition_cost", "numeric"),
    ("disposition_date", "date"),
    ("disposition_proceeds", "numeric"),
    ("digitization_status", "text"),
]
_BUILDING_COLUMNS = [
    ("building_id", "text"),
    ("parcel_id", "text"),
    ("name", "text"),
    ("asset_type", "text"),
    ("gross_sq_ft", "integer"),
    ("usable_sq_ft", "integer"),
    ("year_built", "smallint"),
    ("replacement_value", "numeric"),
    ("repair_needs", "numeric"),
]


@dataclass
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: UpsertCounts) -> None:
        self.inserted += other.inserted
        self.updated += other.updated
        self.unchanged += other.unchanged


def _storage_geometry(column: str) -> str:
    geometry = f"ST_Multi(ST_GeomFromWKB(decode({column}, 'hex'), 4326))"
    return geometry if STORAGE_SRID == 4326 else f"ST_Transform({geometry}, {STORAGE_SRID})"


_INTEGER_TYPES = {"smallint", "integer"}


def _staging_frame(frame: gpd.GeoDataFrame, columns: list[tuple[str, str]]) -> pd.DataFrame:
    staged = pd.DataFrame(
        {
            # nullable integers, so that a gap does not turn a column into floats ("3.0")
            name: frame[name].astype("Int64") if kind in _INTEGER_TYPES else frame[name]
            for name, kind in columns
        }
    )
    geometry = frame.geometry.to_crs(4326).values
    staged["geom_hex"] = shapely.to_wkb(geometry, hex=True, output_dimension=2)
    return staged


def _stage(session: Session, name: str, columns: list[tuple[str, str]]) -> None:
    definition = ", ".join(f"{column} {kind}" for column, kind in columns)
    session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    session.execute(
        text(f"CREATE TEMP TABLE {name} ({definition}, geom_hex text) ON COMMIT DROP")
    )


def upsert_departments(session: Session, departments: pd.DataFrame) -> None:
    session.execute(
        text(
            "INSERT INTO departments (code, name) VALUES (:code, :name) "
            "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name "
            "WHERE departments.name IS DISTINCT FROM EXCLUDED.name"
        ),
        departments[["code", "name"]].to_dict("records"),
    )


def _counts(session: Session, statement: str, staged: int) -> UpsertCounts:
    rows = session.execute(text(statement)).all()
    inserted = sum(1 for (was_inserted,) in rows if was_inserted)
    return UpsertCounts(inserted, len(rows) - inserted, staged - len(rows))


def upsert_parcels(session: Session, parcels: gpd.GeoDataFrame) -> UpsertCounts:
    _stage(session, "staged_parcels", _PARCEL_COLUMNS)
    copy_frame(session, "staged_parcels", _staging_frame(parcels, _PARCEL_COLUMNS))
    target = [name for name, _ in _PARCEL_COLUMNS if name != "department_code"]
    values = ", ".join(f"s.{name}" for name in target)
    updated = [*target[1:], "department_id", "geom"]
    assignments = ", ".join(f"{name} = EXCLUDED.{name}" for name in updated)
    compared = ", ".join(f"p.{name}" for name in updated)
    incoming = ", ".join(f"EXCLUDED.{name}" for name in updated)
    statement = f"""
        INSERT INTO parcels AS p ({", ".join(target)}, department_id, geom)
        SELECT {values}, d.id, {_storage_geometry("s.geom_hex")}
          FROM staged_parcels s LEFT JOIN departments d ON d.code = s.department_code
        ON CONFLICT (parcel_id) DO UPDATE SET {assignments}
        WHERE ({compared}) IS DISTINCT FROM ({incoming})
        RETURNING (xmax = 0)
    """
    return _counts(session, statement, len(parcels))


def upsert_buildings(session: Session, buildings: gpd.GeoDataFrame) -> UpsertCounts:
    _stage(session, "staged_buildings", _BUILDING_COLUMNS)
    copy_frame(session, "staged_buildings", _staging_frame(buildings, _BUILDING_COLUMNS))
    target = [name for name, _ in _BUILDING_COLUMNS if name != "parcel_id"]
    values = ", ".join(f"s.{name}" for name in target)
    updated = [*target[1:], "parcel_id", "footprint"]
    statement = f"""
        INSERT INTO buildings AS b ({", ".join(target)}, parcel_id, footprint)
        SELECT {values}, p.id, {_storage_geometry("s.geom_hex")}
          FROM staged_buildings s JOIN parcels p ON p.parcel_id = s.parcel_id
        ON CONFLICT (building_id) DO UPDATE SET
            {", ".join(f"{name} = EXCLUDED.{name}" for name in updated)}
        WHERE ({", ".join(f"b.{name}" for name in updated)})
              IS DISTINCT FROM ({", ".join(f"EXCLUDED.{name}" for name in updated)})
        RETURNING (xmax = 0)
    """
    return _counts(session, statement, len(buildings))
