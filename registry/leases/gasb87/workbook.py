"""The GASB 87 report as an XLSX workbook: Summary, Leases, Maturity, Not measured and
Definitions sheets.

Money cells are numbers written from the report's `Decimal`s (never re-added in the workbook or
as floats first) with the format `#,##0.00`, so the sheet shows exactly what the report computed
and finance can still sum and pivot.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.styles import Alignment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from registry.leases.gasb87.columns import CSV_COLUMNS
from registry.leases.gasb87.columns import DESCRIPTIVE_COLUMNS
from registry.leases.gasb87.columns import MONEY_COLUMNS
from registry.leases.gasb87.columns import descriptive_values
from registry.leases.gasb87.report import ALL_FUNDS
from registry.leases.gasb87.report import DIRECTION_LABELS
from registry.leases.gasb87.report import FUND_LABELS
from registry.leases.gasb87.report import Gasb87Report
from registry.vocabulary import FUND_TYPES
from registry.vocabulary import LEASE_DIRECTIONS

MONEY_FORMAT = "#,##0.00"
RATE_FORMAT = "0.00##%"
DATE_FORMAT = "yyyy-mm-dd"
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
SHEETS = ("Summary", "Leases", "Maturity", "Not measured", "Definitions")
_FUNDS = (*FUND_TYPES, ALL_FUNDS)


def gasb87_workbook(report: Gasb87Report) -> bytes:
    """The workbook as XLSX bytes."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = SHEETS[0]
    _summary_sheet(summary, report)
    _leases_sheet(book.create_sheet(SHEETS[1]), report)
    _maturity_sheet(book.create_sheet(SHEETS[2]), report)
    _not_measured_sheet(book.create_sheet(SHEETS[3]), report)
    _definitions_sheet(book.create_sheet(SHEETS[4]), report)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _title(sheet: Worksheet, report: Gasb87Report, what: str) -> None:
    sheet.append([f"GASB 87 {what}, fiscal year {report.fiscal_year}"])
    sheet.cell(sheet.max_row, 1).font = TITLE
    sheet.append([f"{report.start.isoformat()} to {report.end.isoformat()}"])
    sheet.append([])


def _append(
    sheet: Worksheet,
    values: Sequence[Any],
    bold: bool = False,
    formats: Mapping[int, str] | None = None,
) -> None:
    """Append a row, formatting each cell by its Python type or by `formats` (a 1-based
    column's own number format).

    The cells are made before they are appended: reading `sheet.max_row` to find them after
    counts every cell of the sheet, which made a sheet of 5,000 leases take two minutes."""
    cells = []
    for column, value in enumerate(values, start=1):
        cell = Cell(sheet, value=_cell_value(value))
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # text such as "=HYPERLINK(…)" stays text, never a formula
        elif formats and column in formats:
            cell.number_format = formats[column]
        elif isinstance(value, Decimal):
            cell.number_format = MONEY_FORMAT
        elif isinstance(value, dt.date):
            cell.number_format = DATE_FORMAT
        if bold:
            cell.font = BOLD
        cells.append(cell)
    sheet.append(cells)


def _cell_value(value: Any) -> Any:
    return "" if value is None else value


def _header(sheet: Worksheet, names: Iterable[str]) -> None:
    _append(sheet, list(names), bold=True)
    for cell in sheet[sheet.max_row]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _summary_sheet(sheet: Worksheet, report: Gasb87Report) -> None:
    _title(sheet, report, "lease summary")
    for direction in LEASE_DIRECTIONS:
        _append(sheet, [DIRECTION_LABELS[direction]], bold=True)
        _header(sheet, ["Measure", *(FUND_LABELS[fund] for fund in _FUNDS)])
        groups = [report.group(direction, fund) for fund in _FUNDS]
        _append(sheet, ["Leases", *(group.lease_count for group in groups)])
        _append(
            sheet,
            [
                "Not measured (left out, see that sheet)",
                *(
                    sum(
                        1
                        for lease in report.not_measured
                        if lease.direction == direction and fund in (ALL_FUNDS, lease.fund_type)
                    )
                    for fund in _FUNDS
                ),
            ],
        )
        for column in MONEY_COLUMNS:
            if column.direction not in (None, direction):
                continue
            _append(
                sheet,
                [column.label, *(column.value(direction, group.amounts) for group in groups)],
            )
        sheet.append([])
    _widths(sheet, [44, 18, 18, 18])


def _leases_sheet(sheet: Worksheet, report: Gasb87Report) -> None:
    # row_type and fiscal_year say nothing on a sheet of leases, lease_count only on totals
    shown = [
        i
        for i, name in enumerate(CSV_COLUMNS)
        if name not in ("row_type", "fiscal_year", "lease_count", "missing")
    ]
    names = [CSV_COLUMNS[i] for i in shown]
    _header(sheet, names)
    rate_column = names.index("discount_rate") + 1
    for lease in report.leases:
        values = descriptive_values(report, lease)
        values += [column.value(lease.direction, lease.amounts) for column in MONEY_COLUMNS]
        _append(sheet, [values[i] for i in shown], formats={rate_column: RATE_FORMAT})
    sheet.freeze_panes = "B2"
    if report.leases:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(names))}{sheet.max_row}"
    _widths(sheet, [16, 30, 9, 14, 12, 12, 12, 12, 10, 12] + [16] * len(MONEY_COLUMNS))


