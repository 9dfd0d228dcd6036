"""Opening a GIS file with GDAL so that its content cannot choose what GDAL reads.

GDAL picks a driver by a file's content, whatever its name: a `parcels.geojson` that is really an
OGR VRT document makes GDAL read whatever the document names (`CSV:/etc/passwd`,
`/vsicurl/http://…`), and the lines would come back as "features" in the import report. So before
GDAL sees an uploaded or imported file:

1. its name must end in a format the registry imports (an allow-list, not GDAL's whole list);
2. its first bytes must be that format's own signature (a GeoPackage starts with the SQLite
   header, a shapefile with its file code, GeoJSON with `{`, a CSV with text that is not markup);
   a zip is opened by the registry, and GDAL is pointed at the one shapefile inside it, which
   passes the same check;
3. once open, GDAL must name one of the format's drivers, or the file is refused.

No driver with indirection (VRT, WFS, OAPIF, GDAL's network file systems) is on the allow-list, so
nothing the file says can make the server read another file or fetch a URL.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from pathlib import PurePosixPath

_JSON_DRIVERS = ("GeoJSON", "TopoJSON", "ESRIJSON", "GeoJSONSeq", "JSONFG")
#: suffix → (what the user calls it, the GDAL drivers that may open it)
FORMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    ".gpkg": ("GeoPackage", ("GPKG",)),
    ".shp": ("Shapefile", ("ESRI Shapefile",)),
    ".zip": ("zipped Shapefile", ("ESRI Shapefile",)),
    ".geojson": ("GeoJSON", _JSON_DRIVERS),
    ".json": ("GeoJSON or TopoJSON", _JSON_DRIVERS),
    ".topojson": ("TopoJSON", _JSON_DRIVERS),
    ".fgb": ("FlatGeobuf", ("FlatGeobuf",)),
    ".csv": ("CSV", ("CSV",)),
    ".xlsx": ("Excel workbook", ("XLSX",)),
}
_SNIFF_BYTES = 65_536
_SHAPEFILE_CODE = b"\x00\x00\x27\x0a"
_SQLITE_HEADER = b"SQLite format 3\x00"
_FLATGEOBUF_MAGIC = b"fgb\x03"
_ZIP_MAGIC = b"PK\x03\x04"
#: A zipped shapefile may be large, but not a zip bomb: its members' unpacked size is bounded.
MAX_UNZIPPED_BYTES = 4 * 1024**3


class UnsafeSource(ValueError):
    """The file is not what its name says, or not a format the registry reads; the message names
    the file by its own name (never a server path) in the user's words."""


@dataclass(frozen=True)
class GdalSource:
    """What to hand GDAL (`path`, possibly inside a zip) and which drivers may open it."""

    path: str
    drivers: tuple[str, ...]
    name: str


def _format_list() -> str:
    names = dict.fromkeys(label for label, _ in FORMATS.values())
    return ", ".join(names)


def _head(path: Path) -> bytes:
    with path.open("rb") as stream:
        return stream.read(_SNIFF_BYTES)


def _text_start(head: bytes) -> bytes:
    return head.removeprefix(b"\xef\xbb\xbf").lstrip()


def _looks_like(suffix: str, head: bytes) -> bool:
    if suffix == ".gpkg":
        return head.startswith(_SQLITE_HEADER)
    if suffix == ".shp":
        return head.startswith(_SHAPEFILE_CODE)
    if suffix == ".fgb":
        return head.startswith(_FLATGEOBUF_MAGIC)
    if suffix == ".xlsx":
        return head.startswith(_ZIP_MAGIC)
    if suffix in (".geojson", ".json", ".topojson"):
        return _text_start(head).startswith(b"{")
    if suffix == ".csv":
        start = _text_start(head)
        return b"\x00" not in head and not start.startswith(b"<")
    return False


def _shapefile_in_zip(path: Path, name: str) -> str:
    """The one shapefile inside the zip, checked like a loose one; the GDAL path to it."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if sum(member.file_size for member in members) > MAX_UNZIPPED_BYTES:
                raise UnsafeSource(
                    f"{name}: the zip unpacks to more than {MAX_UNZIPPED_BYTES // 1024**3} GB"
                )
            shapefiles = [
                member
                for member in members
                if member.filename.lower().endswith(".shp") and not member.is_dir()
            ]
            if len(shapefiles) != 1:
                raise UnsafeSource(
                    f"{name}: a zip must hold exactly one shapefile (.shp), "
                    f"this one holds {len(shapefiles)}"
                )
            member = shapefiles[0]
            inner = PurePosixPath(member.filename)
            if inner.is_absolute() or ".." in inner.parts or "\\" in member.filename:
                raise UnsafeSource(f"{name}: the shapefile's path inside the zip is not plain")
            with archive.open(member) as stream:
                if not stream.read(4) == _SHAPEFILE_CODE:
                    raise UnsafeSource(f"{name}: {inner.name} inside the zip is not a shapefile")
    except zipfile.BadZipFile as error:
        raise UnsafeSource(f"{name}: is not a zip file") from error
    return f"/vsizip/{path}/{inner}"


def gdal_source(path: Path, name: str | None = None) -> GdalSource:
    """The checked GDAL path of `path`; UnsafeSource when its name or content is refused.

    `name` is what the user calls the file (an upload's original name); it defaults to the
    file's own name and is the only name messages use.
    """
    shown = name or path.name
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UnsafeSource(
            f"{shown}: the registry reads {_format_list()}; "
            f"{suffix or 'a file without an extension'} is none of them"
        )
    label, drivers = FORMATS[suffix]
    try:
        head = _head(path)
    except OSError as error:
        raise UnsafeSource(f"{shown}: cannot be opened") from error
    if suffix == ".zip":
        if not head.startswith(_ZIP_MAGIC):
            raise UnsafeSource(f"{shown}: is not a zip file")
        return GdalSource(_shapefile_in_zip(path, shown), drivers, shown)
    if not _looks_like(suffix, head):
        raise UnsafeSource(
            f"{shown}: its content is not a {label} file, although its name "
            "says so; nothing was read from it"
        )
    return GdalSource(str(path), drivers, shown)


def check_driver(source: GdalSource, driver: str | None) -> None:
    """Refuse the file when GDAL opened it with a driver its format does not allow."""
    if driver not in source.drivers:
        raise UnsafeSource(
            f"{source.name}: GDAL reads it as {driver or 'an unknown format'}, "
            f"not as the {' or '.join(source.drivers)} its name says; "
            "nothing was read from it"
        )


def without_folders(error: object, path: Path) -> str:
    """`error`'s text naming the file by its name only: messages reach the web pages, where a
    server's folders are nobody's business."""
    text = str(error)
    for folder in sorted({str(path.resolve().parent), str(path.parent)}, key=len, reverse=True):
        if folder not in ("", "."):
            text = text.replace(f"/vsizip/{folder}/", "").replace(f"{folder}/", "")
    return text
