"""`clean_lease`: a whole lease record checked at once, every problem named by its API field.

The lease-accounting engine stays the one authority on the accounting rules (payment steps that
cover the term, free periods, non-lease components, incentives, the implicit rate): it is run on
what converted cleanly and its problems are mapped to the same fields, so an import report or a
form shows conversion and accounting problems side by side.

A lease may also be recorded *as found* (`registry.leases.incomplete`): by the importer, by an
API client that says `"incomplete": true`, and on any change to a lease already recorded so.
Then a blank term is not an error but listed in `missing` (the lease is recorded, not measured),
and a department the source doubted (`GSD?`) is read and listed in `needs_confirmation`. Errors
(a date that is not one, an end before the start, a department that matches nothing) refuse the
record either way.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from typing import cast

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry import fields as f
from registry.city.departments import resolve_department
from registry.fields import FieldProblem
from registry.fields import RecordInvalid
from registry.leases.accounting import LeaseTerms
from registry.leases.accounting import LeaseTermsError
from registry.leases.accounting import PaymentStep
from registry.leases.accounting import measure_lease
from registry.leases.accounting import validate_lease_terms as engine_problems
from registry.leases.accounting.money import add_months
from registry.leases.accounting.periods import months_covering
from registry.leases.accounting.terms import MONTHS_PER_PERIOD
from registry.leases.fields import to_payment_steps
from registry.leases.fields import to_rate
from registry.leases.incomplete import INCOMPLETE_FLAG
from registry.leases.incomplete import MISSABLE
from registry.leases.incomplete import confirmations
from registry.leases.incomplete import is_incomplete
from registry.leases.incomplete import is_measured
from registry.leases.incomplete import notes_kept
from registry.leases.incomplete import to_location
from registry.leases.incomplete import to_source_notes
from registry.leases.options import extension_months
from registry.leases.options import to_options
from registry.leases.rates import resolve_rate
from registry.vocabulary import DISCOUNT_RATE_SOURCES
from registry.vocabulary import FUND_TYPES
from registry.vocabulary import LEASE_DIRECTIONS
from registry.vocabulary import LEASE_PORTFOLIOS
from registry.vocabulary import PAYMENT_FREQUENCIES
from registry.vocabulary import PAYMENT_TIMINGS

LEASE_FIELDS: tuple[str, ...] = (
    "lease_number", "direction", "portfolio", "counterparty", "parcel_id", "building_id",
    "department_code", "premises", "leased_area_sq_ft", "approval_reference", "source_document",
    "commencement_date", "term_months", "max_possible_term_months", "options",
    "payment_frequency", "payment_timing", "payments", "escalation_pct", "free_periods",
    "non_lease_amount", "discount_rate", "discount_rate_source", "fair_value", "residual_value",
    "initial_direct_costs", "incentives", "prepaid_at_commencement", "useful_life_months",
    "fund_type", "market_rent_annual", "occupied", "terminated_on", "notes", "source_notes",
    "location",
)  # fmt: skip
#: Sent back unchanged from a GET: derived or kept by the registry, ignored on input.
READ_ONLY_FIELDS = frozenset({
    "id", "version", "created_at", "updated_at", "department", "parcel_address",
    "modifications", "current_end_date", "status", "measured", "missing", "needs_confirmation",
})  # fmt: skip
#: Fields a source note may stand in for (`end_date` is the term's, given as a date).
NOTED_FIELDS = (*LEASE_FIELDS, "end_date")
_REQUIRED = ("lease_number", "direction", "counterparty", "commencement_date",
             "payment_frequency", "payment_timing", "payments")  # fmt: skip
_MONEY = ("non_lease_amount", "fair_value", "residual_value", "initial_direct_costs",
          "incentives", "prepaid_at_commencement", "market_rent_annual")  # fmt: skip
_ZERO_DEFAULT = ("non_lease_amount", "initial_direct_costs", "incentives",
                 "prepaid_at_commencement")  # fmt: skip
_TEXTS = {"counterparty": 500, "premises": 500, "approval_reference": 200,
          "source_document": 500, "notes": 4000}  # fmt: skip
_PORTFOLIOS_BY_DIRECTION = {"in": ("payable",), "out": ("receivable", "non_profit")}
_LEASE_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


def clean_lease(
    session: Session,
    data: Mapping[str, Any],
    current: Mapping[str, Any] | None = None,
    *,
    as_found: bool = False,
) -> dict[str, Any]:
    """Validate `current` (a stored lease as `lease_as_dict` gives it) merged with `data`.

    Returns the column values of the `leases` table; raises `RecordInvalid` listing every
    problem. `end_date` may be given instead of `term_months`: a term that is not a whole number
    of payment periods then has a partial first or last period (`term_months` becomes the months
    it touches, a partial month counted whole). `end_date`, the term's last day, is always among
    the values returned. An IBR-table rate is looked up and stored, an implicit rate is solved
    when read, not stored.

    `as_found` (or `"incomplete": true` in `data`, or a stored lease already incomplete) records
    the lease as its source gives it: missing terms listed in `missing` (`measured` is then
    False unless only the counterparty is missing), a doubted department in
    `needs_confirmation`.
    """
    if not isinstance(data, Mapping):
        raise RecordInvalid([FieldProblem("body", "must be an object of lease fields")])
    problems = f.Problems()
    for name in data:
        if (
            name not in LEASE_FIELDS
            and name not in READ_ONLY_FIELDS
            and name not in ("end_date", INCOMPLETE_FLAG)
        ):
            problems.add(name, "is not a lease field")
    flag = data.get(INCOMPLETE_FLAG, False)
    if not isinstance(flag, bool):
        problems.add(INCOMPLETE_FLAG, "must be true or false")
    as_found = as_found or flag is True or is_incomplete(current)
    merged = {k: v for k, v in (current or {}).items() if k in LEASE_FIELDS}
    if (
        data.get("discount_rate_source") in {"implicit", "ibr_table"}
        and "discount_rate" not in data
    ):
        merged.pop("discount_rate", None)  # switching to a solved or looked-up rate
    if current and "max_possible_term_months" not in data and _derived_maximum(current):
        merged.pop("max_possible_term_months", None)  # follows the term and options
    merged.update({k: v for k, v in data.items() if k in LEASE_FIELDS})
    values = _convert(problems, merged)
    _check_lease_number(session, problems, values, current)
    doubted = _resolve_places(session, problems, values, merged, as_found)
    missing: list[str] | None = [] if as_found else None
    _resolve_term(problems, values, data, merged, current, missing)
    _check_dates(problems, values)
    for name in _REQUIRED:
        if values.get(name) is None and name not in problems.failed:
            if missing is not None and name in MISSABLE:
                missing.append(name)
            else:
                problems.add(name, "is required")
    _check_portfolio(problems, values)
    resolve_rate(session, problems, values, data, current, missing)
    measured = missing is None or is_measured(missing)
    terms = None
    if measured or _has_term_and_payments(values):
        terms = _engine_check(problems, values, rate_missing=not measured)
    _as_found(problems, values, data, current, missing or [], doubted)
    if problems:
        raise RecordInvalid(list(problems))
    values["measured"] = measured
    values["end_date"] = _last_day(values, terms)
    if values["payments"] is not None:
        values["payments"] = [dict(step) for step in values["payments"]]
    return values


def _last_day(values: Mapping[str, Any], terms: LeaseTerms | None) -> dt.date | None:
    """The term's last day: the engine's when it checked the terms, else from the end date or
    term given (a lease recorded as found may have an end date and no start)."""
    if terms is not None:
        return terms.last_day
    start, term = values["commencement_date"], values["term_months"]
    if start is not None and term is not None and values.get("end_date") is None:
        return add_months(start, term) - dt.timedelta(days=1)
    return values.get("end_date")


def _has_term_and_payments(values: Mapping[str, Any]) -> bool:
    """Whether an unmeasured lease has every term but its rate, so its payment steps are
    checked against the term all the same."""
    return all(
        values.get(name) is not None
        for name in (
            "commencement_date",
            "term_months",
            "payment_frequency",
            "payment_timing",
            "payments",
        )
    )


def _as_found(
    problems: f.Problems,
    values: dict[str, Any],
    data: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    missing: list[str],
    doubted: list[str],
) -> None:
    """`missing`, `needs_confirmation`, `source_notes` and `location` of the record."""
    values["missing"] = [name for name in MISSABLE if name in missing]
    values["needs_confirmation"] = confirmations(current, data, doubted)
    given = (
        data.get("source_notes") if "source_notes" in data else (current or {}).get("source_notes")
    )
    notes = to_source_notes(problems, given, NOTED_FIELDS)
    values["source_notes"] = notes_kept(notes, values)
    location = data["location"] if "location" in data else (current or {}).get("location")
    values["location"] = to_location(problems, location)


def _derived_maximum(current: Mapping[str, Any]) -> bool:
    """Whether a stored maximum possible term is the default one (term plus the extensions not
    reasonably certain), which then follows a changed term rather than blocking it."""
    try:
        default = int(current["term_months"]) + extension_months(
            current.get("options") or [], reasonably_certain=False
        )
        return int(current["max_possible_term_months"]) == default
    except (KeyError, TypeError, ValueError):
        return False


def _convert(problems: f.Problems, merged: Mapping[str, Any]) -> dict[str, Any]:
    get = merged.get
    values: dict[str, Any] = {
        "lease_number": f.to_text(problems, "lease_number", get("lease_number"), 40),
        "direction": f.to_choice(problems, "direction", get("direction"), LEASE_DIRECTIONS),
        "portfolio": f.to_choice(problems, "portfolio", get("portfolio"), LEASE_PORTFOLIOS),
        "leased_area_sq_ft": _area(problems, get("leased_area_sq_ft")),
        "commencement_date": f.to_date(problems, "commencement_date", get("commencement_date")),
        "term_months": f.to_int(problems, "term_months", get("term_months"), minimum=1),
        "max_possible_term_months": f.to_int(
            problems, "max_possible_term_months", get("max_possible_term_months"), minimum=1
        ),
        "options": to_options(problems, get("options")),
        "payment_frequency": f.to_choice(
            problems, "payment_frequency", get("payment_frequency"), PAYMENT_FREQUENCIES
        ),
        "payment_timing": f.to_choice(
            problems, "payment_timing", get("payment_timing"), PAYMENT_TIMINGS
        ),
        "payments": to_payment_steps(problems, "payments", get("payments")),
        "escalation_pct": f.to_decimal(
            problems,
            "escalation_pct",
            get("escalation_pct"),
            places=4,
            minimum=Decimal(0),
            maximum=Decimal(100),
            what='a yearly percent such as "3"',
        ),
        "free_periods": f.to_int(problems, "free_periods", get("free_periods"), minimum=0),
        "discount_rate": to_rate(problems, "discount_rate", get("discount_rate")),
        "discount_rate_source": f.to_choice(
            problems, "discount_rate_source", get("discount_rate_source"), DISCOUNT_RATE_SOURCES
        ),
        "useful_life_months": f.to_int(
            problems, "useful_life_months", get("useful_life_months"), minimum=1, maximum=12_000
        ),
        "fund_type": f.to_choice(problems, "fund_type", get("fund_type"), FUND_TYPES)
        or "governmental",
        "occupied": f.to_bool(problems, "occupied", get("occupied")),
        "terminated_on": f.to_date(problems, "terminated_on", get("terminated_on")),
    }
    for name, length in _TEXTS.items():
        values[name] = f.to_text(problems, name, get(name), length)
    for name in _MONEY:
        values[name] = f.to_money(problems, name, get(name))
    for name in _ZERO_DEFAULT:
        if values[name] is None and name not in problems.failed:
            values[name] = Decimal("0.00")
    if values["escalation_pct"] is None:
        values["escalation_pct"] = Decimal(0)
    if values["free_periods"] is None:
        values["free_periods"] = 0
    if values["occupied"] is None:
        values["occupied"] = True
    return values


def _area(problems: f.Problems, value: Any) -> Decimal | None:
    if isinstance(value, float | f.JsonFloat):  # an area is not money: a JSON number is fine
        value = Decimal(str(value))
    return f.to_decimal(
        problems,
        "leased_area_sq_ft",
        value,
        places=1,
        minimum=Decimal(0),
        maximum=Decimal("99999999999.9"),
        what="an area in sq ft",
    )


def _check_lease_number(
    session: Session,
    problems: f.Problems,
    values: dict[str, Any],
    current: Mapping[str, Any] | None,
) -> None:
    number = values.get("lease_number")
    if number is None:
        return
    if not _LEASE_NUMBER.fullmatch(number):
        problems.add(
            "lease_number",
            "must be up to 40 letters, digits and . _ - (starting with a letter or digit)",
        )
    elif (current is None or number != current.get("lease_number")) and session.execute(
        text("SELECT 1 FROM leases WHERE lease_number = :n"), {"n": number}
    ).first():
        problems.add("lease_number", f"{number} is already in the registry")


def _resolve_places(
    session: Session,
    problems: f.Problems,
    values: dict[str, Any],
    merged: Mapping[str, Any],
    as_found: bool,
) -> list[str]:
    """Public parcel, building and department ids to the internal keys the table stores; the
    fields resolved from a doubted value (`GSD?`, read only as found), to be confirmed."""
    parcel = f.to_text(problems, "parcel_id", merged.get("parcel_id"), 32)
    building = f.to_text(problems, "building_id", merged.get("building_id"), 48)
    department = f.to_text(problems, "department_code", merged.get("department_code"), 200)
    values["parcel_id"] = values["building_id"] = values["department_id"] = None
    if parcel is not None:
        values["parcel_id"] = session.execute(
            text("SELECT id FROM parcels WHERE parcel_id = :p"), {"p": parcel}
        ).scalar()
        if values["parcel_id"] is None:
            problems.add("parcel_id", f"there is no parcel {parcel!r} in the registry")
    if building is not None:
        row = session.execute(
            text(
                "SELECT b.id, b.parcel_id, p.parcel_id AS public_parcel FROM buildings b "
                "JOIN parcels p ON p.id = b.parcel_id WHERE b.building_id = :b"
            ),
            {"b": building},
        ).one_or_none()
        if row is None:
            problems.add("building_id", f"there is no building {building!r} in the registry")
        elif (
            parcel is not None
            and values["parcel_id"] is not None
            and row.parcel_id != values["parcel_id"]
        ):
            problems.add(
                "building_id",
                f"building {building} is on parcel {row.public_parcel}, not on {parcel}",
            )
        else:
            values["building_id"] = row.id
            values["parcel_id"] = values["parcel_id"] or row.parcel_id
    if department is None:
        return []
    match = resolve_department(session, department)
    if match.department_id is not None and (as_found or not match.uncertain):
        values["department_id"] = match.department_id
        return ["department_code"] if match.uncertain else []
    hint = f"; did you mean {match.nearest!r}?" if match.nearest else ""
    problems.add(
        "department_code",
        f"no department {department!r}{hint}",
        **({"suggestion": match.nearest} if match.nearest else {}),
    )
    return []


def months_until(start: dt.date, end_date: dt.date) -> int | None:
    """Whole months from `start` to the day after `end_date`, or None if not whole months."""
    guess = (end_date.year - start.year) * 12 + end_date.month - start.month
    for months in (guess, guess + 1):
        if months > 0 and add_months(start, months) - dt.timedelta(days=1) == end_date:
            return months
    return None


def _partial_end(values: Mapping[str, Any]) -> dt.date | None:
    """A stored lease's end date when its term is not whole payment periods (a term given by
    dates), which a change that names neither the term nor the end date keeps."""
    try:
        return _dated_end(
            {
                "commencement_date": dt.date.fromisoformat(str(values["commencement_date"])),
                "end_date": dt.date.fromisoformat(str(values["end_date"])),
                "term_months": int(values["term_months"]),
                "payment_frequency": values.get("payment_frequency"),
            }
        )
    except (KeyError, TypeError, ValueError):
        return None


def _resolve_term(
    problems: f.Problems,
    values: dict[str, Any],
    data: Mapping[str, Any],
    merged: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    missing: list[str] | None,
) -> None:
    """`term_months` from `end_date` when that was sent (a term of dates: the months it touches,
    a partial month counted whole; the engine finds its partial period); the maximum possible
    term from the options when not given (term plus every extension not reasonably certain). A
    lease recorded as found (`missing` not None) may lack both, or have an end date and no
    start."""
    start = values["commencement_date"]
    end = f.to_date(problems, "end_date", data.get("end_date"))
    if end is None and current and "end_date" not in data and "term_months" not in data:
        end = (
            _partial_end(current)
            if current.get("term_months") is not None
            else f.to_date(problems, "end_date", current.get("end_date"))
        )
    if end is not None and start is not None:
        months = months_covering(start, end + dt.timedelta(days=1)) if end >= start else None
        if months is None:
            problems.add("end_date", f"{end} is before the commencement date {start}")
        elif months > f.MAX_MONTHS:
            problems.add("end_date", f"makes a term of more than {f.MAX_MONTHS} months")
        elif "term_months" not in data:
            values["term_months"], values["end_date"] = months, end
        elif values["term_months"] is not None and values["term_months"] != months:
            problems.add(
                "end_date",
                f"{end} disagrees with term_months {values['term_months']}; send one of them",
            )
        else:
            values["end_date"] = end
    if end is not None and start is None and "end_date" not in problems.failed:
        values["end_date"] = end  # kept for when the start is known
    if (
        values["term_months"] is None
        and "term_months" not in problems.failed
        and "end_date" not in problems.failed
    ):
        if missing is not None:
            if end is None:
                missing.append("end_date")
        else:
            problems.add("term_months", "is required (or give end_date)")
    term = values["term_months"]
    extensions = extension_months(values["options"] or [], reasonably_certain=False)
    maximum = values["max_possible_term_months"]
    if term is not None and (maximum is None or "max_possible_term_months" not in merged):
        if "max_possible_term_months" not in problems.failed:
            values["max_possible_term_months"] = min(term + extensions, f.MAX_MONTHS)
    elif term is not None and maximum is not None and maximum < term + extensions:
        problems.add(
            "max_possible_term_months",
            f"must be at least {term + extensions}: the "
            "term plus the extension options not reasonably certain",
        )


def _check_dates(problems: f.Problems, values: dict[str, Any]) -> None:
    start, ended = values["commencement_date"], values["terminated_on"]
    if start is not None and ended is not None and ended < start:
        problems.add("terminated_on", f"{ended} is before the commencement date {start}")


def _check_portfolio(problems: f.Problems, values: dict[str, Any]) -> None:
    direction, portfolio = values["direction"], values["portfolio"]
    if direction is None:
        return
    allowed = _PORTFOLIOS_BY_DIRECTION[direction]
    if portfolio is None and "portfolio" not in problems.failed:
        values["portfolio"] = allowed[0]
    elif portfolio is not None and portfolio not in allowed:
        problems.add("portfolio", f"a lease {direction!r} belongs to {' or '.join(allowed)}")


_ENGINE_FIELDS = ("direction", "commencement_date", "term_months", "max_possible_term_months",
                  "payment_frequency", "payment_timing", "escalation_pct", "free_periods",
                  "non_lease_amount", "discount_rate", "fair_value", "residual_value",
                  "initial_direct_costs", "incentives", "prepaid_at_commencement",
                  "useful_life_months")  # fmt: skip


def _dated_end(values: Mapping[str, Any]) -> dt.date | None:
    """`end_date` when the term is not `term_months` of whole payment periods."""
    end, start, term = (
        values.get("end_date"),
        values.get("commencement_date"),
        values.get("term_months"),
    )
    if not isinstance(end, dt.date):
        return None
    per = MONTHS_PER_PERIOD.get(values.get("payment_frequency") or "")
    whole = (
        isinstance(start, dt.date)
        and isinstance(term, int)
        and per is not None
        and term % per == 0
        and months_until(start, end) == term
    )
    return None if whole else end


def terms_from_values(values: Mapping[str, Any]) -> LeaseTerms:
    """The engine's terms from cleaned column values (payments as stored steps); `end_date`
    only for a term that is not whole months, so a whole one is built as it always was."""
    kwargs: dict[str, Any] = {name: values.get(name) for name in _ENGINE_FIELDS}
    kwargs["end_date"] = _dated_end(values)
    kwargs["payments"] = tuple(
        PaymentStep(int(s["periods"]), Decimal(s["amount"])) for s in values["payments"]
    )
    return LeaseTerms(**kwargs)


def _engine_check(
    problems: f.Problems, values: dict[str, Any], rate_missing: bool = False
) -> LeaseTerms | None:
    """Run the engine's rules on what converted; its problems on fields that already failed
    (or were never given) are dropped, so each problem is reported once. `rate_missing`: a
    lease recorded without its rate, whose other terms are checked at a rate of 0."""
    failed = set(problems.failed)
    candidate = {name: values.get(name) for name in _ENGINE_FIELDS}
    if rate_missing:
        candidate["discount_rate"] = Decimal(0)
    candidate.update(end_date=_dated_end(values), period_anchor=None, first_period_share=None)
    candidate["payments"] = (
        None
        if values["payments"] is None
        else tuple(PaymentStep(s["periods"], Decimal(s["amount"])) for s in values["payments"])
    )
    if candidate["discount_rate"] is None and values["discount_rate_source"] == "ibr_table":
        failed.add("discount_rate")  # reported as the table's gap
    if candidate["discount_rate"] is None and values["discount_rate_source"] == "implicit":
        candidate["discount_rate"] = Decimal(0)  # solved below; not the engine's concern here
    for name, value in list(candidate.items()):
        if value is None and name not in (
            "fair_value",
            "residual_value",
            "useful_life_months",
            "discount_rate",
        ):
            failed.add(name)
    for name, message in engine_problems(cast(LeaseTerms, SimpleNamespace(**candidate))):
        if re.split(r"[.\[]", name, maxsplit=1)[0] not in failed:
            problems.add(name, message)
    if problems:
        return None
    try:
        terms = terms_from_values(
            {**values, "discount_rate": candidate["discount_rate"]} if rate_missing else values
        )
        measure_lease(terms)  # solves an implicit rate, checks incentives against the asset
    except LeaseTermsError as error:
        for name, message in error.errors:
            problems.add(name, message)
        return None
    return terms
