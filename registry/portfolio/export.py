"""Finance's portfolio summary as files: XLSX (parcels, buildings, leases, costs by fiscal year,
summaries by department, council district and asset type), CSV (the parcels sheet), and the
parcels with their attributes as GeoPackage or GeoJSON for GIS.

The tables come from `registry.portfolio.queries` (set-based SQL). The GIS files are written
through pyogrio's Arrow path: PostGIS returns each shape as WKB and the attributes go column by
column into an Arrow table, so no Python geometry object is made per parcel. GIS formats have no
exact decimal type, so money and areas are written there as doubles; the XLSX and CSV keep the
database's exact decimals (XLSX as numbers, CSV as decimal strings).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyogrio
from sqlalchemy.orm import Session

from registry.cells import spreadsheet_safe
from registry.fiscal_years import fiscal_year_of
from registry.portfolio.queries import Table
from registry.portfolio.queries import parcels_table
from registry.portfolio.queries import portfolio_tables
from registry.xlsx_stream import SheetData
from registry.xlsx_stream import xlsx_bytes

PORTFOLIO_FORMATS = ("xlsx", "csv", "gpkg", "geojson")
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "gpkg": "application/geopackage+sqlite3",
    "geojson": "application/geo+json",
}
_DRIVERS = {"gpkg": "GPKG", "geojson": "GeoJSON"}
MONEY_FORMAT = "#,##0.00"
AREA_FORMAT = "#,##0.0"
_MONEY_WORDS = (
    "cost",
    "revenue",
    "value",
    "proceeds",
    "needs",
    "rent",
    *("operations", "maintenance", "utilities", "security", "janitorial", "capital", "total"),
)


def portfolio_export(
    session: Session, export_format: str, as_of: dt.date, start_month: int = 7
) -> bytes:
    """The portfolio summary in `export_format` (one of PORTFOLIO_FORMATS) as bytes, for a file
    or an HTTP response alike."""
    if export_format == "xlsx":
        return portfolio_workbook(
            portfolio_tables(session, as_of, start_month), as_of, fiscal_year_of(as_of, start_month)
        )
    if export_format == "csv":
        return table_csv(parcels_table(session, as_of, start_month)).encode()
    if export_format in _DRIVERS:
        return parcels_gis(parcels_table(session, as_of, start_month, geometry=True), export_format)
    raise ValueError(f"unknown portfolio export format {export_format!r}")


def portfolio_workbook(tables: Sequence[Table], as_of: dt.date, fiscal_year: int) -> bytes:
    """One sheet per table, header in row 1 (each sheet reads back as a table), then `About`.
    Streamed by `registry.xlsx_stream`: a 100,000-parcel sheet is two million cells."""
    sheets = [
        SheetData(
            table.name,
            table.rows,
            header=table.columns,
            number_formats=[_number_format(name) for name in table.columns],
            widths=[_width(name) for name in table.columns],
            freeze_header=True,
        )
        for table in tables
    ]
    about = _about(as_of, fiscal_year, _not_measured(tables))
    return xlsx_bytes([*sheets, SheetData("About", about)])


def _not_measured(tables: Sequence[Table]) -> list[str]:
    """Lease numbers of the leases sheet's leases not measured."""
    leases = next((table for table in tables if table.name == "leases"), None)
    if leases is None:
        return []
    number, measured = leases.columns.index("lease_number"), leases.columns.index("measured")
    return [row[number] for row in leases.rows if not row[measured]]


def _about(as_of: dt.date, fiscal_year: int, not_measured: Sequence[str]) -> list[tuple[str, str]]:
    shown = ", ".join(not_measured[:10]) + (", …" if len(not_measured) > 10 else "")
    return [
        ("As of", as_of.isoformat()),
        ("Fiscal year", f"FY{fiscal_year} (om_cost columns; the costs sheet has every year)"),
        (
            "Parcels",
            "in the registry at the as-of date (not retired by then); land area from "
            "the geometry, geodesic, in sq ft",
        ),
        (
            "Leases",
            "every lease; end_date as signed, current_end_date after recorded "
            "modifications; payment_frequency, in_force and annual_rent at the as-of date "
            "(modifications and terminations followed; annual_rent only for leases in "
            "force: the rate of the payment period holding the date × payments per year, "
            "a free period counting at its rate)",
        ),
        (
            "Summaries",
            "parcels by their department, council district and asset type; buildings "
            "by their own asset type; leases by their own department; lease_cost: "
            "annual rent of leases in, lease_revenue: of leases out, in force",
        ),
        (
            "Not measured",
            f"{len(not_measured)} leases recorded without every term GASB 87 needs "
            "(measured false in the leases sheet, with what they lack in missing): "
            "no annual rent, left out of the summaries" + (f" ({shown})" if not_measured else ""),
        ),
        ("(none)", "records without that department, district or asset type"),
    ]


def _number_format(name: str) -> str | None:
    if name.endswith("sq_ft") or name.endswith("sq_ft_occupied"):
        return AREA_FORMAT
    if any(word in name for word in _MONEY_WORDS):
        return MONEY_FORMAT
    return None


def _width(name: str) -> int:
    return 30 if name in ("address", "counterparty", "department", "premises") else 15


def table_csv(table: Table) -> str:
    """Header plus rows; decimals exact, dates ISO, text defused against formula injection."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(_csv_cell(value) for value in row)
    return buffer.getvalue()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return str(value)


def parcels_gis(table: Table, export_format: str) -> bytes:
    """The parcels (with `geometry_wkb`, WGS 84) as a GeoPackage or GeoJSON file's bytes."""
    columns = list(table.columns)
    geometry_index = columns.index("geometry_wkb")
    arrays: dict[str, pa.Array] = {}
    for index, name in enumerate(columns):
        values = [row[index] for row in table.rows]
        if index == geometry_index:
            arrays["geometry"] = pa.array(
                [bytes(value) if value is not None else None for value in values], pa.binary()
            )
        else:
            arrays[name] = _arrow_column(values)
    data = pa.table(arrays)
    buffer = io.BytesIO()
    pyogrio.write_arrow(
        data,
        buffer,
        layer="parcels",
        driver=_DRIVERS[export_format],
        geometry_name="geometry",
        geometry_type="MultiPolygon",
        crs="EPSG:4326",
    )
    return buffer.getvalue()


def _arrow_column(values: list[Any]) -> pa.Array:
    """An Arrow column typed by its values: decimals as doubles (see the module note), dates as
    dates, text as text; an all-empty column as text."""
    sample = next((value for value in values if value is not None), None)
    if isinstance(sample, Decimal):
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    if isinstance(sample, bool):
        return pa.array(values, pa.bool_())
    if isinstance(sample, int):
        return pa.array(values, pa.int64())
    if isinstance(sample, dt.date):
        return pa.array(values, pa.date32())
    return pa.array([None if v is None else str(v) for v in values], pa.string())
