"""Exact money and calendar helpers shared by the lease engine.

Every amount is a :class:`decimal.Decimal`; floats never enter a money path.
Rounding is always explicit - ``ROUND_HALF_UP`` to the cent - so the result
never depends on whatever global decimal context the application sets.

Why half up: the published tables (Washington SBCTC, EZLease) come from
spreadsheets whose ROUND() rounds halves away from zero.  The SBCTC worked
example itself contains no exact half cent, so it comes out identical under
half-even; the choice only shows on true ties such as 1,000.05 / 2 = 500.025,
which becomes 500.03 here (500.02 under banker's rounding).
"""

from __future__ import annotations

import calendar
import decimal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from datetime import timedelta
from decimal import ROUND_DOWN
from decimal import ROUND_HALF_UP
from decimal import Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

#: Working precision for present values, rates and pro-rations.  50 significant
#: digits keeps a 100-year monthly discount factor exact far below a cent.
WORKING_PRECISION = 50


_EXACT = decimal.Context(
    prec=WORKING_PRECISION,
    rounding=decimal.ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)


@contextmanager
def exact_context() -> Iterator[decimal.Context]:
    """Run arithmetic in a private, high-precision decimal context.

    Why: the caller's global context may have a low precision or odd traps;
    intermediate products such as ``balance * rate / 12`` must not be rounded
    before the single, explicit cent rounding.
    """
    with decimal.localcontext(_EXACT) as active:  # a copy: callers cannot alter _EXACT
        yield active


def round_cents(value: Decimal) -> Decimal:
    """Round to the cent, half up (0.005 -> 0.01), and never return ``-0.00``."""
    rounded = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded if rounded != 0 else ZERO


def round_cents_down(value: Decimal) -> Decimal:
    """Truncate toward zero to the cent; used only where half-up could overshoot."""
    rounded = value.quantize(CENT, rounding=ROUND_DOWN)
    return rounded if rounded != 0 else ZERO


def money_str(value: Decimal) -> str:
    """Render money as a plain decimal string with exactly two places ("1066109.82")."""
    return f"{round_cents(value):f}"


_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(start: date, months: int) -> date:
    """Return ``start`` moved by whole months, clamping the day to the month's end.

    Always computed from the original date (not chained) so that a lease that
    starts on the 31st comes back to the 31st after a short month. The month's
    length is looked up rather than asked of ``calendar.monthrange`` (which also
    works out a weekday): schedules call this for every period of every lease.
    """
    index = start.year * 12 + (start.month - 1) + months
    year, month_index = divmod(index, 12)
    day = start.day
    if day > 28:
        last_day = 29 if month_index == 1 and calendar.isleap(year) else _DAYS_IN_MONTH[month_index]
        day = min(day, last_day)
    return date(year, month_index + 1, day)


def prorate(amount: Decimal, start: date, end: date, as_of: date) -> Decimal:
    """The part of ``amount`` accruing evenly over ``[start, end)`` that has
    accrued by the end of ``as_of``, rounded half up to the cent.

    Why days: a fiscal-year end can fall inside a payment period; the stub is
    pro-rated by actual days, which is exact for month-aligned periods (a
    June 1 to July 1 window is fully elapsed at June 30).  The amount is
    multiplied before dividing so half-cent ties are seen exactly.
    """
    day_after = as_of + timedelta(days=1)
    if end <= day_after:
        return amount
    if day_after <= start:
        return ZERO
    with exact_context():
        elapsed = Decimal((day_after - start).days)
        return round_cents(amount * elapsed / Decimal((end - start).days))
