"""Locks that serialize two shape writes only when their parcels could overlap.

Why a lock at all: a shape is checked against the parcels as stored (no overlap over 1 m²), then
written. Two editors drawing overlapping shapes at the same moment would both pass the check, and
both be saved, unless the second check waits for the first write to commit. One lock for every
shape write in the city did that, and also made an editor in one district wait 18 s behind a huge
save in another (issue 15, finding 4).

What is locked instead: the cells of a fixed grid in longitude/latitude that the bounding boxes
of the parcel's old and new shape cover (padded by `MARGIN`, so that the small difference between
a straight edge in the storage CRS and in WGS 84 never lets two touching boxes miss a common cell).
Two shapes that overlap have overlapping boxes, hence a common cell; two parcels far apart share
none and never wait on each other. All are PostgreSQL transaction-scoped advisory locks (two-int
keys, a space of their own), released at commit or rollback; a crashed writer holds nothing.

Three levels, so that a box of any size takes a bounded number of locks:

======================  ==============================  ============================
writer                  takes, in this order            for
======================  ==============================  ============================
a shape in <= 16 fine   city SHARED, its coarse cells   nearly every edit (a box up
cells (0.01°, ~1 km)    SHARED, its fine cells          to ~3 km across)
                        EXCLUSIVE
a shape in <= 16 coarse city SHARED, its coarse cells   a large park, a long
cells (0.1°, ~10 km)    EXCLUSIVE                       right of way
anything larger, an     city EXCLUSIVE                  a whole-city import, the
import, a bulk load                                     sample load, an unknown box
======================  ==============================  ============================

Any two writers whose boxes meet share a key that one of them holds exclusively: two fine
writers a fine cell; a fine and a coarse writer a coarse cell (shared against exclusive);
anyone and an import the city key. So every overlap check sees the other writer's committed
shape. Locks are taken in one global order (city, then coarse cells, then fine cells, each by
key), so two writers never wait on each other in a cycle.

Imports keep the city-wide exclusive lock: they check thousands of shapes spread over the city
against the registry in one statement and write them in one transaction. They take it after
reading, staging and checking each shape alone (validity, size, extent), for the overlap checks
and the write only (at 94,000 parcels a few seconds); single edits wait for an import's write,
and an import waits for the single edits under way, so neither misses the other's shapes. A dry
run writes nothing and takes no lock. A shape edit waiting longer than the write class's
statement timeout (app/request_limits.py) is answered 503 and may be sent again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.settings import STORAGE_SRID

_NAMESPACE = 0x5041_5243  # "PARC": the first key of every lock here (its level added)
_CITY, _COARSE, _FINE = 0, 1, 2
FINE_CELL = 0.01  # degrees
COARSE_CELL = 0.1
MAX_CELLS = 16  # per level
MARGIN = 0.0001  # degrees (~10 m)
_WHOLE_CITY = [(_NAMESPACE + _CITY, 0, False)]


@dataclass(frozen=True)
class Box:
    """A longitude/latitude bounding box."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float

    def union(self, other: Box) -> Box:
        return Box(
            min(self.xmin, other.xmin),
            min(self.ymin, other.ymin),
            max(self.xmax, other.xmax),
            max(self.ymax, other.ymax),
        )


def geojson_box(geometry: Any) -> Box | None:
    """The box of a GeoJSON Polygon or MultiPolygon's positions; None if any is not a pair of
    finite numbers (the shape is then refused by its checks, under the whole-city lock)."""
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates
    xs: list[float] = []
    ys: list[float] = []
    try:
        for polygon in polygons:
            for ring in polygon:
                for position in ring:
                    xs.append(float(position[0]))
                    ys.append(float(position[1]))
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    if not xs or not all(map(math.isfinite, (*xs, *ys))):
        return None
    return Box(min(xs), min(ys), max(xs), max(ys))


_STORED_BOX = text(
    "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM ("
    f"SELECT Box2D({'geom' if STORAGE_SRID == 4326 else 'ST_Transform(ST_Envelope(geom), 4326)'})"
    " AS b FROM parcels WHERE parcel_id = :id AND geom IS NOT NULL) stored"
)


def stored_box(session: Session, parcel_id: str | None) -> Box | None:
    """The box of the parcel's shape as stored (from the box PostGIS keeps with it)."""
    if parcel_id is None:
        return None
    row = session.execute(_STORED_BOX, {"id": parcel_id}).one_or_none()
    return None if row is None else Box(*row)


def _cells(box: Box, size: float) -> list[int] | None:
    """The second keys of the cells of side `size` that `box` covers, or None if over the cap."""
    low_x, high_x = math.floor(box.xmin / size), math.floor(box.xmax / size)
    low_y, high_y = math.floor(box.ymin / size), math.floor(box.ymax / size)
    if (high_x - low_x + 1) * (high_y - low_y + 1) > MAX_CELLS:
        return None
    # |x| <= 18,000 and |y| <= 9,000 cells at 0.01°: x * 65,536 + y is one int4 per cell
    return sorted(
        x * 65_536 + y for x in range(low_x, high_x + 1) for y in range(low_y, high_y + 1)
    )


def lock_plan(box: Box | None) -> list[tuple[int, int, bool]]:
    """The locks (first key, second key, shared) a write within `box` takes, in order."""
    if box is None:
        return _WHOLE_CITY
    padded = Box(
        max(box.xmin - MARGIN, -180.0),
        max(box.ymin - MARGIN, -90.0),
        min(box.xmax + MARGIN, 180.0),
        min(box.ymax + MARGIN, 90.0),
    )
    if padded.xmin > padded.xmax or padded.ymin > padded.ymax:  # wholly off the globe
        return _WHOLE_CITY
    coarse = _cells(padded, COARSE_CELL)
    if coarse is None:
        return _WHOLE_CITY
    city = (_NAMESPACE + _CITY, 0, True)
    fine = _cells(padded, FINE_CELL)
    if fine is None:
        return [city, *((_NAMESPACE + _COARSE, cell, False) for cell in coarse)]
    return [
        city,
        *((_NAMESPACE + _COARSE, cell, True) for cell in coarse),
        *((_NAMESPACE + _FINE, cell, False) for cell in fine),
    ]


_TAKE = text(
    "SELECT count(CASE WHEN shared THEN pg_advisory_xact_lock_shared(level, cell)::text "
    "ELSE pg_advisory_xact_lock(level, cell)::text END) "
    "FROM unnest(CAST(:levels AS int[]), CAST(:cells AS int[]), CAST(:shared AS boolean[])) "
    "AS wanted (level, cell, shared)"
)


def _take(session: Session, plan: list[tuple[int, int, bool]]) -> None:
    """Take the plan's locks in its order, in one round trip (a function scan yields the
    arrays' elements in order)."""
    levels, cells, shared = (list(column) for column in zip(*plan, strict=True))
    session.execute(_TAKE, {"levels": levels, "cells": cells, "shared": shared})


def lock_shape_write(session: Session, geometry: Any, parcel_id: str | None) -> None:
    """Before checking a new shape of `parcel_id` (None: a new parcel) against the others: lock
    what it and the parcel's stored shape could overlap, waiting for writers there."""
    new, old = geojson_box(geometry), stored_box(session, parcel_id)
    box = None if new is None else new if old is None else new.union(old)
    _take(session, lock_plan(box))


def lock_whole_city(session: Session) -> None:
    """For a write of shapes anywhere (an import, a bulk load): wait for every shape write under
    way and hold off new ones until this transaction ends."""
    _take(session, _WHOLE_CITY)
