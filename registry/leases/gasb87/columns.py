"""The GASB 87 report's columns, shared by the CSV and the workbook, and the CSV itself.

Lessee and lessor figures have columns of their own (a lessee row leaves the lessor columns
blank), so summing a column in a spreadsheet never mixes a liability with a receivable. A lease
recorded incomplete is a `not_measured` row after the totals: named, with what it lacks, and no
figures.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from registry.cells import spreadsheet_safe
from registry.fields import decimal_str
from registry.leases.gasb87.report import Gasb87Report
from registry.leases.gasb87.report import GroupTotals
from registry.leases.gasb87.report import LeaseYear
from registry.leases.gasb87.report import YearAmounts
from registry.leases.queries import UnmeasuredLease


@dataclass(frozen=True)
class MoneyColumn:
    """A money column: `field` of the amounts, shown only for `direction` (None: both)."""

    name: str
    field: str
    direction: str | None
    label: str
    definition: str

    def value(self, direction: str, amounts: YearAmounts) -> Decimal | None:
        if self.direction is not None and self.direction != direction:
            return None
        value: Decimal = getattr(amounts, self.field)
        return value


#: The figures each direction shows in a column of its own: the field of `YearAmounts`, then the
#: lessee's column and the lessor's as (name, label, definition), the definition without its
#: "Lessee: " / "Lessor: ". Twinned so that the two directions always report the same figures.
_TWINNED: tuple[tuple[str, tuple[str, str, str], tuple[str, str, str]], ...] = (
    ("closing_balance",
     ("lease_liability", "Lease liability",
      "lease liability at the fiscal year end (present value of the remaining payments)."),
     ("lease_receivable", "Lease receivable", "lease receivable at the fiscal year end.")),
    ("current_portion",
     ("lease_liability_current", "Lease liability, due within one year",
      "principal of the liability due in the next fiscal year."),
     ("lease_receivable_current", "Lease receivable, due within one year",
      "principal of the receivable due in the next fiscal year.")),
    ("noncurrent_portion",
     ("lease_liability_noncurrent", "Lease liability, due after one year",
      "the liability less its current portion."),
     ("lease_receivable_noncurrent", "Lease receivable, due after one year",
      "the receivable less its current portion.")),
    ("carrying",
     ("right_of_use_asset_net", "Right-to-use asset, net of amortization",
      "right-to-use asset less accumulated amortization at the year end."),
     ("deferred_inflow", "Deferred inflow of resources",
      "deferred inflow of resources at the year end.")),
    ("recognized",
     ("amortization_expense", "Amortization expense",
      "straight-line amortization of the right-to-use asset in the year."),
     ("lease_revenue", "Lease revenue",
      "deferred inflow recognized as lease revenue (straight-line) in the year.")),
    ("interest",
     ("interest_expense", "Interest expense", "interest on the liability accrued in the year."),
     ("interest_revenue", "Interest revenue", "interest on the receivable accrued in the year.")),
    ("short_term_payments",
     ("short_term_lease_expense", "Short-term lease expense",
      "payments due in the year on short-term leases (no liability)."),
     ("short_term_lease_revenue", "Short-term lease revenue",
      "payments due in the year on short-term leases (no receivable).")),
)  # fmt: skip
#: The figures one column shows for both directions: (field and name, label, definition).
_SHARED: tuple[tuple[str, str, str], ...] = (
    ("opening_balance", "Balance at the start of the year",
     "Liability (lessee) or receivable (lessor) at the start of the year."),
    ("payments", "Lease payments due in the year",
     "Lease payments due in the year (non-lease components excluded)."),
    ("principal", "Principal of those payments",
     "Part of those payments that reduced the liability or receivable."),
    ("accrued_interest", "Accrued interest at the year end",
     "Interest accrued since the last payment and not yet due, at the year end "
     "(interest payable for a lessee, receivable for a lessor)."),
)  # fmt: skip
MONEY_COLUMNS: tuple[MoneyColumn, ...] = (
    *(
        MoneyColumn(name, field, "in", label, f"Lessee: {definition}")
        for field, (name, label, definition), _ in _TWINNED
    ),
    *(
        MoneyColumn(name, field, "out", label, f"Lessor: {definition}")
        for field, _, (name, label, definition) in _TWINNED
    ),
    *(MoneyColumn(name, name, None, label, definition) for name, label, definition in _SHARED),
)

DESCRIPTIVE_COLUMNS: tuple[tuple[str, str], ...] = (
    (
        "row_type",
        "'lease' for a lease, 'total' for a sum over a direction and fund type, "
        "'not_measured' for a lease recorded without every term GASB 87 needs (left "
        "out of every figure).",
    ),
    ("fiscal_year", "The fiscal year reported, named by the calendar year it ends in."),
    ("lease_number", "The lease (blank on totals)."),
    ("counterparty", "The lessor (city as lessee) or lessee (city as lessor)."),
    ("direction", "'in': the city is lessee; 'out': the city is lessor."),
    ("fund_type", "'governmental' or 'business_type' ('all' on a direction's total)."),
    ("portfolio", "payable, receivable or non_profit."),
    ("department", "Code of the responsible department."),
    ("commencement_date", "When the lease commenced."),
    ("end_date", "Last day of the lease term in force at the year end."),
    ("short_term", "Maximum possible term of 12 months or less: no liability or receivable."),
    ("discount_rate", "Annual discount rate of the measurement in force at the year end."),
    ("lease_count", "Number of leases summed (totals only)."),
    ("missing", "The terms a not_measured lease lacks (not_measured rows only)."),
)
CSV_COLUMNS = tuple(name for name, _ in DESCRIPTIVE_COLUMNS) + tuple(c.name for c in MONEY_COLUMNS)


Row = LeaseYear | GroupTotals | UnmeasuredLease


def descriptive_values(report: Gasb87Report, row: Row) -> list[Any]:
    """The descriptive cells of a lease, totals or not-measured row, in `DESCRIPTIVE_COLUMNS`
    order."""
    if isinstance(row, GroupTotals):
        return [
            "total",
            report.fiscal_year,
            "",
            "",
            row.direction,
            row.fund_type,
            "",
            "",
            None,
            None,
            None,
            None,
            row.lease_count,
            "",
        ]
    if isinstance(row, UnmeasuredLease):
        return [
            "not_measured",
            report.fiscal_year,
            row.lease_number,
            row.counterparty or "",
            row.direction,
            row.fund_type,
            row.portfolio,
            row.department_code or "",
            row.commencement_date,
            row.end_date,
            None,
            None,
            None,
            ", ".join(row.missing),
        ]
    return [
        "lease",
        report.fiscal_year,
        row.lease_number,
        row.counterparty,
        row.direction,
        row.fund_type,
        row.portfolio or "",
        row.department or "",
        row.commencement_date,
        row.end_date,
        row.short_term,
        row.discount_rate,
        None,
        "",
    ]


def money_values(row: Row) -> list[Decimal | None]:
    """The money cells of a row, in `MONEY_COLUMNS` order (none for a lease not measured)."""
    if isinstance(row, UnmeasuredLease):
        return [None] * len(MONEY_COLUMNS)
    return [column.value(row.direction, row.amounts) for column in MONEY_COLUMNS]


def report_rows(report: Gasb87Report) -> Iterable[Row]:
    """Leases first, then every direction and fund type total, then the leases not measured:
    the CSV's rows."""
    yield from report.leases
    yield from report.totals
    yield from report.not_measured


def gasb87_csv(report: Gasb87Report) -> str:
    """Per-lease rows, then the totals rows, one header; money as two-place decimal strings."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in report_rows(report):
        values = [*descriptive_values(report, row), *money_values(row)]
        cells = zip(values, CSV_COLUMNS, strict=True)
        writer.writerow(_csv_cell(value, name) for value, name in cells)
    return buffer.getvalue()


def _csv_cell(value: Any, name: str) -> str:
    if value is None:
        return ""
    if name == "discount_rate":
        return decimal_str(value) or ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return str(value)
