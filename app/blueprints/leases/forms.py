"""Lease administration in the browser: create and edit a lease, record a modification.

Every write goes through `registry.leases.records` (the JSON API's functions) in one audited unit
of work named after the user, so a form is validated exactly as the API is and its problems are
the API's, shown next to their inputs in the form's words (`form_fields`). Editors, finance and
admins manage leases (`lease_managing_roles`): the issue asks for finance and admins, and editors
already edit leases through the API. Plain HTML forms: nothing needs a script.

An edit carries the version it was opened at; if someone saved the lease since, nothing is
written and the form, kept as typed, says who saved it and when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from typing import TypeVar

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.auth import actor_name
from app.auth import lease_managing_roles
from app.auth import require_role
from app.blueprints.leases.form_fields import LEASE_GROUPS
from app.blueprints.leases.form_fields import MODIFICATION_LABELS
from app.blueprints.leases.form_fields import LeaseForm
from app.blueprints.leases.form_fields import ShownProblem
from app.blueprints.leases.form_fields import problems_by_input
from app.blueprints.leases.form_fields import rows_of
from app.blueprints.leases.form_fields import shown_problems
from app.blueprints.leases.form_fields import steps_from_rows
from app.database import db_session
from app.database import session_factory
from registry.city.departments import department_choices
from registry.db import unit_of_work
from registry.errors import NotFound
from registry.errors import NotMeasured
from registry.errors import VersionConflict
from registry.fields import FieldProblem
from registry.fields import Problems
from registry.fields import RecordInvalid
from registry.fields import to_date
from registry.fields import to_int
from registry.leases.accounting import LeaseTermsError
from registry.leases.accounting.money import add_months
from registry.leases.modification_payments import DerivedPayments
from registry.leases.modification_payments import PaymentsNotDerived
from registry.leases.modification_payments import modified_before
from registry.leases.modification_payments import remaining_payment_steps
from registry.leases.modification_payments import terms_in_force
from registry.leases.records import MODIFICATION_KINDS
from registry.leases.records import create_lease
from registry.leases.records import lease_as_dict
from registry.leases.records import lease_modifications
from registry.leases.records import record_modification
from registry.leases.records import update_lease

bp = Blueprint("lease_forms", __name__)

T = TypeVar("T")


def _audited(work: Callable[[Session], T]) -> T:
    """`work` in one transaction credited to the user (the request's read session handed back
    first, so a request holds one connection at a time)."""
    db_session().close()
    with unit_of_work(session_factory(), actor_name()) as session:
        return work(session)


def _current(lease_number: str) -> dict[str, Any]:
    try:
        return lease_as_dict(db_session(), lease_number)
    except NotFound:
        abort(404, description=f"There is no lease {lease_number} in the registry.")


def _render_lease_form(
    form: LeaseForm,
    problems: list[ShownProblem],
    *,
    lease: dict[str, Any] | None = None,
    conflict: VersionConflict | None = None,
    version: int | None = None,
) -> tuple[str, int]:
    status = 409 if conflict else 422 if problems else 200
    html = render_template(
        "lease_form.html",
        form=form,
        groups=LEASE_GROUPS,
        problems=problems,
        by_input=problems_by_input(problems),
        departments=department_choices(db_session()),
        lease=lease,
        version=version,
        conflict=conflict,
    )
    return html, status


@bp.route("/leases/new", methods=["GET", "POST"])
@require_role(*lease_managing_roles)
def new_lease() -> Response | tuple[str, int]:
    if request.method == "GET":
        return _render_lease_form(LeaseForm.from_lease(None), [])
    form = LeaseForm.from_post(request.form)
    data = form.lease_data()
    try:
        number = _audited(lambda session: create_lease(session, data))
    except RecordInvalid as invalid:
        return _render_lease_form(form, shown_problems(invalid.problems, form.row_numbers))
    flash(f"Lease {number} is recorded.", "lease-saved")
    return redirect(url_for("leases.lease_page", lease_number=number))


@bp.route("/leases/<lease_number>/edit", methods=["GET", "POST"])
@require_role(*lease_managing_roles)
def edit_lease(lease_number: str) -> Response | tuple[str, int]:
    lease = _current(lease_number)
    if request.method == "GET":
        return _render_lease_form(
            LeaseForm.from_lease(lease), [], lease=lease, version=lease["version"]
        )
    form = LeaseForm.from_post(request.form)
    expected = _version(request.form.get("version"))
    changes = form.changes_from(LeaseForm.from_lease(lease))
    if expected is None:
        abort(400, description="The form lacks the lease's version: reload the page.")
    if not changes and expected == lease["version"]:
        flash(f"Nothing was changed in lease {lease_number}.", "lease-saved")
        return redirect(url_for("leases.lease_page", lease_number=lease_number))
    try:
        _audited(lambda session: update_lease(session, lease_number, expected, changes))
    except VersionConflict as conflict:
        return _render_lease_form(form, [], lease=lease, conflict=conflict, version=expected)
    except RecordInvalid as invalid:
        problems = shown_problems(invalid.problems, form.row_numbers)
        return _render_lease_form(form, problems, lease=lease, version=expected)
    number = str(changes.get("lease_number") or lease_number)
    flash(f"Lease {number} is saved.", "lease-saved")
    return redirect(url_for("leases.lease_page", lease_number=number))


def _version(value: str | None) -> int | None:
    text = (value or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


# -- modifications -----------------------------------------------------------------------------
#
# An extension or a termination whose payment rows are left blank records the payments worked
# out from the schedule in force (`registry.leases.modification_payments`); "Work out the
# payments" shows them in the rows without recording anything, and fills blank rows only, so
# typed rows always win. Rows still as the last work-out filled them count as worked out: if the
# dates changed since, they are worked out again and shown before anything is recorded.

WORK_OUT = "work_out"
DERIVED_KINDS = ("extension", "termination")


def _modification_form() -> dict[str, Any]:
    form = request.form
    values: dict[str, Any] = {
        name: form.get(name, "").strip()
        for name in ("kind", "effective_date", "reason", "end_date", "added_months")
    }
    values.update(
        termination_date=form.get("termination_date", "").strip(),
        escalation_pct=form.get("escalation_pct", "").strip(),
        payments=rows_of(form, "payments", ("periods", "amount")),
        worked_out=form.get("worked_out", "").strip(),
    )
    return values


def _extension_end(lease: dict[str, Any], values: dict[str, Any], problems: Problems) -> str | None:
    """The new end date of an extension: as given, or the current end plus the months added."""
    if values["end_date"] and values["added_months"]:
        problems.add("added_months", "give either a new end date or the months added, not both")
        return None
    if values["end_date"]:
        return str(values["end_date"])
    months = to_int(problems, "added_months", values["added_months"] or None, minimum=1)
    if months is None:
        if "added_months" not in problems.failed:
            problems.add("end_date", "is required (or give the months added)")
        return None
    current_end = lease.get("current_end_date")
    if not current_end:
        problems.add("added_months", "the lease has no end date to add months to")
        return None
    after = dt.date.fromisoformat(current_end) + dt.timedelta(days=1)
    return (add_months(after, months) - dt.timedelta(days=1)).isoformat()


def _terms(
    lease: dict[str, Any], values: dict[str, Any], problems: Problems, *, work_out: bool = False
) -> tuple[dict[str, Any], list[int]]:
    """The modification's changed terms. A new end (an extension or a termination) without
    payment steps gets those worked out (`_with_derived_payments`); a payment change needs its
    steps, unless they are being worked out as a starting point."""
    kind = values["kind"]
    steps, rows = steps_from_rows(values["payments"])
    terms: dict[str, Any] = {"payments": steps} if steps else {}
    if values["escalation_pct"]:
        terms["escalation_pct"] = values["escalation_pct"]
    if kind == "extension":
        end = _extension_end(lease, values, problems)
        if end:
            terms["end_date"] = end
    elif kind == "termination":
        if values["termination_date"]:
            terms["end_date"] = values["termination_date"]
        else:
            problems.add("termination_date", "is required")
    elif not steps and not work_out:
        problems.add("payments", "give at least one payment step (periods and amount)")
    return terms, rows


def _rows_key(rows: list[dict[str, str]]) -> str:
    """The filled rows as one string ("12x1000.00 6x1100.00"), to tell rows left as the last
    work-out filled them from rows finance typed."""
    return " ".join(
        f"{row['periods']}x{row['amount']}" for row in rows if row["periods"] or row["amount"]
    )


def _steps_rows(derived: DerivedPayments) -> list[dict[str, str]]:
    return [{"periods": str(s["periods"]), "amount": s["amount"]} for s in derived.as_terms()]


def _derive(
    lease_number: str, terms: dict[str, Any], values: dict[str, Any], problems: Problems
) -> DerivedPayments | None:
    """The payment steps worked out from the schedule in force on the effective date, to the
    new end (the current end for a payment change); None, with `problems`, if they cannot be."""
    effective = to_date(problems, "effective_date", values["effective_date"])
    last_day = to_date(problems, "end_date", terms.get("end_date"))
    if effective is None or problems:
        return None
    try:
        base, applied = lease_modifications(db_session(), lease_number)
        in_force = terms_in_force(base, applied, effective)
        return remaining_payment_steps(
            in_force,
            effective,
            last_day,
            after_modification=modified_before(applied, effective),
        )
    except PaymentsNotDerived as error:
        for name, message in error.errors:
            problems.add(name, message)
    except NotMeasured as error:
        problems.add("kind", str(error))
    except LeaseTermsError as error:  # recorded terms the engine refuses: say so, save nothing
        problems.add("kind", f"the lease's schedule cannot be worked out: {error}")
    return None


def _record(
    lease_number: str, kind: str, terms: dict[str, Any], values: dict[str, Any]
) -> Callable[[Session], None]:
    def work(session: Session) -> None:
        record_modification(
            session,
            lease_number,
            values["effective_date"] or None,
            terms,
            values["reason"] or None,
            kind=kind,
        )

    return work


def _problems_of_modification(
    problems: list[FieldProblem], kind: str, values: dict[str, Any], rows: list[int]
) -> list[ShownProblem]:
    """The modification's problems on the inputs of its kind: a new end is the termination
    date of a termination, the months added of an extension given so."""
    moved = []
    for problem in problems:
        name = problem.field.removeprefix("terms.")
        if name == "end_date" and kind == "termination":
            name = "termination_date"
        elif name == "end_date" and kind == "extension" and values["added_months"]:
            name = "added_months"
        moved.append(FieldProblem(name, problem.message))
    return shown_problems(moved, {"payments": rows}, MODIFICATION_LABELS)


@dataclass(frozen=True)
class _WorkedOut:
    """What the form says about payments it worked out: the steps, and whether the rows show
    them (`filled`), keep what finance typed, or were worked out again for changed dates."""

    derived: DerivedPayments
    filled: bool
    again: bool = False


def _render_modification(
    lease: dict[str, Any],
    values: dict[str, Any],
    problems: list[ShownProblem],
    worked: _WorkedOut | None = None,
) -> tuple[str, int]:
    payments = [*values["payments"], *({"periods": "", "amount": ""} for _ in range(3))]
    html = render_template(
        "lease_modification_form.html",
        lease=lease,
        values=values,
        payments=payments,
        kinds=MODIFICATION_KINDS,
        problems=problems,
        by_input=problems_by_input(problems),
        labels=MODIFICATION_LABELS,
        worked=worked,
    )
    return html, 422 if problems else 200


def _work_out(
    lease: dict[str, Any], values: dict[str, Any], found: Problems, terms: dict[str, Any]
) -> _WorkedOut | None:
    """Fill blank rows (or rows still as the last work-out left them) with the worked-out
    steps; typed rows stay."""
    derived = _derive(lease["lease_number"], terms, values, found)
    if derived is None:
        return None
    untouched = _rows_key(values["payments"]) in ("", values["worked_out"])
    if untouched:
        values["payments"] = _steps_rows(derived)
    values["worked_out"] = _rows_key(_steps_rows(derived))
    return _WorkedOut(derived, filled=untouched)


def _with_derived_payments(
    lease_number: str, terms: dict[str, Any], values: dict[str, Any], found: Problems
) -> _WorkedOut | None:
    """Work out the steps of an extension or a termination whose rows are blank, or as the last
    work-out filled them (rows finance typed are recorded as typed), naming what stops them.
    Rows worked out for other dates are not recorded: the new ones are returned, to be shown."""
    typed = _rows_key(values["payments"])
    if typed not in ("", values["worked_out"]):
        return None
    derived = _derive(lease_number, terms, values, found)
    if derived is None:
        return None
    values["payments"] = _steps_rows(derived)
    values["worked_out"] = _rows_key(values["payments"])
    if typed and typed != values["worked_out"]:
        return _WorkedOut(derived, filled=True, again=True)
    # the terms go without payments: `record_modification` works the same steps out again
    # under the lease's lock (other steps only if someone modified the lease meanwhile); rows
    # as the last work-out filled them are in the terms (`_terms`) and would be recorded as sent
    terms.pop("payments", None)
    return None


def _applied_after(lease: dict[str, Any], effective: str) -> str:
    """What a modification dated before recorded ones should know: those are applied again on
    top of it, so where they change the same terms (a later termination's end), theirs hold."""
    later = sorted(
        m["effective_date"] for m in lease["modifications"] if m["effective_date"] > effective
    )
    if not later:
        return ""
    dates = ", ".join(later)
    return (
        f" It is dated before the modification{'s' if len(later) > 1 else ''} effective {dates}, "
        "applied again on top of it: where they change the same terms, theirs hold from "
        "their dates."
    )


@bp.route("/leases/<lease_number>/modifications/new", methods=["GET", "POST"])
@require_role(*lease_managing_roles)
def new_modification(lease_number: str) -> Response | tuple[str, int]:
    lease = _current(lease_number)
    if request.method == "GET":
        return _render_modification(lease, {"kind": "extension", "payments": []}, [])
    values = _modification_form()
    kind = values["kind"]
    work_out = request.form.get("action") == WORK_OUT
    found = Problems()
    if kind not in MODIFICATION_KINDS:
        found.add("kind", "choose extension, termination or payment change")
        terms, rows = dict[str, Any](), list[int]()
    else:
        terms, rows = _terms(lease, values, found, work_out=work_out)
    if not values["effective_date"]:
        found.add("effective_date", "is required")
    worked: _WorkedOut | None = None
    if not found and work_out:
        worked = _work_out(lease, values, found, terms)
    elif not found and kind in DERIVED_KINDS:
        worked = _with_derived_payments(lease_number, terms, values, found)
        if worked is not None:  # the dates changed since the rows were worked out
            return _render_modification(lease, values, [], worked)
        rows = rows or list(range(len(values["payments"])))
    if not found and not work_out:
        try:
            _audited(_record(lease_number, kind, terms, values))
        except RecordInvalid as invalid:
            found.extend(invalid.problems)
        except NotMeasured as error:
            found.add("kind", str(error))
        except VersionConflict as conflict:  # a termination met another save
            found.add(
                "kind",
                f"{conflict.changed_by or 'someone'} saved the lease meanwhile; try again",
            )
        else:
            flash(
                f"{MODIFICATION_KINDS[kind]} of lease {lease_number} from "
                f"{values['effective_date']} is recorded; the lease is remeasured."
                + _applied_after(lease, values["effective_date"]),
                "lease-saved",
            )
            return redirect(
                url_for("leases.lease_page", lease_number=lease_number) + "#modifications"
            )
    problems = _problems_of_modification(list(found), kind, values, rows)
    return _render_modification(lease, values, problems, worked)
