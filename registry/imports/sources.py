"""Rows of a hand-kept list, as the user sees them, from CSV, XLSX or a GIS layer of points.

Spreadsheets kept by people put a title and a date above the header, repeat the header on every
printed page and end with a total, so the header is *found* (the row among the first few dozen
that names the most known columns) rather than assumed to be row 1. Row numbers are the ones the
user sees in a spreadsheet (1-based, title rows included) or the feature's 1-based position in a
layer, so a report can send them straight to the cell.

Cells keep their type where the format has one (XLSX dates stay dates; a number formatted as a
percentage becomes the text "0.89%" so its meaning survives); CSV cells are text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from pathlib import Path
from typing import Any

from geo.safe_open import without_folders

HEADER_SEARCH_ROWS = 50
MIN_HEADER_MATCHES = 2

TABLE_SUFFIXES = {".csv", ".txt", ".tsv"}
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm"}
LAYER_SUFFIXES = {".gpkg", ".shp", ".geojson", ".json", ".zip", ".fgb"}


class SourceUnreadable(ValueError):
    """The file cannot be read as asked: a usage error (exit 2), not a problem with a record."""


@dataclass
class SourceRow:
    number: int
    cells: dict[str, Any]
    point: tuple[float, float] | None = None  # x, y in the source's CRS
    geometry_problem: str | None = None


@dataclass
class SourceTable:
    columns: list[str]
    rows: list[SourceRow]
    row_unit: str = "row"
    header_row: int | None = None
    layer: str | None = None
    crs: str | None = None
    repeated_header_rows: list[int] = field(default_factory=list)


HeaderScore = Callable[[Sequence[str]], int]


def read_source(path: Path, score_header: HeaderScore, layer: str | None = None) -> SourceTable:
    """Read `path` by its extension; raise `SourceUnreadable` for anything a user must fix."""
    if not path.is_file():
        raise SourceUnreadable(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in TABLE_SUFFIXES:
        if layer is not None:
            raise SourceUnreadable(
                f"{path.name}: a CSV file has no layers or sheets (--layer {layer})"
            )
        return _table_from_grid(_csv_grid(path), score_header, path)
    if suffix in WORKBOOK_SUFFIXES:
        grid, sheet = _xlsx_grid(path, layer)
        table = _table_from_grid(grid, score_header, path, sheet)
        table.layer = sheet
        return table
    if suffix == ".xls":
        raise SourceUnreadable(
            f"{path.name}: old Excel .xls files cannot be read; save it as .xlsx"
        )
    if suffix in LAYER_SUFFIXES:
        return _layer_table(path, layer)
    raise SourceUnreadable(
        f"{path.name}: unknown format {suffix or '(no extension)'}; use CSV, XLSX, GeoPackage, "
        "Shapefile (.shp or .zip) or GeoJSON"
    )


def _decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM) when it decodes, else Windows-1252, as Excel on Windows saves."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _csv_grid(path: Path) -> list[tuple[int, list[Any]]]:
    text = _decode(path.read_bytes())
    if path.suffix.lower() == ".tsv":
        dialect: Any = csv.excel_tab
    else:
        try:
            dialect = csv.Sniffer().sniff(text[:20_000], delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    return [(number, row) for number, row in enumerate(reader, start=1)]


def _xlsx_grid(path: Path, sheet: str | None) -> tuple[list[tuple[int, list[Any]]], str]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:
        raise SourceUnreadable(
            f"{path.name}: not a readable XLSX workbook ({without_folders(error, path)})"
        ) from error
    try:
        names = workbook.sheetnames
        if sheet is not None and sheet not in names:
            raise SourceUnreadable(f"{path.name}: no sheet {sheet!r}; sheets: {', '.join(names)}")
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        grid = [
            (number, [_xlsx_value(cell) for cell in row])
            for number, row in enumerate(worksheet.iter_rows(), start=1)
        ]
        return grid, worksheet.title
    finally:
        workbook.close()


def _xlsx_value(cell: Any) -> Any:
    value = getattr(cell, "value", None)
    number_format = str(getattr(cell, "number_format", "") or "")
    if isinstance(value, int | float) and not isinstance(value, bool) and "%" in number_format:
        percent = Decimal(repr(value)) * 100
        return f"{percent.normalize():f}%"
    return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_names(cells: list[Any]) -> list[str]:
    """Header cells as names; blanks and repeats get a position so every column stays reachable."""
    names: list[str] = []
    for index, cell in enumerate(cells, start=1):
        name = " ".join(str(cell).split()) if not _blank(cell) else f"column {index}"
        while name in names:
            name = f"{name} ({index})"
        names.append(name)
    return names


def _table_from_grid(
    grid: list[tuple[int, list[Any]]],
    score_header: HeaderScore,
    path: Path,
    sheet: str | None = None,
) -> SourceTable:
    while grid and all(_blank(cell) for cell in grid[-1][1]):
        grid.pop()  # trailing empty rows are formatting, not data
    best: tuple[int, int] | None = None  # (score, position in grid)
    for position, (_, cells) in enumerate(grid[:HEADER_SEARCH_ROWS]):
        score = score_header([str(cell) for cell in cells if not _blank(cell)])
        if score >= MIN_HEADER_MATCHES and (best is None or score > best[0]):
            best = (score, position)
    if best is None:
        where = f" (sheet {sheet!r})" if sheet else ""
        raise SourceUnreadable(
            f"{path.name}{where}: no header row found in the first {HEADER_SEARCH_ROWS} rows; "
            "name the columns with --map TARGET=SOURCE"
        )
    header_number, header_cells = grid[best[1]]
    columns = _header_names(header_cells)
    header_key = [str(cell).strip().lower() for cell in header_cells if not _blank(cell)]
    table = SourceTable(columns=columns, rows=[], header_row=header_number)
    for number, cells in grid[best[1] + 1 :]:
        if [str(c).strip().lower() for c in cells if not _blank(c)] == header_key:
            table.repeated_header_rows.append(number)
            continue
        padded = list(cells) + [None] * (len(columns) - len(cells))
        extra = [cell for cell in padded[len(columns) :] if not _blank(cell)]
        row = dict(zip(columns, padded, strict=False))
        if extra:
            row["(beyond the header)"] = " | ".join(str(cell) for cell in extra)
        table.rows.append(SourceRow(number, row))
    return table


def _layer_table(path: Path, layer: str | None) -> SourceTable:
    """A GIS layer: field names are the header; each point is kept in the layer's own CRS."""
    import pyogrio

    from registry.imports.parcels.source import SourceError
    from registry.imports.parcels.source import checked_gdal_path

    try:
        gdal_path = checked_gdal_path(path)  # through the allow-list of `geo.safe_open`
    except SourceError as error:
        raise SourceUnreadable(str(error)) from error
    try:
        names = [str(row[0]) for row in pyogrio.list_layers(gdal_path)]
        if layer is not None and layer not in names:
            raise SourceUnreadable(f"{path.name}: no layer {layer!r}; layers: {', '.join(names)}")
        chosen = layer if layer is not None else names[0]
        frame = pyogrio.read_dataframe(gdal_path, layer=chosen)
    except SourceUnreadable:
        raise
    except Exception as error:
        raise SourceUnreadable(
            f"{path.name}: cannot be read ({without_folders(error, path)})"
        ) from error
    crs = frame.crs.to_string() if getattr(frame, "crs", None) is not None else None
    columns = [str(name) for name in frame.columns if name != "geometry"]
    table = SourceTable(columns, [], row_unit="feature", layer=chosen, crs=crs)
    geometries = frame.geometry if "geometry" in frame.columns else [None] * len(frame)
    records = frame[columns].astype(object).where(frame[columns].notna(), None)
    for number, (values, shape) in enumerate(
        zip(records.itertuples(index=False, name=None), geometries, strict=True), start=1
    ):
        row = SourceRow(
            number, {name: _plain(value) for name, value in zip(columns, values, strict=True)}
        )
        if shape is not None and not shape.is_empty:
            if shape.geom_type == "Point":
                row.point = (float(shape.x), float(shape.y))
            else:
                row.geometry_problem = f"is a {shape.geom_type}, not a point"
        table.rows.append(row)
    return table


def _plain(value: Any) -> Any:
    """pandas/numpy scalars as Python values, so later parsing sees str, int, float or date."""
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):
        return value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, dt.date | str | int | float):
        return value
    return str(value)
