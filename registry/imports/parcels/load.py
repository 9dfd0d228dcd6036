"""The write of the accepted rows: changed parcels updated, new ones inserted, each by one
set-based statement. Unchanged parcels are not touched (no new version, no history); changed and
new ones are audited by the database's triggers.

Two statements rather than one INSERT … ON CONFLICT: a hash join finds the changed rows of a
re-import in a tenth of the time 94,000 speculative inserts take to conflict, and a plain INSERT
skips the speculative-insertion bookkeeping of a first load. A parcel id inserted by someone else
between the two statements makes the INSERT fail on the unique key, and the whole import with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import CursorResult
from sqlalchemy import TextClause
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.db import planner_settings
from registry.imports.parcels.checks import INSERT_DEFAULTS
from registry.parcels.bulk_indexes import parcel_overlaps_folded_after
from registry.parcels.bulk_indexes import secondary_indexes_rebuilt
from registry.parcels.bulk_indexes import worth_rebuilding
from registry.parcels.bulk_load import UpsertCounts

_COPIED = (
    "address",
    "council_district",
    "use",
    "asset_type",
    "legal_interest",
    "status",
    "acquisition_date",
    "acquisition_cost",
    "disposition_date",
    "disposition_proceeds",
)
_FLAG = "'department_code'"
# What the file says of the department's certainty: a doubted value (`GSD?`) asks for a
# confirmation, a plain one gives it.
_CONFIRMATION_UPDATE = f"""CASE WHEN r.department_uncertain
    THEN CASE WHEN {_FLAG} = ANY (p.needs_confirmation) THEN p.needs_confirmation
              ELSE p.needs_confirmation || CAST({_FLAG} AS text) END
    WHEN r.department_id IS NOT NULL THEN array_remove(p.needs_confirmation, {_FLAG})
    ELSE p.needs_confirmation END"""
_CONFIRMATION_INSERT = (
    f"CASE WHEN r.department_uncertain THEN ARRAY[{_FLAG}] ELSE CAST('{{}}' AS text[]) END"
)


def upsert_rows(session: Session, mapped: set[str], with_geometry: bool) -> UpsertCounts:
    """Write the `ok` rows; only the fields the file maps are written, and a blank cell never
    erases what the registry holds (a new record gets the column's default, if it has one), so
    a file that lacks a column or a value leaves the registry's as it is."""
    fields = [name for name in _COPIED if name in mapped]
    if "department_code" in mapped:
        fields.append("department_id")
    updates = {name: f"coalesce(r.{name}, p.{name})" for name in fields}
    inserts = {
        name: f"coalesce(r.{name}, {INSERT_DEFAULTS[name]})"
        if name in INSERT_DEFAULTS
        else f"r.{name}"
        for name in fields
    }
    if "department_code" in mapped:
        updates["needs_confirmation"] = _CONFIRMATION_UPDATE
        inserts["needs_confirmation"] = _CONFIRMATION_INSERT
    if with_geometry:
        updates["geom"] = "coalesce(ST_Multi(r.geom), p.geom)"
        inserts["geom"] = "ST_Multi(r.geom)"
    accepted = int(session.execute(text("SELECT count(*) FROM import_rows WHERE ok")).scalar_one())
    updated = _update_changed(session, updates, "digitization_status" in mapped)
    # a paper record whose shape arrives becomes digitized; nothing else is assumed
    digitization = "CASE WHEN r.geom IS NULL THEN 'paper' ELSE 'digitized' END"
    if "digitization_status" in mapped:
        digitization = f"coalesce(r.digitization_status, {digitization})"
    insert = new_rows_insert([*inserts, "digitization_status"], [*inserts.values(), digitization])
    if with_geometry and worth_rebuilding(session, "parcels", accepted - updated):
        with (
            parcel_overlaps_folded_after(session),
            without_nested_loops(session),
            secondary_indexes_rebuilt(session, "parcels"),
        ):
            inserted = _rows_written(session, insert)
    else:
        with without_nested_loops(session):
            inserted = _rows_written(session, insert)
    return UpsertCounts(inserted, updated, accepted - inserted - updated)


def new_rows_insert(columns: list[str], values: list[str]) -> TextClause:
    """INSERT of the accepted staged rows whose parcel id the registry does not hold yet."""
    return text(f"""
        INSERT INTO parcels (parcel_id, {", ".join(columns)})
        SELECT r.parcel_id, {", ".join(values)} FROM import_rows r
         WHERE r.ok AND NOT EXISTS (SELECT 1 FROM parcels p WHERE p.parcel_id = r.parcel_id)
    """)


@contextmanager
def without_nested_loops(session: Session) -> Iterator[None]:
    """An empty `parcels` that has been analyzed (reltuples 0) makes the planner probe it by
    a sequential scan per incoming row: a scan of the table the INSERT is growing, n² in all
    (75–150 s for 94,000 parcels). A hash anti join reads `parcels` once, before the first row
    goes in, whatever the statistics say."""
    with planner_settings(session, enable_nestloop="off"):
        yield


def _update_changed(session: Session, updates: dict[str, str], digitization_mapped: bool) -> int:
    """Update the stored parcels whose mapped fields differ from the file's; return how many."""
    assignments = [f"{name} = {value}" for name, value in updates.items()]
    compared = ", ".join(f"p.{name}" for name in updates) or "NULL"
    incoming = ", ".join(updates.values()) or "NULL"
    # a paper record whose shape arrives becomes digitized, whether or not anything else changed
    arrives = "(p.digitization_status = 'paper' AND r.geom IS NOT NULL)"
    if digitization_mapped:  # written along with a change, never a change on its own
        assignments.append(
            "digitization_status = coalesce(r.digitization_status, "
            f"CASE WHEN {arrives} THEN 'digitized' ELSE p.digitization_status END)"
        )
    else:
        assignments.append(
            f"digitization_status = CASE WHEN {arrives} THEN 'digitized' "
            "ELSE p.digitization_status END"
        )
    return _rows_written(
        session,
        text(f"""
        UPDATE parcels p SET {", ".join(assignments)} FROM import_rows r
         WHERE r.ok AND p.parcel_id = r.parcel_id
           AND (ROW({compared}) IS DISTINCT FROM ROW({incoming}) OR {arrives})
    """),
    )


def _rows_written(session: Session, statement: TextClause) -> int:
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount
