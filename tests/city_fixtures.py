"""A city that is not Los Angeles, set up through the registry's services only: the Portland
look-alike of tests/data/real_world/portland_like (map-lot ids, its placeholders, departments
with aliases, five council districts, a boundary)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.polygon_file import read_polygons
from registry.city.departments import import_departments
from registry.city.districts import DistrictShape
from registry.city.districts import replace_districts
from registry.city.profile import add_id_format
from registry.city.profile import add_placeholder
from registry.city.profile import remove_id_format
from registry.city.profile import set_boundary
from registry.city.profile import update_city

PORTLAND = Path(__file__).parent / "data" / "real_world" / "portland_like"
MAP_LOT_EXAMPLES = ("127-123", "268B-41", "267E-17")
MAP_LOT_PATTERN = r"^\d{3}[A-E]?-\d+$"
# district 1 lies west of this longitude, district 2 east of it (up to -70.2612)
BORDER_1_2 = -70.26359997599977
LAT = 43.660
SIZE = 0.001


def district_shapes(path: Path = PORTLAND / "districts.geojson") -> tuple[list[DistrictShape], int]:
    layer = read_polygons(path)
    return [
        DistrictShape(f.number, f.values["DISTRICT"], f.wkb) for f in layer.features
    ], layer.srid


def set_up_portland(session: Session) -> None:
    """Name, boundary (→ extent), fiscal year, map-lot ids, placeholders, departments,
    districts: everything a city needs, without a line of code changed."""
    update_city(session, name="Portland", fiscal_year_start_month=7)
    boundary = read_polygons(PORTLAND / "boundary.geojson")
    set_boundary(session, [f.wkb for f in boundary.features], boundary.srid)
    remove_id_format(session, "LA County APN")
    add_id_format(session, "Map-Lot", MAP_LOT_EXAMPLES, MAP_LOT_PATTERN)
    for placeholder in ("000-000", "UNKNOWN"):
        add_placeholder(session, placeholder)
    with (PORTLAND / "departments.csv").open(encoding="utf-8", newline="") as lines:
        import_departments(session, lines)
    shapes, srid = district_shapes()
    replace_districts(session, shapes, srid)


def box(west: float, south: float = LAT, size: float = SIZE) -> dict[str, Any]:
    """A square GeoJSON polygon `size` degrees wide with its south-west corner given."""
    ring = [
        [west, south],
        [west + size, south],
        [west + size, south + size],
        [west, south + size],
        [west, south],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def district_of(session: Session, parcel_id: str) -> int | None:
    return session.execute(
        text("SELECT council_district FROM parcels WHERE parcel_id = :id"), {"id": parcel_id}
    ).scalar()
