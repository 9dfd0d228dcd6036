"""The payment steps of a modification worked out from the schedule in force (no database here).

A modification that moves the end of a lease (an extension, a termination) must give the payments
of the new term (`remeasurement.remeasurement_terms` refuses to guess them). Finance nearly always
means "the payments as they are, cut at the new end" or "as they are, then the added months at the
last amount", and typing those steps by hand invites a miscount. `remaining_payment_steps` works
them out so that the engine reads them exactly as if finance had typed them:

- the steps count payment periods from the effective date on the grid of the schedule in force
  (its `anchor`, which a modification keeps), up to the new end, a partial last period counted as
  one (the engine prorates it);
- an effective date inside a payment period leaves that period's payment as it was billed (the
  engine carries it: none left if paid in advance, all of it at the period's end if in arrears),
  so the steps describe the periods after it, as the engine expects given payments to;
- each period before the old end carries what it was billed in full (escalation and free rent
  already applied, as the engine carries unchanged payments); each period after it, the last
  period's amount (a `PaymentStep` at that amount for the added months).

A payment change gives new steps; the same function gives the remaining ones as a starting point.
The JSON API records an extension or a termination sent without payments the same way
(`with_worked_out_payments`): the form and the API store the same modification.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from registry.fields import FieldProblem
from registry.fields import Problems
from registry.fields import RecordInvalid
from registry.fields import to_date
from registry.fiscal_years import ONE_DAY
from registry.leases.accounting import LeaseModification
from registry.leases.accounting import LeaseSchedule
from registry.leases.accounting import LeaseTerms
from registry.leases.accounting import LeaseTermsError
from registry.leases.accounting import PaymentStep
from registry.leases.accounting import payment_stream
from registry.leases.accounting.periods import payment_periods
from registry.leases.remeasurement import RecordedModification
from registry.leases.remeasurement import outside_the_term


class PaymentsNotDerived(LeaseTermsError):
    """No payment steps can be worked out; `errors` name `effective_date` or `end_date`."""


@dataclass(frozen=True)
class CurrentPeriod:
    """The payment period an effective date falls inside: its payment stays as it was billed."""

    start: dt.date
    last_day: dt.date
    billed: Decimal


@dataclass(frozen=True)
class DerivedPayments:
    """The steps from the effective date (or the period after the one it falls inside) to the
    new end; `added_periods` of them lie after the old end, at the last period's amount."""

    steps: tuple[PaymentStep, ...]
    current_period: CurrentPeriod | None
    added_periods: int

    def as_terms(self) -> list[dict[str, Any]]:
        """The steps as a modification's `terms.payments` (the API's JSON form)."""
        return steps_as_terms(self.steps)


def steps_as_terms(steps: Sequence[PaymentStep]) -> list[dict[str, Any]]:
    """`[{"periods": n, "amount": "1000.00"}]`, as the API and `lease_modifications` store them."""
    return [{"periods": step.periods, "amount": f"{step.amount:.2f}"} for step in steps]


def terms_in_force(
    base: LeaseSchedule,
    applied: Sequence[tuple[RecordedModification, LeaseModification]],
    effective: dt.date,
) -> LeaseTerms:
    """The terms a modification effective on `effective` is applied to: those of the last
    modification on or before that date (a new one is applied after those of its date, see
    `remeasurement.modification_order`), or the lease's own."""
    terms = base.terms
    for recorded, result in applied:
        if recorded.effective_date <= effective:
            terms = result.remeasured.terms
    return terms


def modified_before(
    applied: Sequence[tuple[RecordedModification, LeaseModification]], effective: dt.date
) -> bool:
    """Whether the terms in force on `effective` are a modification's (`terms_in_force`)."""
    return any(recorded.effective_date <= effective for recorded, _result in applied)


