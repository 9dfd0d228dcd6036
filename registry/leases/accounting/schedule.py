"""The amortization schedule: one row per payment period.

Rounding rules (each documented because auditors will re-foot the table):

* interest = balance x annual rate / periods per year, rounded half up to the
  cent per row (charged on the exact, unrounded balance so rounding drift does
  not compound); an advance payment at commencement carries no interest;
* principal = payment - interest, so a free or small payment that does not
  cover the interest makes principal negative and the balance grows;
* the last payment that is not zero settles the balance exactly: its principal
  is the remaining balance and the rounding residue (at most half a cent per
  row, usually a cent or two) goes into its interest, so the balance ends at
  exactly 0.00.  Only where the true final interest is smaller than that
  residue (a rate near zero, cent-sized payments) can that interest dip a few
  cents below zero;
* the right-to-use asset (lessee) or deferred inflow (lessor) is recognised
  straight-line by month, each row's share rounded half up, the residue in the
  last recognising row (rounded down instead if half up would overshoot);
* in a term with partial periods, a partial period's interest is the period
  rate x its fraction (days over the days of its full period), and each row's
  straight-line weight is the fraction of its full period that lies before the
  end of recognition (the term, or a lessee's useful life).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from .cashflows import ScheduledPayment
from .cashflows import fractions_of
from .cashflows import payment_stream
from .cashflows import period_rate
from .cashflows import present_value
from .measurement import LeaseMeasurement
from .measurement import measure_lease
from .measurement import recognition_end
from .money import ZERO
from .money import add_months
from .money import exact_context
from .money import money_str
from .money import round_cents
from .money import round_cents_down
from .periods import WHOLE
from .rows import LesseeRow
from .rows import LessorRow
from .rows import ScheduleRow
from .terms import LeaseTerms


@dataclass(frozen=True)
class LeaseSchedule:
    """Measurement plus the full row-by-row schedule of one lease."""

    terms: LeaseTerms
    short_term: bool
    discount_rate: Decimal | None
    initial_measurement: Decimal
    right_of_use_asset: Decimal | None
    deferred_inflow: Decimal | None
    rows: tuple[ScheduleRow, ...]

    @property
    def direction(self) -> str:
        """``"in"`` when the city is lessee, ``"out"`` when it is lessor."""
        return self.terms.direction

    @property
    def opening_recognizable(self) -> Decimal:
        """The right-to-use asset (lessee) or deferred inflow (lessor) at commencement."""
        value = self.right_of_use_asset if self.direction == "in" else self.deferred_inflow
        return value if value is not None else ZERO

    @property
    def lessee_rows(self) -> tuple[LesseeRow, ...]:
        """The rows typed as lessee rows; ``TypeError`` for a lessor schedule."""
        if self.direction != "in":
            raise TypeError("a lessor schedule has LessorRow rows")
        return tuple(row for row in self.rows if isinstance(row, LesseeRow))

    @property
    def lessor_rows(self) -> tuple[LessorRow, ...]:
        """The rows typed as lessor rows; ``TypeError`` for a lessee schedule."""
        if self.direction != "out":
            raise TypeError("a lessee schedule has LesseeRow rows")
        return tuple(row for row in self.rows if isinstance(row, LessorRow))

    def to_dict(self) -> dict[str, object]:
        """JSON-ready rendering; money as decimal strings such as ``"1066109.82"``."""
        out: dict[str, object] = {
            "short_term": self.short_term,
            "discount_rate": None if self.discount_rate is None else f"{self.discount_rate:f}",
            "initial_measurement": money_str(self.initial_measurement),
        }
        if self.direction == "in":
            out["right_of_use_asset"] = money_str(self.opening_recognizable)
        else:
            out["deferred_inflow"] = money_str(self.opening_recognizable)
        out["rows"] = [row.to_dict() for row in self.rows]
        return out


def lease_schedule(terms: LeaseTerms) -> LeaseSchedule:
    """Measure ``terms`` and build its full amortization schedule."""
    return build_schedule(terms)


def build_schedule(
    terms: LeaseTerms,
    *,
    opening_override: Decimal | None = None,
    apply_short_term_test: bool = True,
) -> LeaseSchedule:
    """Build a schedule, optionally replacing the opening asset / deferred inflow.

    The override exists for remeasurement after a modification, where the asset
    carried forward (adjusted by the change in the liability) replaces the
    commencement formula.
    """
    measurement = measure_lease(
        terms, apply_short_term_test=apply_short_term_test, opening_override=opening_override
    )
    stream = payment_stream(terms)
    windows = _recognition_windows(terms, stream, measurement)
    if measurement.short_term:
        splits = [(ZERO, ZERO, ZERO) for _ in stream]
        recognized = [ZERO for _ in stream]
        opening = ZERO
    else:
        assert measurement.discount_rate is not None
        splits = _interest_splits(terms, measurement, stream)
        opening = (
            measurement.right_of_use_asset
            if terms.direction == "in"
            else measurement.deferred_inflow
        ) or ZERO
        recognized = _straight_line(opening, [weight for weight, _, _ in windows])
    rows = _assemble_rows(terms, stream, splits, recognized, opening, windows)
    return LeaseSchedule(
        terms=terms,
        short_term=measurement.short_term,
        discount_rate=measurement.discount_rate,
        initial_measurement=measurement.initial_measurement,
        right_of_use_asset=measurement.right_of_use_asset,
        deferred_inflow=measurement.deferred_inflow,
        rows=rows,
    )


def _interest_splits(
    terms: LeaseTerms, measurement: LeaseMeasurement, stream: tuple[ScheduledPayment, ...]
) -> list[tuple[Decimal, Decimal, Decimal]]:
    """``(interest, principal, balance after)`` for each payment period.

    Interest is charged on the exact (unrounded) balance and then rounded, and
    the shown balance is the cent-exact running total.  Charging it on the
    rounded balance instead would let each half-cent grow by (1 + rate) every
    period - tens of dollars by the end of a 99-year lease; this way the
    residue left for the settling row is at most half a cent per row.
    """
    assert measurement.discount_rate is not None
    annual_rate = measurement.discount_rate
    periods_per_year = Decimal(terms.periods_per_year)
    amounts = [payment.lease_amount for payment in stream]
    fractions = fractions_of(stream)
    exact = present_value(amounts, period_rate(annual_rate, terms), terms.payment_timing, fractions)
    advance = terms.payment_timing == "advance"
    settling = max(
        (index for index, amount in enumerate(amounts) if amount > 0), default=len(stream) - 1
    )
    balance = measurement.initial_measurement
    splits: list[tuple[Decimal, Decimal, Decimal]] = []
    for index, amount in enumerate(amounts):
        at_commencement = index == 0 and advance
        # The interest of a row accrues over the period before its payment (advance) or
        # the period it ends (arrears).
        fraction = WHOLE
        if fractions is not None and not at_commencement:
            fraction = fractions[index - 1 if advance else index]
        with exact_context():
            # Multiply before dividing so a true half-cent tie is seen exactly.
            if at_commencement:
                accrued = ZERO
            elif fraction is WHOLE:
                accrued = exact * annual_rate / periods_per_year
            else:
                accrued = (
                    exact
                    * annual_rate
                    * fraction.numerator
                    / (periods_per_year * fraction.denominator)
                )
            exact = exact + accrued - amount
        if index > settling:
            interest = principal = ZERO
        elif index == settling:
            principal = balance
            interest = amount - principal
        else:
            interest = round_cents(accrued)
            principal = amount - interest
        balance = balance - principal
        splits.append((interest, principal, balance))
    return splits


Weight = int | Fraction
#: ``(weight, recognition_from, recognition_to)`` of each row's straight-line share.
Window = tuple[Weight, date, date]


def _recognition_windows(
    terms: LeaseTerms, stream: tuple[ScheduledPayment, ...], measurement: LeaseMeasurement
) -> list[Window]:
    """Each row's straight-line weight and the window its share accrues over.

    Whole periods weigh their months within the recognition months; in a term
    with partial periods a row weighs the fraction of its full period that lies
    before the end of recognition, so a whole period weighs 1 and a partial one
    its fraction.
    """
    windows: list[Window] = []
    if terms.has_partial_periods:
        until = recognition_end(terms)
        for payment, period in zip(stream, terms.periods, strict=True):
            start, end = payment.period_start, min(payment.period_end, until)
            if end <= start:
                windows.append((0, start, start))
            else:
                windows.append((Fraction((end - start).days, period.full_days), start, end))
        return windows
    per, months = terms.months_per_period, measurement.recognition_months
    for payment in stream:
        first_month = (payment.period - 1) * per
        last_month = min(payment.period * per, months)
        start = payment.period_start
        if last_month > first_month:
            end = add_months(terms.commencement_date, last_month)
            windows.append((last_month - first_month, start, end))
        else:
            windows.append((0, start, start))
    return windows


def _straight_line(total: Decimal, weights: Sequence[Weight]) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights``, the residue in the last weighted row."""
    whole = sum(weights, 0)
    last = max((index for index, weight in enumerate(weights) if weight), default=0)
    for rounder in (round_cents, round_cents_down):
        with exact_context():
            amounts = [rounder(_share(total, weight, whole)) for weight in weights]
        amounts[last] = ZERO
        amounts[last] = total - sum(amounts, ZERO)
        if amounts[last] >= 0:
            return amounts
    raise AssertionError("rounding down cannot overshoot the total")


