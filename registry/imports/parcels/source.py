"""Reading the features of a legacy file in streamed batches, whatever its format.

GDAL (through pyogrio's Arrow stream) reads GeoPackage, Shapefile (also zipped), GeoJSON,
TopoJSON, CSV (a WKT column, or lon/lat) and XLSX. Attributes are read as text where the format
allows, so that an id like `0601-001-001` or a mangled `6.03E+09` reaches validation exactly as
the file has it, never reinterpreted as a number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyogrio
from pyogrio.raw import open_arrow

from geo.safe_open import UnsafeSource
from geo.safe_open import check_driver
from geo.safe_open import gdal_source
from geo.safe_open import without_folders

BATCH_SIZE = 50_000

# GDAL open options that make text-ish formats keep every value as written.
_CSV_OPTIONS = {
    "GEOM_POSSIBLE_NAMES": "wkt,WKT,geometry,GEOMETRY,the_geom,geom",
    "X_POSSIBLE_NAMES": "lon,longitude,LON,Longitude,x,X",
    "Y_POSSIBLE_NAMES": "lat,latitude,LAT,Latitude,y,Y",
    "KEEP_GEOM_COLUMNS": "NO",
    "AUTODETECT_TYPE": "NO",
    "EMPTY_STRING_AS_NULL": "YES",
}
_XLSX_OPTIONS = {"FIELD_TYPES": "STRING", "HEADERS": "FORCE"}
_LONGITUDES = {"lon", "longitude"}
_LATITUDES = {"lat", "latitude"}


class SourceError(ValueError):
    """The file cannot be read as asked (missing, unknown format, no such layer, no CRS)."""


@dataclass(frozen=True)
class SourceInfo:
    path: str
    layer: str | None
    fields: list[str]
    crs: str | None
    feature_count: int | None
    has_geometry: bool


def checked_gdal_path(path: Path) -> str:
    """The path GDAL may open, after the file's name, content and driver passed the allow-list
    (`geo.safe_open`): an upload can never make GDAL read another file or a URL."""
    try:
        source = gdal_source(path)
        check_driver(source, pyogrio.read_info(source.path)["driver"])
    except UnsafeSource as error:
        raise SourceError(str(error)) from error
    except Exception as error:
        raise SourceError(f"{path.name}: cannot be read: {without_folders(error, path)}") from error
    return source.path


def _open_options(path: Path) -> dict[str, str]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _CSV_OPTIONS
    if suffix == ".xlsx":
        return _XLSX_OPTIONS
    return {}


def describe(path: Path, layer: str | None = None) -> SourceInfo:
    if not path.exists():
        raise SourceError(f"{path}: no such file")
    gdal_path = checked_gdal_path(path)
    try:
        info = pyogrio.read_info(gdal_path, layer=layer, **_open_options(path))
    except Exception as error:
        raise SourceError(f"{path.name}: cannot be read: {without_folders(error, path)}") from error
    has_geometry = info.get("geometry_type") not in (None, "None")
    crs = info.get("crs")
    if crs is None and has_geometry and _lon_lat_table(path):
        crs = "EPSG:4326"  # longitude and latitude are degrees of WGS 84, by their names
    return SourceInfo(
        path=gdal_path,
        layer=layer,
        fields=[str(name) for name in info["fields"]],
        crs=crs,
        feature_count=info.get("features"),
        has_geometry=has_geometry,
    )


def _lon_lat_table(path: Path) -> bool:
    """A CSV whose points GDAL makes of longitude and latitude columns (not of WKT, nor x/y)."""
    if path.suffix.lower() != ".csv":
        return False
    with path.open(encoding="utf-8-sig", newline="") as lines:
        header = {name.strip().lower() for name in next(csv.reader(lines), [])}
    wkt = {name.lower() for name in _CSV_OPTIONS["GEOM_POSSIBLE_NAMES"].split(",")}
    return bool(header & _LONGITUDES and header & _LATITUDES and not header & wkt)


def layers(path: Path) -> list[str]:
    gdal_path = checked_gdal_path(path)
    try:
        return [str(row[0]) for row in pyogrio.list_layers(gdal_path)]
    except Exception as error:
        raise SourceError(f"{path.name}: cannot be read: {without_folders(error, path)}") from error


@dataclass(frozen=True)
class FeatureBatch:
    """Attributes as text arrays, geometry as WKB (null where a feature has none), kept as Arrow
    arrays: normalising works on them without making a Python object per value."""

    first_row: int  # 1-based number of the batch's first feature in the file
    columns: dict[str, pa.Array]
    geometry: pa.Array

    def __len__(self) -> int:
        return len(self.geometry)


def _storage(column: pa.Array) -> pa.Array:
    """The WKB itself, should an extension type (geoarrow.wkb) be registered for it."""
    return column.storage if isinstance(column, pa.ExtensionArray) else column


def _as_text(column: pa.Array) -> pa.Array:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column
    return pa.array(
        [None if value is None else str(value) for value in column.to_pylist()], type=pa.string()
    )


@contextmanager
def read_batches(
    path: Path, layer: str | None = None, batch_size: int = BATCH_SIZE
) -> Iterator[Iterator[FeatureBatch]]:
    """Stream the file's features; memory is bounded by `batch_size`, not by the file."""
    gdal_path = checked_gdal_path(path)
    try:
        stream = open_arrow(
            gdal_path, layer=layer, batch_size=batch_size, use_pyarrow=True, **_open_options(path)
        )
        meta, reader = stream.__enter__()
    except Exception as error:
        raise SourceError(f"{path.name}: cannot be read: {without_folders(error, path)}") from error

    def batches() -> Iterator[FeatureBatch]:
        first_row = 1
        geometry_column = meta.get("geometry_name") or "wkb_geometry"
        for record_batch in reader:
            names = record_batch.schema.names
            geometry = (
                _storage(record_batch.column(names.index(geometry_column)))
                if geometry_column in names
                else pa.nulls(record_batch.num_rows, pa.binary())
            )
            columns = {
                name: _as_text(record_batch.column(i))
                for i, name in enumerate(names)
                if name != geometry_column
            }
            yield FeatureBatch(first_row, columns, geometry)
            first_row += record_batch.num_rows

    try:
        yield batches()
    finally:
        stream.__exit__(None, None, None)
