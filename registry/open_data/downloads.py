"""The public dataset as files: CSV, GeoJSON and GeoPackage, for a filter (the whole dataset by
default), written without holding the dataset in memory.

CSV and GeoJSON are generators of text chunks over a server-side cursor (PostGIS builds each
GeoJSON feature); the GeoPackage is written by GDAL (pyogrio's Arrow path) into a file in a
temporary folder, batch by batch, which the caller streams and removes. Memory stays flat
whatever the number of parcels.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyogrio
from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import text

from registry.cells import spreadsheet_safe
from registry.open_data.fields import ATTRIBUTE_NAMES
from registry.open_data.fields import PUBLIC_FIELDS
from registry.open_data.queries import PUBLIC_FROM
from registry.open_data.queries import OpenDataFilter

DOWNLOAD_FORMATS = ("csv", "geojson", "gpkg")
MEDIA_TYPES = {
    "csv": "text/csv",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
}
FORMAT_NAMES = {"csv": "CSV", "geojson": "GeoJSON", "gpkg": "GeoPackage"}
BATCH_ROWS = 5_000
_LAYER = "parcels"
_ATTRIBUTES = "p.parcel_id, p.address, d.name AS department, p.use, p.status"


def _rows(connection: Connection, flt: OpenDataFilter, columns: str) -> Iterator[tuple[Any, ...]]:
    """The selected parcels in parcel-id order, fetched BATCH_ROWS at a time (server cursor)."""
    where, params = flt.where()
    result = connection.execution_options(stream_results=True, yield_per=BATCH_ROWS).execute(
        text(f"SELECT {columns} FROM {PUBLIC_FROM} WHERE {where} ORDER BY p.parcel_id"), params
    )
    for row in result:
        yield tuple(row)


def _csv_cell(value: object) -> object:
    if value is None:
        return ""
    return spreadsheet_safe(value) if isinstance(value, str) else value


def csv_chunks(engine: Engine, flt: OpenDataFilter) -> Iterator[str]:
    """The CSV: a header of the CSV fields of the dictionary, then one row per parcel; text is
    defused against formula injection (`registry.cells.spreadsheet_safe`)."""
    header = [field.name for field in PUBLIC_FIELDS if "csv" in field.formats]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    point = "ST_Transform(ST_PointOnSurface(p.geom), 4326)"
    columns = f"{_ATTRIBUTES}, round(ST_X({point})::numeric, 7), round(ST_Y({point})::numeric, 7)"
    with engine.connect() as connection:
        for count, row in enumerate(_rows(connection, flt, columns), start=1):
            writer.writerow(_csv_cell(value) for value in row)
            if count % BATCH_ROWS == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def _feature_column() -> str:
    properties = ", ".join(
        f"'{name}', {'d.name' if name == 'department' else 'p.' + name}" for name in ATTRIBUTE_NAMES
    )
    return (
        "json_build_object('type', 'Feature', 'id', p.parcel_id, 'geometry',"
        " ST_AsGeoJSON(ST_Transform(p.geom, 4326), 7)::json, 'properties',"
        f" json_build_object({properties}))::text"
    )


def geojson_chunks(engine: Engine, flt: OpenDataFilter) -> Iterator[str]:
    """A GeoJSON FeatureCollection (RFC 7946: WGS 84, longitude first) made by PostGIS feature
    by feature; a parcel without a shape has a null geometry."""
    yield '{"type":"FeatureCollection","name":"parcels","features":[\n'
    separator, chunk = "", []
    with engine.connect() as connection:
        for (feature,) in _rows(connection, flt, _feature_column()):
            chunk.append(separator + feature)
            separator = ",\n"
            if len(chunk) >= BATCH_ROWS:
                yield "".join(chunk)
                chunk = []
    yield "".join(chunk) + "\n]}\n"


_ARROW_SCHEMA = pa.schema(
    [*(pa.field(name, pa.string()) for name in ATTRIBUTE_NAMES), pa.field("geometry", pa.binary())]
)


def _arrow_batches(connection: Connection, flt: OpenDataFilter) -> Iterator[pa.RecordBatch]:
    columns = f"{_ATTRIBUTES}, ST_AsBinary(ST_Transform(p.geom, 4326))"
    batch: list[tuple[Any, ...]] = []
    for row in _rows(connection, flt, columns):
        batch.append(row)
        if len(batch) >= BATCH_ROWS:
            yield _record_batch(batch)
            batch = []
    if batch:
        yield _record_batch(batch)


def _record_batch(rows: list[tuple[Any, ...]]) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True))
    arrays = [pa.array(columns[i], pa.string()) for i in range(len(ATTRIBUTE_NAMES))]
    arrays.append(pa.array([None if v is None else bytes(v) for v in columns[-1]], pa.binary()))
    return pa.RecordBatch.from_arrays(arrays, schema=_ARROW_SCHEMA)


def write_geopackage(engine: Engine, flt: OpenDataFilter, folder: Path) -> Path:
    """Write the GeoPackage (layer `parcels`, MultiPolygon, EPSG:4326) into `folder` and return
    its path; GDAL reads the batches as they come, so memory holds one batch at a time."""
    path = folder / "parcels.gpkg"
    with engine.connect() as connection:
        reader = pa.RecordBatchReader.from_batches(_ARROW_SCHEMA, _arrow_batches(connection, flt))
        pyogrio.write_arrow(
            reader,
            path,
            layer=_LAYER,
            driver="GPKG",
            geometry_name="geometry",
            geometry_type="MultiPolygon",
            crs="EPSG:4326",
        )
    return path


def geopackage_file(engine: Engine, flt: OpenDataFilter) -> io.BufferedReader:
    """The GeoPackage as an open file whose name is already removed: the caller streams it and
    closing it frees the disk (nothing is left behind, even if the download is abandoned)."""
    with tempfile.TemporaryDirectory(prefix="open-data-") as folder:
        path = write_geopackage(engine, flt, Path(folder))
        handle = path.open("rb")
    return handle
