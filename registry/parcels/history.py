"""A parcel's history, read from the audit trail, and restoring an earlier version as a new edit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.errors import NotFound
from registry.geometry_limits import display_shape_sql
from registry.parcels.records import ParcelChange
from registry.parcels.records import update_parcel
from registry.parcels.validation import EDITABLE_PROPERTIES
from registry.settings import Settings

_MONEY = ("acquisition_cost", "disposition_proceeds")
# Bookkeeping columns: shown in the raw rows, not listed as changes a person made.
_BOOKKEEPING = frozenset({"id", "version", "created_at", "updated_at"})


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class HistoryEntry:
    event_id: int
    occurred_at: dt.datetime
    actor: str
    action: str
    version: int | None  # the parcel's version after this change
    changes: list[FieldChange]
    geometry_before: dict[str, Any] | None
    geometry_after: dict[str, Any] | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "occurred_at": self.occurred_at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "version": self.version,
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in self.changes],
            "before": {"geometry": self.geometry_before},
            "after": {"geometry": self.geometry_after},
        }


def _department_codes(session: Session) -> dict[int, str]:
    return {row.id: row.code for row in session.execute(text("SELECT id, code FROM departments"))}


# The audit trail keys events by the parcel id of the time; a parcel whose id was changed has
# earlier events under its former ids. Follow the renames back and keep only this row's events
# (by its internal id), not those of another parcel that had one of its ids before or since.
def _drawn(state: str) -> str:
    """SQL: the audited row `state` with its shape as a page draws it (geometry_limits): one of
    more than ~5,000 corners (over 200 kB of GeoJSON) simplified, the others as they are."""
    shape = f"ST_GeomFromGeoJSON({state} ->> 'geom')"
    return (
        f"CASE WHEN octet_length(({state} -> 'geom')::text) > 200000 THEN {state} || "
        f"jsonb_build_object('geom', (SELECT ST_AsGeoJSON({display_shape_sql('g')}, 7)::jsonb "
        f"FROM (SELECT {shape} AS g) AS stored)) ELSE {state} END"
    )


_HISTORY_SQL = text(
    f"""
    WITH RECURSIVE target AS (SELECT id FROM parcels WHERE parcel_id = :id),
    keys(key) AS (
        SELECT CAST(:id AS text)
        UNION
        SELECT e.before ->> 'parcel_id' FROM audit_events e JOIN keys ON e.row_key = keys.key
         WHERE e.table_name = 'parcels' AND e.action = 'UPDATE'
           AND e.before ->> 'parcel_id' <> e.row_key
    )
    SELECT e.id, e.occurred_at, e.actor, e.action,
           CASE WHEN :display THEN {_drawn("e.before")} ELSE e.before END AS before,
           CASE WHEN :display THEN {_drawn("e.after")} ELSE e.after END AS after
      FROM audit_events e
     WHERE e.table_name = 'parcels' AND e.row_key IN (SELECT key FROM keys)
       AND (NOT EXISTS (SELECT 1 FROM target)
            OR (coalesce(e.after, e.before) ->> 'id')::bigint = (SELECT id FROM target))
     ORDER BY e.id
    """
)


def parcel_history(
    session: Session, parcel_id: str, for_display: bool = False
) -> list[HistoryEntry]:
    """Every change to the parcel, oldest first: who, when, which fields old → new, the shapes
    (`for_display`: a huge shape simplified, as a page draws it; else exactly as audited)."""
    rows = session.execute(_HISTORY_SQL, {"id": parcel_id, "display": for_display}).all()
    if (
        not rows
        and not session.execute(
            text("SELECT 1 FROM parcels WHERE parcel_id = :id"), {"id": parcel_id}
        ).first()
    ):
        raise NotFound("parcel", parcel_id)
    codes = _department_codes(session)
    return [_entry(row, codes) for row in rows]


def _readable(row: dict[str, Any] | None, codes: dict[int, str]) -> dict[str, Any]:
    if row is None:
        return {}
    readable = {k: v for k, v in row.items() if k not in _BOOKKEEPING}
    for name in _MONEY:  # JSON numbers (floats here): shown as the API shows money, "12.50"
        if isinstance(readable.get(name), int | float):
            readable[name] = f"{Decimal(str(readable[name])):.2f}"
    if "department_id" in readable:
        readable["department_code"] = codes.get(readable.pop("department_id"))
    return readable


def _entry(row: Any, codes: dict[int, str]) -> HistoryEntry:
    before, after = _readable(row.before, codes), _readable(row.after, codes)
    fields = sorted(set(before) | set(after))
    changes = [
        FieldChange(name, before.get(name), after.get(name))
        for name in fields
        if name != "geom" and before.get(name) != after.get(name)
    ]
    if before.get("geom") != after.get("geom"):
        changes.append(FieldChange("geometry", "changed" if before else None, "changed"))
    version_row = row.after or row.before or {}
    return HistoryEntry(
        event_id=row.id,
        occurred_at=row.occurred_at,
        actor=row.actor,
        action=row.action,
        version=version_row.get("version"),
        changes=changes,
        geometry_before=before.get("geom"),
        geometry_after=after.get("geom"),
    )


def restore_parcel_version(
    session: Session, parcel_id: str, event_id: int, expected_version: int, settings: Settings
) -> int:
    """Make the parcel as it was right after `event_id`: a new, validated, audited edit."""
    snapshot = session.execute(
        text(
            "SELECT e.after FROM audit_events e JOIN parcels p ON p.parcel_id = :id "
            "WHERE e.id = :event AND e.table_name = 'parcels' "
            "AND (e.after ->> 'id')::bigint = p.id"
        ),
        {"event": event_id, "id": parcel_id},
    ).scalar()
    if snapshot is None:
        raise NotFound(f"change {event_id} of parcel", parcel_id)
    readable = _readable(snapshot, _department_codes(session))
    properties = {k: v for k, v in readable.items() if k in EDITABLE_PROPERTIES}
    properties["parcel_id"] = parcel_id
    change = ParcelChange(properties, readable.get("geom"))
    retired = readable.get("retired_at")
    return update_parcel(
        session,
        parcel_id,
        expected_version,
        change,
        settings,
        retired_at=dt.datetime.fromisoformat(retired) if retired else None,
    )


def change_made(session: Session, event_id: int) -> tuple[dt.datetime, str]:
    """When and by whom an audited change was made: how a restore names the version restored."""
    row = session.execute(
        text("SELECT occurred_at, actor FROM audit_events WHERE id = :id"), {"id": event_id}
    ).one()
    return row.occurred_at, row.actor
