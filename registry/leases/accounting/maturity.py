"""Maturity table for the notes to the financial statements (GASB 87 para. 37 / 57).

Principal and interest falling due in each of the five fiscal years after the
reporting date, then in five-year buckets (years 6-10, 11-15, ...).  The
principal column totals the liability / receivable at the reporting date.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from registry.fiscal_years import DEFAULT_FISCAL_YEAR_START_MONTH
from registry.fiscal_years import fiscal_year_bounds
from registry.fiscal_years import fiscal_year_of

from .money import ZERO
from .money import money_str
from .schedule import LeaseSchedule

if TYPE_CHECKING:
    from .balances import Source

SINGLE_YEARS = 5
BUCKET_YEARS = 5


@dataclass(frozen=True)
class MaturityBucket:
    """Principal and interest due in fiscal years ``first_fiscal_year..last_fiscal_year``."""

    label: str
    first_fiscal_year: int
    last_fiscal_year: int
    principal: Decimal
    interest: Decimal

    @property
    def total(self) -> Decimal:
        """Principal plus interest: the lease payments due in the bucket."""
        return self.principal + self.interest

    def to_dict(self) -> dict[str, object]:
        """JSON-ready rendering with money as decimal strings."""
        return {
            "label": self.label,
            "first_fiscal_year": self.first_fiscal_year,
            "last_fiscal_year": self.last_fiscal_year,
            "principal": money_str(self.principal),
            "interest": money_str(self.interest),
            "total": money_str(self.total),
        }


@dataclass(frozen=True)
class MaturityTable:
    """Future principal and interest after the end of ``fiscal_year``."""

    fiscal_year: int
    buckets: tuple[MaturityBucket, ...]

    @property
    def total_principal(self) -> Decimal:
        """Equals the liability / receivable at the reporting date."""
        return sum((bucket.principal for bucket in self.buckets), ZERO)

    @property
    def total_interest(self) -> Decimal:
        """Interest still to be paid or received, including interest already accrued."""
        return sum((bucket.interest for bucket in self.buckets), ZERO)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready rendering with money as decimal strings."""
        return {
            "fiscal_year": self.fiscal_year,
            "buckets": [bucket.to_dict() for bucket in self.buckets],
            "total_principal": money_str(self.total_principal),
            "total_interest": money_str(self.total_interest),
            "total": money_str(self.total_principal + self.total_interest),
        }


def _bucket_index(years_after: int) -> int:
    """0..4 for the five single years, then one index per five-year bucket."""
    if years_after <= SINGLE_YEARS:
        return years_after - 1
    return SINGLE_YEARS + (years_after - SINGLE_YEARS - 1) // BUCKET_YEARS


def _bucket_years(index: int, fiscal_year: int) -> tuple[int, int]:
    if index < SINGLE_YEARS:
        year = fiscal_year + index + 1
        return year, year
    first = fiscal_year + SINGLE_YEARS + (index - SINGLE_YEARS) * BUCKET_YEARS + 1
    return first, first + BUCKET_YEARS - 1


def maturity_table(
    source: Source,
    fiscal_year: int,
    fiscal_year_start_month: int = DEFAULT_FISCAL_YEAR_START_MONTH,
) -> MaturityTable:
    """Principal and interest due after the end of ``fiscal_year``.

    Always lists the five single years (zero when nothing is due) and as many
    five-year buckets as the remaining payments need.  For a modified lease
    (a ``LeaseModification`` or a ``LeaseHistory``) the schedule in force at the
    fiscal year end is used - the original one for a year ending before the
    first modification - because the notes report what was owed at that date;
    a lease that commences after the fiscal year end shows zeros.
    """
    _, year_end = fiscal_year_bounds(fiscal_year, fiscal_year_start_month)
    schedule = _schedule_in_force(source, year_end)
    principal: dict[int, Decimal] = {}
    interest: dict[int, Decimal] = {}
    # A lease that has not commenced by the reporting date is not yet a
    # liability or receivable, so it has nothing to mature.
    commenced = schedule.terms.commencement_date <= year_end
    for row in schedule.rows:
        if row.date <= year_end or not commenced:
            continue
        years_after = fiscal_year_of(row.date, fiscal_year_start_month) - fiscal_year
        index = _bucket_index(years_after)
        principal[index] = principal.get(index, ZERO) + row.principal
        interest[index] = interest.get(index, ZERO) + row.interest
    return maturity_table_of(fiscal_year, principal, interest)


def combined_maturity_table(tables: Iterable[MaturityTable], fiscal_year: int) -> MaturityTable:
    """The bucket-by-bucket sum of several leases' tables for ``fiscal_year``: a group's
    maturity in the notes, the five single years listed even when there is no lease."""
    principal: dict[int, Decimal] = {}
    interest: dict[int, Decimal] = {}
    for table in tables:
        if table.fiscal_year != fiscal_year:
            raise ValueError(f"a table of FY{table.fiscal_year} cannot join FY{fiscal_year}'s")
        for index, bucket in enumerate(table.buckets):
            principal[index] = principal.get(index, ZERO) + bucket.principal
            interest[index] = interest.get(index, ZERO) + bucket.interest
    return maturity_table_of(fiscal_year, principal, interest)


def maturity_table_of(
    fiscal_year: int, principal: Mapping[int, Decimal], interest: Mapping[int, Decimal]
) -> MaturityTable:
    """The table of the amounts due by bucket index (`_bucket_index`), every single year
    listed: from one lease's rows, several tables' buckets, or stored rows summed in SQL."""
    count = max([SINGLE_YEARS - 1, *principal.keys()]) + 1
    buckets = []
    for index in range(count):
        first, last = _bucket_years(index, fiscal_year)
        buckets.append(
            MaturityBucket(
                label=str(first) if first == last else f"{first}-{last}",
                first_fiscal_year=first,
                last_fiscal_year=last,
                principal=principal.get(index, ZERO),
                interest=interest.get(index, ZERO),
            )
        )
    return MaturityTable(fiscal_year=fiscal_year, buckets=tuple(buckets))


def _schedule_in_force(source: Source, year_end: date) -> LeaseSchedule:
    if isinstance(source, LeaseSchedule):
        return source
    return source.history.in_force(year_end)
