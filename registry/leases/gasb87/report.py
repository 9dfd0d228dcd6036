"""The GASB 87 report of one fiscal year: every lease, totals by direction and fund type, and the
maturity tables the notes need.

Every figure is the engine's (`registry.leases.accounting`): each lease's running totals at the
day before the year and at its end, read from the schedules the engine computed and the
database keeps (`registry.leases.gasb87.figures`: summed in SQL, a stale lease computed by the
engine), and every total is a `Decimal` sum of the per-lease figures shown, so the report
re-foots to the cent and agrees with each lease's own schedule. A lease modified more than once
is followed through its whole measurement history (as the engine's `LeaseHistory.state`), so a
year reaching back before its latest remeasurement is still right.
A lease recorded incomplete (not measured) is left out of every figure and named in
`not_measured`, with what it lacks. Renderings: `registry.leases.gasb87.columns` (the columns,
and the CSV) and `registry.leases.gasb87.workbook` (XLSX).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from decimal import Decimal

from sqlalchemy.orm import Session

from registry.fiscal_years import ONE_DAY
from registry.fiscal_years import fiscal_year_bounds
from registry.leases.accounting import MaturityBucket
from registry.leases.accounting import MaturityTable
from registry.leases.accounting import combined_maturity_table
from registry.leases.accounting.balances import LeaseState
from registry.leases.accounting.money import ZERO
from registry.leases.gasb87.figures import LeaseFigures
from registry.leases.gasb87.figures import lease_figures
from registry.leases.queries import UnmeasuredLease
from registry.leases.queries import unmeasured_leases
from registry.vocabulary import FUND_TYPES
from registry.vocabulary import LEASE_DIRECTIONS

ALL_FUNDS = "all"
DIRECTION_LABELS = {"in": "Lessee (city leases in)", "out": "Lessor (city leases out)"}
FUND_LABELS = {"governmental": "Governmental", "business_type": "Business-type", ALL_FUNDS: "Total"}


@dataclass(frozen=True)
class YearAmounts:
    """A lease's (or a group's) figures for the fiscal year; `carrying` is the right-to-use
    asset (lessee) or deferred inflow (lessor) at year end, `recognized` its amortization or the
    lease revenue of the year; `current_portion` is principal due in the next fiscal year."""

    opening_balance: Decimal = ZERO
    payments: Decimal = ZERO
    interest: Decimal = ZERO
    principal: Decimal = ZERO
    closing_balance: Decimal = ZERO
    current_portion: Decimal = ZERO
    accrued_interest: Decimal = ZERO
    carrying: Decimal = ZERO
    recognized: Decimal = ZERO
    short_term_payments: Decimal = ZERO

    @property
    def noncurrent_portion(self) -> Decimal:
        return self.closing_balance - self.current_portion

    def __add__(self, other: YearAmounts) -> YearAmounts:
        return YearAmounts(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(YearAmounts))
        )


@dataclass(frozen=True)
class LeaseYear:
    """One lease in the report."""

    lease_number: str
    counterparty: str
    direction: str
    fund_type: str
    portfolio: str | None
    department: str | None
    commencement_date: dt.date
    end_date: dt.date
    short_term: bool
    discount_rate: Decimal | None
    amounts: YearAmounts


@dataclass(frozen=True)
class GroupTotals:
    """The sum over one direction and fund type (`fund_type == "all"`: the direction's total)."""

    direction: str
    fund_type: str
    lease_count: int
    amounts: YearAmounts


@dataclass(frozen=True)
class MaturityLine(MaturityBucket):
    """One bucket of a direction's and fund type's maturity table (the engine's bucket, summed)."""

    direction: str = field(kw_only=True)
    fund_type: str = field(kw_only=True)


@dataclass(frozen=True)
class Gasb87Report:
    fiscal_year: int
    start: dt.date
    end: dt.date
    fiscal_year_start_month: int
    leases: tuple[LeaseYear, ...]
    totals: tuple[GroupTotals, ...]
    maturity: tuple[MaturityLine, ...]
    # recorded incomplete, so in no figure: those not known to lie wholly outside the year
    not_measured: tuple[UnmeasuredLease, ...] = ()

    def group(self, direction: str, fund_type: str = ALL_FUNDS) -> GroupTotals:
        return next(t for t in self.totals if (t.direction, t.fund_type) == (direction, fund_type))


def gasb87_report(
    session: Session,
    fiscal_year: int,
    fiscal_year_start_month: int = 7,
    *,
    direction: str | None = None,
    fund_type: str | None = None,
) -> Gasb87Report:
    """The report for `fiscal_year` (named by the calendar year it ends in).

    A lease is in it when it commenced by the year end and had a balance or activity in the year.
    """
    start, end = fiscal_year_bounds(fiscal_year, fiscal_year_start_month)
    leases: list[LeaseYear] = []
    tables: dict[tuple[str, str], list[MaturityTable]] = {}
    for figures in lease_figures(
        session,
        (start - ONE_DAY, end),
        direction=direction,
        fund_type=fund_type,
        maturity_year=fiscal_year,
        start_month=fiscal_year_start_month,
    ):
        found = _lease_year(figures, start, end)
        if found is None:
            continue
        lease, table = found
        leases.append(lease)
        for key in ((lease.direction, lease.fund_type), (lease.direction, ALL_FUNDS)):
            tables.setdefault(key, []).append(table)
    leases.sort(key=lambda lease: (lease.direction, lease.fund_type, lease.lease_number))
    return Gasb87Report(
        fiscal_year=fiscal_year,
        start=start,
        end=end,
        fiscal_year_start_month=fiscal_year_start_month,
        leases=tuple(leases),
        totals=tuple(_totals(leases)),
        maturity=tuple(_maturity_lines(tables, fiscal_year)),
        not_measured=tuple(
            unmeasured_leases(
                session, direction=direction, fund_type=fund_type, during=(start, end)
            )
        ),
    )


def _groups() -> list[tuple[str, str]]:
    return [(d, f) for d in LEASE_DIRECTIONS for f in (*FUND_TYPES, ALL_FUNDS)]


def _lease_year(
    figures: LeaseFigures, start: dt.date, end: dt.date
) -> tuple[LeaseYear, MaturityTable] | None:
    """The lease's figures for the year and its maturity table, or None when it has not
    commenced by the year end or was settled before the year began."""
    if figures.commencement_date > end:
        return None
    opening = figures.state(start - ONE_DAY)
    closing = figures.state(end)
    if _settled(opening) and _settled(closing) and closing == opening:
        return None
    table = figures.maturity
    if table is None:
        raise ValueError("the GASB 87 report reads each lease's maturity with its figures")
    in_force = figures.in_force(end)
    record = figures.record
    payments = closing.payments - opening.payments
    lease = LeaseYear(
        lease_number=str(record["lease_number"]),
        counterparty=str(record.get("counterparty") or ""),
        direction=figures.direction,
        fund_type=str(record.get("fund_type") or "governmental"),
        portfolio=record.get("portfolio"),
        department=record.get("department_code"),
        commencement_date=figures.commencement_date,
        end_date=in_force.last_day,
        short_term=in_force.short_term,
        discount_rate=in_force.discount_rate,
        amounts=YearAmounts(
            opening_balance=opening.balance,
            payments=payments,
            interest=closing.interest - opening.interest,
            principal=closing.principal - opening.principal,
            closing_balance=closing.balance,
            # the first bucket is the next fiscal year: the part due within one year
            current_portion=table.buckets[0].principal,
            accrued_interest=closing.accrued_interest,
            carrying=closing.carrying,
            recognized=closing.recognized - opening.recognized,
            short_term_payments=payments if in_force.short_term else ZERO,
        ),
    )
    return lease, table


def _settled(state: LeaseState) -> bool:
    return state.balance == 0 and state.accrued_interest == 0 and state.carrying == 0


def _totals(leases: list[LeaseYear]) -> Iterable[GroupTotals]:
    for direction, fund in _groups():
        members = [
            lease for lease in leases
            if lease.direction == direction and fund in (ALL_FUNDS, lease.fund_type)
        ]  # fmt: skip
        amounts = sum((lease.amounts for lease in members), YearAmounts())
        yield GroupTotals(direction, fund, len(members), amounts)


def _maturity_lines(
    tables: Mapping[tuple[str, str], list[MaturityTable]], fiscal_year: int
) -> Iterable[MaturityLine]:
    for direction, fund in _groups():
        combined = combined_maturity_table(tables.get((direction, fund), []), fiscal_year)
        for bucket in combined.buckets:
            yield MaturityLine(
                bucket.label,
                bucket.first_fiscal_year,
                bucket.last_fiscal_year,
                bucket.principal,
                bucket.interest,
                direction=direction,
                fund_type=fund,
            )