def remaining_payment_steps(
    in_force: LeaseTerms,
    effective: dt.date,
    last_day: dt.date | None = None,
    *,
    after_modification: bool = False,
) -> DerivedPayments:
    """The payment steps from `effective` to `last_day` (inclusive; the current end when
    `None`) worked out from `in_force` (see the module docstring; `after_modification` when
    they are a modification's). Raises `PaymentsNotDerived` when the dates leave nothing to
    work out, in words for finance."""
    outside = outside_the_term(in_force, effective, after_modification=after_modification)
    if outside:
        raise PaymentsNotDerived([("effective_date", outside)])
    end = (last_day if last_day is not None else in_force.last_day) + ONE_DAY
    if end <= effective:
        raise PaymentsNotDerived(
            [("end_date", f"must be on or after the effective date {effective}")]
        )
    stream = payment_stream(in_force)
    billed = {
        period.full_start: payment.billed_in_full
        for period, payment in zip(in_force.periods, stream, strict=True)
    }
    new = payment_periods(effective, end, in_force.months_per_period, in_force.anchor)
    current = None
    if new[0].start != new[0].full_start:
        first = new[0]
        kept = next(p for p in stream if p.period_start <= effective < p.period_end)
        current = CurrentPeriod(first.full_start, first.full_end - ONE_DAY, kept.billed_in_full)
        new = new[1:]
    if not new:
        assert current is not None
        raise PaymentsNotDerived(
            [
                (
                    "end_date",
                    f"falls in the payment period the effective date is in ({current.start} "
                    f"to {current.last_day}), whose payment stays as it was billed: no "
                    "payment period is left after it, so make the modification effective "
                    "on that period's first day",
                )
            ]
        )
    last = stream[-1].billed_in_full
    amounts = [billed.get(period.full_start, last) for period in new]
    steps = tuple(
        PaymentStep(len(list(group)), amount) for amount, group in itertools.groupby(amounts)
    )
    added = sum(1 for period in new if period.full_start not in billed)
    return DerivedPayments(steps, current, added)


#: Terms with which the payments are not worked out: given already, or on another grid than the
#: schedule in force (a new frequency or timing), or a term counted in periods, not ended.
_PAYMENTS_NOT_WORKED_OUT_WITH = ("payments", "payment_frequency", "payment_timing", "term_months")


def payments_to_work_out(terms: Any) -> bool:
    """Whether a modification's `terms` (as the API takes them) move the end (`end_date`)
    without giving the payments, on the payment grid in force: an extension or a termination,
    whose payments `with_worked_out_payments` works out as the lease page's form does."""
    return (
        isinstance(terms, Mapping)
        and terms.get("end_date") not in (None, "")
        and not any(name in terms for name in _PAYMENTS_NOT_WORKED_OUT_WITH)
    )


def with_worked_out_payments(
    base: LeaseSchedule,
    applied: Sequence[tuple[RecordedModification, LeaseModification]],
    effective_date: Any,
    terms: Mapping[str, Any],
) -> dict[str, Any]:
    """`terms` (see `payments_to_work_out`) with the `payments` worked out from the schedule in
    force on `effective_date` to the new `end_date`, from the lease's `base` schedule and its
    `applied` modifications (`records.lease_modifications`). Dates that are not dates come back
    as given: recording the modification names them. Raises `RecordInvalid` naming
    `effective_date` or `terms.end_date` when the dates leave nothing to work out."""
    unread = Problems()
    effective = to_date(unread, "effective_date", effective_date)
    last_day = to_date(unread, "terms.end_date", terms.get("end_date"))
    if effective is None or last_day is None:
        return dict(terms)
    try:
        derived = remaining_payment_steps(
            terms_in_force(base, applied, effective),
            effective,
            last_day,
            after_modification=modified_before(applied, effective),
        )
    except PaymentsNotDerived as error:
        raise RecordInvalid(
            [
                FieldProblem("terms.end_date" if name == "end_date" else name, message)
                for name, message in error.errors
            ]
        ) from error
    return {**terms, "payments": derived.as_terms()}
