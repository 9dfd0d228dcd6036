"""The parcel table's export: the parcels a `ParcelFilter` selects (a selection is the filter's
`ids`), every table column, as CSV, XLSX, GeoJSON or GeoPackage, written by the portfolio
export's own writers (formula-safe CSV, streamed XLSX, GIS files through pyogrio's Arrow path).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.parcels.filters import ParcelFilter
from registry.parcels.table import COLUMNS
from registry.parcels.table import FROM_SQL
from registry.portfolio.export import parcels_gis
from registry.portfolio.export import table_csv
from registry.portfolio.queries import Table
from registry.xlsx_stream import SheetData
from registry.xlsx_stream import xlsx_bytes

SELECTION_FORMATS = ("csv", "xlsx", "geojson", "gpkg")
_EXPORTED = {key: expression for key, (_, expression, _) in COLUMNS.items()}
_EXPORTED["area"] = _EXPORTED["area"].replace("round(", "round(0.0 + ")  # m², numeric
_EXPORTED["area_sq_m"] = _EXPORTED.pop("area")


def selection_table(session: Session, flt: ParcelFilter, geometry: bool = False) -> Table:
    """The selected parcels in parcel-id order; with `geometry_wkb` (WGS 84) for GIS files."""
    where, params = flt.where()
    columns = ", ".join(f"{expression} AS {key}" for key, expression in _EXPORTED.items())
    if geometry:
        columns += ", ST_AsBinary(ST_Transform(p.geom, 4326)) AS geometry_wkb"
    result = session.execute(
        text(f"SELECT {columns} FROM {FROM_SQL} WHERE {where} ORDER BY p.parcel_id"), params
    )
    return Table("parcels", tuple(result.keys()), [tuple(row) for row in result])


def selection_export(session: Session, flt: ParcelFilter, export_format: str) -> bytes:
    """The file's bytes in `export_format` (one of SELECTION_FORMATS)."""
    if export_format == "csv":
        return table_csv(selection_table(session, flt)).encode()
    if export_format == "xlsx":
        table = selection_table(session, flt)
        return xlsx_bytes([SheetData(table.name, table.rows, header=table.columns)])
    if export_format in ("geojson", "gpkg"):
        return parcels_gis(selection_table(session, flt, geometry=True), export_format)
    raise ValueError(f"unknown export format {export_format!r}")
