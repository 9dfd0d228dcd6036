"""Polygons of a small GIS layer (council districts, a city boundary) read as WKB with their
attributes as text, for the registry to check and store.

The file is opened through `geo.safe_open`, so its content cannot make GDAL read another file or
fetch a URL, and read whole with pyogrio: such layers have tens of features, not millions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyogrio
from pyogrio.raw import read

from geo.safe_open import UnsafeSource
from geo.safe_open import check_driver
from geo.safe_open import gdal_source
from registry.fields import whole_number


class PolygonFileError(ValueError):
    """The file cannot be read as a polygon layer; the message names it as the user does."""


@dataclass(frozen=True)
class PolygonFeature:
    number: int  # from 1, in the file's order
    values: dict[str, str | None]
    wkb: bytes | None


@dataclass(frozen=True)
class PolygonLayer:
    srid: int
    fields: tuple[str, ...]
    features: tuple[PolygonFeature, ...]

    def field(self, wanted: str | None, candidates: Sequence[str] = ()) -> str | None:
        """The layer's field named `wanted` (any case), else the first of `candidates` it has;
        None when it has none of them. PolygonFileError when `wanted` is not a field."""
        by_key = {name.casefold(): name for name in self.fields}
        if wanted is not None:
            if wanted.casefold() not in by_key:
                raise PolygonFileError(
                    f"there is no field {wanted}; the fields are {', '.join(self.fields) or 'none'}"
                )
            return by_key[wanted.casefold()]
        return next((by_key[c.casefold()] for c in candidates if c.casefold() in by_key), None)


def _srid(crs: str | None, srs: str | None, shown: str) -> int:
    given = srs or crs
    if not given:
        raise PolygonFileError(
            f"{shown}: the file names no coordinate reference system: give one (e.g. EPSG:4326)"
        )
    code = given.strip().upper().removeprefix("EPSG:")
    if whole_number(code) is None:
        raise PolygonFileError(
            f"{shown}: its coordinate reference system has no EPSG code: give one (e.g. EPSG:2229)"
        )
    return int(code)


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    shown = str(value).strip()
    return shown or None


def read_polygons(
    path: Path, *, name: str | None = None, layer: str | None = None, srs: str | None = None
) -> PolygonLayer:
    """Every feature of the layer (its attributes as text, its shape as WKB, None when it has
    none) and the SRID of its coordinates: `srs` ("EPSG:N") when given, else the file's."""
    shown = name or path.name
    try:
        source = gdal_source(path, shown)
        info = pyogrio.read_info(source.path, layer=layer)
        check_driver(source, info.get("driver"))
        meta, _, geometry, columns = read(source.path, layer=layer)
    except UnsafeSource as error:
        raise PolygonFileError(str(error)) from error
    except Exception as error:  # GDAL's own message says what is wrong with the file
        raise PolygonFileError(f"{shown}: cannot be read: {error}") from error
    fields = tuple(str(field) for field in meta["fields"])
    features = tuple(
        PolygonFeature(
            index + 1,
            {field: _text(column[index]) for field, column in zip(fields, columns, strict=True)},
            None if geometry[index] is None else bytes(geometry[index]),
        )
        for index in range(len(geometry))
    )
    return PolygonLayer(_srid(meta.get("crs"), srs, shown), fields, features)
