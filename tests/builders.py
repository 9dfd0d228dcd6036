"""Small builders so tests read as statements of fact."""

from __future__ import annotations

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon
from shapely.geometry import box

from registry.models import Department
from registry.models import Parcel


def square(lon: float = -118.25, lat: float = 34.05, size: float = 0.001) -> MultiPolygon:
    return MultiPolygon([box(lon, lat, lon + size, lat + size)])


def department(code: str = "GSD", name: str = "General Services") -> Department:
    return Department(code=code, name=name)


def parcel(parcel_id: str = "5555-012-034", **attributes: object) -> Parcel:
    geometry = attributes.pop("geometry", square())
    return Parcel(
        parcel_id=parcel_id,
        address=attributes.pop("address", "200 N Spring St"),
        geom=from_shape(geometry, srid=4326) if geometry is not None else None,
        **attributes,
    )
