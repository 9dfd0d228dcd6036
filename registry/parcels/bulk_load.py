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
from registry.fields import FieldProblem
from registry.fields import RecordInvalid
from registry.geometry_limits import GEOMETRY_FIELD
from registry.geometry_limits import frame_size_problems
from registry.parcels.shape_locks import lock_whole_city
from registry.settings import STORAGE_SRID
from registry.settings import Settings

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
    session.execute(text(f"CREATE TEMP TABLE {name} ({definition}, geom_hex text) ON COMMIT DROP"))


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


@dataclass(frozen=True)
class _Target:
    """A table loaded by `_upsert`: staged `columns`, the first being its natural key, except
    `reference` (a natural key of the `referenced` table, by `referenced_key`) which is stored as
    the id of that row in `foreign_key`; the shape goes into `geometry`. `join` is `JOIN` when a
    row without its referenced row is dropped, `LEFT JOIN` when it is kept without one."""

    table: str
    columns: list[tuple[str, str]]
    reference: str
    referenced: str
    referenced_key: str
    foreign_key: str
    geometry: str
    join: str


_PARCELS = _Target(
    "parcels",
    _PARCEL_COLUMNS,
    "department_code",
    "departments",
    "code",
    "department_id",
    "geom",
    "LEFT JOIN",
)
_BUILDINGS = _Target(
    "buildings",
    _BUILDING_COLUMNS,
    "parcel_id",
    "parcels",
    "parcel_id",
    "parcel_id",
    "footprint",
    "JOIN",
)


def _check_sizes(target: _Target, frame: gpd.GeoDataFrame, settings: Settings) -> None:
    """Every shape within the size limits (`registry.geometry_limits`), counted by shapely
    before anything is staged; the load is refused naming each shape over them."""
    geometry = frame.geometry.values
    found = frame_size_problems(
        frame[target.columns[0][0]].tolist(),
        shapely.get_num_coordinates(geometry).tolist(),
        shapely.get_num_geometries(geometry).tolist(),
        settings,
    )
    if found:
        record = target.table.removesuffix("s")
        raise RecordInvalid(
            [FieldProblem(GEOMETRY_FIELD, f"{record} {key} {message}") for key, message in found]
        )


def _upsert(
    session: Session, target: _Target, frame: gpd.GeoDataFrame, settings: Settings | None
) -> UpsertCounts:
    """Stage `frame`, then insert its new rows and update its changed ones in one statement.
    Shapes anywhere in the city: under the whole-city lock of shape writes (shape_locks)."""
    _check_sizes(target, frame, settings or Settings.from_env())
    lock_whole_city(session)
    staging = f"staged_{target.table}"
    _stage(session, staging, target.columns)
    copy_frame(session, staging, _staging_frame(frame, target.columns))
    written = [name for name, _ in target.columns if name != target.reference]
    inserted = [*written, target.foreign_key, target.geometry]
    updated = inserted[1:]
    statement = f"""
        INSERT INTO {target.table} AS t ({", ".join(inserted)})
        SELECT {", ".join(f"s.{name}" for name in written)}, r.id, {_storage_geometry("s.geom_hex")}
          FROM {staging} s {target.join} {target.referenced} r
            ON r.{target.referenced_key} = s.{target.reference}
        ON CONFLICT ({written[0]}) DO UPDATE SET
            {", ".join(f"{name} = EXCLUDED.{name}" for name in updated)}
        WHERE ({", ".join(f"t.{name}" for name in updated)})
              IS DISTINCT FROM ({", ".join(f"EXCLUDED.{name}" for name in updated)})
        RETURNING (xmax = 0)
    """
    return _counts(session, statement, len(frame))


def upsert_parcels(
    session: Session, parcels: gpd.GeoDataFrame, settings: Settings | None = None
) -> UpsertCounts:
    """A parcel whose department code is unknown is kept, without a department. `settings`
    (for the size limits): the environment's when not given."""
    return _upsert(session, _PARCELS, parcels, settings)


def upsert_buildings(
    session: Session, buildings: gpd.GeoDataFrame, settings: Settings | None = None
) -> UpsertCounts:
    """A building whose parcel is not in the registry is left out (counted as unchanged)."""
    return _upsert(session, _BUILDINGS, buildings, settings)
