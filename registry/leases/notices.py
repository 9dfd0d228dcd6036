"""Critical-date notices: telling the people responsible for a lease what falls due, in time.

A lease's critical dates (`registry.leases.critical_dates`: option notice deadlines, ends of
term, holdovers, rent steps) are found by one query; each is told to each person responsible
for the lease at each *lead time* of its kind (e.g. 180, 90 and 30 days before a term ends), and
only once per lead time: `lease_notices` keeps one row per (lease, item, lead time, person),
claimed with `INSERT … ON CONFLICT DO NOTHING` before the mail goes out, so two runs at once or a
run every hour send nothing twice. The claim and the sending share one transaction per person:
if the mail server refuses, the claim is rolled back and the next run tries again (at least once,
never silently lost).

A run that finds several lead times of an item already reached (the first run, a lease entered
late, a cron job that was off for a month) sends one notice, at the shortest of them, and records
the longer ones as covered by it: nobody gets three mails about one date on one morning.
Holdovers have one lead time, 0: a lease past its end and still occupied is told once.

Each notice carries a link to acknowledge it; an acknowledged item is not told again to that
person at its later lead times (they are on it), and the acknowledgement is audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import defaultdict
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import cast

from sqlalchemy import text
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from registry.db import set_actor
from registry.db import unit_of_work
from registry.errors import NotFound
from registry.fields import FieldProblem
from registry.fields import RecordInvalid
from registry.leases.critical_dates import EXPIRING
from registry.leases.critical_dates import HOLDOVER
from registry.leases.critical_dates import KIND_LABELS
from registry.leases.critical_dates import MAX_WINDOW_MONTHS
from registry.leases.critical_dates import OPTION_NOTICE
from registry.leases.critical_dates import RENT_STEP
from registry.leases.critical_dates import CriticalDate
from registry.leases.critical_dates import critical_dates
from registry.record_rows import write_unique

#: Days before each kind of date that its people are told; a holdover is told once, as found.
DEFAULT_LEAD_DAYS: dict[str, tuple[int, ...]] = {
    OPTION_NOTICE: (120, 60, 30, 7),
    EXPIRING: (180, 90, 30),
    RENT_STEP: (60, 14),
    HOLDOVER: (0,),
}
MAX_LEAD_DAYS = 730
MAX_EMAIL_LENGTH = 320
MAX_NAME_LENGTH = 200


def parse_lead_days(value: str | None) -> dict[str, tuple[int, ...]]:
    """`REGISTRY_NOTICE_LEAD_DAYS`, e.g. `expiring=180,90,30; option_notice=90,30`: the kinds
    given replace their defaults, the others keep them. Errors name the setting and the part."""
    leads = dict(DEFAULT_LEAD_DAYS)
    for part in (value or "").replace("\n", ";").split(";"):
        if not part.strip():
            continue
        kind, _, days = part.partition("=")
        kind = kind.strip().lower()
        if kind not in KIND_LABELS:
            raise ValueError(
                f"REGISTRY_NOTICE_LEAD_DAYS: {kind or part.strip()!r} is not a kind of date "
                f"(use {', '.join(sorted(KIND_LABELS))})"
            )
        try:
            numbers = tuple(sorted({int(d) for d in days.split(",") if d.strip()}, reverse=True))
        except ValueError as error:
            raise ValueError(
                f"REGISTRY_NOTICE_LEAD_DAYS: the days of {kind} must be whole numbers"
            ) from error
        if not numbers or any(not 0 <= n <= MAX_LEAD_DAYS for n in numbers):
            raise ValueError(
                f"REGISTRY_NOTICE_LEAD_DAYS: give {kind} one or more days from 0 to {MAX_LEAD_DAYS}"
            )
        leads[kind] = numbers
    return leads


# --- people responsible ----------------------------------------------------------------------


@dataclass(frozen=True)
class Responsible:
    email: str
    name: str | None


def _lease_id(session: Session, lease_number: str) -> int:
    lease_id = session.execute(
        text("SELECT id FROM leases WHERE lease_number = :number"), {"number": lease_number}
    ).scalar()
    if lease_id is None:
        raise NotFound("lease", lease_number)
    return int(lease_id)


def clean_email(value: str, field_name: str = "email") -> str:
    """An address as people type it, lower-cased; refused in plain words if it can't be one."""
    email = (value or "").strip().lower()
    local, at, domain = email.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain
        or domain.startswith(".")
        or domain.endswith(".")
        or any(c.isspace() or c in "<>,;\"'\x00" for c in email)
        or len(email) > MAX_EMAIL_LENGTH
    ):
        raise RecordInvalid(
            [FieldProblem(field_name, f"{value.strip()[:80]!r} is not an email address")]
        )
    return email