def _share(total: Decimal, weight: Weight, whole: Weight) -> Decimal:
    """``total x weight / whole``, multiplied before dividing (call in an exact context)."""
    if isinstance(weight, int) and isinstance(whole, int):
        return total * weight / whole
    share = Fraction(weight) / whole
    return total * share.numerator / share.denominator


def _assemble_rows(
    terms: LeaseTerms,
    stream: tuple[ScheduledPayment, ...],
    splits: list[tuple[Decimal, Decimal, Decimal]],
    recognized: list[Decimal],
    opening: Decimal,
    windows: list[Window],
) -> tuple[ScheduleRow, ...]:
    rows: list[ScheduleRow] = []
    row_type = LesseeRow if terms.direction == "in" else LessorRow
    carrying = opening
    previous_date = terms.commencement_date
    for payment, (interest, principal, balance), amount, (_, start, end) in zip(
        stream, splits, recognized, windows, strict=True
    ):
        carrying -= amount
        rows.append(
            row_type(
                payment.period,
                payment.due_date,
                payment.lease_amount,
                interest,
                principal,
                balance,
                interest_from=previous_date,
                recognition_from=start,
                recognition_to=end,
                **row_type.flavoured(amount, carrying),
            )
        )
        previous_date = payment.due_date
    return tuple(rows)
