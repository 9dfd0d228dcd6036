"""Lease records: create, change, delete, read, and their GASB 87 schedules.

The one entry point for every writer (the API, the pages, imports, the sample) and every reader
of lease accounting (reports, exports), so validation, optimistic locking and the discount-rate
rules are the same whichever way a lease comes in. Each write is one statement inside the
caller's transaction (`registry.db.unit_of_work`), audited by the database's triggers.

A lease recorded incomplete (`measured` false) has no schedule: reading or modifying one raises
`NotMeasured` naming what is missing, and `leases_with_schedules` leaves such leases out (reports
name them from `queries.unmeasured_leases`).

Every write also stores the lease's GASB 87 schedules (`stored_schedules`) in the same transaction,
so reports sum rows in SQL; `store_stale_schedules` brings a database written by other paths (the
generated city, an upgrade) up to date.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.errors import NotFound
from registry.errors import NotMeasured
from registry.errors import version_conflict
from registry.fields import FieldProblem
from registry.fields import Problems
from registry.fields import RecordInvalid
from registry.fields import to_date
from registry.leases.accounting import LeaseHistory
from registry.leases.accounting import LeaseModification
from registry.leases.accounting import LeaseSchedule
from registry.leases.accounting import LeaseTerms
from registry.leases.accounting import LeaseTermsError
from registry.leases.accounting import implicit_rate
from registry.leases.accounting import lease_schedule
from registry.leases.accounting.money import add_months
from registry.leases.modification_payments import payments_to_work_out
from registry.leases.modification_payments import with_worked_out_payments
from registry.leases.queries import LEASE_SELECT
from registry.leases.queries import lease_row_to_dict
from registry.leases.remeasurement import ModificationInvalid
from registry.leases.remeasurement import RecordedModification
from registry.leases.remeasurement import apply_modifications
from registry.leases.remeasurement import clean_modification
from registry.leases.remeasurement import modification_history
from registry.leases.remeasurement import modification_order
from registry.leases.rent_sql import STORE_RENT_PERIODS_SQL
from registry.leases.rent_sql import without_jit
from registry.leases.stored_schedules import ComputedLease
from registry.leases.stored_schedules import delete_schedules
from registry.leases.stored_schedules import record_keys
from registry.leases.stored_schedules import stale_lease_ids
from registry.leases.stored_schedules import write_schedules
from registry.leases.validation import LEASE_FIELDS
from registry.leases.validation import clean_lease
from registry.leases.validation import terms_from_values
from registry.record_rows import one_row
from registry.record_rows import update_at_version
from registry.record_rows import write_unique
from registry.settings import STORAGE_SRID

__all__ = [
    "LEASE_FIELDS",
    "MODIFICATION_KINDS",
    "add_modification",
    "clean_lease",
    "create_lease",
    "delete_lease",
    "lease_as_dict",
    "lease_history_of",
    "lease_modifications",
    "lease_schedule_of",
    "lease_terms",
    "leases_with_schedules",
    "record_modification",
    "store_schedules",
    "store_stale_schedules",
    "update_lease",
]


def _write(session: Session, statement: str, values: Mapping[str, Any]) -> Any:
    """Run the INSERT/UPDATE; a lease number two writers both took is one field problem."""
    return write_unique(
        session, statement, _params(values), "uq_leases_lease_number", "lease_number"
    )


_JSON_COLUMNS = ("payments", "options", "source_notes", "location")


def _params(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: json.dumps(v) if k in _JSON_COLUMNS and v is not None else v for k, v in values.items()
    }


def _column_sql(name: str) -> str:
    if name == "location":  # a GeoJSON point in WGS 84, stored in the storage SRID
        return (
            f"ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(CAST(:{name} AS text)), 4326), "
            f"{STORAGE_SRID})"
        )
    return f"CAST(:{name} AS jsonb)" if name in _JSON_COLUMNS else f":{name}"


def create_lease(session: Session, data: Mapping[str, Any], *, as_found: bool = False) -> str:
    """Validate and insert a lease; its lease number. `as_found`: record it as its source gives
    it, incomplete if need be (see `clean_lease`)."""
    values = clean_lease(session, data, as_found=as_found)
    columns = ", ".join(values)
    placeholders = ", ".join(_column_sql(name) for name in values)
    lease_id = _write(
        session, f"INSERT INTO leases ({columns}) VALUES ({placeholders}) RETURNING id", values
    )
    store_schedules(session, [int(lease_id)])
    return str(values["lease_number"])


def update_lease(
    session: Session,
    lease_number: str,
    expected_version: int,
    data: Mapping[str, Any],
    *,
    as_found: bool = False,
) -> int:
    """Apply `data` (a PATCH: only the fields to change) if the lease is still at
    `expected_version`; the new version (unchanged when nothing really changed)."""
    current = lease_as_dict(session, lease_number)
    if current["version"] != expected_version:
        raise version_conflict(session, "lease", lease_number)
    values = clean_lease(session, data, current, as_found=as_found)
    assignments = ", ".join(f"{name} = {_column_sql(name)}" for name in values)
    version = update_at_version(
        session,
        _write,
        "leases",
        assignments,
        ("lease_number", lease_number),
        expected_version,
        values,
        "lease",
    )
    _check_modifications_still_apply(session, str(values["lease_number"]))
    if version != expected_version:
        store_schedules(session, [int(current["id"])])
    return version


def delete_lease(session: Session, lease_number: str, expected_version: int) -> None:
    """Delete a lease entered in error, with its modifications; the audit trail keeps both.
    (A lease that ended is not deleted: set `terminated_on`.)"""
    current = session.execute(
        text("SELECT id, version FROM leases WHERE lease_number = :n"), {"n": lease_number}
    ).one_or_none()
    if current is None:
        raise NotFound("lease", lease_number)
    if current.version != expected_version:
        raise version_conflict(session, "lease", lease_number)
    session.execute(
        text("DELETE FROM lease_modifications WHERE lease_id = :id"), {"id": current.id}
    )
    deleted = session.execute(
        text("DELETE FROM leases WHERE id = :id AND version = :v RETURNING id"),
        {"id": current.id, "v": expected_version},
    )
    if deleted.scalar() is None:
        raise version_conflict(session, "lease", lease_number)


def _row(session: Session, lease_number: str) -> Mapping[Any, Any]:
    sql = f"{LEASE_SELECT} WHERE l.lease_number = :n"
    row: Mapping[Any, Any] = one_row(session, sql, {"n": lease_number}, "lease", lease_number)
    return row


def _modifications_of(
    session: Session, lease_ids: list[int]
) -> dict[int, list[RecordedModification]]:
    rows = session.execute(
        text(
            "SELECT id, lease_id, effective_date, terms, reason, created_at FROM "
            "lease_modifications "
            "WHERE lease_id = ANY(:ids) ORDER BY lease_id, effective_date, id"
        ),
        {"ids": lease_ids},
    )
    found: dict[int, list[RecordedModification]] = {}
    for row in rows:
        found.setdefault(row.lease_id, []).append(
            RecordedModification(row.effective_date, row.terms, row.reason, row.id, row.created_at)
        )
    return found


def _current_end(end: dt.date | None, mods: list[RecordedModification]) -> dt.date | None:
    """The last day of the term after the modifications (each a new `end_date` or the
    remaining `term_months` from its date), as `rent_sql.LEASE_TERM_CTE` has it."""
    for mod in sorted(mods, key=modification_order):
        if "end_date" in mod.terms:
            end = dt.date.fromisoformat(str(mod.terms["end_date"]))
        elif "term_months" in mod.terms:
            end = add_months(mod.effective_date, int(mod.terms["term_months"])) - dt.timedelta(1)
    return end


def _with_modifications(record: dict[str, Any], mods: list[RecordedModification]) -> dict[str, Any]:
    record["modifications"] = [
        {
            "id": m.id,
            "effective_date": m.effective_date.isoformat(),
            "terms": dict(m.terms),
            "reason": m.reason,
        }
        for m in mods
    ]
    end = _current_end(record["end_date"] and dt.date.fromisoformat(record["end_date"]), mods)
    record["current_end_date"] = end and end.isoformat()
    return record


def lease_as_dict(session: Session, lease_number: str) -> dict[str, Any]:
    """The lease as the API shows it: `LEASE_FIELDS`, then `end_date`, `version`, `id`, the
    department's name, the parcel's address, its `modifications` and `current_end_date`
    (the end after modifications)."""
    row = _row(session, lease_number)
    return _with_modifications(
        lease_row_to_dict(row), _modifications_of(session, [row["id"]]).get(row["id"], [])
    )


def _terms_of_row(row: Mapping[Any, Any]) -> LeaseTerms:
    if not row["measured"]:
        raise NotMeasured("lease", row["lease_number"], row["missing"])
    values = dict(row)
    if values["discount_rate"] is not None:  # the column's six places: 0.008900 → 0.0089
        values["discount_rate"] = values["discount_rate"].normalize()
    terms = terms_from_values(values)
    if row["discount_rate_source"] == "implicit" and terms.fair_value is not None:
        terms = replace(terms, discount_rate=implicit_rate(terms))
    return terms


def lease_terms(session: Session, lease_number: str) -> LeaseTerms:
    """The engine's terms of the lease as recorded at commencement, with the discount rate
    resolved (stated, solved implicit, or the IBR table's rate stored when it was recorded)."""
    return _terms_of_row(_row(session, lease_number))


def _schedule(
    row: Mapping[Any, Any], mods: list[RecordedModification]
) -> LeaseSchedule | LeaseModification:
    base = lease_schedule(_terms_of_row(row))
    applied = apply_modifications(base, mods)
    return applied[-1] if applied else base


def lease_modifications(
    session: Session, lease_number: str
) -> tuple[LeaseSchedule, list[tuple[RecordedModification, LeaseModification]]]:
    """The original schedule and every remeasurement in date order, each with its record:
    the whole measurement history (`lease_schedule_of` gives the latest)."""
    row = _row(session, lease_number)
    mods = _modifications_of(session, [row["id"]]).get(row["id"], [])
    base = lease_schedule(_terms_of_row(row))
    ordered = sorted(mods, key=modification_order)
    return base, list(zip(ordered, apply_modifications(base, ordered), strict=True))


def lease_schedule_of(session: Session, lease_number: str) -> LeaseSchedule | LeaseModification:
    """The schedule, or with modifications the latest remeasurement. That carries every earlier
    modification (`.history`), so the engine's balances, fiscal years and maturity table on it
    cover the lease from commencement; `lease_history_of` gives the history itself."""
    row = _row(session, lease_number)
    return _schedule(row, _modifications_of(session, [row["id"]]).get(row["id"], []))


def lease_history_of(session: Session, lease_number: str) -> LeaseHistory:
    """The lease's whole measurement history (the engine's `LeaseHistory`): the schedule at
    commencement and each remeasurement in date order, what reports and the lease page use."""
    row = _row(session, lease_number)
    mods = _modifications_of(session, [row["id"]]).get(row["id"], [])
    return modification_history(lease_schedule(_terms_of_row(row)), mods)


def leases_with_schedules(
    session: Session,
    *,
    direction: str | None = None,
    fund_type: str | None = None,
    lease_ids: Sequence[int] | None = None,
) -> Iterator[tuple[dict[str, Any], LeaseSchedule | LeaseModification]]:
    """Every measured lease (optionally of one direction / fund type, or among `lease_ids`)
    with its schedule, for reports: two set-based reads (leases, modifications), one schedule
    computed per lease. Leases recorded incomplete are left out (`queries.unmeasured_leases`
    names them)."""
    where, params = ["l.measured"], dict[str, Any]()
    if lease_ids is not None:
        where.append("l.id = ANY(:lease_ids)")
        params["lease_ids"] = list(lease_ids)
    if direction is not None:
        where.append("l.direction = :direction")
        params["direction"] = direction
    if fund_type is not None:
        where.append("l.fund_type = :fund_type")
        params["fund_type"] = fund_type
    rows = (
        session.execute(
            text(f"{LEASE_SELECT} WHERE {' AND '.join(where)} ORDER BY l.lease_number"), params
        )
        .mappings()
        .all()
    )
    mods = _modifications_of(session, [row["id"] for row in rows])
    for row in rows:
        mine = mods.get(row["id"], [])
        yield _with_modifications(lease_row_to_dict(row), mine), _schedule(row, mine)


def add_modification(
    session: Session, lease_number: str, effective_date: Any, terms: Any, reason: Any = None
) -> int:
    """Record a modification (the changed terms from `effective_date` on) after checking that
    it, and every later one, remeasures; its id. Problems name `effective_date`, `terms.*`.

    The lease row is locked first, so two modifications recorded at once are checked one after
    the other, each against the other's result."""
    session.execute(
        text("SELECT 1 FROM leases WHERE lease_number = :n FOR UPDATE"), {"n": lease_number}
    )
    row = _row(session, lease_number)
    effective, changes, problems = clean_modification(effective_date, terms)
    if reason is not None and not isinstance(reason, str):
        problems.add("reason", "must be text")
    if problems or effective is None:
        raise RecordInvalid(list(problems))
    mods = _modifications_of(session, [row["id"]]).get(row["id"], [])
    new = RecordedModification(effective, changes, reason or None)
    try:
        apply_modifications(lease_schedule(_terms_of_row(row)), [*mods, new])
    except ModificationInvalid as error:
        mine = error.index == sorted([*mods, new], key=modification_order).index(new)
        prefix = "" if mine else f"modifications[{error.index}]."
        raise RecordInvalid(
            [FieldProblem(prefix + name, message) for name, message in error.errors]
        ) from error
    new_id = session.execute(
        text(
            "INSERT INTO lease_modifications (lease_id, effective_date, terms, reason) "
            "VALUES (:lease, :effective, CAST(:terms AS jsonb), :reason) RETURNING id"
        ),
        {
            "lease": row["id"],
            "effective": effective,
            "terms": json.dumps(changes),
            "reason": reason or None,
        },
    ).scalar_one()
    store_schedules(session, [int(row["id"])])
    return int(new_id)


#: What a modification does, as finance names it: each kind's words in the form and the API.
MODIFICATION_KINDS = {
    "extension": "Extension",
    "termination": "Termination",
    "payment_change": "Payment change",
}


def _kind_problems(kind: Any, terms: Any) -> list[FieldProblem]:
    """What a modification of `kind` lacks: a new end for an extension or a termination, the
    payment steps for a payment change."""
    if not isinstance(kind, str) or kind not in MODIFICATION_KINDS:  # a JSON list: unhashable
        return [FieldProblem("kind", "choose extension, termination or payment change")]
    given = terms if isinstance(terms, Mapping) else {}
    if kind in ("extension", "termination") and given.get("end_date") in (None, ""):
        return [
            FieldProblem("terms.end_date", f"is required for {MODIFICATION_KINDS[kind].lower()}")
        ]
    if kind == "payment_change" and not given.get("payments"):
        return [
            FieldProblem("terms.payments", "give at least one payment step (periods and amount)")
        ]
    return []


def _a_date(value: Any) -> dt.date | None:
    """`value` as a date if it is one (if not, recording the modification names it)."""
    return to_date(Problems(), "", value)


def _new_end(terms: Any) -> dt.date | None:
    """The end date `terms` give, if they give one that is a date."""
    return _a_date(terms.get("end_date") if isinstance(terms, Mapping) else None)


def _end_in_force(lease: Mapping[str, Any], effective: dt.date | None) -> Any:
    """The lease's end as the terms in force on `effective` have it: its signed end after the
    modifications effective by then. A later one is applied again on top of the new one, so
    the end after it (`current_end_date`) is not the end the new one moves."""
    if effective is None:
        return lease["current_end_date"]
    before = [
        RecordedModification(dt.date.fromisoformat(m["effective_date"]), m["terms"])
        for m in lease["modifications"]
        if m["effective_date"] <= effective.isoformat()
    ]
    end = _current_end(lease["end_date"] and dt.date.fromisoformat(lease["end_date"]), before)
    return end and end.isoformat()


def _kind_against_end(kind: str | None, new_end: dt.date | None, current_end: Any) -> str | None:
    """The kind a modification is (an end moved earlier is a termination), after checking that
    an extension moves the end later and a termination earlier."""
    if new_end is None or not current_end:
        return kind
    end = dt.date.fromisoformat(str(current_end))
    if kind is None and new_end < end:
        return "termination"
    if kind == "termination" and new_end >= end:
        message = f"must be before the current end {end.isoformat()}"
        raise RecordInvalid([FieldProblem("terms.end_date", message)])
    if kind == "extension" and new_end <= end:
        message = f"must be after the current end {end.isoformat()}"
        raise RecordInvalid([FieldProblem("terms.end_date", message)])
    return kind


def record_modification(
    session: Session,
    lease_number: str,
    effective_date: Any,
    terms: Any,
    reason: Any = None,
    *,
    kind: str | None = None,
) -> int:
    """Record a modification as finance means it, from the form or the API; its id.

    The lease row is locked before anything is read, so payments worked out for an extension or
    a termination sent without them (`with_worked_out_payments`) follow the schedule the
    modification will remeasure, not one another writer is replacing meanwhile.

    A termination also sets the lease's `terminated_on` to the new end, in the same transaction,
    so its rent and critical dates stop there. A modification sent without a `kind` that moves
    the end earlier is a termination too: left in force, the lease was shown as holding over
    from its new end, its rent counted and a holdover notice sent. An extension must move the
    end later, a termination earlier."""
    if kind is not None:
        problems = _kind_problems(kind, terms)
        if problems:
            raise RecordInvalid(problems)
    session.execute(
        text("SELECT 1 FROM leases WHERE lease_number = :n FOR UPDATE"), {"n": lease_number}
    )
    lease = lease_as_dict(session, lease_number)
    new_end = _new_end(terms)
    kind = _kind_against_end(kind, new_end, _end_in_force(lease, _a_date(effective_date)))
    if payments_to_work_out(terms):
        base, applied = lease_modifications(session, lease_number)
        terms = with_worked_out_payments(base, applied, effective_date, terms)
    new_id = add_modification(session, lease_number, effective_date, terms, reason)
    if kind == "termination":
        current = lease_as_dict(session, lease_number)
        _refuse_undone_termination(lease, current, effective_date, new_end)
        update_lease(
            session, lease_number, current["version"], {"terminated_on": terms["end_date"]}
        )
    return new_id


def _refuse_undone_termination(
    before: Mapping[str, Any], after: Mapping[str, Any], effective: Any, new_end: dt.date | None
) -> None:
    """A termination dated before a recorded modification that moves the end again: that one,
    applied on top, sets the lease's end, so marking the lease terminated on the termination's
    end would stop its rent and critical dates while its schedule runs on."""
    if new_end is None or after["current_end_date"] == new_end.isoformat():
        return
    day = _a_date(effective)
    later = [
        m["effective_date"]
        for m in before["modifications"]
        if (day is None or m["effective_date"] > day.isoformat())
        and ("end_date" in m["terms"] or "term_months" in m["terms"])
    ]
    named = f"the modification{'s' if len(later) > 1 else ''} effective {', '.join(later)}"
    message = (
        f"the lease would still end {after['current_end_date']}: "
        f"{named if later else 'a modification recorded before'} set"
        f"{'' if len(later) > 1 else 's'} the end again on top of it; date the termination "
        "after it, or change that one"
    )
    raise RecordInvalid([FieldProblem("terms.end_date", message)])


def _check_modifications_still_apply(session: Session, lease_number: str) -> None:
    """A corrected lease must still carry its recorded modifications (and so stay measured)."""
    row = _row(session, lease_number)
    mods = _modifications_of(session, [row["id"]]).get(row["id"], [])
    if not mods:
        return
    if not row["measured"]:
        raise RecordInvalid(
            [
                FieldProblem(
                    name, "is required: the lease has modifications, which need its measurement"
                )
                for name in row["missing"]
            ]
        )
    try:
        apply_modifications(lease_schedule(_terms_of_row(row)), mods)
    except ModificationInvalid as error:
        raise RecordInvalid(
            [
                FieldProblem(f"modifications[{error.index}].{name}", message)
                for name, message in error.errors
            ]
        ) from error


def _computed_leases(session: Session, lease_ids: list[int]) -> Iterator[ComputedLease]:
    """The engine's schedules of the measured leases among `lease_ids`; one whose recorded terms
    the engine refuses (written around the lease rules) is left out, so readers, finding it
    stale, compute it themselves and report why it cannot be measured."""
    keys = record_keys(session, lease_ids)
    rows = (
        session.execute(text(f"{LEASE_SELECT} WHERE l.id = ANY(:ids)"), {"ids": list(keys)})
        .mappings()
        .all()
    )
    mods = _modifications_of(session, [row["id"] for row in rows])
    for row in rows:
        try:
            schedule = _schedule(row, mods.get(row["id"], []))
        except (LeaseTermsError, ModificationInvalid):
            continue
        yield ComputedLease(row["id"], *keys[row["id"]], schedule)


def store_schedules(session: Session, lease_ids: Sequence[int]) -> int:
    """Store (replace) the GASB 87 schedules of `lease_ids` as the engine computes them from
    their records now, in the caller's transaction; a lease not measured keeps none. How many
    leases were stored."""
    ids = list(lease_ids)
    delete_schedules(session, ids)
    stored = write_schedules(session, _computed_leases(session, ids))
    # JIT compiled this statement for every lease written (0.15 s, against 6 ms to run it): an
    # import of 73 leases spent 11 of its 12 s there
    without_jit(session)
    session.execute(text(STORE_RENT_PERIODS_SQL), {"rent_leases": ids})
    return stored


#: Leases measured per batch when a whole database is brought up to date (memory, not speed).
STORE_BATCH = 500


def store_stale_schedules(session: Session) -> int:
    """Store the schedules of every lease whose stored ones are missing or stale (see
    `stored_schedules`): after a bulk load or `db upgrade`. How many leases were stored."""
    stale = stale_lease_ids(session)
    return sum(
        store_schedules(session, stale[start : start + STORE_BATCH])
        for start in range(0, len(stale), STORE_BATCH)
    )
