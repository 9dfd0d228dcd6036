"""A parcel's history, read from the audit trail, and restoring an earlier version as a new edit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.parcel_edits import ParcelChange, update_parcel
from registry.parcel_validation import EDITABLE_PROPERTIES
from registry.parcels import ParcelNotFound
from registry.settings import Settings

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


def parcel_history(session: Session, parcel_id: str) -> list[HistoryEntry]:
    """Every change to the parcel, oldest first: who, when, which fields old → new, the shapes."""
    rows = session.execute(
        text(
            "SELECT id, occurred_at, actor, action, before, after FROM audit_events "
            "WHERE table_name = 'parcels' AND row_key = :id ORDER BY id"
        ),
        {"id": parcel_id},
    ).all()
    if not rows and not session.execute(
        text("SELECT 1 FROM parcels WHERE parcel_id = :id"), {"id": parcel_id}
    ).first():
        raise ParcelNotFound(parcel_id)
    codes = _department_codes(session)
    return [_entry(row, codes) for row in rows]


def _readable(row: dict[str, Any] | None, codes: dict[int, str]) -> dict[str, Any]:
    if row is None:
        return {}
    readable = {k: v for k, v in row.items() if k not in _BOOKKEEPING}
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
        event_id=row.id, occurred_at=row.occurred_at, actor=row.actor, action=row.action,
        version=version_row.get("version"), changes=changes,
        geometry_before=before.get("geom"), geometry_after=after.get("geom"),
    )


class HistoryEventNotFound(LookupError):
    pass


def restore_parcel_version(
    session: Session, parcel_id: str, event_id: int, expected_version: int, settings: Settings
) -> int:
    """Make the parcel as it was right after `event_id`: a new, validated, audited edit."""
    snapshot = session.execute(
        text("SELECT after FROM audit_events WHERE id = :event AND table_name = 'parcels' "
             "AND row_key = :id AND after IS NOT NULL"),
        {"event": event_id, "id": parcel_id},
    ).scalar()
    if snapshot is None:
        raise HistoryEventNotFound(f"no version of {parcel_id} from change {event_id}")
    readable = _readable(snapshot, _department_codes(session))
    properties = {k: v for k, v in readable.items() if k in EDITABLE_PROPERTIES}
    properties["parcel_id"] = parcel_id
    change = ParcelChange(properties, readable.get("geom"))
    update_parcel(session, parcel_id, expected_version, change, settings)
    session.execute(
        text("UPDATE parcels SET retired_at = CAST(:retired AS timestamptz) "
             "WHERE parcel_id = :id AND retired_at IS DISTINCT FROM CAST(:retired AS timestamptz)"),
        {"id": parcel_id, "retired": readable.get("retired_at")},
    )
    return int(
        session.execute(
            text("SELECT version FROM parcels WHERE parcel_id = :id"), {"id": parcel_id}
        ).scalar_one()
    )
