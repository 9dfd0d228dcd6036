"""Balances at any date and per fiscal year, on the accrual basis.

A row's interest accrues evenly by day between the previous payment and its
own due date, and its straight-line amount (amortization / lease revenue) over
its own payment period.  Only the one row straddling a date is pro-rated, and
that stub is rounded half up to the cent, so cumulative figures stay exact and
fiscal-year amounts add up to the schedule totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import TypeAlias

from registry.fiscal_years import DEFAULT_FISCAL_YEAR_START_MONTH
from registry.fiscal_years import ONE_DAY
from registry.fiscal_years import fiscal_year_bounds
from registry.fiscal_years import fiscal_year_of

from .money import ZERO
from .money import money_str
from .money import prorate
from .schedule import LeaseSchedule

if TYPE_CHECKING:
    from .history import LeaseHistory
    from .modification import LeaseModification

    #: Anything the balance functions accept: one schedule, a modification (which carries
    #: every earlier one) or a whole history.
    Source: TypeAlias = LeaseSchedule | LeaseModification | LeaseHistory

#: July-June fiscal years by default: FY2026 = 2025-07-01 .. 2026-06-30.


@dataclass(frozen=True)
class LeaseState:
    """Running totals of a lease at the end of one day."""

    balance: Decimal
    accrued_interest: Decimal
    carrying: Decimal
    interest: Decimal
    recognized: Decimal
    payments: Decimal
    principal: Decimal


@dataclass(frozen=True)
class LeaseBalances:
    """Position of a lease at the end of ``as_of``.

    ``balance`` is the liability (lessee) or receivable (lessor) after every
    payment due on or before ``as_of``; ``accrued_interest`` is interest earned
    or incurred since then but not yet due.  Exactly one of
    ``right_of_use_asset_net`` / ``deferred_inflow_balance`` is set.
    """

    as_of: date
    direction: str
    balance: Decimal
    accrued_interest: Decimal
    right_of_use_asset_net: Decimal | None
    deferred_inflow_balance: Decimal | None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready rendering with money as decimal strings."""
        return _render(self.__dict__)


@dataclass(frozen=True)
class FiscalYearBalances:
    """One fiscal year: closing balances and what was recognised within the year.

    ``interest`` is interest expense (lessee) or revenue (lessor) accrued in the
    year; ``amortization`` (lessee) or ``inflow_recognized`` (lessor) the
    straight-line amount; ``payments`` the lease payments due in the year, which
    for a short-term lease are the whole expense or revenue.
    """

    fiscal_year: int
    start: date
    end: date
    direction: str
    opening_balance: Decimal
    payments: Decimal
    interest: Decimal
    principal: Decimal
    balance: Decimal
    accrued_interest: Decimal
    amortization: Decimal | None
    inflow_recognized: Decimal | None
    right_of_use_asset_net: Decimal | None
    deferred_inflow_balance: Decimal | None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready rendering with money as decimal strings."""
        return _render(self.__dict__)


def _render(values: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in values.items():
        if isinstance(value, Decimal):
            out[key] = money_str(value)
        elif isinstance(value, date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


def schedule_state(
    schedule: LeaseSchedule, as_of: date, *, paid_through: date | None = None
) -> LeaseState:
    """Totals of one schedule at the end of ``as_of`` (all zero before commencement).

    Accruals run to the end of ``as_of``; payments count when due on or before
    ``paid_through`` (default ``as_of``).  The separate cut-off exists for a
    modification of a lease paid in arrears: the payment due on the
    modification date settles the period that ends that day, so it belongs to
    the earlier measurement although that measurement's accruals stop the day
    before.
    """
    if as_of < schedule.terms.commencement_date:
        return LeaseState(ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO)
    settled = as_of if paid_through is None else paid_through
    interest = recognized = payments = principal = paid_interest = ZERO
    for row in schedule.rows:
        interest += prorate(row.interest, row.interest_from, row.date, as_of)
        recognized += prorate(row.recognized, row.recognition_from, row.recognition_to, as_of)
        if row.date <= settled:
            payments += row.payment
            principal += row.principal
            paid_interest += row.interest
    return LeaseState(
        balance=schedule.initial_measurement - principal,
        accrued_interest=interest - paid_interest,
        carrying=schedule.opening_recognizable - recognized,
        interest=interest,
        recognized=recognized,
        payments=payments,
        principal=principal,
    )


def lease_state(source: Source, as_of: date) -> LeaseState:
    """Totals of a schedule, or of a modified lease through its whole history:
    balances from the measurement in force at ``as_of``, cumulative amounts
    summed over every measurement before it (see ``LeaseHistory.state``)."""
    if isinstance(source, LeaseSchedule):
        return schedule_state(source, as_of)
    return source.history.state(as_of)


def balances_at(source: Source, as_of: date) -> LeaseBalances:
    """Liability / receivable, accrued interest and asset / deferred inflow at ``as_of``.

    ``source`` may be a schedule, a ``LeaseModification`` or a ``LeaseHistory``;
    a modified lease is followed through every remeasurement, so a date before
    its first modification reads the original schedule.
    """
    state = lease_state(source, as_of)
    lessee = source.direction == "in"
    return LeaseBalances(
        as_of=as_of,
        direction=source.direction,
        balance=state.balance,
        accrued_interest=state.accrued_interest,
        right_of_use_asset_net=state.carrying if lessee else None,
        deferred_inflow_balance=None if lessee else state.carrying,
    )


def _last_schedule(source: Source) -> LeaseSchedule:
    return source if isinstance(source, LeaseSchedule) else source.history.latest


def _first_day(source: Source) -> date:
    schedule = source if isinstance(source, LeaseSchedule) else source.history.base
    return schedule.terms.commencement_date


def _last_day(source: Source) -> date:
    """Last day on which anything is due or accrues (windows are end-exclusive)."""
    schedule = _last_schedule(source)
    due = max(row.date for row in schedule.rows)
    accruing = max(row.recognition_to for row in schedule.rows) - ONE_DAY
    return max(due, accruing)


def fiscal_year_balances(
    source: Source,
    fiscal_year_start_month: int = DEFAULT_FISCAL_YEAR_START_MONTH,
) -> tuple[FiscalYearBalances, ...]:
    """One entry per fiscal year from commencement until the lease is fully settled."""
    first = fiscal_year_of(_first_day(source), fiscal_year_start_month)
    last = fiscal_year_of(_last_day(source), fiscal_year_start_month)
    lessee = source.direction == "in"
    years: list[FiscalYearBalances] = []
    for fiscal_year in range(first, last + 1):
        start, end = fiscal_year_bounds(fiscal_year, fiscal_year_start_month)
        opening = lease_state(source, start - ONE_DAY)
        closing = lease_state(source, end)
        recognized = closing.recognized - opening.recognized
        years.append(
            FiscalYearBalances(
                fiscal_year=fiscal_year,
                start=start,
                end=end,
                direction=source.direction,
                opening_balance=opening.balance,
                payments=closing.payments - opening.payments,
                interest=closing.interest - opening.interest,
                principal=closing.principal - opening.principal,
                balance=closing.balance,
                accrued_interest=closing.accrued_interest,
                amortization=recognized if lessee else None,
                inflow_recognized=None if lessee else recognized,
                right_of_use_asset_net=closing.carrying if lessee else None,
                deferred_inflow_balance=None if lessee else closing.carrying,
            )
        )
    return tuple(years)