def responsibles(session: Session, lease_number: str) -> list[Responsible]:
    rows = session.execute(
        text(
            "SELECT r.email, r.name FROM lease_responsibles r JOIN leases l ON l.id = r.lease_id "
            "WHERE l.lease_number = :number ORDER BY r.email"
        ),
        {"number": lease_number},
    )
    return [Responsible(row.email, row.name) for row in rows]


def add_responsible(session: Session, lease_number: str, email: str, name: str = "") -> None:
    """Make `email` answerable for the lease's critical dates (audited by the table's trigger)."""
    lease_id = _lease_id(session, lease_number)
    address = clean_email(email)
    clean_name = " ".join((name or "").split())[:MAX_NAME_LENGTH] or None
    try:
        write_unique(
            session,
            "INSERT INTO lease_responsibles (lease_id, email, name) "
            "VALUES (:lease_id, :email, :name) RETURNING id",
            {"lease_id": lease_id, "email": address, "name": clean_name},
            "uq_lease_responsibles_lease_id",
            "email",
        )
    except RecordInvalid as error:
        raise RecordInvalid(
            [FieldProblem("email", f"{address} is already responsible for lease {lease_number}")]
        ) from error


def remove_responsible(session: Session, lease_number: str, email: str) -> None:
    result = session.execute(
        text(
            "DELETE FROM lease_responsibles r USING leases l "
            "WHERE l.id = r.lease_id AND l.lease_number = :number AND r.email = :email"
        ),
        {"number": lease_number, "email": (email or "").strip().lower()},
    )
    if not cast(CursorResult[Any], result).rowcount:
        raise NotFound("person responsible", f"{email} of lease {lease_number}")


# --- what falls due --------------------------------------------------------------------------


@dataclass(frozen=True)
class DueNotice:
    """One item to tell one person now: `lead_days` the shortest lead time reached and not yet
    told, `covered` every such lead time (all recorded as told by this one notice)."""

    item: CriticalDate
    recipient: str
    name: str | None
    lead_days: int
    covered: tuple[int, ...]


