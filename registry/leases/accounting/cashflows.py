"""The payment stream a lease produces, and its present value.

Kept apart from the schedule so that measurement (which needs present values)
and the schedule (which needs measurement) do not import each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .money import ZERO, add_months, exact_context, round_cents
from .terms import LeaseTerms


@dataclass(frozen=True)
class ScheduledPayment:
    """One payment period of the lease term.

    ``gross_amount`` is what the contract bills (after steps, escalation and
    free rent); ``lease_amount`` is the part that is measured under GASB 87,
    i.e. the gross amount less the non-lease (service) component.
    """

    period: int
    due_date: date
    period_start: date
    period_end: date
    gross_amount: Decimal
    non_lease_amount: Decimal
    lease_amount: Decimal


def period_rate(annual_rate: Decimal, terms: LeaseTerms) -> Decimal:
    """Annual rate divided by the number of payment periods per year (no compounding)."""
    with exact_context():
        return annual_rate / Decimal(terms.periods_per_year)


def escalated_amount(base: Decimal, escalation_pct: Decimal, lease_year: int) -> Decimal:
    """``base`` grown by ``escalation_pct`` % for each completed lease year, in cents.

    Escalation compounds (year 3 of a 3 % lease pays base x 1.03^2) and is
    rounded once per payment, half up, so a step's amount never drifts.
    """
    if lease_year == 0 or escalation_pct == 0:
        return round_cents(Decimal(base))
    with exact_context():
        factor = (Decimal(1) + Decimal(escalation_pct) / Decimal(100)) ** lease_year
        return round_cents(Decimal(base) * factor)


def payment_stream(terms: LeaseTerms) -> tuple[ScheduledPayment, ...]:
    """Every payment period of the lease term with its due date and amounts.

    An advance payment is due on the first day of its period; an arrears
    payment is due at the end of its period, dated the day the next period
    begins (so a monthly lease from April 1 pays on May 1 for April).
    """
    months = terms.months_per_period
    bases: list[Decimal] = []
    for step in terms.payments:
        bases.extend([Decimal(step.amount)] * step.periods)
    # Each period ends where the next begins, and an amount depends only on its base and lease
    # year: computing each boundary date once and each (base, year) amount once gives the same
    # stream in a fraction of the time (LSE-2 schedules every lease of the city on each call).
    boundaries = [add_months(terms.commencement_date, index * months)
                  for index in range(len(bases) + 1)]
    escalation = Decimal(terms.escalation_pct)
    non_lease_cents = round_cents(Decimal(terms.non_lease_amount))
    amounts: dict[tuple[Decimal, int], Decimal] = {}
    advance = terms.payment_timing == "advance"
    stream: list[ScheduledPayment] = []
    for index, base in enumerate(bases):
        start, end = boundaries[index], boundaries[index + 1]
        lease_year = (index * months) // 12
        if index < terms.free_periods:
            gross = ZERO
        else:
            key = (base, lease_year)
            if key not in amounts:
                amounts[key] = escalated_amount(base, escalation, lease_year)
            gross = amounts[key]
        non_lease = min(non_lease_cents, gross) if gross else ZERO
        stream.append(
            ScheduledPayment(
                period=index + 1,
                due_date=start if advance else end,
                period_start=start,
                period_end=end,
                gross_amount=gross,
                non_lease_amount=non_lease,
                lease_amount=gross - non_lease,
            )
        )
    return tuple(stream)


def present_value(amounts: Sequence[Decimal], rate_per_period: Decimal, timing: str) -> Decimal:
    """Unrounded present value of level-spaced ``amounts`` at ``rate_per_period``.

    Advance payments are discounted ``k - 1`` periods (the first is at
    commencement and is not discounted); arrears payments ``k`` periods.
    """
    with exact_context():
        discount = Decimal(1) / (Decimal(1) + rate_per_period)
        factor = Decimal(1) if timing == "advance" else discount
        total = Decimal(0)
        for amount in amounts:
            total += amount * factor
            factor *= discount
        return total


def discount_factor(rate_per_period: Decimal, periods: int) -> Decimal:
    """``1 / (1 + rate) ** periods``: the value today of 1 received ``periods`` from now."""
    with exact_context():
        return Decimal(1) / (Decimal(1) + rate_per_period) ** periods
