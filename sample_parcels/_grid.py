"""The street grid: blocks, how each block is subdivided, and which lots the city owns.

The whole city is laid out once per seed as a catalogue of *slots* (lots, lot groups,
half blocks, whole blocks and 2x2 superblocks). Every slot is a rectangle *cell*; cells
of one block tile it and blocks are separated by 20 m streets, so parcels drawn inside
their own cell can never overlap. The city-owned parcels are a weighted random sample of
slots without replacement (exponential race), so the first ``n`` of one fixed order is
the sample for every ``n``: chunks of any size line up, and small portfolios still get
their share of parks and yards even though lots outnumber blocks thirty to one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

import numpy as np
from pyproj import Transformer

from sample_parcels._city import EXCLUSIONS
from sample_parcels._city import REGIONS
from sample_parcels._random import Stream

UTM = "EPSG:32611"
WGS84 = "EPSG:4326"
STREET_M = 20.0
BLOCK_WIDTH_M = (180.0, 250.0)
BLOCK_DEPTH_M = (90.0, 130.0)
LOT_WIDTH_M = (9.0, 13.5)
LOT_GROUP_WIDTH_M = (34.0, 50.0)
SUPERBLOCK_SHARE = 0.03


class Kind(IntEnum):
    """What a slot physically is; decides which uses can sit on it."""

    LOT = 0
    LOT_GROUP = 1
    HALF_BLOCK = 2
    BLOCK = 3
    SUPERBLOCK = 4


# Target share of each kind among the first few thousand parcels of the sample.
KIND_SHARE = np.array([0.50, 0.28, 0.12, 0.07, 0.03])

# Block templates: two rows of lots; lots + a row of lot groups; 3-4 half blocks; one
# whole block. Superblock heads/tails are assigned afterwards.
_RESIDENTIAL, _MIXED, _HALVES, _WHOLE, _SUPER_HEAD, _SUPER_TAIL, _OUTSIDE = range(7)
_TEMPLATE_P = (0.72, 0.17, 0.065, 0.045)

_TO_WGS84 = Transformer.from_crs(UTM, WGS84, always_xy=True)
_TO_UTM = Transformer.from_crs(WGS84, UTM, always_xy=True)


def to_wgs84(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _TO_WGS84.transform(x, y)
    return np.asarray(lon), np.asarray(lat)


@dataclass(frozen=True, eq=False)
class Catalog:
    """Every slot of the city for one seed, and the order in which the city owns them."""

    seed: int
    col_x: np.ndarray  # west edge of each block column (UTM metres)
    col_w: np.ndarray  # block width of each column
    row_y: np.ndarray  # south edge of each block row
    row_d: np.ndarray  # block depth of each row
    template: np.ndarray  # per block
    parts_south: np.ndarray  # cells in the south row (or across the whole block)
    parts_north: np.ndarray  # cells in the north row
    split: np.ndarray  # share of the block depth taken by the south row
    slot_block: np.ndarray
    slot_local: np.ndarray
    slot_kind: np.ndarray
    order: np.ndarray  # slot ids, city-owned first

    @property
    def capacity(self) -> int:
        return len(self.order)

    @property
    def ncols(self) -> int:
        return len(self.col_x)


def _axis(rng: np.random.Generator, lo: float, hi: float, size: tuple[float, float]):
    """Edges and sizes of consecutive blocks along one axis, streets in between."""
    n = int((hi - lo) / (size[0] + STREET_M)) + 2
    sizes = rng.uniform(*size, n)
    starts = lo + STREET_M / 2 + np.concatenate([[0.0], np.cumsum(sizes + STREET_M)[:-1]])
    keep = starts + sizes <= hi
    return starts[keep], sizes[keep]


def _inside(lon: np.ndarray, lat: np.ndarray, boxes) -> np.ndarray:
    hit = np.zeros(lon.shape, dtype=np.int64) - 1
    for i, (x0, y0, x1, y1) in enumerate(boxes):
        hit[(lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)] = i
    return hit


def _valid_blocks(col_x, col_w, row_y, row_d) -> np.ndarray:
    """Blocks whose four corners lie in one city region and whose centre is not excluded."""
    x0, y0 = np.meshgrid(col_x, row_y)
    x1, y1 = np.meshgrid(col_x + col_w, row_y + row_d)
    corners = ((x0, y0), (x1, y0), (x0, y1), (x1, y1))
    regions = [_inside(*to_wgs84(x, y), REGIONS) for x, y in corners]
    same = (regions[0] >= 0) & np.all([r == regions[0] for r in regions[1:]], axis=0)
    centre = _inside(*to_wgs84((x0 + x1) / 2, (y0 + y1) / 2), EXCLUSIONS)
    return (same & (centre < 0)).ravel()


@lru_cache(maxsize=4)
def catalog(seed: int) -> Catalog:
    """Lay out the city for ``seed`` (cached: ~0.3 s and ~15 MB, shared by all chunks)."""
    rng = np.random.default_rng(seed)
    lons = np.array([[b[0], b[2]] for b in REGIONS]).ravel()
    lats = np.array([[b[1], b[3]] for b in REGIONS]).ravel()
    xs, ys = _TO_UTM.transform(np.repeat(lons, len(lats)), np.tile(lats, len(lons)))
    col_x, col_w = _axis(rng, min(xs), max(xs), BLOCK_WIDTH_M)
    row_y, row_d = _axis(rng, min(ys), max(ys), BLOCK_DEPTH_M)
    ncols, nrows = len(col_x), len(row_y)
    nblocks = ncols * nrows
    width = np.tile(col_w, nrows)

    template = rng.choice(4, size=nblocks, p=_TEMPLATE_P).astype(np.int8)
    valid = _valid_blocks(col_x, col_w, row_y, row_d)
    r, c = np.divmod(np.arange(nblocks), ncols)
    head = (r % 2 == 0) & (c % 2 == 0) & (r + 1 < nrows) & (c + 1 < ncols)
    head &= rng.random(nblocks) < SUPERBLOCK_SHARE
    group = [np.flatnonzero(head) + d for d in (0, 1, ncols, ncols + 1)]
    head_ok = np.all([valid[g] for g in group], axis=0)
    template[group[0][head_ok]] = _SUPER_HEAD
    for g in group[1:]:
        template[g[head_ok]] = _SUPER_TAIL
    template[~valid] = _OUTSIDE

    lots_a = np.rint(width / rng.uniform(*LOT_WIDTH_M, nblocks))
    lots_b = np.rint(width / rng.uniform(*LOT_WIDTH_M, nblocks))
    groups = np.rint(width / rng.uniform(*LOT_GROUP_WIDTH_M, nblocks))
    halves = rng.integers(3, 5, nblocks)
    split = rng.uniform(0.45, 0.55, nblocks)
    south = np.select(
        [template == _RESIDENTIAL, template == _MIXED, template == _HALVES],
        [lots_a, lots_a, halves],
        1,
    ).astype(np.int16)
    north = np.select([template == _RESIDENTIAL, template == _MIXED], [lots_b, groups], 0)
    north = north.astype(np.int16)
    counts = np.select(
        [template <= _MIXED, template == _HALVES, template == _WHOLE, template == _SUPER_HEAD],
        [south + north, south, 1, 1],
        0,
    )
    slot_block = np.repeat(np.arange(nblocks, dtype=np.int32), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    slot_local = (np.arange(len(slot_block)) - starts).astype(np.int16)
    t = template[slot_block]
    kind = np.select(
        [t == _RESIDENTIAL, t == _MIXED, t == _HALVES, t == _WHOLE],
        [
            Kind.LOT,
            np.where(slot_local < south[slot_block], Kind.LOT, Kind.LOT_GROUP),
            Kind.HALF_BLOCK,
            Kind.BLOCK,
        ],
        Kind.SUPERBLOCK,
    ).astype(np.int8)

    weight = KIND_SHARE / np.maximum(np.bincount(kind, minlength=len(Kind)), 1)
    key = rng.exponential(size=len(kind)) / weight[kind]
    order = np.argsort(key, kind="stable").astype(np.int32)
    arrays = (
        col_x,
        col_w,
        row_y,
        row_d,
        template,
        south,
        north,
        split,
        slot_block,
        slot_local,
        kind,
        order,
    )
    for a in arrays:
        a.flags.writeable = False
    return Catalog(seed, *arrays)


def cells(cat: Catalog, slots: np.ndarray, stream: Stream) -> tuple[np.ndarray, ...]:
    """The (x0, y0, x1, y1) UTM rectangle of each slot.

    Cell boundaries inside a row are jittered by a hash of (block, row, boundary), so the
    two lots sharing a boundary agree on where it is and the row is still tiled exactly.
    """
    b = cat.slot_block[slots].astype(np.int64)
    j = cat.slot_local[slots].astype(np.int64)
    r, c = np.divmod(b, cat.ncols)
    t = cat.template[b]
    south = cat.parts_south[b].astype(np.int64)
    rowed = t <= _MIXED
    north = rowed & (j >= south)
    idx = np.where(north, j - south, j)
    parts = np.where(north, cat.parts_north[b], south)
    bx0, by0 = cat.col_x[c], cat.row_y[r]
    bx1, by1 = bx0 + cat.col_w[c], by0 + cat.row_d[r]
    ysplit = by0 + (by1 - by0) * cat.split[b]
    y0 = np.where(north, ysplit, by0)
    y1 = np.where(rowed & ~north, ysplit, by1)

    def edge(i: np.ndarray) -> np.ndarray:
        jitter = stream.uniform(b * 256 + north * 128 + i, "cell-edge", -0.08, 0.08)
        inner = (i > 0) & (i < parts)
        return (i + np.where(inner, jitter, 0.0)) / parts

    x0 = bx0 + (bx1 - bx0) * edge(idx)
    x1 = bx0 + (bx1 - bx0) * edge(idx + 1)
    sup = t == _SUPER_HEAD
    c1, r1 = np.minimum(c + 1, cat.ncols - 1), np.minimum(r + 1, len(cat.row_y) - 1)
    x1 = np.where(sup, cat.col_x[c1] + cat.col_w[c1], x1)
    y1 = np.where(sup, cat.row_y[r1] + cat.row_d[r1], y1)
    return x0, y0, x1, y1


def apns(cat: Catalog, slots: np.ndarray) -> list[str]:
    """LA County style APNs "BBBB-PPP-NNN": a map book per 10x10 blocks (Valley books low,
    harbor books high, as on the county's maps), a page per block and the lot number."""
    b = cat.slot_block[slots].astype(np.int64)
    r, c = np.divmod(b, cat.ncols)
    rows_from_top = len(cat.row_y) - 1 - r
    book = 2001 + (rows_from_top // 10) * 100 + c // 10
    page = 1 + (rows_from_top % 10) * 10 + c % 10
    lot = 1 + cat.slot_local[slots].astype(np.int64)
    parts = zip(book.tolist(), page.tolist(), lot.tolist(), strict=True)
    return [f"{a:04d}-{p:03d}-{n:03d}" for a, p, n in parts]