def _window_months(leads: Mapping[str, tuple[int, ...]]) -> int:
    longest = max((max(days) for days in leads.values()), default=0)
    return min(MAX_WINDOW_MONTHS, max(1, longest // 28 + 1))


def due_notices(
    session: Session,
    as_of: dt.date,
    leads: Mapping[str, tuple[int, ...]] = DEFAULT_LEAD_DAYS,
    default_recipients: Iterable[str] = (),
) -> tuple[list[DueNotice], list[CriticalDate]]:
    """The notices to send at `as_of`, and the items due that have nobody to tell (a lease with
    no one responsible, when no default recipient is set): those are reported, not dropped."""
    items = [
        item
        for item in critical_dates(session, as_of, _window_months(leads))
        if any(item.date - dt.timedelta(days=d) <= as_of for d in leads.get(item.kind, ()))
    ]
    if not items:
        return [], []
    lease_ids = sorted({item.lease_id for item in items})
    people: dict[int, list[Responsible]] = defaultdict(list)
    for row in session.execute(
        text(
            "SELECT lease_id, email, name FROM lease_responsibles "
            "WHERE lease_id = ANY(:ids) ORDER BY email"
        ),
        {"ids": lease_ids},
    ):
        people[row.lease_id].append(Responsible(row.email, row.name))
    told: set[tuple[int, str, dt.date, int, str]] = set()
    acknowledged: set[tuple[int, str, dt.date, str]] = set()
    for row in session.execute(
        text(
            "SELECT lease_id, kind, due_date, lead_days, recipient, acknowledged_at "
            "FROM lease_notices WHERE lease_id = ANY(:ids)"
        ),
        {"ids": lease_ids},
    ):
        told.add((row.lease_id, row.kind, row.due_date, row.lead_days, row.recipient))
        if row.acknowledged_at is not None:
            acknowledged.add((row.lease_id, row.kind, row.due_date, row.recipient))
    fallback = [Responsible(clean_email(e, "default recipient"), None) for e in default_recipients]
    notices: list[DueNotice] = []
    nobody: list[CriticalDate] = []
    for item in items:
        recipients = people.get(item.lease_id) or fallback
        if not recipients:
            nobody.append(item)
            continue
        reached = [d for d in leads[item.kind] if item.date - dt.timedelta(days=d) <= as_of]
        for person in recipients:
            if (item.lease_id, item.kind, item.date, person.email) in acknowledged:
                continue
            new = tuple(
                sorted(
                    d
                    for d in reached
                    if (item.lease_id, item.kind, item.date, d, person.email) not in told
                )
            )
            if new:
                notices.append(DueNotice(item, person.email, person.name, new[0], new))
    return notices, nobody


# --- sending ---------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class NoticeRun:
    """What a run did, for the command's summary and its exit code."""

    messages: int = 0
    items: int = 0
    recipients: list[str] = field(default_factory=list)
    without_anyone: list[CriticalDate] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (recipient, the server's reply)


@dataclass(frozen=True)
class Letter:
    recipient: str
    subject: str
    body: str


_CLAIM_SQL = text("""
INSERT INTO lease_notices (lease_id, kind, due_date, lead_days, recipient, token_hash)
VALUES (:lease_id, :kind, :due_date, :lead_days, :recipient, :token_hash)
ON CONFLICT DO NOTHING
RETURNING id
""")


def _when(item: CriticalDate, as_of: dt.date) -> str:
    days = (item.date - as_of).days
    if item.kind == HOLDOVER:
        return f"ended on {item.date.isoformat()} and the premises are still occupied"
    if days == 0:
        return f"on {item.date.isoformat()} (today)"
    return f"on {item.date.isoformat()} (in {days} day{'s' if days != 1 else ''})"


def compose_letter(
    recipient: str,
    name: str | None,
    entries: list[tuple[DueNotice, str]],
    as_of: dt.date,
    city_name: str,
    public_url: str,
) -> Letter:
    """The plain-text mail of one run to one person: every item with its lease and its link."""
    count = len(entries)
    subject = (
        f"Lease dates to act on: {count} item{'s' if count != 1 else ''} "
        f"({city_name} asset registry)"
    )
    lines = [f"Hello {name}," if name else "Hello,", ""]
    lines.append(
        f"These lease dates fall due and you are named responsible for the lease "
        f"in the {city_name} asset registry (as of {as_of.isoformat()}):"
    )
    for notice, token in entries:
        item = notice.item
        place = ", ".join(
            part
            for part in (item.counterparty, item.parcel_id and f"parcel {item.parcel_id}")
            if part
        )
        lines += [
            "",
            f"* Lease {item.lease_number}" + (f" ({place})" if place else ""),
            f"  {KIND_LABELS[item.kind]} {_when(item, as_of)}",
        ]
        if item.detail:
            lines.append(f"  {item.detail}")
        lines.append(f"  The lease: {public_url}/leases/{item.lease_number}")
        lines.append(
            f"  Acknowledge (no more reminders of this date): {public_url}/notices/{token}"
        )
    lines += [
        "",
        "You are told once at each lead time before a date. Acknowledging a date stops its "
        "later reminders to you.",
    ]
    return Letter(recipient, subject, "\n".join(lines) + "\n")


def send_due_notices(
    factory: sessionmaker[Session],
    as_of: dt.date,
    *,
    deliver: Callable[[Letter], object],
    city_name: str,
    public_url: str,
    leads: Mapping[str, tuple[int, ...]] = DEFAULT_LEAD_DAYS,
    default_recipients: Iterable[str] = (),
) -> NoticeRun:
    """Claim and send every notice due at `as_of`, one mail per person.

    Each person's claims and mail share a transaction: `deliver` raising an OSError (the SMTP
    server refused or went away) rolls that person's claims back for the next run and is
    reported in `failed`; the others are unaffected.
    Claims another run made first are skipped, so nothing is told twice."""
    with factory() as session:
        notices, nobody = due_notices(session, as_of, leads, default_recipients)
    run = NoticeRun(without_anyone=nobody)
    by_person: dict[str, list[DueNotice]] = defaultdict(list)
    for notice in notices:
        by_person[notice.recipient].append(notice)
    for recipient, own in sorted(by_person.items()):
        try:
            with unit_of_work(factory, "asset-registry notify") as session:
                entries = _claim(session, recipient, own)
                if entries:
                    deliver(
                        compose_letter(
                            recipient,
                            next((n.name for n in own if n.name), None),
                            entries,
                            as_of,
                            city_name,
                            public_url,
                        )
                    )
        except OSError as error:  # smtplib's errors are OSErrors: the claims are rolled back
            run.failed.append((recipient, str(error) or type(error).__name__))
            continue
        if entries:
            run.messages += 1
            run.items += len(entries)
            run.recipients.append(recipient)
    return run


def _claim(session: Session, recipient: str, own: list[DueNotice]) -> list[tuple[DueNotice, str]]:
    """Record `own` as told to `recipient`; the notices this call claimed (another run may
    have claimed some first), each with the secret of its acknowledgement link."""
    entries: list[tuple[DueNotice, str]] = []
    for notice in own:
        token = secrets.token_urlsafe(32)
        claimed = False
        for lead in notice.covered:
            row = session.execute(
                _CLAIM_SQL,
                {
                    "lease_id": notice.item.lease_id,
                    "kind": notice.item.kind,
                    "due_date": notice.item.date,
                    "lead_days": lead,
                    "recipient": recipient,
                    # the notice sent carries the link; the leads it covers do not
                    "token_hash": token_hash(token) if lead == notice.lead_days else None,
                },
            ).scalar()
            claimed = claimed or (row is not None and lead == notice.lead_days)
        if claimed:
            entries.append((notice, token))
    return entries


# --- acknowledging ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NoticeView:
    """What an acknowledgement link shows: enough to know what is acknowledged, nothing more
    (the link may be forwarded: no rent, no counterparty)."""

    lease_number: str
    kind: str
    label: str
    due_date: dt.date
    recipient: str
    acknowledged_at: dt.datetime | None
    note: str | None


_NOTICE_SQL = text("""
SELECT l.lease_number, n.kind, n.due_date, n.recipient, n.acknowledged_at,
       n.acknowledgement_note
FROM lease_notices n JOIN leases l ON l.id = n.lease_id
WHERE n.token_hash = :hash
""")


def notice_for_token(session: Session, token: str) -> NoticeView | None:
    if not token or len(token) > 100:
        return None
    row = session.execute(_NOTICE_SQL, {"hash": token_hash(token)}).one_or_none()
    if row is None:
        return None
    return NoticeView(
        row.lease_number,
        row.kind,
        KIND_LABELS.get(row.kind, row.kind),
        row.due_date,
        row.recipient,
        row.acknowledged_at,
        row.acknowledgement_note,
    )


MAX_NOTE_LENGTH = 2000


def acknowledge(session: Session, token: str, note: str = "") -> NoticeView:
    """Acknowledge the notice of `token`, in the caller's transaction, audited with the
    recipient as the actor (the link is their signature). A second acknowledgement keeps the
    first one's time and note."""
    view = notice_for_token(session, token)
    if view is None:
        raise NotFound("notice", "of this link")
    if len(note) > MAX_NOTE_LENGTH:
        raise RecordInvalid(
            [FieldProblem("note", f"A note may be at most {MAX_NOTE_LENGTH} characters long")]
        )
    if view.acknowledged_at is None:
        set_actor(session, f"{view.recipient} (notice link)")
        session.execute(
            text(
                "UPDATE lease_notices SET acknowledged_at = now(), acknowledgement_note = :note "
                "WHERE token_hash = :hash AND acknowledged_at IS NULL"
            ),
            {"hash": token_hash(token), "note": note.strip() or None},
        )
    acknowledged = notice_for_token(session, token)
    assert acknowledged is not None
    return acknowledged


@dataclass(frozen=True)
class SentNotice:
    recipient: str
    kind: str
    label: str
    due_date: dt.date
    lead_days: int
    sent_at: dt.datetime
    covered: bool
    acknowledged_at: dt.datetime | None
    note: str | None


def notices_of(session: Session, lease_number: str, limit: int = 200) -> list[SentNotice]:
    """The notices told about a lease, newest first: what the lease page shows finance."""
    rows = session.execute(
        text(
            "SELECT n.recipient, n.kind, n.due_date, n.lead_days, n.sent_at, "
            "       n.token_hash IS NULL AS covered, n.acknowledged_at, n.acknowledgement_note "
            "FROM lease_notices n JOIN leases l ON l.id = n.lease_id "
            "WHERE l.lease_number = :number "
            "ORDER BY n.sent_at DESC, n.due_date, n.recipient, n.lead_days LIMIT :limit"
        ),
        {"number": lease_number, "limit": limit},
    )
    return [
        SentNotice(
            row.recipient,
            row.kind,
            KIND_LABELS.get(row.kind, row.kind),
            row.due_date,
            row.lead_days,
            row.sent_at,
            row.covered,
            row.acknowledged_at,
            row.acknowledgement_note,
        )
        for row in rows
    ]
