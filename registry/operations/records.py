"""Occupancy and O&M cost records: create, change, delete and read one (lists: `queries`).

The one entry point for every writer (the API, the parcel page, the imports), so validation
(`registry.operations.validation`) and optimistic locking are the same whichever way a record
comes in. Each write runs inside the caller's `registry.db.unit_of_work` and is audited by the
database's triggers (migration 0007), which name the actor of that transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.errors import NotFound
from registry.errors import version_conflict
from registry.fields import FieldProblem
from registry.fields import RecordInvalid
from registry.operations.queries import COST_SELECT
from registry.operations.queries import OCCUPANCY_SELECT
from registry.operations.queries import cost_dict
from registry.operations.queries import occupancy_dict
from registry.operations.validation import clean_cost
from registry.operations.validation import clean_occupancy
from registry.record_rows import one_row

_TABLES = {"occupancy": "occupancy", "cost": "om_costs"}


def occupancy_as_dict(session: Session, record_id: int) -> dict[str, Any]:
    """The record as the API shows it: public ids, the department's name and the building's
    usable sq ft (what the occupied area is checked against), `version`, `id`."""
    sql = f"{OCCUPANCY_SELECT} WHERE o.id = :id"
    return occupancy_dict(one_row(session, sql, {"id": record_id}, "occupancy record", record_id))


def cost_as_dict(session: Session, record_id: int) -> dict[str, Any]:
    """The record as the API shows it: public ids, money as a two-decimal string."""
    sql = f"{COST_SELECT} WHERE c.id = :id"
    return cost_dict(one_row(session, sql, {"id": record_id}, "cost record", record_id))


def _insert(session: Session, kind: str, values: Mapping[str, Any]) -> int:
    columns = ", ".join(values)
    placeholders = ", ".join(f":{name}" for name in values)
    try:
        new_id = session.execute(
            text(f"INSERT INTO {_TABLES[kind]} ({columns}) VALUES ({placeholders}) RETURNING id"),
            dict(values),
        ).scalar_one()
    except IntegrityError as error:
        raise _duplicate(error) from error
    return int(new_id)


def _duplicate(error: IntegrityError) -> Exception:
    """Two writers of one building, department and start both pass the read check: the unique
    index decides and the loser gets a field problem."""
    if "uq_occupancy_building_id" not in str(error.orig):
        return error
    return RecordInvalid(
        [
            FieldProblem(
                "period_start",
                "this department's occupancy of the building from that date is already recorded",
            )
        ]
    )


def _check_new_occupancy(
    session: Session, values: Mapping[str, Any], record_id: int | None = None
) -> None:
    taken = session.execute(
        text(
            "SELECT id FROM occupancy WHERE building_id = :b AND department_id = :d "
            "AND period_start = :s AND id IS DISTINCT FROM :me"
        ),
        {
            "b": values["building_id"],
            "d": values["department_id"],
            "s": values["period_start"],
            "me": record_id,
        },
    ).scalar()
    if taken is not None:
        raise RecordInvalid(
            [
                FieldProblem(
                    "period_start",
                    f"this department's occupancy of the building from "
                    f"{values['period_start']} is already recorded (record {taken})",
                    {"existing_id": int(taken)},
                )
            ]
        )


def create_occupancy(session: Session, data: Any) -> int:
    """Validate and insert an occupancy record; its id."""
    values = clean_occupancy(session, data)
    _check_new_occupancy(session, values)
    return _insert(session, "occupancy", values)


def create_cost(session: Session, data: Any) -> int:
    """Validate and insert an O&M cost record; its id."""
    return _insert(session, "cost", clean_cost(session, data))


def _update(
    session: Session, kind: str, record_id: int, expected_version: int, values: Mapping[str, Any]
) -> int:
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    try:
        version = session.execute(
            text(
                f"UPDATE {_TABLES[kind]} SET {assignments} WHERE id = :record_id "
                "AND version = :expected RETURNING version"
            ),
            {**values, "record_id": record_id, "expected": expected_version},
        ).scalar()
    except IntegrityError as error:
        raise _duplicate(error) from error
    if version is None:  # another writer committed between our read and our write
        raise version_conflict(session, f"{kind} record", record_id)
    return int(version)


def update_occupancy(session: Session, record_id: int, expected_version: int, data: Any) -> int:
    """Apply `data` (a PATCH: only the fields to change) if the record is still at
    `expected_version`; the new version (unchanged when nothing really changed)."""
    current = occupancy_as_dict(session, record_id)
    if current["version"] != expected_version:
        raise version_conflict(session, "occupancy record", record_id)
    values = clean_occupancy(session, data, current)
    _check_new_occupancy(session, values, record_id)
    return _update(session, "occupancy", record_id, expected_version, values)


def update_cost(session: Session, record_id: int, expected_version: int, data: Any) -> int:
    """As `update_occupancy`, for an O&M cost record."""
    current = cost_as_dict(session, record_id)
    if current["version"] != expected_version:
        raise version_conflict(session, "cost record", record_id)
    return _update(session, "cost", record_id, expected_version, clean_cost(session, data, current))


def _delete(session: Session, kind: str, record_id: int, expected_version: int) -> None:
    version = session.execute(
        text(f"SELECT version FROM {_TABLES[kind]} WHERE id = :id"), {"id": record_id}
    ).scalar()
    if version is None:
        raise NotFound(f"{kind} record", record_id)
    deleted = session.execute(
        text(f"DELETE FROM {_TABLES[kind]} WHERE id = :id AND version = :v RETURNING id"),
        {"id": record_id, "v": expected_version},
    ).scalar()
    if deleted is None:
        raise version_conflict(session, f"{kind} record", record_id)


def delete_occupancy(session: Session, record_id: int, expected_version: int) -> None:
    """Delete a record entered in error; the audit trail keeps it."""
    _delete(session, "occupancy", record_id, expected_version)


def delete_cost(session: Session, record_id: int, expected_version: int) -> None:
    """Delete a record entered in error; the audit trail keeps it."""
    _delete(session, "cost", record_id, expected_version)
