"""The digitization workflow of a parcel record: paper → digitized → attributed → verified.

- digitized: the shape is captured;
- attributed: every required field is filled (computed here, the same list as KPI DIG-3);
- verified: a second person, not the record's last editor, confirms it. The database revokes a
  verification when the shape or a key attribute changes later (trigger of migration 0005).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.fields import FieldProblem

# KPI DIG-3's required fields (../shared/kpi-set.md), as parcel columns.
REQUIRED_FOR_ATTRIBUTED = {
    "parcel_id": "parcel_id", "address": "address", "department_id": "department_code",
    "use": "use", "legal_interest": "legal_interest", "status": "status", "geom": "geometry",
}  # fmt: skip
ORDER = ("paper", "digitized", "attributed", "verified")

_MISSING_SQL = " || ".join(
    f"CASE WHEN p.{column} IS NULL THEN ARRAY['{name}'] ELSE ARRAY[]::text[] END"
    for column, name in REQUIRED_FOR_ATTRIBUTED.items()
)
MISSING_FIELDS_SQL = f"({_MISSING_SQL})"

LAST_EDITOR_SQL = """
    SELECT actor FROM audit_events
     WHERE table_name = 'parcels' AND row_key = :parcel_id AND action IN ('INSERT', 'UPDATE')
       AND NOT (action = 'UPDATE' AND changed_fields <@ ARRAY['digitization_status',
                'verified_at', 'verified_by'])
     ORDER BY id DESC LIMIT 1
"""


@dataclass(frozen=True)
class VerificationState:
    status: str
    missing_fields: list[str]
    last_editor: str | None
    verified_by: str | None
    verified_at: Any


def verification_state(session: Session, parcel_id: str) -> VerificationState | None:
    row = session.execute(
        text(f"SELECT p.digitization_status, {MISSING_FIELDS_SQL} AS missing, p.verified_by, "
             f"p.verified_at, ({LAST_EDITOR_SQL}) AS last_editor "
             "FROM parcels p WHERE p.parcel_id = :parcel_id"),
        {"parcel_id": parcel_id},
    ).one_or_none()
    if row is None:
        return None
    return VerificationState(row.digitization_status, list(row.missing), row.last_editor,
                             row.verified_by, row.verified_at)


def _actor(session: Session) -> str:
    return str(session.execute(
        text("SELECT coalesce(nullif(current_setting('registry.actor', true), ''), session_user)")
    ).scalar_one())


def workflow_problems(session: Session, parcel_id: str, target: str,
                      other_changes: set[str]) -> list[FieldProblem]:
    """Why the record may not move to `target` now (empty when it may). Run inside the edit's
    transaction, after its other changes are written, so completeness is judged on the result."""
    state = verification_state(session, parcel_id)
    if state is None or target not in ORDER:
        return []
    if target == "digitized" and "geometry" in state.missing_fields:
        return [FieldProblem("digitization_status", "digitized needs the parcel's shape")]
    if target in {"attributed", "verified"} and state.missing_fields:
        return [FieldProblem(
            "digitization_status",
            f"{target} needs every required field; missing: {', '.join(state.missing_fields)}",
            {"missing_fields": state.missing_fields},
        )]
    if target == "verified" and state.status != "verified":
        if other_changes:
            return [FieldProblem(
                "digitization_status",
                "verify the record as it stands: save other changes first, then verify",
            )]
        if state.last_editor == _actor(session):
            return [FieldProblem(
                "digitization_status",
                "verification needs a second person: you made the last change to this record",
                {"last_editor": state.last_editor},
            )]
    return []



@dataclass(frozen=True)
class QueueEntry:
    parcel_id: str
    address: str | None
    department: str | None
    last_editor: str | None
    updated_at: Any


def verification_queue(session: Session, department: str | None = None,
                       limit: int = 500) -> list[QueueEntry]:
    """Records awaiting a second person's verification (attributed and complete), oldest first."""
    rows = session.execute(
        text(f"""
            SELECT p.parcel_id, p.address, d.name AS department, p.updated_at,
                   (SELECT actor FROM audit_events a WHERE a.table_name = 'parcels'
                       AND a.row_key = p.parcel_id ORDER BY a.id DESC LIMIT 1) AS last_editor
              FROM parcels p LEFT JOIN departments d ON d.id = p.department_id
             WHERE p.digitization_status = 'attributed' AND p.retired_at IS NULL
               AND cardinality({MISSING_FIELDS_SQL}) = 0
               AND (CAST(:department AS text) IS NULL OR d.code = :department
                    OR d.name = :department)
             ORDER BY d.name NULLS LAST, p.updated_at, p.parcel_id
             LIMIT :limit
        """),
        {"department": department, "limit": limit},
    ).mappings()
    return [QueueEntry(r["parcel_id"], r["address"], r["department"], r["last_editor"],
                       r["updated_at"]) for r in rows]

