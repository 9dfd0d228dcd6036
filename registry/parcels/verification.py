"""The digitization workflow of a parcel record: paper → digitized → attributed → verified.

- digitized: the shape is captured;
- attributed: every required field is filled (computed here, the same list as KPI DIG-3);
- verified: a second person, not the record's last editor, confirms it. The database revokes a
  verification when the shape or a key attribute changes later (trigger of migration 0005).

An import stores a record whose source left a required field blank: it is incomplete (the
data-quality queue lists what it misses) and cannot be attributed or verified until complete. A
value the source marked as uncertain (`GSD?`) is kept with the field named in
`needs_confirmation`; the record cannot be verified until a person confirms it
(`registry.parcels.records`: an edit that sends the field, or names it in `confirm`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
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
    needs_confirmation: list[str]
    last_editor: str | None
    verified_by: str | None
    verified_at: Any


def verification_state(session: Session, parcel_id: str) -> VerificationState | None:
    row = session.execute(
        text(
            f"SELECT p.digitization_status, {MISSING_FIELDS_SQL} AS missing, "
            "p.needs_confirmation, p.verified_by, "
            f"p.verified_at, ({LAST_EDITOR_SQL}) AS last_editor "
            "FROM parcels p WHERE p.parcel_id = :parcel_id"
        ),
        {"parcel_id": parcel_id},
    ).one_or_none()
    if row is None:
        return None
    return VerificationState(
        row.digitization_status,
        list(row.missing),
        list(row.needs_confirmation),
        row.last_editor,
        row.verified_by,
        row.verified_at,
    )


def _actor(session: Session) -> str:
    return str(
        session.execute(
            text(
                "SELECT coalesce(nullif(current_setting('registry.actor', true), ''), session_user)"
            )
        ).scalar_one()
    )


def workflow_problems(
    session: Session, parcel_id: str, target: str, other_changes: set[str]
) -> list[FieldProblem]:
    """Why the record may not move to `target` now (empty when it may). Run inside the edit's
    transaction, after its other changes are written, so completeness is judged on the result."""
    state = verification_state(session, parcel_id)
    if state is None or target not in ORDER:
        return []
    if target == "digitized" and "geometry" in state.missing_fields:
        return [FieldProblem("digitization_status", "digitized needs the parcel's shape")]
    if target in {"attributed", "verified"} and state.missing_fields:
        return [
            FieldProblem(
                "digitization_status",
                f"{target} needs every required field; missing: {', '.join(state.missing_fields)}",
                {"missing_fields": state.missing_fields},
            )
        ]
    if target == "verified" and state.status != "verified":
        if state.needs_confirmation:
            return [
                FieldProblem(
                    "digitization_status",
                    "verified needs every value confirmed; the source marked as uncertain: "
                    f"{', '.join(state.needs_confirmation)} (confirm or correct it first)",
                    {"needs_confirmation": state.needs_confirmation},
                )
            ]
        if other_changes:
            return [
                FieldProblem(
                    "digitization_status",
                    "verify the record as it stands: save other changes first, then verify",
                )
            ]
        if state.last_editor == _actor(session):
            return [
                FieldProblem(
                    "digitization_status",
                    "verification needs a second person: you made the last change to this record",
                    {"last_editor": state.last_editor},
                )
            ]
    return []


QUEUE_PAGE_SIZE = 500


@dataclass(frozen=True)
class QueueEntry:
    parcel_id: str
    address: str | None
    department: str | None
    last_editor: str | None
    updated_at: Any


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue: `total` records wait in all (under the department filter), the
    page's entries are numbers `first`..`first + len(entries) - 1` of them, and `next_cursor`
    (None on the last page) is where the next page starts."""

    entries: list[QueueEntry]
    total: int
    first: int
    next_cursor: str | None


class QueueCursorInvalid(ValueError):
    """An `after` cursor this module did not make."""


# Queue order, on `waiting`'s columns: by department name (records without one last), then
# oldest change first. A cursor is the last entry's values of these four.
_QUEUE_ORDER = "(department IS NULL), coalesce(department, ''), updated_at, parcel_id"
_CURSOR = (
    "CAST(:no_department AS boolean), CAST(:department_name AS text), "
    "CAST(:updated_at AS timestamptz), CAST(:parcel_id AS text)"
)

_QUEUE_SQL = f"""
    WITH waiting AS (
        SELECT p.parcel_id, p.address, d.name AS department, p.updated_at
          FROM parcels p LEFT JOIN departments d ON d.id = p.department_id
         WHERE p.digitization_status = 'attributed' AND p.retired_at IS NULL
           AND cardinality({MISSING_FIELDS_SQL}) = 0
           AND (CAST(:department AS text) IS NULL OR d.code = :department
                OR d.name = :department)
    ), placed AS (
        SELECT waiting.*, ROW({_QUEUE_ORDER}) > ROW({_CURSOR}) AS after_cursor FROM waiting
    ), counted AS (
        SELECT count(*) AS total, count(*) FILTER (WHERE after_cursor IS FALSE) AS before
          FROM placed
    )
    SELECT c.total, c.before, w.parcel_id, w.address, w.department, w.updated_at,
           (SELECT actor FROM audit_events a WHERE a.table_name = 'parcels'
               AND a.row_key = w.parcel_id ORDER BY a.id DESC LIMIT 1) AS last_editor
      FROM counted c LEFT JOIN LATERAL (
          SELECT * FROM placed WHERE after_cursor IS NOT FALSE
           ORDER BY {_QUEUE_ORDER} LIMIT :limit
      ) w ON true
"""


def _cursor(entry: QueueEntry) -> str:
    key = [entry.department, entry.updated_at.isoformat(), entry.parcel_id]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _cursor_params(cursor: str | None) -> dict[str, Any]:
    if cursor is None:
        return dict.fromkeys(("no_department", "department_name", "updated_at", "parcel_id"))
    try:
        department, updated_at, parcel_id = json.loads(base64.urlsafe_b64decode(cursor))
        changed = dt.datetime.fromisoformat(updated_at)
    except (ValueError, TypeError) as error:
        raise QueueCursorInvalid(f"not a verification-queue cursor: {cursor!r}") from error
    if not (isinstance(parcel_id, str) and isinstance(department, str | None)):
        raise QueueCursorInvalid(f"not a verification-queue cursor: {cursor!r}")
    return {
        "no_department": department is None,
        "department_name": department or "",
        "updated_at": changed,
        "parcel_id": parcel_id,
    }


def verification_queue(
    session: Session,
    department: str | None = None,
    *,
    after: str | None = None,
    limit: int = QUEUE_PAGE_SIZE,
) -> QueuePage:
    """Records awaiting a second person's verification (attributed and complete), grouped by
    department, oldest change first: the page after cursor `after` (the first without one) and
    how many wait in all, in one statement. The cursor holds the last entry's sort key, so a
    record verified or changed meanwhile moves nothing else in or out of the next page."""
    rows = (
        session.execute(
            text(_QUEUE_SQL),
            {"department": department, "limit": limit + 1, **_cursor_params(after)},
        )
        .mappings()
        .all()
    )
    entries = [
        QueueEntry(r["parcel_id"], r["address"], r["department"], r["last_editor"], r["updated_at"])
        for r in rows
        if r["parcel_id"] is not None
    ]
    more = len(entries) > limit
    entries = entries[:limit]
    return QueuePage(
        entries,
        int(rows[0]["total"]),
        int(rows[0]["before"]) + 1,
        _cursor(entries[-1]) if more else None,
    )
