"""Payment periods of a lease term, whole or partial: the proration convention.

Payment periods lie on a grid of ``months_per_period`` steps through an anchor
date (``add_months(anchor, k * months)`` for every whole ``k``).  The term,
from commencement to the day after its end date, is cut by that grid: each grid
interval inside the term is a whole period; where the term starts or ends
between two grid dates, the piece is a *partial* period.  A partial period pays
the payment of the grid interval it lies in (its full period) x days in the
piece / days in the full period, rounded half up to the cent, and bears
interest at the period rate x the same fraction.

The anchor, unless the terms give one: commencement, so whole periods run from
commencement and a remainder is a partial *last* period (2019-03-01 to
2024-02-14 monthly: the last period is February 1-14, 14/29 of a month).  The
one exception is a term that starts after the 1st of a month and ends on a
month's last day (2015-01-15 to 2025-06-30): the lease is billed by calendar
period, so periods run back from the day after the end date and the remainder
is a partial *first* period (January 15-31, 17/31 of a month).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from .money import add_months

#: The fraction of a whole period; every whole period's ``fraction`` is this very object,
#: so the hot paths test ``fraction is WHOLE``.
WHOLE = Fraction(1)


@dataclass(frozen=True, slots=True)
class PaymentPeriod:
    """A payment period ``[start, end)`` in its full grid period ``[full_start, full_end)``."""

    start: date
    end: date
    full_start: date
    full_end: date

    @property
    def days(self) -> int:
        """Days in the period."""
        return (self.end - self.start).days

    @property
    def full_days(self) -> int:
        """Days in the full grid period it lies in."""
        return (self.full_end - self.full_start).days

    @property
    def is_partial(self) -> bool:
        """Whether the term starts or ends inside this period."""
        return self.start != self.full_start or self.end != self.full_end

    @property
    def fraction(self) -> Fraction:
        """Days in the period over days in its full period (``WHOLE`` for a whole period)."""
        return Fraction(self.days, self.full_days) if self.is_partial else WHOLE


def whole_months(start: date, day: date) -> int:
    """The most whole months ``n`` with ``add_months(start, n) <= day`` (negative before start)."""
    months = (day.year - start.year) * 12 + day.month - start.month
    return months - 1 if add_months(start, months) > day else months


def months_covering(commencement: date, end: date) -> int:
    """Months from ``commencement`` to ``end`` (exclusive), a partial month counted whole."""
    months = whole_months(commencement, end)
    return months + 1 if add_months(commencement, months) < end else months


def is_whole_term(commencement: date, end: date, months_per_period: int) -> bool:
    """Whether ``[commencement, end)`` is a whole number of periods counted from commencement."""
    months = whole_months(commencement, end)
    return months % months_per_period == 0 and add_months(commencement, months) == end


def default_anchor(commencement: date, end: date, months_per_period: int) -> date:
    """The grid's anchor when the terms give none (see the module docstring)."""
    if (
        commencement.day != 1
        and end.day == 1
        and not is_whole_term(commencement, end, months_per_period)
    ):
        return end
    return commencement


def _grid_index(anchor: date, months_per_period: int, day: date) -> int:
    """``k`` of the last grid date on or before ``day``."""
    index = whole_months(anchor, day) // months_per_period
    while add_months(anchor, index * months_per_period) > day:
        index -= 1
    while add_months(anchor, (index + 1) * months_per_period) <= day:
        index += 1
    return index


def payment_periods(
    commencement: date, end: date, months_per_period: int, anchor: date
) -> tuple[PaymentPeriod, ...]:
    """The periods of the term ``[commencement, end)`` on the grid through ``anchor``."""
    index = _grid_index(anchor, months_per_period, commencement)
    periods: list[PaymentPeriod] = []
    start = commencement
    full_start = add_months(anchor, index * months_per_period)
    while start < end:
        index += 1
        full_end = add_months(anchor, index * months_per_period)
        stop = min(full_end, end)
        periods.append(PaymentPeriod(start, stop, full_start, full_end))
        start, full_start = stop, full_end
    return tuple(periods)
