"""Lease input terms and their validation.

``LeaseTerms`` validates itself on construction and raises one
``LeaseTermsError`` listing every bad field at once, so an API can show all
problems in a form rather than one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from functools import cached_property
from typing import Any
from typing import Literal
from typing import TypeGuard

from registry.fields import MAX_MONEY
from registry.fields import MAX_MONTHS
from registry.fiscal_years import ONE_DAY

from .money import add_months
from .periods import PaymentPeriod
from .periods import default_anchor
from .periods import is_whole_term
from .periods import months_covering
from .periods import payment_periods

Direction = Literal["in", "out"]
Frequency = Literal["monthly", "quarterly", "annual"]
Timing = Literal["advance", "arrears"]

DIRECTIONS: tuple[str, ...] = ("in", "out")
TIMINGS: tuple[str, ...] = ("advance", "arrears")
#: Months covered by one payment period for each payment frequency.
MONTHS_PER_PERIOD: dict[str, int] = {"monthly": 1, "quarterly": 3, "annual": 12}
#: Upper bound on any term: 100 years covers 99-year ground leases while
#: keeping a schedule (and the implicit-rate search) bounded.
MAX_TERM_MONTHS = MAX_MONTHS
#: GASB 87 short-term exception: maximum possible term of 12 months or less.
SHORT_TERM_MAX_MONTHS = 12

FieldError = tuple[str, str]


class LeaseTermsError(ValueError):
    """Invalid lease input; ``errors`` holds ``(field, message)`` pairs.

    Subclasses ``ValueError`` so generic handlers still catch it, but callers
    should read ``errors`` to point at each offending field.
    """

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors: list[FieldError] = list(errors)
        super().__init__("; ".join(f"{name}: {message}" for name, message in self.errors))


@dataclass(frozen=True)
class PaymentStep:
    """``periods`` consecutive payment periods that each pay ``amount`` (before escalation)."""

    periods: int
    amount: Decimal


@dataclass(frozen=True)
class LeaseTerms:
    """Everything needed to measure one lease under GASB Statement No. 87.

    Money fields are ``Decimal`` in whole cents; ``discount_rate`` is an annual
    fraction (``Decimal("0.04")`` = 4 %), ``escalation_pct`` an annual percent
    (``Decimal("3")`` = 3 %).  ``max_possible_term_months`` defaults to
    ``term_months`` and drives the short-term test.

    The term is ``term_months`` from commencement, a whole number of payment
    periods, or runs to ``end_date`` (inclusive), when it may have a partial
    first or last period (``periods`` module); ``term_months`` then defaults to
    the months it touches, a partial month counted whole, which is what the
    short-term test and the rate tables need.  ``period_anchor`` puts the
    payment periods on another grid (a modification effective inside a period
    keeps the grid of the lease it modifies); ``first_period_share`` bills the
    first period that share of its full period's payment instead of its share of
    days (such a modification carries the payment of the period it falls in as
    it was billed).
    """

    direction: Direction
    commencement_date: date
    payment_frequency: Frequency
    payment_timing: Timing
    payments: tuple[PaymentStep, ...]
    max_possible_term_months: int | None = None
    escalation_pct: Decimal = Decimal("0")
    free_periods: int = 0
    non_lease_amount: Decimal = Decimal("0")
    discount_rate: Decimal | None = None
    fair_value: Decimal | None = None
    residual_value: Decimal | None = None
    initial_direct_costs: Decimal = Decimal("0")
    incentives: Decimal = Decimal("0")
    prepaid_at_commencement: Decimal = Decimal("0")
    useful_life_months: int | None = None
    end_date: date | None = None
    period_anchor: date | None = None
    first_period_share: Fraction | None = None
    term_months: int = field(default=0, kw_only=True)

    def __post_init__(self) -> None:
        if isinstance(self.payments, list):
            object.__setattr__(self, "payments", tuple(self.payments))
        if not self.term_months and _term_dates_ok(self):
            assert self.end_date is not None
            covering = months_covering(self.commencement_date, self.end_date + ONE_DAY)
            object.__setattr__(self, "term_months", covering)
        if self.max_possible_term_months is None and _is_int(self.term_months):
            object.__setattr__(self, "max_possible_term_months", self.term_months)
        errors = validate_lease_terms(self)
        if errors:
            raise LeaseTermsError(errors)
        if (
            self.end_date is not None
            and self.period_anchor is None
            and is_whole_term(self.commencement_date, self.term_end, self.months_per_period)
        ):
            object.__setattr__(self, "end_date", None)  # the same lease as by term_months

    @property
    def months_per_period(self) -> int:
        """Months in one payment period (1, 3 or 12)."""
        return MONTHS_PER_PERIOD[self.payment_frequency]

    @property
    def periods_per_year(self) -> int:
        """Payment periods per year; the annual rate is divided by this."""
        return 12 // self.months_per_period

    @property
    def period_count(self) -> int:
        """Number of payment periods in the lease term, partial ones included."""
        if self.is_regular:
            return self.term_months // self.months_per_period
        return len(self.periods)

    @property
    def is_regular(self) -> bool:
        """Whether the term is ``term_months`` of whole periods from commencement."""
        return self.end_date is None and self.period_anchor is None

    @property
    def term_end(self) -> date:
        """The day after the last day of the term."""
        if self.end_date is not None:
            return self.end_date + ONE_DAY
        return add_months(self.commencement_date, self.term_months)

    @property
    def last_day(self) -> date:
        """The last day of the term."""
        return self.term_end - ONE_DAY

    @property
    def anchor(self) -> date:
        """A date on which a payment period begins; periods are whole steps from it."""
        if self.period_anchor is not None:
            return self.period_anchor
        if self.end_date is None:
            return self.commencement_date
        return default_anchor(self.commencement_date, self.term_end, self.months_per_period)

    @cached_property
    def periods(self) -> tuple[PaymentPeriod, ...]:
        """The payment periods of the term, each whole or partial."""
        return payment_periods(
            self.commencement_date, self.term_end, self.months_per_period, self.anchor
        )

    @property
    def has_partial_periods(self) -> bool:
        """Whether the term starts or ends inside a payment period."""
        return not self.is_regular and any(period.is_partial for period in self.periods)

    @property
    def is_short_term(self) -> bool:
        """GASB 87 short-term test on the maximum possible term, options included."""
        return (self.max_possible_term_months or self.term_months) <= SHORT_TERM_MAX_MONTHS


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_date(value: Any) -> TypeGuard[date]:
    return isinstance(value, date) and not isinstance(value, datetime)


def _term_dates_ok(terms: Any) -> bool:
    """Whether the terms give a usable commencement and end date."""
    end = getattr(terms, "end_date", None)
    return (
        _is_date(terms.commencement_date)
        and _is_date(end)
        and terms.commencement_date <= end
        and months_covering(terms.commencement_date, end + ONE_DAY) <= MAX_TERM_MONTHS
    )


def _money_error(value: Any, *, allow_none: bool = False) -> str | None:
    """Why ``value`` is not a valid non-negative cent amount, or ``None`` if it is."""
    if value is None:
        return None if allow_none else "is required"
    if isinstance(value, float):
        return "must be a Decimal, not a float (floats are not exact)"
    if _is_int(value):
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        return "must be a finite Decimal amount"
    if value < 0:
        return "must not be negative"
    if value > MAX_MONEY:
        return "must be below one trillion"
    if value != value.quantize(Decimal("0.01")):
        return "must be in whole cents (at most two decimal places)"
    return None


def _count_error(value: Any, minimum: int, maximum: int = MAX_TERM_MONTHS) -> str | None:
    if not _is_int(value):
        return "must be a whole number"
    if value < minimum:
        return f"must be at least {minimum}"
    if value > maximum:
        return f"must be at most {maximum}"
    return None


def _rate_error(value: Any, name: str) -> str | None:
    if isinstance(value, float):
        return "must be a Decimal, not a float (floats are not exact)"
    if not isinstance(value, Decimal | int) or isinstance(value, bool):
        return "must be a Decimal"
    if isinstance(value, Decimal) and not value.is_finite():
        return "must be finite"
    if value < 0:
        return "must not be negative"
    if name == "discount_rate" and value >= 1:
        return "is an annual fraction below 1 (Decimal('0.04') means 4 %)"
    if name == "escalation_pct" and value > 100:
        return "is an annual percent and must be at most 100"
    return None


def validate_lease_terms(terms: LeaseTerms) -> list[FieldError]:
    """Return every ``(field, message)`` problem with ``terms`` (empty when valid)."""
    errors: list[FieldError] = []

    def check(name: str, message: str | None) -> None:
        if message:
            errors.append((name, message))

    if terms.direction not in DIRECTIONS:
        check("direction", "must be 'in' (city is lessee) or 'out' (city is lessor)")
    if not _is_date(terms.commencement_date):
        check("commencement_date", "must be a date")
    frequency_ok = terms.payment_frequency in MONTHS_PER_PERIOD
    if not frequency_ok:
        check("payment_frequency", "must be 'monthly', 'quarterly' or 'annual'")
    if terms.payment_timing not in TIMINGS:
        check("payment_timing", "must be 'advance' or 'arrears'")
    share = getattr(terms, "first_period_share", None)
    if share is not None and not (isinstance(share, Fraction) and 0 < share <= 1):
        check("first_period_share", "must be a Fraction above 0 and at most 1")
    term_errors, periods = _term_errors(terms, frequency_ok)
    errors.extend(term_errors)
    errors.extend(_payment_errors(terms, periods))
    for name in ("initial_direct_costs", "incentives", "prepaid_at_commencement"):
        check(name, _money_error(getattr(terms, name)))
    check("non_lease_amount", _money_error(terms.non_lease_amount))
    check("fair_value", _money_error(terms.fair_value, allow_none=True))
    check("residual_value", _money_error(terms.residual_value, allow_none=True))
    check("escalation_pct", _rate_error(terms.escalation_pct, "escalation_pct"))
    if terms.discount_rate is not None:
        check("discount_rate", _rate_error(terms.discount_rate, "discount_rate"))
    elif terms.fair_value is None and not _short_term_for_validation(terms):
        check("discount_rate", "is required unless fair_value is given to solve the implicit rate")
    if terms.useful_life_months is not None:
        check("useful_life_months", _count_error(terms.useful_life_months, 1, 12 * 1000))
    return errors


def _term_errors(terms: LeaseTerms, frequency_ok: bool) -> tuple[list[FieldError], int | None]:
    """Problems with the term, and its number of payment periods when it has one.

    A term given by ``end_date`` may have partial periods; one given by
    ``term_months`` alone must be whole periods, as it always was.
    """
    errors: list[FieldError] = []

    def check(name: str, message: str | None) -> None:
        if message:
            errors.append((name, message))

    start, end = terms.commencement_date, getattr(terms, "end_date", None)
    anchor = getattr(terms, "period_anchor", None)
    term = terms.term_months
    if anchor is not None and not _is_date(anchor):
        check("period_anchor", "must be a date")
        anchor = None
    if end is not None:
        if not _is_date(end):
            check("end_date", "must be a date")
        elif _is_date(start) and end < start:
            check("end_date", f"{end} is before the commencement date {start}")
        elif _is_date(start) and not _term_dates_ok(terms):
            check("end_date", f"makes a term of more than {MAX_TERM_MONTHS} months")
        if not _term_dates_ok(terms):
            return errors, None
        covering = months_covering(start, end + ONE_DAY)
        if term and term != covering:
            check(
                "term_months",
                f"must be {covering}, the months from commencement_date to "
                "end_date with a partial month counted whole (or leave it out)",
            )
        term = covering
    else:
        check("term_months", _count_error(term, 1))
    maximum = terms.max_possible_term_months
    check("max_possible_term_months", _count_error(maximum, 1))
    term_ok = _count_error(term, 1) is None
    if term_ok and _count_error(maximum, 1) is None and isinstance(maximum, int) and maximum < term:
        check("max_possible_term_months", "must not be shorter than term_months")
    if not term_ok or not frequency_ok:
        return errors, None
    per = MONTHS_PER_PERIOD[terms.payment_frequency]
    if end is None and anchor is None:
        if term % per:
            check(
                "term_months",
                f"must be a whole number of {terms.payment_frequency} periods "
                "(give end_date for a term with a partial period)",
            )
            return errors, None
        return errors, term // per
    if not _is_date(start):
        return errors, None
    finish = end + ONE_DAY if end is not None else add_months(start, term)
    grid = anchor or (default_anchor(start, finish, per) if end is not None else start)
    return errors, len(payment_periods(start, finish, per, grid))


def _short_term_for_validation(terms: LeaseTerms) -> bool:
    maximum = terms.max_possible_term_months
    return _is_int(maximum) and maximum <= SHORT_TERM_MAX_MONTHS  # type: ignore[operator]


def _payment_errors(terms: LeaseTerms, periods: int | None) -> list[FieldError]:
    """Check the payment steps, free periods and the non-lease component."""
    errors: list[FieldError] = []
    steps = terms.payments
    if not isinstance(steps, tuple) or not steps:
        return [("payments", "must list at least one PaymentStep")]
    total = 0
    counts_ok = True
    non_lease = terms.non_lease_amount
    non_lease_ok = _money_error(non_lease) is None
    for index, step in enumerate(steps):
        name = f"payments[{index}]"
        if not isinstance(step, PaymentStep):
            errors.append((name, "must be a PaymentStep(periods, amount)"))
            counts_ok = False
            continue
        period_error = _count_error(step.periods, 1)
        if period_error:
            errors.append((f"{name}.periods", period_error))
            counts_ok = False
        else:
            total += step.periods
        amount_error = _money_error(step.amount)
        if amount_error:
            errors.append((f"{name}.amount", amount_error))
        elif non_lease_ok and 0 < step.amount < non_lease:
            errors.append((f"{name}.amount", "must not be less than non_lease_amount"))
    if periods is not None and counts_ok and total != periods:
        errors.append(
            ("payments", f"periods sum to {total} but the term has {periods} payment periods")
        )
    free_error = _count_error(terms.free_periods, 0)
    if free_error:
        errors.append(("free_periods", free_error))
    elif periods is not None and terms.free_periods >= periods:
        errors.append(("free_periods", f"must be fewer than the {periods} payment periods"))
    return errors
