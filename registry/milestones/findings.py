"""The work queue of open data-quality findings: the records behind KPI DIG-5.

The findings are `registry.kpis.findings_sql`'s (DIG-5's rules), one row per finding, so the
queue's length is the KPI's value. People work the queue: a finding is assigned to someone, or
closed with a note saying why (fixed elsewhere, or no problem: a vacant lot has no use); a
closed finding leaves the queue and DIG-5 until the records change so that it reads
differently. Every assignment and closure is kept in `finding_reviews`, audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.errors import NotFound
from registry.fields import FieldProblem
from registry.fields import RecordInvalid
from registry.kpis.findings_sql import FINDINGS_CTES

_FINDINGS_SQL = f"""
    WITH {FINDINGS_CTES}
    SELECT f.kind, f.parcel_id, f.lease_number, f.detail, f.department, f.council_district,
           f.finding_key, r.assigned_to, count(*) OVER ()
      FROM finding f LEFT JOIN finding_reviews r ON r.finding_key = f.finding_key
     WHERE r.closed_at IS NULL
       AND (CAST(:department AS text) IS NULL OR f.department = :department)
       AND (CAST(:district AS integer) IS NULL OR f.council_district = :district)
       AND (CAST(:assigned_to AS text) IS NULL OR r.assigned_to = CAST(:assigned_to AS text)
            OR (CAST(:assigned_to AS text) = '' AND r.assigned_to IS NULL))
     ORDER BY f.kind, f.department NULLS LAST, f.parcel_id NULLS LAST, f.detail
     LIMIT :limit
"""


@dataclass(frozen=True)
class Finding:
    """One open finding; `parcel_id` is None only for a lease that names no parcel."""

    kind: str
    parcel_id: str | None
    lease_number: str | None
    detail: str
    department: str | None
    council_district: int | None
    finding_key: str = ""
    assigned_to: str | None = None


@dataclass(frozen=True)
class FindingsPage:
    findings: list[Finding]
    total: int  # all matching findings, of which the first `limit` are listed


def open_findings(
    session: Session,
    department: str | None = None,
    district: int | None = None,
    limit: int = 500,
    assigned_to: str | None = None,
) -> FindingsPage:
    """Open findings of the current registry (those closed with a note left out, as DIG-5
    leaves them out), optionally of one department (code), council district or assignee (`""`:
    nobody's yet), grouped by kind; `total` counts them all even where `limit` cuts the list."""
    rows = session.execute(
        text(_FINDINGS_SQL),
        {
            "department": department,
            "district": district,
            "assigned_to": assigned_to,
            "limit": limit,
        },
    ).all()
    findings = [Finding(*row[:8]) for row in rows]
    return FindingsPage(findings, int(rows[0][8]) if rows else 0)


_ONE_FINDING_SQL = f"""
    WITH {FINDINGS_CTES}
    SELECT kind, parcel_id, lease_number, detail FROM finding WHERE finding_key = :key LIMIT 1
"""
MAX_NOTE_LENGTH = 2000


def _review(session: Session, finding_key: str) -> None:
    """The review row of a finding that exists now (made on first use), locked for the change."""
    key = (finding_key or "").strip().lower()
    if len(key) != 32 or any(c not in "0123456789abcdef" for c in key):
        raise NotFound("finding", finding_key[:40])
    found = session.execute(text(_ONE_FINDING_SQL), {"key": key}).one_or_none()
    if found is None:
        raise NotFound("finding", "of this link (it was fixed or changed meanwhile)")
    session.execute(
        text(
            "INSERT INTO finding_reviews (finding_key, kind, parcel_id, lease_number, detail) "
            "VALUES (:key, :kind, :parcel_id, :lease_number, :detail) "
            "ON CONFLICT (finding_key) DO NOTHING"
        ),
        {"key": key, **found._mapping},
    )


def assign_finding(session: Session, finding_key: str, assignee: str | None) -> None:
    """Assign the finding to `assignee` (an email; None or "" takes it back). Audited."""
    _review(session, finding_key)
    person = (assignee or "").strip().lower() or None
    if person is not None and ("@" not in person or len(person) > 320 or " " in person):
        raise RecordInvalid([FieldProblem("assigned_to", f"{assignee!r} is not an email address")])
    session.execute(
        text(
            "UPDATE finding_reviews SET assigned_to = CAST(:person AS text), "
            "assigned_at = CASE WHEN CAST(:person AS text) IS NULL THEN NULL ELSE now() END "
            "WHERE finding_key = :key"
        ),
        {"person": person, "key": finding_key.strip().lower()},
    )


def close_finding(session: Session, finding_key: str, note: str, closed_by: str) -> None:
    """Close the finding with a note saying why (required): it leaves the queue and DIG-5 until
    the records change so that it reads differently. Audited."""
    clean = " ".join((note or "").split())
    if not clean:
        raise RecordInvalid(
            [
                FieldProblem(
                    "note", "Say why the finding is closed (what was done, or why it is no problem)"
                )
            ]
        )
    if len(clean) > MAX_NOTE_LENGTH:
        raise RecordInvalid(
            [FieldProblem("note", f"A note may be at most {MAX_NOTE_LENGTH} characters long")]
        )
    _review(session, finding_key)
    session.execute(
        text(
            "UPDATE finding_reviews SET closed_at = now(), closed_by = :by, close_note = :note "
            "WHERE finding_key = :key"
        ),
        {"by": closed_by, "note": clean, "key": finding_key.strip().lower()},
    )


@dataclass(frozen=True)
class ClosedFinding:
    kind: str
    parcel_id: str | None
    lease_number: str | None
    detail: str
    finding_key: str
    closed_at: dt.datetime
    closed_by: str | None
    note: str | None


def closed_findings(session: Session, limit: int = 200) -> list[ClosedFinding]:
    """Findings closed with a note, newest first (the reform team's record of exceptions)."""
    rows = session.execute(
        text(
            "SELECT kind, parcel_id, lease_number, detail, finding_key, closed_at, closed_by, "
            "close_note FROM finding_reviews WHERE closed_at IS NOT NULL "
            "ORDER BY closed_at DESC LIMIT :limit"
        ),
        {"limit": limit},
    )
    return [ClosedFinding(*row) for row in rows]


def reopen_finding(session: Session, finding_key: str) -> None:
    """Put a closed finding back in the queue (and in DIG-5, if it still stands). Audited."""
    reopened = session.execute(
        text(
            "UPDATE finding_reviews SET closed_at = NULL, closed_by = NULL, close_note = NULL "
            "WHERE finding_key = :key AND closed_at IS NOT NULL RETURNING id"
        ),
        {"key": (finding_key or "").strip().lower()},
    ).first()
    if reopened is None:
        raise NotFound("closed finding", finding_key[:40])
