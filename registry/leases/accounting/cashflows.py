"""The payment stream a lease produces, and its present value.

Kept apart from the schedule so that measurement (which needs present values)
and the schedule (which needs measurement) do not import each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from .money import ZERO
from .money import add_months
from .money import exact_context
from .money import round_cents
from .periods import WHOLE
from .periods import PaymentPeriod
from .periods import whole_months
from .terms import LeaseTerms


@dataclass(frozen=True)
class ScheduledPayment:
    """One payment period of the lease term.

    ``gross_amount`` is what the contract bills (after steps, escalation and
    free rent); ``lease_amount`` is the part that is measured under GASB 87,
    i.e. the gross amount less the non-lease (service) component.  For a
    partial period ``fraction`` is its days over the days of its full period;
    ``gross_amount`` is ``full_amount``, the full period's, x ``billed_share``
    (its fraction, unless the terms bill a first period otherwise).  For a
    whole period both shares are 1 and ``full_amount`` is ``None``.
    """

    period: int
    due_date: date
    period_start: date
    period_end: date
    gross_amount: Decimal
    non_lease_amount: Decimal
    lease_amount: Decimal
    fraction: Fraction = WHOLE
    billed_share: Fraction = WHOLE
    full_amount: Decimal | None = None

    @property
    def billed_in_full(self) -> Decimal:
        """The gross amount of the whole period this one is part of (before pro-rating)."""
        return self.gross_amount if self.full_amount is None else self.full_amount


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


def prorated(amount: Decimal, fraction: Fraction) -> Decimal:
    """``amount`` x ``fraction`` rounded half up to the cent (multiplied before dividing)."""
    if fraction is WHOLE:
        return amount
    with exact_context():
        return round_cents(amount * fraction.numerator / fraction.denominator)


def _spans(terms: LeaseTerms, count: int) -> list[tuple[date, date, PaymentPeriod | None]]:
    """``(start, end, period)`` of each payment period; ``period`` only for a dated term."""
    if terms.is_regular:
        months = terms.months_per_period
        boundaries = [
            add_months(terms.commencement_date, index * months) for index in range(count + 1)
        ]
        return [(boundaries[index], boundaries[index + 1], None) for index in range(count)]
    return [(period.start, period.end, period) for period in terms.periods]


def payment_stream(terms: LeaseTerms) -> tuple[ScheduledPayment, ...]:
    """Every payment period of the lease term with its due date and amounts.

    An advance payment is due on the first day of its period; an arrears
    payment is due at the end of its period, dated the day the next period
    begins (so a monthly lease from April 1 pays on May 1 for April, and a
    partial last period ending June 14 is paid on June 15).  A partial period
    pays the full period's amount (and non-lease component) x its fraction of
    days, rounded half up to the cent; a first period x ``first_period_share``
    when the terms give one.  Escalation steps up from the first period that
    begins on or after each anniversary of commencement.
    """
    months = terms.months_per_period
    bases: list[Decimal] = []
    for step in terms.payments:
        bases.extend([Decimal(step.amount)] * step.periods)
    # Each period ends where the next begins, and an amount depends only on its base and lease
    # year: computing each boundary date once and each (base, year) amount once gives the same
    # stream in a fraction of the time (LSE-2 schedules every lease of the city on each call).
    spans = _spans(terms, len(bases))
    escalation = Decimal(terms.escalation_pct)
    non_lease_cents = round_cents(Decimal(terms.non_lease_amount))
    amounts: dict[tuple[Decimal, int], Decimal] = {}
    advance = terms.payment_timing == "advance"
    stream: list[ScheduledPayment] = []
    for index, (base, (start, end, span)) in enumerate(zip(bases, spans, strict=True)):
        if span is None:
            lease_year = (index * months) // 12
        else:
            lease_year = whole_months(terms.commencement_date, start) // 12
        if index < terms.free_periods:
            full = ZERO
        else:
            key = (base, lease_year)
            if key not in amounts:
                amounts[key] = escalated_amount(base, escalation, lease_year)
            full = amounts[key]
        fraction = WHOLE if span is None else span.fraction
        billed = fraction
        if index == 0 and terms.first_period_share is not None:
            billed = terms.first_period_share
        gross = full if billed is WHOLE else prorated(full, billed)
        if not gross:
            non_lease = ZERO
        elif billed is WHOLE:
            non_lease = min(non_lease_cents, gross)
        else:
            non_lease = min(prorated(non_lease_cents, billed), gross)
        stream.append(
            ScheduledPayment(
                period=index + 1,
                due_date=start if advance else end,
                period_start=start,
                period_end=end,
                gross_amount=gross,
                non_lease_amount=non_lease,
                lease_amount=gross - non_lease,
                fraction=fraction,
                billed_share=billed,
                full_amount=None if billed is WHOLE else full,
            )
        )
    return tuple(stream)


def fractions_of(stream: Sequence[ScheduledPayment]) -> tuple[Fraction, ...] | None:
    """Each period's fraction, or ``None`` when every period is whole."""
    fractions = tuple(payment.fraction for payment in stream)
    return None if all(fraction is WHOLE for fraction in fractions) else fractions


def present_value(
    amounts: Sequence[Decimal],
    rate_per_period: Decimal,
    timing: str,
    fractions: Sequence[Fraction] | None = None,
) -> Decimal:
    """Unrounded present value of level-spaced ``amounts`` at ``rate_per_period``.

    Advance payments are discounted ``k - 1`` periods (the first is at
    commencement and is not discounted); arrears payments ``k`` periods.  With
    ``fractions`` (one per period), a partial period discounts by
    ``1 / (1 + rate x fraction)``: the simple interest the schedule charges on it.
    """
    if fractions is not None:
        return _present_value_by_fraction(amounts, rate_per_period, timing, fractions)
    with exact_context():
        discount = Decimal(1) / (Decimal(1) + rate_per_period)
        factor = Decimal(1) if timing == "advance" else discount
        total = Decimal(0)
        for amount in amounts:
            total += amount * factor
            factor *= discount
        return total


def _period_discount(rate_per_period: Decimal, fraction: Fraction) -> Decimal:
    with exact_context():
        if fraction is WHOLE:
            return Decimal(1) / (Decimal(1) + rate_per_period)
        return Decimal(fraction.denominator) / (
            fraction.denominator + rate_per_period * fraction.numerator
        )


def _present_value_by_fraction(
    amounts: Sequence[Decimal], rate_per_period: Decimal, timing: str, fractions: Sequence[Fraction]
) -> Decimal:
    arrears = timing != "advance"
    with exact_context():
        factor = Decimal(1)
        total = Decimal(0)
        for amount, fraction in zip(amounts, fractions, strict=True):
            if arrears:
                factor *= _period_discount(rate_per_period, fraction)
            total += amount * factor
            if not arrears:
                factor *= _period_discount(rate_per_period, fraction)
        return total


def discount_factor(rate_per_period: Decimal, periods: int) -> Decimal:
    """``1 / (1 + rate) ** periods``: the value today of 1 received ``periods`` from now."""
    with exact_context():
        return Decimal(1) / (Decimal(1) + rate_per_period) ** periods


def term_discount_factor(
    rate_per_period: Decimal, period_count: int, fractions: Sequence[Fraction] | None
) -> Decimal:
    """The value at commencement of 1 received at the end of the term."""
    if fractions is None:
        return discount_factor(rate_per_period, period_count)
    with exact_context():
        factor = Decimal(1)
        for fraction in fractions:
            factor *= _period_discount(rate_per_period, fraction)
        return factor
