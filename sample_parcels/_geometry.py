"""Parcel and building outlines, built in bulk with numpy and shapely 2.

Every outline starts as a ring in the unit square (rectangle, trapezoid, cut corner,
L-shape or a jittered polygon with inward dents), is mirrored at random and is then
stretched into its cell, inset by at least 0.3 m. Since no ring ever leaves the unit
square, no parcel leaves its cell, and cells never overlap. Each family also knows a
"safe" rectangle that it always contains, which is where buildings go.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely

from sample_parcels._grid import to_wgs84
from sample_parcels._random import Stream

MIN_INSET_M = 0.3
BUILDING_MARGIN_M = 0.5
SQ_FT_PER_M2 = 10.763910416709722

_Builder = Callable[[np.ndarray], np.ndarray]


def _stack(m: int, points: list[tuple[np.ndarray | float, np.ndarray | float]]) -> np.ndarray:
    ring = np.empty((m, len(points), 2))
    for k, (u, v) in enumerate(points):
        ring[:, k, 0], ring[:, k, 1] = u, v
    return ring


def _rect(p: np.ndarray) -> np.ndarray:
    return _stack(len(p), [(0, 0), (1, 0), (1, 1), (0, 1)])


def _trapezoid(p: np.ndarray) -> np.ndarray:
    t = 0.10 + 0.20 * p[:, 0]
    return _stack(len(p), [(0, 0), (1, 0), (1, 1 - t), (0, 1)])


def _cut_corner(p: np.ndarray) -> np.ndarray:
    c1, c2 = 0.12 + 0.18 * p[:, 0], 0.12 + 0.18 * p[:, 1]
    return _stack(len(p), [(0, 0), (1, 0), (1, 1 - c1), (1 - c2, 1), (0, 1)])


def _ell(p: np.ndarray) -> np.ndarray:
    a, b = 0.60 + 0.20 * p[:, 0], 0.60 + 0.20 * p[:, 1]
    return _stack(len(p), [(0, 0), (1, 0), (1, a), (b, a), (b, 1), (0, 1)])


def _jittered(per_edge: int) -> _Builder:
    """Corners of the square plus ``per_edge`` points on each side, pushed inwards by at
    most 8 % and kept 15 % away from the corners: such a ring cannot self-intersect."""

    def build(p: np.ndarray) -> np.ndarray:
        spans = [(0.20, 0.60)] if per_edge == 1 else [(0.15, 0.30), (0.55, 0.30)]
        points: list[tuple[np.ndarray | float, np.ndarray | float]] = []
        k = 0
        for side, corner in enumerate(((0, 0), (1, 0), (1, 1), (0, 1))):
            points.append(corner)
            for start, span in spans:
                t = start + span * p[:, k]
                d = 0.02 + 0.06 * p[:, k + 1]
                k += 2
                points.append([(t, d), (1 - d, t), (1 - t, 1 - d), (d, 1 - t)][side])
        return _stack(len(p), points)

    return build


# (builder, safe rectangle u0, v0, u1, v1 that every ring of the family contains)
FAMILIES: tuple[tuple[_Builder, tuple[float, float, float, float]], ...] = (
    (_rect, (0.05, 0.05, 0.95, 0.95)),
    (_trapezoid, (0.05, 0.05, 0.95, 0.64)),
    (_cut_corner, (0.05, 0.05, 0.95, 0.64)),
    (_ell, (0.05, 0.05, 0.95, 0.55)),
    (_jittered(1), (0.12, 0.12, 0.88, 0.88)),
    (_jittered(2), (0.12, 0.12, 0.88, 0.88)),
)
SAFE = np.array([f[1] for f in FAMILIES])
N_PARAMS = 16


def _params(stream: Stream, ids: np.ndarray, topic: str) -> np.ndarray:
    return np.column_stack([stream.uniform(ids, f"{topic}-{k}") for k in range(N_PARAMS)])


def _shoelace(rings: np.ndarray) -> np.ndarray:
    x, y = rings[..., 0], rings[..., 1]
    return 0.5 * (x * np.roll(y, -1, axis=1) - y * np.roll(x, -1, axis=1)).sum(axis=1)


def _mirror(rings: np.ndarray, flip_u: np.ndarray, flip_v: np.ndarray) -> np.ndarray:
    """Mirror unit rings; reverse the vertex order after one flip to stay counter-clockwise."""
    out = rings.copy()
    out[flip_u, :, 0] = 1 - out[flip_u, :, 0]
    out[flip_v, :, 1] = 1 - out[flip_v, :, 1]
    odd = flip_u ^ flip_v
    out[odd] = out[odd, ::-1]
    return out


def _stretch(rings: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Map unit rings into boxes given as (m, 4) arrays of x0, y0, x1, y1."""
    out = np.empty_like(rings)
    out[..., 0] = box[:, None, 0] + rings[..., 0] * (box[:, None, 2] - box[:, None, 0])
    out[..., 1] = box[:, None, 1] + rings[..., 1] * (box[:, None, 3] - box[:, None, 1])
    return out