def _maturity_sheet(sheet: Worksheet, report: Gasb87Report) -> None:
    """One block per direction, the notes' layout: fiscal years down, fund types across."""
    _title(sheet, report, "maturity of lease liabilities and receivables")
    for direction in LEASE_DIRECTIONS:
        lines = [line for line in report.maturity if line.direction == direction]
        years = sorted({(line.first_fiscal_year, line.label) for line in lines})
        amounts = {(line.fund_type, line.first_fiscal_year): line for line in lines}
        what = "lease liability" if direction == "in" else "lease receivable"
        _append(sheet, [f"{DIRECTION_LABELS[direction]}: {what} by fiscal year due"], bold=True)
        header = ["Fiscal year(s)"]
        for fund in _FUNDS:
            header += [f"{FUND_LABELS[fund]} principal", f"{FUND_LABELS[fund]} interest"]
        _header(sheet, [*header, "Total payments"])
        totals = [Decimal("0.00")] * (2 * len(_FUNDS) + 1)
        for first, label in years:
            row: list[Decimal] = []
            for fund in _FUNDS:
                line = amounts.get((fund, first))
                row += [line.principal, line.interest] if line else [Decimal("0.00")] * 2
            row.append(row[-2] + row[-1])
            totals = [total + value for total, value in zip(totals, row, strict=True)]
            _append(sheet, [label, *row])
        _append(sheet, ["Total", *totals], bold=True)
        sheet.append([])
    _widths(sheet, [16] + [18] * (2 * len(_FUNDS) + 1))


def _not_measured_sheet(sheet: Worksheet, report: Gasb87Report) -> None:
    """The leases recorded without every term GASB 87 needs: in no figure, each named with
    what it lacks."""
    _title(sheet, report, "leases not measured")
    count = len(report.not_measured)
    _append(
        sheet,
        [
            f"Not measured: {count} lease{'' if count == 1 else 's'}, left out of "
            "every figure until their terms are recorded"
        ],
        bold=True,
    )
    _header(
        sheet,
        [
            "lease_number",
            "counterparty",
            "direction",
            "fund_type",
            "portfolio",
            "department",
            "commencement_date",
            "end_date",
            "missing",
        ],
    )
    for lease in report.not_measured:
        _append(
            sheet,
            [
                lease.lease_number,
                lease.counterparty or "",
                lease.direction,
                lease.fund_type,
                lease.portfolio,
                lease.department_code or "",
                lease.commencement_date,
                lease.end_date,
                ", ".join(lease.missing),
            ],
        )
    _widths(sheet, [16, 30, 9, 14, 12, 12, 14, 14, 60])


def _definitions_sheet(sheet: Worksheet, report: Gasb87Report) -> None:
    _header(sheet, ["Term", "Definition"])
    for name, definition in DESCRIPTIVE_COLUMNS:
        _append(sheet, [name, definition])
    for column in MONEY_COLUMNS:
        _append(sheet, [column.name, f"{column.label}. {column.definition}"])
    sheet.append([])
    _append(sheet, ["Notes"], bold=True)
    month = dt.date(2000, report.fiscal_year_start_month, 1).strftime("%B")
    notes = [
        ("Fiscal year", f"FY{report.fiscal_year}: {report.start.isoformat()} to "
                        f"{report.end.isoformat()} (years start in {month})."),
        ("Source", "Every figure is computed by the registry's GASB Statement No. 87 engine "
                   "from each lease's terms; totals are exact sums of the lease rows."),
        ("Rounding", "Interest is rounded half up to the cent per payment; a year-end inside a "
                     "payment period pro-rates that period's interest and straight-line amount "
                     "by days."),
        ("Leases included", "Leases commenced by the year end with a balance or activity in "
                            "the year; leases commencing later are not yet recognized."),
        ("Short-term leases", "Maximum possible term of 12 months or less, options included: "
                              "no liability or receivable, payments are expense or revenue."),
        ("Modifications", "A modified lease is remeasured from the modification date; figures "
                          "before it are not restated."),
        ("Maturity", "Principal and interest due in each of the five fiscal years after the "
                     "reported year, then in five-year buckets; principal totals the balance."),
        ("Current portion", "Principal due in the first of those years."),
        ("Not measured", "Leases recorded without every term GASB 87 needs (commencement, end, "
                         "payments, a discount rate) are in no figure; the Not measured sheet "
                         f"names them ({len(report.not_measured)} for this year)."),
    ]  # fmt: skip
    for term, text in notes:
        _append(sheet, [term, text])
    _widths(sheet, [28, 110])
    for row in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")


def _widths(sheet: Worksheet, widths: Sequence[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
