"""The GASB 87 report's columns, shared by the CSV and the workbook, and the CSV itself.

Lessee and lessor figures have columns of their own (a lessee row leaves the lessor columns
blank), so summing a column in a spreadsheet never mixes a liability with a receivable.
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
from registry.leases.gasb87.report import Gasb87Report, GroupTotals, LeaseYear, YearAmounts


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


MONEY_COLUMNS: tuple[MoneyColumn, ...] = (
    MoneyColumn("lease_liability", "closing_balance", "in",
                "Lease liability",
                "Lessee: lease liability at the fiscal year end (present value of the "
                "remaining payments)."),
    MoneyColumn("lease_liability_current", "current_portion", "in",
                "Lease liability, due within one year",
                "Lessee: principal of the liability due in the next fiscal year."),
    MoneyColumn("lease_liability_noncurrent", "noncurrent_portion", "in",
                "Lease liability, due after one year",
                "Lessee: the liability less its current portion."),
    MoneyColumn("right_of_use_asset_net", "carrying", "in",
                "Right-to-use asset, net of amortization",
                "Lessee: right-to-use asset less accumulated amortization at the year end."),
    MoneyColumn("amortization_expense", "recognized", "in",
                "Amortization expense",
                "Lessee: straight-line amortization of the right-to-use asset in the year."),
    MoneyColumn("interest_expense", "interest", "in",
                "Interest expense",
                "Lessee: interest on the liability accrued in the year."),
    MoneyColumn("short_term_lease_expense", "short_term_payments", "in",
                "Short-term lease expense",
                "Lessee: payments due in the year on short-term leases (no liability)."),
    MoneyColumn("lease_receivable", "closing_balance", "out",
                "Lease receivable",
                "Lessor: lease receivable at the fiscal year end."),
    MoneyColumn("lease_receivable_current", "current_portion", "out",
                "Lease receivable, due within one year",
                "Lessor: principal of the receivable due in the next fiscal year."),
    MoneyColumn("lease_receivable_noncurrent", "noncurrent_portion", "out",
                "Lease receivable, due after one year",
                "Lessor: the receivable less its current portion."),
    MoneyColumn("deferred_inflow", "carrying", "out",
                "Deferred inflow of resources",
                "Lessor: deferred inflow of resources at the year end."),
    MoneyColumn("lease_revenue", "recognized", "out",
                "Lease revenue",
                "Lessor: deferred inflow recognized as lease revenue (straight-line) in the year."),
    MoneyColumn("interest_revenue", "interest", "out",
                "Interest revenue",
                "Lessor: interest on the receivable accrued in the year."),
    MoneyColumn("short_term_lease_revenue", "short_term_payments", "out",
                "Short-term lease revenue",
                "Lessor: payments due in the year on short-term leases (no receivable)."),
    MoneyColumn("opening_balance", "opening_balance", None,
                "Balance at the start of the year",
                "Liability (lessee) or receivable (lessor) at the start of the year."),
    MoneyColumn("payments", "payments", None,
                "Lease payments due in the year",
                "Lease payments due in the year (non-lease components excluded)."),
    MoneyColumn("principal", "principal", None,
                "Principal of those payments",
                "Part of those payments that reduced the liability or receivable."),
    MoneyColumn("accrued_interest", "accrued_interest", None,
                "Accrued interest at the year end",
                "Interest accrued since the last payment and not yet due, at the year end "
                "(interest payable for a lessee, receivable for a lessor)."),
)  # fmt: skip

DESCRIPTIVE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("row_type", "'lease' for a lease, 'total' for a sum over a direction and fund type."),
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
)
CSV_COLUMNS = tuple(name for name, _ in DESCRIPTIVE_COLUMNS) + tuple(c.name for c in MONEY_COLUMNS)


def descriptive_values(report: Gasb87Report, row: LeaseYear | GroupTotals) -> list[Any]:
    """The descriptive cells of a lease or totals row, in `DESCRIPTIVE_COLUMNS` order."""
    if isinstance(row, GroupTotals):
        return ["total", report.fiscal_year, "", "", row.direction, row.fund_type, "", "", None,
                None, None, None, row.lease_count]
    return ["lease", report.fiscal_year, row.lease_number, row.counterparty, row.direction,
            row.fund_type, row.portfolio or "", row.department or "", row.commencement_date,
            row.end_date, row.short_term, row.discount_rate, None]


def report_rows(report: Gasb87Report) -> Iterable[LeaseYear | GroupTotals]:
    """Leases first, then every direction and fund type total: the CSV's and the sheet's rows."""
    yield from report.leases
    yield from report.totals


def gasb87_csv(report: Gasb87Report) -> str:
    """Per-lease rows, then the totals rows, one header; money as two-place decimal strings."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in report_rows(report):
        values = [*descriptive_values(report, row)]
        values += [column.value(row.direction, row.amounts) for column in MONEY_COLUMNS]
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