def _outlines(
    family: np.ndarray, params: np.ndarray, place: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 MultiPolygons and metric areas; ``place(unit_rings, rows)`` gives UTM rings."""
    geoms = np.empty(len(family), dtype=object)
    area = np.zeros(len(family))
    for f, (builder, _) in enumerate(FAMILIES):
        rows = np.flatnonzero(family == f)
        if len(rows) == 0:
            continue
        rings = place(builder(params[rows]), rows)
        area[rows] = _shoelace(rings)
        lon, lat = to_wgs84(rings[..., 0].ravel(), rings[..., 1].ravel())
        coords = np.stack([lon, lat], axis=-1).reshape(rings.shape)
        geoms[rows] = shapely.multipolygons(shapely.polygons(coords)[:, None])
    return geoms, area


def parcels(
    stream: Stream, ids: np.ndarray, cells: np.ndarray, family: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parcel outlines inside their (m, 4) UTM cells.

    Returns geometries, areas (m2), the inset boxes the rings were stretched into and the
    mirror flags, which buildings need to follow their parcel.
    """
    size = np.minimum(cells[:, 2] - cells[:, 0], cells[:, 3] - cells[:, 1])
    inset = MIN_INSET_M + stream.uniform(ids, "inset") * np.clip(size * 0.02, 0.2, 3.0)
    box = cells + inset[:, None] * np.array([1, 1, -1, -1])
    flips = stream.chance(ids, "flip-u", 0.5), stream.chance(ids, "flip-v", 0.5)
    params = _params(stream, ids, "parcel")

    def place(unit: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return _stretch(_mirror(unit, flips[0][rows], flips[1][rows]), box[rows])

    geoms, area = _outlines(family, params, place)
    return geoms, area, box, np.column_stack(flips)


def buildings(
    stream: Stream,
    ids: np.ndarray,
    parcel_box: np.ndarray,
    parcel_family: np.ndarray,
    flips: np.ndarray,
    slot: np.ndarray,
    count: np.ndarray,
    footprint: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Footprints of building ``slot`` of ``count`` on each parcel (rows are buildings).

    The parcel family's safe rectangle, shrunk by 0.5 m, is cut into ``count`` equal slots
    along its longer side with a 4 % gap, and each footprint (rectangle, cut corner or L)
    covers ``footprint`` of its slot. Footprints therefore stay inside their parcel and
    apart from each other. Returns geometries and footprint areas (m2).
    """
    w = parcel_box[:, 2] - parcel_box[:, 0]
    h = parcel_box[:, 3] - parcel_box[:, 1]
    safe = SAFE[parcel_family] + BUILDING_MARGIN_M / np.column_stack([w, h, -w, -h])
    along_u = (safe[:, 2] - safe[:, 0]) * w >= (safe[:, 3] - safe[:, 1]) * h
    lo = np.where(along_u, safe[:, 0], safe[:, 1])
    step = (np.where(along_u, safe[:, 2], safe[:, 3]) - lo) / count
    a0, a1 = lo + step * (slot + 0.04), lo + step * (slot + 0.96)
    b0, b1 = np.where(along_u, safe[:, 1], safe[:, 0]), np.where(along_u, safe[:, 3], safe[:, 2])
    fa, fb = footprint[:, 0], footprint[:, 1]
    sa = a0 + (a1 - a0) * (1 - fa) * stream.uniform(ids, "bldg-offset-a")
    sb = b0 + (b1 - b0) * (1 - fb) * stream.uniform(ids, "bldg-offset-b")
    ea, eb = sa + (a1 - a0) * fa, sb + (b1 - b0) * fb
    unit_box = np.where(
        along_u[:, None], np.column_stack([sa, sb, ea, eb]), np.column_stack([sb, sa, eb, ea])
    )
    family = stream.choice(ids, "bldg-shape", (0.72, 0, 0.12, 0.16, 0, 0))
    params = _params(stream, ids, "bldg")

    def place(unit: np.ndarray, rows: np.ndarray) -> np.ndarray:
        in_parcel = _stretch(unit, unit_box[rows])
        mirrored = _mirror(in_parcel, flips[rows, 0], flips[rows, 1])
        return _stretch(mirrored, parcel_box[rows])

    return _outlines(family, params, place)
