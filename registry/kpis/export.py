"""The reform KPI set as files for finance and auditors (CSV, XLSX, JSON): the `compute_kpis`
rows written out (snapshots for the trend charts are `registry.kpis.snapshots`).

Every format carries exactly the KPI set's columns (`EXPORT_COLUMNS`), one row per KPI ×
breakdown value, in `compute_kpis` order, so the three files and the dashboard agree row for row.
Numbers are never passed through floats: CSV and JSON write the engine's `Decimal`s as exact
decimal strings, XLSX writes them as numeric cells (openpyxl stores a `Decimal` as written) so
finance can still sum and pivot. A KPI without data keeps an empty value and its reason in
`note`, never 0, which is why `None` becomes an empty cell or JSON `null`, not a number.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from registry.cells import spreadsheet_safe
from registry.kpis import EXPORT_COLUMNS
from registry.kpis import KPI_DEFINITIONS
from registry.kpis import KPI_SET_VERSION
from registry.kpis import KpiValue

KPI_EXPORT_FORMATS = ("csv", "xlsx", "json")
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
DEFINITION_COLUMNS = ("id", "name", "definition", "unit", "better")
SHEETS = ("KPIs", "Definitions")
NUMBER_COLUMNS = frozenset({"value", "numerator", "denominator", "target"})
NUMBER_FORMAT = "#,##0.00##"
BOLD = Font(bold=True)


def decimal_text(value: Decimal) -> str:
    """A Decimal as plain positional text (`1E+2` would read as a float to many tools)."""
    return format(value, "f")


def kpi_export(values: Sequence[KpiValue], export_format: str) -> bytes:
    """The KPI values in `export_format` (one of KPI_EXPORT_FORMATS) as bytes for a file or a
    response, so the CLI and the web endpoint cannot drift apart."""
    if export_format == "csv":
        return kpi_csv(values).encode()
    if export_format == "xlsx":
        return kpi_workbook(values)
    if export_format == "json":
        return kpi_json(values).encode()
    raise ValueError(f"unknown KPI export format {export_format!r}")


def kpi_csv(values: Sequence[KpiValue]) -> str:
    """Header plus one line per value; text defused against formula injection."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for value in values:
        writer.writerow(_csv_cell(cell) for cell in _cells(value))
    return buffer.getvalue()


def _cells(value: KpiValue) -> list[Any]:
    return [getattr(value, name) for name in EXPORT_COLUMNS]


def _csv_cell(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Decimal):
        return decimal_text(cell)
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return spreadsheet_safe(str(cell))


def kpi_json(values: Sequence[KpiValue]) -> str:
    """`{"metadata": {...definitions...}, "columns": [...], "rows": [{column: value}]}`; numbers
    as exact decimal strings (JSON numbers are doubles in most readers), no data as null."""
    first = values[0] if values else None  # one export is one period and as-of date
    document = {
        "metadata": {
            "kpi_set_version": KPI_SET_VERSION,
            "period": first.period if first else None,
            "as_of": first.as_of.isoformat() if first else None,
            "columns": list(EXPORT_COLUMNS),
            "definitions": [asdict(definition) for definition in KPI_DEFINITIONS],
            "notes": _NOTES,
        },
        "rows": [
            {
                name: _json_cell(cell)
                for name, cell in zip(EXPORT_COLUMNS, _cells(value), strict=True)
            }
            for value in values
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def _json_cell(cell: Any) -> Any:
    if isinstance(cell, Decimal):
        return decimal_text(cell)
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return cell


_NOTES = (
    "Numbers are exact decimal strings. An empty value (null) means the KPI has no data for "
    "that breakdown (denominator 0 or no records); the reason is in note. Each row carries its "
    "numerator and denominator so it can be recomputed."
)


def kpi_workbook(values: Sequence[KpiValue]) -> bytes:
    """Sheet `KPIs` (the export columns from row 1, so it reads back as a table) and sheet
    `Definitions` (exactly KPI_DEFINITIONS, in the KPI set's order)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEETS[0]
    _header(sheet, EXPORT_COLUMNS)
    for value in values:
        sheet.append(_cells(value))  # None: an empty cell, never 0
        _format_row(sheet)
    sheet.freeze_panes = "A2"
    if values:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(EXPORT_COLUMNS))}{sheet.max_row}"
    _widths(sheet, [9, 30, 9, 11, 16, 18, 14, 12, 16, 16, 10, 11, 60])
    definitions = book.create_sheet(SHEETS[1])
    _header(definitions, DEFINITION_COLUMNS)
    for definition in KPI_DEFINITIONS:
        definitions.append([getattr(definition, name) for name in DEFINITION_COLUMNS])
    for row in definitions.iter_rows(min_row=2, min_col=3, max_col=3):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    _widths(definitions, [9, 30, 100, 14, 9])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _format_row(sheet: Worksheet) -> None:
    row = sheet.max_row
    for column, name in enumerate(EXPORT_COLUMNS, start=1):
        cell = sheet.cell(row, column)
        if name in NUMBER_COLUMNS:
            cell.number_format = NUMBER_FORMAT
        elif name == "as_of":
            cell.number_format = "yyyy-mm-dd"
        elif isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"  # text such as "=HYPERLINK(…)" stays text, never a formula


def _header(sheet: Worksheet, names: Sequence[str]) -> None:
    sheet.append(list(names))
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD


def _widths(sheet: Worksheet, widths: Sequence[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
