#!/usr/bin/env python3
"""Build the "real world" imitation data sets in this folder, then check them and write README.md.

    .venv/bin/python tests/data/real_world/make_files.py

Three imitations of public-record sets that a city registry must import as they are:
``portland_like/`` (TopoJSON parcels + separate assessor table), ``la_nonprofit_leases/`` (CSV and
zipped point Shapefile) and ``la_assessor_roll/`` (wide county roll extracts). Every defect is made
on purpose and counted; README.md (written by this script, do not edit it by hand) lists them.

Deterministic: each data set draws from its own seeded ``random.Random``; the zip has fixed
timestamps and the DBF header a fixed date, so two runs give the same bytes (with the same GDAL and
PROJ). After writing, everything is read back (pyogrio for the geodata, the csv module for tables),
each documented count is recomputed from the files and asserted, and the counts are printed.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import itertools
import json
import math
import random
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import shapely
from shapely.geometry import LineString
from shapely.geometry import MultiPolygon
from shapely.geometry import Point
from shapely.geometry import Polygon
from shapely.geometry import box
from shapely.geometry import mapping
from shapely.ops import split
from shapely.ops import unary_union

HERE = Path(__file__).resolve().parent
SEED = 20240611
MAX_BYTES = 300 * 1024
NULL = "NULL"

E_ID = re.compile(r"^\d{3}E-\d+$")  # looks like scientific notation, is a genuine map-lot
PLAIN_ID = re.compile(r"^\d{3}[A-D]?-\d+$")
PLACEHOLDERS = ("000-000", "UNKNOWN")


def rng_for(name: str) -> random.Random:
    return random.Random(f"{SEED}:{name}")


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """Excel-like export: UTF-8 without BOM, CRLF line ends, quotes only where needed."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")


def is_blank_row(row: list[str]) -> bool:
    return all(cell == "" for cell in row)


def fmt_mdy(d: dt.date) -> str:
    return f"{d.month}/{d.day}/{d.year}"


def fmt_mdy_padded(d: dt.date) -> str:
    return d.strftime("%m/%d/%Y")


def fmt_iso_midnight(d: dt.date) -> str:
    return f"{d.isoformat()} 00:00:00"


def parse_date(text: str) -> dt.date | None:
    for fmt in ("%m/%d/%Y", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    return None


def add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def whole_months(start: dt.date, end: dt.date) -> int | None:
    """N when the day after `end` is `start` + N months (7/1/2014-6/30/2024 -> 120), else None."""
    nxt = end + dt.timedelta(days=1)
    n = (nxt.year - start.year) * 12 + nxt.month - start.month
    return n if n >= 1 and add_months(start, n) == nxt else None


# ---------------------------------------------------------------------------------------------
# 1. portland_like/
# ---------------------------------------------------------------------------------------------

PL_DIR = HERE / "portland_like"
NCOLS, NROWS, Q = 20, 15, 100_000
X0, X1, Y0, Y1 = -70.2660, -70.2540, 43.6560, 43.6640
SX, SY = (X1 - X0) / (Q - 1), (Y1 - Y0) / (Q - 1)
V_SPLITS = (4, 8, 12)  # district borders run along these column lines...
H_SPLIT_ROW, H_SPLIT_FROM_COL = 7, 12  # ...and along this row line east of column line 12
MULTI_PAIRS = [
    ((1, 0), (1, 2)),
    ((3, 5), (3, 7)),
    ((6, 9), (6, 11)),
    ((2, 13), (2, 15)),
    ((10, 16), (10, 18)),
    ((12, 1), (12, 3)),
]
BOWTIE_CELL = (8, 6)
OVERLAP_A, OVERLAP_B = (4, 14), (4, 15)  # A reaches halfway into B
DONUT_CELL = (11, 9)  # has a hole; the "island" parcel fills it
EMPTY_AT = 150  # position of the empty-geometry feature in the collection
E_IDS = [
    "267E-17",
    "101E-2",
    "268E-41",
    "120E-05",
    "345E-8",
    "232E-11",
    "199E-3",
    "310E-22",
    "267E-18",
    "144E-9",
    "402E-1",
    "388E-12",
    "156E-30",
    "273E-6",
    "219E-14",
    "333E-07",
    "108E-25",
    "251E-4",
]
EXAMPLE_IDS = ["127-123", "268B-41"]
ORPHAN_IDS = [
    "127-124",
    "268B-99",
    "315E-3",
    "412-7",
    "009-118",
    "233A-5",
    "301-64",
    "077-12",
    "198D-20",
]
N_MISSING_FROM_TABLE = 12
N_BIG_ACREAGE = 6
N_NULL_CELLS_ASSESSOR = 16
PL_STREETS = [
    "CONGRESS ST",
    "FOREST AVE",
    "COMMERCIAL ST",
    "FORE ST",
    "MIDDLE ST",
    "BRACKETT ST",
    "STATE ST",
    "HIGH ST",
    "CUMBERLAND AVE",
    "ST JOHN ST",
    "WASHINGTON AVE",
    "BAXTER BLVD",
    "EXCHANGE ST",
    "DANFORTH ST",
    "PARK AVE",
    "OCEAN AVE",
    "STEVENS AVE",
    "ALLEN AVE",
]
PL_OWNERS = [
    ("CITY OF PORTLAND", 40),
    ("PORTLAND CITY OF", 14),
    ("CITY OF PORTLAND PUBLIC WORKS", 8),
    ("CITY OF PORTLAND PARKS & REC", 8),
    ("CITY OF PORTLAND HCD", 5),
    ("PORTLAND PUBLIC SCHOOLS", 6),
    ("PORTLAND HOUSING AUTHORITY", 4),
    ("CASCO BAY HOLDINGS LLC", 3),
    ("SMITH JOHN A & MARY B", 2),
    ("MAINE STATE OF", 2),
]
PL_LAND_USES = [
    ("MUNICIPAL", 30),
    ("PARK/OPEN SPACE", 16),
    ("VACANT LAND", 16),
    ("SCHOOL", 6),
    ("PARKING", 8),
    ("SINGLE FAMILY", 10),
    ("COMMERCIAL", 8),
    ("EXEMPT", 6),
]
PL_DEPARTMENTS = [
    ("PUBLIC_WORKS", "Public Works", "DPW;Department of Public Works"),
    ("PARKS", "Parks, Recreation & Facilities", "Parks & Rec;Parks Department"),
    ("HOUSING", "Housing & Community Development", "HCD;Housing and Community Development"),
    ("SCHOOLS", "Portland Public Schools", "School Department;PPS"),
    ("FIRE", "Fire Department", "PFD"),
    ("POLICE", "Police Department", "PPD"),
    ("LIBRARY", "Portland Public Library", ""),
    ("JETPORT", "Portland International Jetport", "Jetport;PWM"),
]


def deq(p: tuple[int, int]) -> tuple[float, float]:
    """Quantized position -> lon/lat, computed exactly as GDAL's TopoJSON reader does."""
    return (p[0] * SX + X0, p[1] * SY + Y0)


class Topology:
    """A grid of parcels whose shared edges are shared arcs (quantized, delta-encoded)."""

    def __init__(self, rng: random.Random) -> None:
        gx = [round(c * (Q - 1) / NCOLS) for c in range(NCOLS + 1)]
        gy = [round(r * (Q - 1) / NROWS) for r in range(NROWS + 1)]
        self.gx, self.gy = gx, gy
        self.v: dict[tuple[int, int], tuple[int, int]] = {}
        for r in range(NROWS + 1):
            for c in range(NCOLS + 1):
                fixed_x = c in (0, NCOLS) or c in V_SPLITS
                fixed_y = r in (0, NROWS) or (r == H_SPLIT_ROW and c >= H_SPLIT_FROM_COL)
                dx = 0 if fixed_x else rng.randint(-350, 350)
                dy = 0 if fixed_y else rng.randint(-450, 450)
                self.v[r, c] = (gx[c] + dx, gy[r] + dy)
        self.arcs: list[list[tuple[int, int]]] = []
        self.edge_arcs: dict[tuple[str, int, int], list[int]] = {}
        self.edge_pts: dict[tuple[str, int, int], list[tuple[int, int]]] = {}
        protected = {BOWTIE_CELL}
        no_bend = {e for cell in protected for e in self.cell_edges(*cell)}
        split_edges = {("h", OVERLAP_B[0], OVERLAP_B[1]), ("h", OVERLAP_B[0] + 1, OVERLAP_B[1])}
        for kind, rmax, cmax in (("h", NROWS + 1, NCOLS), ("v", NROWS, NCOLS + 1)):
            for r in range(rmax):
                for c in range(cmax):
                    key = (kind, r, c)
                    a = self.v[r, c]
                    b = self.v[(r, c + 1) if kind == "h" else (r + 1, c)]
                    on_border = (kind == "h" and r in (0, NROWS)) or (
                        kind == "v" and c in (0, NCOLS)
                    )
                    on_split = (kind == "v" and c in V_SPLITS) or (
                        kind == "h" and r == H_SPLIT_ROW and c >= H_SPLIT_FROM_COL
                    )
                    pts = [a, b]
                    if key in split_edges:
                        pts = [a, ((a[0] + b[0]) // 2, (a[1] + b[1]) // 2), b]
                    elif not (on_border or on_split or key in no_bend) and rng.random() < 0.1:
                        off = rng.choice((-1, 1)) * rng.randint(80, 200)
                        mid = ((a[0] + b[0]) // 2, (a[1] + b[1]) // 2)
                        mid = (mid[0], mid[1] + off) if kind == "h" else (mid[0] + off, mid[1])
                        pts = [a, mid, b]
                    self.edge_pts[key] = pts

    @staticmethod
    def cell_edges(r: int, c: int) -> list[tuple[str, int, int]]:
        return [("h", r, c), ("v", r, c + 1), ("h", r + 1, c), ("v", r, c)]

    def add_arc(self, pts: list[tuple[int, int]]) -> int:
        self.arcs.append(pts)
        return len(self.arcs) - 1

    def edge(self, key: tuple[str, int, int], forward: bool = True) -> list[int]:
        if key not in self.edge_arcs:
            pts = self.edge_pts[key]
            if (
                len(pts) == 3
                and key[0] == "h"
                and key[1:] in (OVERLAP_B, (OVERLAP_B[0] + 1, OVERLAP_B[1]))
            ):
                # the overlapping parcel's outline meets this edge at its midpoint: a junction
                self.edge_arcs[key] = [self.add_arc(pts[:2]), self.add_arc(pts[1:])]
            else:
                self.edge_arcs[key] = [self.add_arc(pts)]
        idx = self.edge_arcs[key]
        return list(idx) if forward else [~i for i in reversed(idx)]

    def cell_ring(self, r: int, c: int) -> list[int]:
        bottom, right, top, left = self.cell_edges(r, c)
        return [
            *self.edge(bottom),
            *self.edge(right),
            *self.edge(top, False),
            *self.edge(left, False),
        ]

    def arc_points(self, i: int) -> list[tuple[int, int]]:
        return self.arcs[i] if i >= 0 else self.arcs[~i][::-1]

    def ring_coords(self, ring: list[int]) -> list[tuple[float, float]]:
        out: list[tuple[int, int]] = []
        for i in ring:
            pts = self.arc_points(i)
            out.extend(pts if not out else pts[1:])
        return [deq(p) for p in out]

    def shapely_of(self, gtype: str, arcs: Any) -> Polygon | MultiPolygon:
        if gtype == "Polygon":
            if not arcs:
                return Polygon()
            return Polygon(self.ring_coords(arcs[0]), [self.ring_coords(h) for h in arcs[1:]])
        return MultiPolygon([self.shapely_of("Polygon", p) for p in arcs])

    def encoded_arcs(self) -> list[list[list[int]]]:
        out = []
        for pts in self.arcs:
            enc = [list(pts[0])]
            enc.extend([b[0] - a[0], b[1] - a[1]] for a, b in itertools.pairwise(pts))
            out.append(enc)
        return out

    def cell_center(self, r: int, c: int) -> tuple[float, float]:
        corners = [deq(self.v[p]) for p in ((r, c), (r, c + 1), (r + 1, c + 1), (r + 1, c))]
        return (sum(p[0] for p in corners) / 4, sum(p[1] for p in corners) / 4)


def pick_weighted(rng: random.Random, items: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in items], weights=[w for _, w in items])[0]


def map_lot_key(map_lot: str) -> tuple[int, str, int]:
    m = re.match(r"^(\d{3})([A-Z]?)-(\d+)$", map_lot)
    assert m, map_lot
    return (int(m.group(1)), m.group(2), int(m.group(3)))


def make_portland() -> dict[str, Any]:
    rng = rng_for("portland")
    PL_DIR.mkdir(parents=True, exist_ok=True)
    topo = Topology(rng)

    multi_first = {a: b for a, b in MULTI_PAIRS}
    multi_second = {b for _, b in MULTI_PAIRS}
    feats: list[dict[str, Any]] = []
    hole_arc: int | None = None
    for r in range(NROWS):
        for c in range(NCOLS):
            cell = (r, c)
            if cell in multi_second:
                continue
            f: dict[str, Any] = {"cells": [cell], "kind": "plain", "type": "Polygon"}
            if cell in multi_first:
                f.update(
                    kind="multipolygon",
                    type="MultiPolygon",
                    cells=[cell, multi_first[cell]],
                    arcs=[[topo.cell_ring(*cell)], [topo.cell_ring(*multi_first[cell])]],
                )
            elif cell == BOWTIE_CELL:
                a, b = topo.v[r, c], topo.v[r, c + 1]
                cc, d = topo.v[r + 1, c + 1], topo.v[r + 1, c]
                f.update(kind="bowtie", arcs=[[topo.add_arc([a, b, d, cc, a])]])
            elif cell == OVERLAP_A:
                rb, cb = OVERLAP_B
                bottom_b, top_b = topo.edge(("h", rb, cb)), topo.edge(("h", rb + 1, cb))
                across = topo.add_arc(
                    [topo.arc_points(bottom_b[0])[-1], topo.arc_points(top_b[0])[-1]]
                )
                ring = [
                    *topo.edge(("h", r, c)),
                    bottom_b[0],
                    across,
                    ~top_b[0],
                    *topo.edge(("h", r + 1, c), False),
                    *topo.edge(("v", r, c), False),
                ]
                f.update(kind="overlap_a", arcs=[ring])
            elif cell == DONUT_CELL:
                cx, cy = topo.v[r, c]
                w = topo.v[r, c + 1][0] - cx
                h = topo.v[r + 1, c][1] - cy
                x0, x1 = cx + int(w * 0.35), cx + int(w * 0.65)
                y0, y1 = cy + int(h * 0.35), cy + int(h * 0.65)
                hole_arc = topo.add_arc([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)])
                f.update(kind="donut", arcs=[topo.cell_ring(*cell), [~hole_arc]])
            else:
                if cell == OVERLAP_B:
                    f["kind"] = "overlap_b"
                f["arcs"] = [topo.cell_ring(*cell)]
            feats.append(f)
            if f["kind"] == "donut":
                assert hole_arc is not None
                feats.append(
                    {"cells": [cell], "kind": "island", "type": "Polygon", "arcs": [[hole_arc]]}
                )
    feats.insert(EMPTY_AT, {"cells": [], "kind": "empty", "type": "Polygon", "arcs": []})

    # --- MAP_LOT ids: sheets per 3x4 block of cells, then the deliberate ones -------------------
    blocks = sorted({(r // 3, c // 4) for r in range(NROWS) for c in range(NCOLS)})
    bases = rng.sample(range(5, 420), len(blocks))
    lettered = set(rng.sample(range(len(blocks)), 6))
    sheet = {
        blk: f"{bases[i]:03d}{rng.choice('ABCD') if i in lettered else ''}"
        for i, blk in enumerate(blocks)
    }
    next_lot = {blk: rng.randint(1, 150) for blk in blocks}
    reserved = set(E_IDS) | set(EXAMPLE_IDS) | set(ORPHAN_IDS) | set(PLACEHOLDERS)
    used: set[str] = set()
    empty_block = (2, 2)
    for f in feats:
        blk = (f["cells"][0][0] // 3, f["cells"][0][1] // 4) if f["cells"] else empty_block
        while True:
            next_lot[blk] += rng.choice((1, 1, 1, 2, 3))
            ml = f"{sheet[blk]}-{next_lot[blk]}"
            if ml not in reserved and ml not in used:
                break
        used.add(ml)
        f["MAP_LOT"] = ml
    plain = [i for i, f in enumerate(feats) if f["kind"] == "plain"]
    chosen = rng.sample(plain, len(E_IDS) + len(EXAMPLE_IDS) + 3 + 4)
    e_feats = sorted(chosen[: len(E_IDS)])
    rest = chosen[len(E_IDS) :]
    for i, ml in zip(e_feats, E_IDS, strict=True):
        feats[i]["MAP_LOT"], feats[i]["role"] = ml, "e_id"
    for i, ml in zip(rest[:2], EXAMPLE_IDS, strict=True):
        feats[i]["MAP_LOT"], feats[i]["role"] = ml, "example"
    for i, ml in zip(rest[2:5], ("000-000", "UNKNOWN", "000-000"), strict=True):
        feats[i]["MAP_LOT"], feats[i]["role"] = ml, "placeholder"
    dup_src, dup_dst = rest[5:7], rest[7:9]
    for src, dst in zip(dup_src, dup_dst, strict=True):
        feats[src]["role"] = "dup"
        feats[dst]["MAP_LOT"], feats[dst]["role"] = feats[src]["MAP_LOT"], "dup"
    for n, f in enumerate(feats, start=1):
        f["OBJECTID"] = n
        f["geom"] = topo.shapely_of(f["type"], f["arcs"])

    # --- parcels.topojson ---------------------------------------------------------------------
    geometries = []
    for f in feats:
        g: dict[str, Any] = {
            "type": f["type"],
            "arcs": f["arcs"],
            "properties": {"OBJECTID": f["OBJECTID"], "MAP_LOT": f["MAP_LOT"]},
        }
        geometries.append(g)
    xs = [deq(p)[0] for pts in topo.arcs for p in pts]
    ys = [deq(p)[1] for pts in topo.arcs for p in pts]
    topojson = {
        "type": "Topology",
        "bbox": [min(xs), min(ys), max(xs), max(ys)],
        "transform": {"scale": [SX, SY], "translate": [X0, Y0]},
        "objects": {"parcels": {"type": "GeometryCollection", "geometries": geometries}},
        "arcs": topo.encoded_arcs(),
    }
    write_json(PL_DIR / "parcels.topojson", topojson)

    # --- boundary.geojson and districts.geojson -----------------------------------------------
    gx0, gy0 = deq((0, 0))
    gx1, gy1 = deq((topo.gx[NCOLS], topo.gy[NROWS]))
    m = 0.0006
    outline: list[tuple[float, float]] = []
    corners = [(gx0 - m, gy0 - m), (gx1 + m, gy0 - m), (gx1 + m, gy1 + m), (gx0 - m, gy1 + m)]
    outward = [(0.0, -1.0), (1.0, 0.0), (0.0, 1.0), (-1.0, 0.0)]
    for side in range(4):
        (ax, ay), (bx, by) = corners[side], corners[(side + 1) % 4]
        ox, oy = outward[side]
        steps = 9
        for k in range(steps):
            t = k / steps
            push = rng.uniform(0, 0.0009) if k else 0.0
            outline.append(
                (round(ax + (bx - ax) * t + ox * push, 6), round(ay + (by - ay) * t + oy * push, 6))
            )
    boundary = Polygon(outline)
    grid_box = box(gx0, gy0, gx1, gy1)
    assert boundary.is_valid and boundary.contains(grid_box)
    write_json(
        PL_DIR / "boundary.geojson",
        {
            "type": "FeatureCollection",
            "name": "boundary",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"NAME": "Portland", "STATE": "ME", "TOWN_ID": "23005"},
                    "geometry": mapping(boundary),
                }
            ],
        },
    )

    xv = [deq((topo.gx[c], 0))[0] for c in V_SPLITS]
    yh = deq((0, topo.gy[H_SPLIT_ROW]))[1]
    pieces = [boundary]
    for x in xv:
        line = LineString([(x, gy0 - 1), (x, gy1 + 1)])
        pieces = [p for piece in pieces for p in split(piece, line).geoms]
    east_cut = LineString([(xv[-1] - 0.001, yh), (gx1 + 1, yh)])
    pieces = [
        p
        for piece in pieces
        for p in (
            split(piece, east_cut).geoms if piece.representative_point().x > xv[-1] else [piece]
        )
    ]
    assert len(pieces) == 5, len(pieces)

    def district_of(x: float, y: float) -> str:
        if x < xv[0]:
            return "1"
        if x < xv[1]:
            return "2"
        if x < xv[2]:
            return "3"
        return "4" if y < yh else "5"

    districts = {district_of(*p.representative_point().coords[0]): p for p in pieces}
    assert sorted(districts) == ["1", "2", "3", "4", "5"]
    write_json(
        PL_DIR / "districts.geojson",
        {
            "type": "FeatureCollection",
            "name": "council_districts",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"DISTRICT": d, "COUNCILOR": None},
                    "geometry": mapping(districts[d]),
                }
                for d in sorted(districts)
            ],
        },
    )

    # --- assessor.csv ---------------------------------------------------------------------------
    lat0 = (Y0 + Y1) / 2
    m2_per_deg2 = 111_320 * math.cos(math.radians(lat0)) * 110_574
    genuine = {}
    for f in feats:
        if f["MAP_LOT"] in PLACEHOLDERS or f["MAP_LOT"] in genuine:
            continue
        genuine[f["MAP_LOT"]] = f
    missing_pool = sorted(
        ml for ml, f in genuine.items() if f.get("role") is None and f["kind"] == "plain"
    )
    missing = sorted(rng.sample(missing_pool, N_MISSING_FROM_TABLE), key=map_lot_key)
    table_ids = sorted((set(genuine) - set(missing)) | set(ORPHAN_IDS), key=map_lot_key)
    rows: list[list[str]] = []
    for ml in table_ids:
        street = rng.choice(PL_STREETS)
        location = street if rng.random() < 0.1 else f"{rng.randint(1, 999)} {street}"
        owner = pick_weighted(rng, PL_OWNERS)
        land_use = pick_weighted(rng, PL_LAND_USES)
        if ml in genuine and not genuine[ml]["geom"].is_empty:
            area_deg2 = shapely.area(shapely.make_valid(genuine[ml]["geom"]))
            acres = area_deg2 * m2_per_deg2 / 4046.8564224
        else:
            acres = rng.uniform(0.05, 3.0)
        acreage = f"{acres:.2f}"
        sold = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 26000))
        roll = rng.random()
        if roll < 0.58:
            sale = fmt_mdy_padded(sold)
        elif roll < 0.80:
            sale = fmt_iso_midnight(sold)
        elif roll < 0.88:
            sale = "unknown"
        else:
            sale = ""
        rows.append([ml, location, owner, land_use, acreage, sale])
    big_rows = rng.sample(range(len(rows)), N_BIG_ACREAGE)
    for i in big_rows:
        rows[i][4] = f"{rng.uniform(1000, 2400):,.1f}"
    cells = [(i, j) for i in range(len(rows)) for j in range(1, 6) if i not in big_rows or j != 4]
    for i, j in rng.sample(cells, N_NULL_CELLS_ASSESSOR):
        rows[i][j] = NULL
    write_csv(
        PL_DIR / "assessor.csv",
        ["Map-Lot", "LOCATION", "OWNER", "LAND_USE", "ACREAGE", "SALE_DATE"],
        rows,
    )

    write_csv(
        PL_DIR / "departments.csv", ["code", "name", "aliases"], [list(d) for d in PL_DEPARTMENTS]
    )

    return {
        "feats": feats,
        "missing": missing,
        "districts": districts,
        "boundary": boundary,
        "topo": topo,
        "yh": yh,
        "xv": xv,
    }


def check_portland(made: dict[str, Any]) -> dict[str, Any]:
    feats = made["feats"]
    s: dict[str, Any] = {}
    path = PL_DIR / "parcels.topojson"
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in raw and raw["type"] == "Topology"
    s["raw_geometries"] = len(raw["objects"]["parcels"]["geometries"])
    s["arcs"] = len(raw["arcs"])
    s["raw_types"] = dict(Counter(g["type"] for g in raw["objects"]["parcels"]["geometries"]))
    uses = Counter(
        abs(~i if i < 0 else i)
        for g in raw["objects"]["parcels"]["geometries"]
        for i in _flatten(g["arcs"])
    )
    s["shared_arcs"] = sum(1 for n in uses.values() if n >= 2)

    df = pyogrio.read_dataframe(path)
    info = pyogrio.read_info(path)
    s["layer"] = pyogrio.list_layers(path)[0][0]
    s["crs"] = info["crs"]
    s["fields"] = list(info["fields"])
    assert len(df) == len(feats) == s["raw_geometries"]
    for f, (ml, oid, geom) in zip(
        feats, zip(df["MAP_LOT"], df["OBJECTID"], df.geometry, strict=True), strict=True
    ):
        assert (ml, int(oid)) == (f["MAP_LOT"], f["OBJECTID"])
        assert geom.is_empty == f["geom"].is_empty
        if not geom.is_empty:
            assert geom.equals_exact(f["geom"], 1e-11), f["OBJECTID"]
    s["features"] = len(df)
    s["geom_types"] = dict(Counter(df.geometry.geom_type))
    ids = list(df["MAP_LOT"])
    s["e_ids"] = [ml for ml in ids if E_ID.match(ml)]
    s["e_id_features"] = [
        (int(o), ml) for o, ml in zip(df["OBJECTID"], ids, strict=True) if E_ID.match(ml)
    ]
    s["placeholders"] = [
        (int(o), ml) for o, ml in zip(df["OBJECTID"], ids, strict=True) if ml in PLACEHOLDERS
    ]
    counts = Counter(ids)
    s["duplicate_ids"] = {
        ml: [int(o) for o, x in zip(df["OBJECTID"], ids, strict=True) if x == ml]
        for ml, n in counts.items()
        if n > 1 and ml not in PLACEHOLDERS
    }
    s["distinct_genuine"] = len({ml for ml in ids if ml not in PLACEHOLDERS})
    s["nonmatching_pattern"] = [ml for ml in ids if not (E_ID.match(ml) or PLAIN_ID.match(ml))]
    s["empty"] = [
        (int(o), ml)
        for o, ml, g in zip(df["OBJECTID"], ids, df.geometry, strict=True)
        if g.is_empty
    ]
    nonempty = df[~df.geometry.is_empty]
    s["invalid"] = [
        (int(o), ml, shapely.is_valid_reason(g))
        for o, ml, g in zip(
            nonempty["OBJECTID"], nonempty["MAP_LOT"], nonempty.geometry, strict=True
        )
        if not g.is_valid
    ]
    bow_oid = next(f["OBJECTID"] for f in feats if f["kind"] == "bowtie")
    bow = df.loc[df["OBJECTID"] == bow_oid, "geometry"].iloc[0]
    s["bowtie_area"], s["bowtie_valid_area"] = bow.area, shapely.make_valid(bow).area
    s["median_area"] = float(df.geometry.area.median())
    fixed = gpd.GeoDataFrame(
        nonempty[["OBJECTID", "MAP_LOT"]],
        geometry=shapely.make_valid(nonempty.geometry.values),
        crs=4326,
    )
    pairs = gpd.sjoin(fixed, fixed, predicate="intersects")
    pairs = pairs[pairs["OBJECTID_left"] < pairs["OBJECTID_right"]]
    geom_by = dict(zip(fixed["OBJECTID"], fixed.geometry, strict=True))
    overlaps = []
    for a, b in zip(pairs["OBJECTID_left"], pairs["OBJECTID_right"], strict=True):
        area = geom_by[a].intersection(geom_by[b]).area
        if area > 1e-12:  # ~0.01 m2; shared edges give 0
            overlaps.append((int(a), int(b), area))
    s["overlaps"] = overlaps
    a_area = geom_by[overlaps[0][1]].area if overlaps else 0
    s["overlap_share_of_b"] = overlaps[0][2] / a_area if overlaps else 0
    holes = [
        (int(o), ml)
        for o, ml, g in zip(df["OBJECTID"], ids, df.geometry, strict=True)
        if g.geom_type == "Polygon" and not g.is_empty and len(g.interiors)
    ]
    s["with_holes"] = holes
    kinds = {f["kind"]: (f["OBJECTID"], f["MAP_LOT"]) for f in feats if f["kind"] != "plain"}
    s["kinds"] = kinds
    s["multis"] = [(f["OBJECTID"], f["MAP_LOT"]) for f in feats if f["kind"] == "multipolygon"]

    # districts / boundary
    dist = pyogrio.read_dataframe(PL_DIR / "districts.geojson")
    bnd = pyogrio.read_dataframe(PL_DIR / "boundary.geojson")
    s["districts_crs"] = dist.crs.to_epsg()
    s["boundary_crs"] = bnd.crs.to_epsg()
    assert list(dist["DISTRICT"]) == ["1", "2", "3", "4", "5"]
    union = unary_union(list(dist.geometry))
    s["district_union_vs_boundary"] = union.symmetric_difference(bnd.geometry[0]).area
    assert s["district_union_vs_boundary"] < 1e-14
    inter = max(
        dist.geometry[i].intersection(dist.geometry[j]).area
        for i in range(5)
        for j in range(i + 1, 5)
    )
    assert inter < 1e-14, inter
    assert bnd.geometry[0].contains(unary_union(list(fixed.geometry)))
    per_district: Counter[str] = Counter()
    straddling = []
    for f in feats:
        if not f["cells"]:
            continue
        pt = Point(made["topo"].cell_center(*f["cells"][0]))
        hits = [d for d, g in zip(dist["DISTRICT"], dist.geometry, strict=True) if g.contains(pt)]
        assert len(hits) == 1
        per_district[hits[0]] += 1
        g = shapely.make_valid(f["geom"])
        inside = [
            d
            for d, dg in zip(dist["DISTRICT"], dist.geometry, strict=True)
            if dg.intersection(g).area > 1e-12
        ]
        if inside != hits:
            straddling.append(f["OBJECTID"])
    s["parcels_per_district"] = dict(sorted(per_district.items()))
    s["straddling"] = straddling
    s["district_areas"] = [round(g.area * 1e6, 3) for g in dist.geometry]

    # assessor.csv
    rows = read_csv(PL_DIR / "assessor.csv")
    header, data = rows[0], rows[1:]
    s["assessor_header"] = header
    s["assessor_rows"] = len(data)
    table = [r[0] for r in data]
    assert len(set(table)) == len(table)
    shape_ids = {ml for ml in ids if ml not in PLACEHOLDERS}
    s["table_not_in_shape"] = sorted(set(table) - shape_ids, key=map_lot_key)
    s["shape_not_in_table"] = sorted(shape_ids - set(table), key=map_lot_key)
    assert s["shape_not_in_table"] == made["missing"]
    s["table_e_ids"] = [ml for ml in table if E_ID.match(ml)]
    s["nulls_by_col"] = {h: sum(1 for r in data if r[j] == NULL) for j, h in enumerate(header)}
    s["null_cells"] = sum(s["nulls_by_col"].values())
    s["null_positions"] = [
        (i + 1, header[j]) for i, r in enumerate(data) for j in range(len(header)) if r[j] == NULL
    ]
    s["acreage_thousands"] = [(i + 1, r[0], r[4]) for i, r in enumerate(data) if "," in r[4]]
    sale: Counter[str] = Counter()
    for r in data:
        v = r[5]
        if v == NULL:
            sale["NULL"] += 1
        elif v == "":
            sale["blank"] += 1
        elif v == "unknown":
            sale["unknown"] += 1
        elif re.fullmatch(r"\d{2}/\d{2}/\d{4}", v):
            sale["MM/DD/YYYY"] += 1
        elif re.fullmatch(r"\d{4}-\d{2}-\d{2} 00:00:00", v):
            sale["YYYY-MM-DD 00:00:00"] += 1
        else:
            raise AssertionError(v)
    s["sale_formats"] = dict(sale)
    s["owners"] = dict(Counter(r[2] for r in data).most_common())
    s["locations_without_number"] = sum(1 for r in data if r[1] != NULL and not r[1][0].isdigit())
    s["departments"] = read_csv(PL_DIR / "departments.csv")
    return s


def _flatten(x: Any) -> list[int]:
    if isinstance(x, int):
        return [x]
    return [i for y in x for i in _flatten(y)]


# ---------------------------------------------------------------------------------------------
# 2. la_nonprofit_leases/
# ---------------------------------------------------------------------------------------------

LA_DIR = HERE / "la_nonprofit_leases"
N_LEASES = 112
LEASE_HEADER = [
    "No.",
    "Non Profit",
    "Address",
    "Council District",
    "Dept",
    "Lease Start",
    "Lease Exp.",
    "Lat",
    "Lon",
]
SHP_NAMES = {
    "No.": "No_",
    "Non Profit": "Non_Profit",
    "Address": "Address",
    "Council District": "Council_Di",
    "Dept": "Dept",
    "Lease Start": "Lease_Star",
    "Lease Exp.": "Lease_Exp_",
}
DEPT_COUNTS = [
    ("GSD", 22),
    ("GSD?", 4),
    ("HCID", 14),
    ("LAHD", 10),
    ("Rec&Parks", 14),
    ("RAP", 16),
    ("Cultural Affairs", 12),
    ("Cutural Affairs", 3),
    ("LAPL", 9),
    ("DOT", 8),
]
LA_DEPARTMENTS = [
    ("LAHD", "Los Angeles Housing Department", "HCID"),
    ("GSD", "General Services", ""),
    ("RAP", "Recreation and Parks", "Rec&Parks"),
    ("DCA", "Cultural Affairs", ""),
    ("LAPL", "Public Library", ""),
    ("LADOT", "Transportation", "DOT"),
]
FAR_OFF = [
    ("Texas", 30.267153, -97.743061),
    ("New York", 40.712776, -74.005974),
    ("Mexico", 20.659699, -103.349609),
    ("Spain", 40.416775, -3.703790),
]
N_PARTIAL = 20
LA_AREAS = [
    "Boyle Heights",
    "Watts",
    "Pacoima",
    "Venice",
    "Highland Park",
    "Sun Valley",
    "Wilmington",
    "San Pedro",
    "Koreatown",
    "Echo Park",
    "Crenshaw",
    "Van Nuys",
    "Sylmar",
    "Westlake",
    "Lincoln Heights",
    "Mar Vista",
    "Eagle Rock",
    "Canoga Park",
    "Hollywood",
    "South LA",
    "Chinatown",
    "Little Tokyo",
    "Harbor City",
    "Reseda",
    "El Sereno",
    "Northridge",
    "Jefferson Park",
    "Leimert Park",
    "Tujunga",
    "Palms",
    "Cypress Park",
    "Glassell Park",
    "Arleta",
    "Panorama City",
    "Westchester",
    "Atwater Village",
]
LA_KINDS = [
    "Youth Center",
    "Senior Services",
    "Community Garden",
    "Arts Collective",
    "Boxing Club",
    "Theatre Company",
    "Child Development Center",
    "Food Pantry",
    "Family Resource Center",
    "Music Academy",
    "Legal Aid Clinic",
    "Health Clinic",
    "Tenants Union",
    "Historical Society",
    "Skate Park Association",
    "Little League",
    "Literacy Project",
    "Job Training Center",
    "Women's Shelter",
    "Veterans Post",
]
LA_SPANISH = [
    "Asociación de Vecinos de {a}",
    "Centro Cultural Niños de {a}",
    "Fundación Educación {a}",
]
LA_STREETS = [
    "W Pico Blvd",
    "S Broadway",
    "N Figueroa St",
    "E 1st St",
    "Van Nuys Blvd",
    "W Jefferson Blvd",
    "S Central Ave",
    "W Sunset Blvd",
    "N Spring St",
    "S Vermont Ave",
    "Crenshaw Blvd",
    "Laurel Canyon Blvd",
    "S Gaffey St",
    "W Venice Blvd",
    "E Cesar E Chavez Ave",
    "N Eastern Ave",
    "Lankershim Blvd",
    "S Western Ave",
    "W Slauson Ave",
    "Colorado Blvd",
    "Corinth Ave",
    "Main St",
]


def make_leases() -> dict[str, Any]:
    rng = rng_for("la_leases")
    LA_DIR.mkdir(parents=True, exist_ok=True)
    nos = list(range(1, N_LEASES + 1))

    # names: unique, except two organisations that hold two leases each
    names: list[str] = []
    seen: set[str] = set()
    spanish_at = set(rng.sample(nos, 3))
    for no in nos:
        while True:
            area = rng.choice(LA_AREAS)
            if no in spanish_at:
                name = rng.choice(LA_SPANISH).format(a=area)
            else:
                name = f"{area} {rng.choice(LA_KINDS)}"
                roll = rng.random()
                if roll < 0.12:
                    name += ", Inc."
                elif roll < 0.2:
                    name += " Inc"
                elif roll < 0.25:
                    name = f"Friends of the {area} Library"
            if name not in seen:
                break
        seen.add(name)
        names.append(name)
    repeat_pairs = [tuple(sorted(p)) for p in (rng.sample(nos, 2), rng.sample(nos, 2))]
    for a, b in repeat_pairs:
        names[b - 1] = names[a - 1]

    addresses = []
    for _ in nos:
        addr = f"{rng.randint(100, 19999)} {rng.choice(LA_STREETS)}"
        roll = rng.random()
        if roll < 0.15:
            addr += f", Los Angeles, CA {rng.randint(90001, 90068)}"
        elif roll < 0.2:
            addr += f" #{rng.randint(1, 300)}"
        addresses.append(addr)

    depts = [d for d, n in DEPT_COUNTS for _ in range(n)]
    assert len(depts) == N_LEASES
    rng.shuffle(depts)

    districts = [str(rng.randint(1, 15)) for _ in nos]
    pool = nos[:]
    rng.shuffle(pool)

    def take(n: int) -> list[int]:
        return sorted(pool.pop() for _ in range(n))

    cd_prefixed, cd_blank, cd_multi = take(3), take(2), take(1)
    for no in cd_prefixed:
        districts[no - 1] = f"CD {districts[no - 1]}"
    for no in cd_blank:
        districts[no - 1] = ""
    districts[cd_multi[0] - 1] = "4, 5"
    addr_blank = take(1)
    for no in addr_blank:
        addresses[no - 1] = ""

    # dates
    pool = nos[:]
    rng.shuffle(pool)
    in_process, m2m, tbd_both, tbd_exp = take(4), take(6), take(2), take(2)
    blank_start, blank_exp, blank_both = take(3), take(3), take(1)
    undetermined = set(in_process + m2m + tbd_both + tbd_exp + blank_start + blank_exp + blank_both)
    determined = [no for no in nos if no not in undetermined]
    partial = sorted(rng.sample(determined, N_PARTIAL))
    starts: dict[int, dt.date] = {}
    ends: dict[int, dt.date] = {}
    for no in nos:
        year = rng.randint(1994, 2022)
        if no in partial:
            while True:
                if rng.random() < 0.6:  # starts mid-month, ends on a month's last day
                    s = dt.date(year, rng.randint(1, 12), rng.randint(2, 28))
                    e = add_months(s.replace(day=1), rng.choice((60, 120, 180, 240, 300)) + 5)
                    e = e.replace(day=calendar.monthrange(e.year, e.month)[1])
                else:  # starts on the 1st, ends mid-month
                    s = dt.date(year, rng.randint(1, 12), 1)
                    e = add_months(s, rng.choice((36, 60, 120, 240)))
                    e = e.replace(day=rng.randint(2, 27))
                if whole_months(s, e) is None and s.day != e.day:
                    break
        else:
            s = dt.date(year, rng.randint(1, 12), 1)
            months = rng.choice((12, 13, 18, 24, 36, 60, 60, 120, 120, 180, 240, 300, 360, 660))
            e = add_months(s, months) - dt.timedelta(days=1)
            assert whole_months(s, e) == months
        starts[no], ends[no] = s, e

    def fmt(d: dt.date) -> str:
        return fmt_iso_midnight(d) if rng.random() < 0.15 else fmt_mdy(d)

    start_txt = {no: fmt(starts[no]) for no in nos}
    exp_txt = {no: fmt(ends[no]) for no in nos}
    for no in in_process:
        start_txt[no] = exp_txt[no] = "Lease in process"
    for no in m2m:
        exp_txt[no] = "Month to Month"
    for no in tbd_both:
        start_txt[no] = exp_txt[no] = "TBD"
    for no in tbd_exp:
        exp_txt[no] = "TBD"
    for no in blank_start + blank_both:
        start_txt[no] = ""
    for no in blank_exp + blank_both:
        exp_txt[no] = ""

    # coordinates
    pool = nos[:]
    rng.shuffle(pool)
    far_rows = take(len(FAR_OFF))
    no_coords = take(2)
    lat = {no: f"{rng.uniform(33.94, 34.28):.6f}" for no in nos}
    lon = {no: f"{rng.uniform(-118.55, -118.20):.6f}" for no in nos}
    far = dict(zip(far_rows, FAR_OFF, strict=True))
    for no, (_, la, lo) in far.items():
        lat[no], lon[no] = f"{la:.6f}", f"{lo:.6f}"
    for no in no_coords:
        lat[no] = lon[no] = ""

    rows = [
        [
            str(no),
            names[no - 1],
            addresses[no - 1],
            districts[no - 1],
            depts[no - 1],
            start_txt[no],
            exp_txt[no],
            lat[no],
            lon[no],
        ]
        for no in nos
    ]
    footer = [f"Total: {N_LEASES} leases"] + [""] * (len(LEASE_HEADER) - 1)
    write_csv(
        LA_DIR / "nonprofit_leases.csv", LEASE_HEADER, [*rows, [""] * len(LEASE_HEADER), footer]
    )

    # the same as a zipped point shapefile, DBF names cut to 10 characters
    geoms = [Point(float(lon[no]), float(lat[no])) if lat[no] else None for no in nos]
    gdf = gpd.GeoDataFrame(
        {SHP_NAMES[h]: [r[j] for r in rows] for j, h in enumerate(LEASE_HEADER) if h in SHP_NAMES},
        geometry=geoms,
        crs="EPSG:4326",
    )
    gdf["No_"] = gdf["No_"].astype("int32")
    with tempfile.TemporaryDirectory() as tmp:
        shp = Path(tmp) / "nonprofit_leases.shp"
        pyogrio.write_dataframe(gdf, shp, driver="ESRI Shapefile", encoding="UTF-8")
        dbf = shp.with_suffix(".dbf")
        raw = bytearray(dbf.read_bytes())
        raw[1:4] = bytes((2023 - 1900, 6, 30))  # fixed "last update" date -> same bytes each run
        dbf.write_bytes(bytes(raw))
        zpath = LA_DIR / "nonprofit_leases.zip"
        with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
            for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                part = shp.with_suffix(ext)
                if part.exists():
                    zi = zipfile.ZipInfo(part.name, date_time=(2023, 6, 30, 12, 0, 0))
                    zi.compress_type = zipfile.ZIP_DEFLATED
                    zi.external_attr = 0o644 << 16
                    zf.writestr(zi, part.read_bytes())

    write_csv(
        LA_DIR / "departments.csv", ["code", "name", "aliases"], [list(d) for d in LA_DEPARTMENTS]
    )
    return {
        "partial": partial,
        "far": far,
        "no_coords": no_coords,
        "repeat_pairs": repeat_pairs,
        "cd_prefixed": cd_prefixed,
        "cd_blank": cd_blank,
        "cd_multi": cd_multi,
        "addr_blank": addr_blank,
        "in_process": in_process,
        "m2m": m2m,
        "tbd_both": tbd_both,
        "tbd_exp": tbd_exp,
        "blank_start": blank_start,
        "blank_exp": blank_exp,
        "blank_both": blank_both,
        "spanish": sorted(spanish_at),
    }


def check_leases(made: dict[str, Any]) -> dict[str, Any]:
    s: dict[str, Any] = {}
    rows = read_csv(LA_DIR / "nonprofit_leases.csv")
    header, body = rows[0], rows[1:]
    assert header == LEASE_HEADER
    s["lines"] = len(rows)
    blank_idx = [i for i, r in enumerate(body) if is_blank_row(r)]
    footer_idx = [i for i, r in enumerate(body) if r[0].startswith("Total")]
    assert footer_idx == [len(body) - 1] and blank_idx == [len(body) - 2]
    s["footer"] = body[-1][0]
    data = [r for r in body if not is_blank_row(r) and not r[0].startswith("Total")]
    assert [int(r[0]) for r in data] == list(range(1, N_LEASES + 1))
    s["rows"] = len(data)
    col = {h: j for j, h in enumerate(header)}
    s["dept"] = dict(Counter(r[col["Dept"]] for r in data))
    fmts: dict[str, Counter[str]] = {"Lease Start": Counter(), "Lease Exp.": Counter()}
    for h, ctr in fmts.items():
        for r in data:
            v = r[col[h]]
            if v == "":
                ctr["blank"] += 1
            elif re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", v):
                ctr["M/D/YYYY"] += 1
            elif re.fullmatch(r"\d{4}-\d{2}-\d{2} 00:00:00", v):
                ctr["YYYY-MM-DD 00:00:00"] += 1
            else:
                ctr[v] += 1
    s["date_formats"] = {h: dict(c) for h, c in fmts.items()}
    partial, whole, undetermined = [], [], []
    for r in data:
        a, b = parse_date(r[col["Lease Start"]]), parse_date(r[col["Lease Exp."]])
        if a is None or b is None:
            undetermined.append(int(r[0]))
        elif whole_months(a, b) is None:
            partial.append(int(r[0]))
        else:
            whole.append(int(r[0]))
    assert partial == made["partial"]
    s["partial"], s["whole"], s["undetermined"] = partial, len(whole), undetermined
    far, nocoord = [], []
    for r in data:
        if r[col["Lat"]] == "":
            nocoord.append(int(r[0]))
            continue
        la, lo = float(r[col["Lat"]]), float(r[col["Lon"]])
        if not (33.7 < la < 34.4 and -118.7 < lo < -118.1):
            far.append((int(r[0]), la, lo))
    assert [f[0] for f in far] == sorted(made["far"]) and nocoord == made["no_coords"]
    s["far"] = [(no, made["far"][no][0], la, lo) for no, la, lo in far]
    s["no_coords"] = nocoord
    s["cd"] = {
        "prefixed": [
            (int(r[0]), r[col["Council District"]])
            for r in data
            if r[col["Council District"]].startswith("CD")
        ],
        "blank": [int(r[0]) for r in data if r[col["Council District"]] == ""],
        "multi": [
            (int(r[0]), r[col["Council District"]])
            for r in data
            if "," in r[col["Council District"]]
        ],
    }
    names = Counter(r[1] for r in data)
    s["repeated_names"] = {
        n: [int(r[0]) for r in data if r[1] == n] for n, k in names.items() if k > 1
    }
    s["distinct_names"] = len(names)
    s["names_with_comma"] = sum(1 for r in data if "," in r[1])
    s["non_ascii_names"] = [(int(r[0]), r[1]) for r in data if not r[1].isascii()]
    s["blank_address"] = [int(r[0]) for r in data if r[2] == ""]

    zpath = LA_DIR / "nonprofit_leases.zip"
    with zipfile.ZipFile(zpath) as zf:
        s["zip_members"] = [(i.filename, i.file_size) for i in zf.infolist()]
    shp = pyogrio.read_dataframe(zpath)
    shp_info = pyogrio.read_info(zpath)
    s["shp_fields"] = list(shp_info["fields"])
    s["shp_dtypes"] = list(shp_info["dtypes"])
    s["shp_geometry_type"] = shp_info["geometry_type"]
    s["shp_crs"] = shp.crs.to_epsg()
    s["shp_rows"] = len(shp)
    s["shp_null_geoms"] = sorted(int(n) for n in shp.loc[shp.geometry.isna(), "No_"])
    assert s["shp_null_geoms"] == made["no_coords"] and len(shp) == N_LEASES
    for r, (_, rec) in zip(data, shp.iterrows(), strict=True):
        for h, short in SHP_NAMES.items():
            got = rec[short]
            want = r[col[h]]
            got_txt = "" if got is None or got != got else str(got)  # None / NaN: null
            assert got_txt == want, (h, want, got)
    s["shp_blank_as_null"] = {short: int(shp[short].isna().sum()) for short in SHP_NAMES.values()}
    s["departments"] = read_csv(LA_DIR / "departments.csv")
    s["gdal"] = gdal_csv_view(LA_DIR / "nonprofit_leases.csv")
    return s


# ---------------------------------------------------------------------------------------------
# 3. la_assessor_roll/
# ---------------------------------------------------------------------------------------------

AR_DIR = HERE / "la_assessor_roll"
NAMED_COLUMNS = [
    "AIN",
    "MAP_BOOK",
    "MAP_PAGE",
    "PARCEL_NBR",
    "ROLL_YEAR",
    "TRA",
    "TAX_RATE_AREA_CITY",
    "SA_HOUSE_NBR",
    "SA_FRACTION",
    "SA_DIRECTION",
    "SA_STREET",
    "SA_SUFFIX",
    "SA_UNIT",
    "SA_CITY",
    "SA_STATE",
    "SA_ZIP",
    "SA_ZIP4",
    "MA_HOUSE_NBR",
    "MA_FRACTION",
    "MA_DIRECTION",
    "MA_STREET",
    "MA_SUFFIX",
    "MA_UNIT",
    "MA_CITY",
    "MA_STATE",
    "MA_ZIP",
    "OWNER_NAME",
    "OWNER_NAME_2",
    "SPECIAL_NAME_LEGEND",
    "SPECIAL_NAME",
    "AGENCY_CLASS_NBR",
    "AGENCY_NAME",
    "USE_CODE",
    "USE_DESC",
    "USE_CATEGORY",
    "USE_TYPE",
    "ZONING",
    "CLUSTER",
    "REGION",
    "NEIGHBORHOOD_CODE",
    "LEGAL_DESC_1",
    "LEGAL_DESC_2",
    "LEGAL_DESC_3",
    "LEGAL_DESC_4",
    "LEGAL_DESC_5",
    "TRACT_NBR",
    "BLOCK_NBR",
    "LOT_NBR",
    "LAND_VALUE",
    "IMPROVEMENT_VALUE",
    "FIXTURE_VALUE",
    "PERSONAL_PROPERTY_VALUE",
    "TOTAL_VALUE",
    "NET_TAXABLE_VALUE",
    "LAND_BASE_YEAR",
    "IMPROVEMENT_BASE_YEAR",
    "EXEMPTION_CODE",
    "HOMEOWNERS_EXEMPTION",
    "REAL_ESTATE_EXEMPTION",
    "FIXTURE_EXEMPTION",
    "PERSONAL_PROPERTY_EXEMPTION",
    "TOTAL_EXEMPTION",
    "RECORDING_DATE",
    "DOCUMENT_NBR",
    "DOCUMENT_TYPE",
    "SALE_PRICE",
    "SALE_DATE",
    "YEAR_BUILT",
    "EFFECTIVE_YEAR_BUILT",
    "SQFT_MAIN",
    "SQFT_LOT",
    "UNITS",
    "BEDROOMS",
    "BATHROOMS",
    "STORIES",
    "DESIGN_TYPE",
    "QUALITY_CLASS",
    "BUILDING_COUNT",
    "LAT",
    "LON",
    "CENTER_LAT",
    "CENTER_LON",
    "CENTER_X",
    "CENTER_Y",
    "PARCEL_TYPE",
    "PARCEL_STATUS",
    "TAXABILITY",
    "PARTIAL_INTEREST",
    "OWNERSHIP_CODE",
    "COUNCIL_DISTRICT",
    "NEIGHBORHOOD_COUNCIL",
    "COMMUNITY_PLAN_AREA",
    "CENSUS_TRACT",
    "CENSUS_BLOCK",
    "SUPERVISOR_DISTRICT",
    "LAST_UPDATED",
]
N_COLUMNS = 130
COLUMNS = NAMED_COLUMNS + [f"FIELD_{i:03d}" for i in range(1, N_COLUMNS - len(NAMED_COLUMNS) + 1)]
NEVER_NULL = {
    "AIN",
    "MAP_BOOK",
    "MAP_PAGE",
    "PARCEL_NBR",
    "LAND_VALUE",
    "LAT",
    "LON",
    "CENTER_LAT",
    "CENTER_LON",
    "CENTER_X",
    "CENTER_Y",
    "COUNCIL_DISTRICT",
    "SA_CITY",
}
ROLLS = [  # file, rows, books, (lat, lon) centre, blank row after data row, community plan
    ("CD01", 40, [5056, 5156, 5157, 5401, 5143], (34.065, -118.270), 20, "Westlake"),
    ("CD02", 38, [2347, 2350, 2368, 2375], (34.160, -118.390), 19, "North Hollywood"),
    ("CD14", 42, [5163, 5172, 5179, 5408], (34.040, -118.225), 21, "Boyle Heights"),
]
ROLL_ZIPS = {
    "CD01": ["90012", "90026", "90057", "90031", "90065", "90017"],
    "CD02": ["91601", "91602", "91604", "91605", "91606", "91607"],
    "CD14": ["90012", "90013", "90014", "90021", "90033", "90063", "90041"],
}
# the GDAL CSV open options of the registry's parcel-import reader (its source.py), copied
GDAL_CSV_OPTIONS = {
    "GEOM_POSSIBLE_NAMES": "wkt,WKT,geometry,GEOMETRY,the_geom,geom",
    "X_POSSIBLE_NAMES": "lon,longitude,LON,Longitude,x,X",
    "Y_POSSIBLE_NAMES": "lat,latitude,LAT,Latitude,y,Y",
    "KEEP_GEOM_COLUMNS": "NO",
    "AUTODETECT_TYPE": "NO",
    "EMPTY_STRING_AS_NULL": "YES",
}


def gdal_csv_view(path: Path) -> tuple[int, int, int]:
    """(features, attribute fields, null geometries) as GDAL reads the CSV with those options."""
    df = pyogrio.read_dataframe(path, **GDAL_CSV_OPTIONS)
    return len(df), len(df.columns) - 1, int(df.geometry.isna().sum())


USES = [
    ("880V", "Government Owned - Vacant Land"),
    ("8800", "Government Owned"),
    ("010V", "Single Family Residence - Vacant"),
    ("0100", "Single Family Residence"),
    ("0500", "Five or More Units"),
    ("100V", "Commercial - Vacant Land"),
    ("1100", "Store"),
    ("1700", "Office Building"),
    ("2600", "Parking Lot"),
    ("7200", "School"),
    ("7400", "Recreation / Park"),
    ("8100", "Utility"),
]
AR_OWNERS = [
    "L A CITY",
    "CITY OF LOS ANGELES",
    "LOS ANGELES CITY",
    "L A CITY DEPT OF REC AND PARKS",
    "L A CITY DEPT OF WATER AND POWER",
    "L A CITY HOUSING AUTHORITY",
    "L A CITY GSD",
]
AR_STREETS = [
    ("MAIN", "ST"),
    ("SPRING", "ST"),
    ("BROADWAY", ""),
    ("FIGUEROA", "ST"),
    ("ALVARADO", "ST"),
    ("LANKERSHIM", "BLVD"),
    ("MAGNOLIA", "BLVD"),
    ("VINELAND", "AVE"),
    ("CESAR E CHAVEZ", "AVE"),
    ("SOTO", "ST"),
    ("1ST", "ST"),
    ("OLYMPIC", "BLVD"),
    ("WILSHIRE", "BLVD"),
    ("RIVERSIDE", "DR"),
    ("BURBANK", "BLVD"),
]
N_SCI_LAND, N_COMMA_LAND, N_NO_LATLON = 2, 3, 2


def make_roll() -> dict[str, Any]:
    AR_DIR.mkdir(parents=True, exist_ok=True)
    made: dict[str, Any] = {}
    shared_ain: str | None = None
    shared_row: list[str] | None = None
    all_ains: list[str] = []
    for name, n, books, (clat, clon), blank_after, plan in ROLLS:
        rng = rng_for(f"roll:{name}")
        ains: list[str] = []
        while len(ains) < n:
            parcel = rng.randint(900, 999) if rng.random() < 0.8 else rng.randint(1, 80)
            ain = f"{rng.choice(books)}{rng.randint(1, 40):03d}{parcel:03d}"
            if ain not in ains and ain not in all_ains:
                ains.append(ain)
        if name == "CD01":
            ains[3] = "5056011903"
        rows = []
        points = []
        for ain in ains:
            lat = clat + rng.uniform(-0.02, 0.02)
            lon = clon + rng.uniform(-0.025, 0.025)
            points.append(Point(lon, lat))
            use_code, use_desc = rng.choice(USES)
            vacant = use_code.endswith("V") or use_code == "2600"
            street, suffix = rng.choice(AR_STREETS)
            house = "0" if rng.random() < 0.15 else str(rng.randint(100, 19999))
            land = rng.randint(40_000, 28_000_000)
            impr = 0 if vacant else rng.randint(10_000, 40_000_000)
            rec = dt.date(1955, 1, 1) + dt.timedelta(days=rng.randint(0, 24500))
            built = 0 if vacant else rng.randint(1905, 2019)
            v: dict[str, str] = {
                "AIN": ain,
                "MAP_BOOK": ain[:4],
                "MAP_PAGE": ain[4:7],
                "PARCEL_NBR": ain[7:],
                "ROLL_YEAR": "2023",
                "TRA": f"{rng.choice((4, 13, 67, 16751)):05d}",
                "TAX_RATE_AREA_CITY": "LOS ANGELES",
                "SA_HOUSE_NBR": house,
                "SA_FRACTION": rng.choice(["", "", "", "", "1/2"]),
                "SA_DIRECTION": rng.choice(["", "N", "S", "E", "W"]),
                "SA_STREET": street,
                "SA_SUFFIX": suffix,
                "SA_UNIT": rng.choice(["", "", "", "", "STE 100", "#2"]),
                "SA_CITY": rng.choice(["LOS ANGELES CA", "LOS ANGELES", "LOS ANGELES CA"]),
                "SA_STATE": "CA",
                "SA_ZIP": rng.choice(ROLL_ZIPS[name]),
                "SA_ZIP4": f"{rng.randint(1000, 9999)}",
                "MA_HOUSE_NBR": "200",
                "MA_FRACTION": "",
                "MA_DIRECTION": "N",
                "MA_STREET": "SPRING",
                "MA_SUFFIX": "ST",
                "MA_UNIT": "RM 201",
                "MA_CITY": "LOS ANGELES CA",
                "MA_STATE": "CA",
                "MA_ZIP": "90012",
                "OWNER_NAME": rng.choice(AR_OWNERS),
                "OWNER_NAME_2": "",
                "SPECIAL_NAME_LEGEND": rng.choice(["", "DBA", "C/O"]),
                "SPECIAL_NAME": "",
                "AGENCY_CLASS_NBR": rng.choice(["9", "9", "6"]),
                "AGENCY_NAME": "CITY OF LOS ANGELES",
                "USE_CODE": use_code,
                "USE_DESC": use_desc,
                "USE_CATEGORY": use_desc.split(" ")[0],
                "USE_TYPE": use_code[:2],
                "ZONING": rng.choice(["LAC2", "LAR3", "LAPF", "LAOS", "LAM2", "LAC4", "LAR1"]),
                "CLUSTER": str(rng.randint(1000, 9999)),
                "REGION": rng.choice(["01", "05", "07"]),
                "NEIGHBORHOOD_CODE": f"{rng.randint(1, 999):03d}",
                "LEGAL_DESC_1": f"TR={rng.randint(1000, 9999)} LOT {rng.randint(1, 99)}",
                "LEGAL_DESC_2": rng.choice(["", "EX OF ST", "POR OF LOT"]),
                "LEGAL_DESC_3": "",
                "LEGAL_DESC_4": "",
                "LEGAL_DESC_5": "",
                "TRACT_NBR": str(rng.randint(1000, 9999)),
                "BLOCK_NBR": rng.choice(["", str(rng.randint(1, 40))]),
                "LOT_NBR": str(rng.randint(1, 99)),
                "LAND_VALUE": str(land),
                "IMPROVEMENT_VALUE": str(impr),
                "FIXTURE_VALUE": "0",
                "PERSONAL_PROPERTY_VALUE": "0",
                "TOTAL_VALUE": str(land + impr),
                "NET_TAXABLE_VALUE": "0",
                "LAND_BASE_YEAR": str(rng.randint(1975, 2022)),
                "IMPROVEMENT_BASE_YEAR": str(rng.randint(1975, 2022)) if impr else "0",
                "EXEMPTION_CODE": rng.choice(["", "X", "9", "X"]),
                "HOMEOWNERS_EXEMPTION": "0",
                "REAL_ESTATE_EXEMPTION": str(land + impr),
                "FIXTURE_EXEMPTION": "0",
                "PERSONAL_PROPERTY_EXEMPTION": "0",
                "TOTAL_EXEMPTION": str(land + impr),
                "RECORDING_DATE": rec.strftime("%Y%m%d"),
                "DOCUMENT_NBR": f"{rng.randint(1, 9999999):07d}",
                "DOCUMENT_TYPE": rng.choice(["DEED", "GRANT DEED", "QUITCLAIM", "FINAL ORDER"]),
                "SALE_PRICE": str(rng.choice([0, 0, rng.randint(1000, 9_000_000)])),
                "SALE_DATE": rng.choice(["", rec.strftime("%Y%m%d")]),
                "YEAR_BUILT": str(built),
                "EFFECTIVE_YEAR_BUILT": str(built),
                "SQFT_MAIN": "0" if vacant else str(rng.randint(400, 250_000)),
                "SQFT_LOT": str(rng.randint(1200, 900_000)),
                "UNITS": "0" if vacant else str(rng.randint(0, 60)),
                "BEDROOMS": "0",
                "BATHROOMS": "0",
                "STORIES": "0" if vacant else str(rng.randint(1, 12)),
                "DESIGN_TYPE": rng.choice(["", "0100", "1700"]),
                "QUALITY_CLASS": rng.choice(["", "C5A", "D6B", "A7"]),
                "BUILDING_COUNT": "0" if vacant else str(rng.randint(1, 4)),
                "LAT": f"{lat:.7f}",
                "LON": f"{lon:.7f}",
                "CENTER_LAT": f"{lat + rng.uniform(-2e-4, 2e-4):.7f}",
                "CENTER_LON": f"{lon + rng.uniform(-2e-4, 2e-4):.7f}",
                "PARCEL_TYPE": rng.choice(["REGULAR", "REGULAR", "REMNANT", "RIGHT OF WAY"]),
                "PARCEL_STATUS": rng.choice(["ACTIVE", "ACTIVE", "ACTIVE", "DELETED"]),
                "TAXABILITY": "EXEMPT",
                "PARTIAL_INTEREST": rng.choice(["", "100", "050"]),
                "OWNERSHIP_CODE": rng.choice(["", "9", "8"]),
                "COUNCIL_DISTRICT": name[2:].lstrip("0"),
                "NEIGHBORHOOD_COUNCIL": rng.choice(
                    ["", "GREATER ECHO PARK", "NOHO WEST", "BOYLE HEIGHTS", "DOWNTOWN LA"]
                ),
                "COMMUNITY_PLAN_AREA": plan,
                "CENSUS_TRACT": f"{rng.randint(1000, 2999)}.{rng.randint(0, 99):02d}",
                "CENSUS_BLOCK": str(rng.randint(1000, 5999)),
                "SUPERVISOR_DISTRICT": rng.choice(["1", "2", "3"]),
                "LAST_UPDATED": "2023-07-01 00:00:00",
            }
            for col in COLUMNS:
                if col.startswith("FIELD_"):
                    v[col] = rng.choice([NULL, NULL, NULL, "", "0", "N", str(rng.randint(1, 99))])
            rows.append(v)
        # State Plane CA V (US ft), as the county's CENTER_X/Y
        sp = gpd.GeoSeries(points, crs=4326).to_crs(2229)
        for v, p in zip(rows, sp, strict=True):
            v["CENTER_X"], v["CENTER_Y"] = f"{p.x:.2f}", f"{p.y:.2f}"
        # random NULLs in every column that may have them
        for v in rows:
            for col in COLUMNS:
                if col not in NEVER_NULL and not col.startswith("FIELD_") and rng.random() < 0.12:
                    v[col] = NULL
        # rows kept clear of the other defects: 3 = 5056011903 (CD01), 10 -> 7 = the parcel in
        # both CD01 and CD14, 12 = the ruined AIN (CD02)
        special = {3, 7, 10, 12}
        ruined_ain: list[int] = []
        if name == "CD01":
            shared_ain, shared_row = ains[10], [rows[10][c] for c in COLUMNS]
        if name == "CD14":
            assert shared_row is not None and shared_ain is not None
            rows[7] = dict(zip(COLUMNS, shared_row, strict=True))
            rows[7]["COUNCIL_DISTRICT"] = "14"
            ains[7] = shared_ain
        if name == "CD02":
            ruined_ain = [12]
            rows[12]["AIN"] = f"{int(ains[12]):.2E}"
        free = [i for i in range(n) if i not in special]
        no_latlon = sorted(rng.sample(free, N_NO_LATLON))
        for i in no_latlon:
            rows[i]["LAT"] = rows[i]["LON"] = NULL
        picks = rng.sample([i for i in free if i not in no_latlon], N_SCI_LAND + N_COMMA_LAND)
        sci, comma = sorted(picks[:N_SCI_LAND]), sorted(picks[N_SCI_LAND:])
        for i in sci:
            rows[i]["LAND_VALUE"] = f"{rng.randint(1_200_000_000, 6_600_000_000):.2E}"
        for i in comma:
            rows[i]["LAND_VALUE"] = f"{int(rows[i]['LAND_VALUE']):,}"
        assert len(set(ains)) == n
        out = [[v[c] for c in COLUMNS] for v in rows]
        out.insert(blank_after, [""] * N_COLUMNS)
        total = ["TOTAL", str(n)] + [""] * (N_COLUMNS - 2)
        write_csv(AR_DIR / f"{name}.csv", COLUMNS, [*out, total])
        all_ains.extend(a for i, a in enumerate(ains) if i not in ruined_ain)
        made[name] = {
            "sci": [i + 1 for i in sci],
            "comma": [i + 1 for i in comma],
            "no_latlon": [i + 1 for i in no_latlon],
            "ruined_ain": ruined_ain,
            "n": n,
            "blank_after": blank_after,
        }
    unique = sorted(set(all_ains))
    rng = rng_for("roll:registry")
    example = "5056011903"  # the brief's own example; make sure the registry has it
    half = sorted([example, *rng.sample([a for a in unique if a != example], len(unique) // 2 - 1)])
    (AR_DIR / "registry_apns.txt").write_text(
        "".join(f"{a[:4]}-{a[4:7]}-{a[7:]}\n" for a in half), encoding="utf-8"
    )
    made["unique"], made["half"], made["shared"] = unique, half, shared_ain
    return made


def check_roll(made: dict[str, Any]) -> dict[str, Any]:
    s: dict[str, Any] = {"files": {}}
    seen: dict[str, list[str]] = {}
    for name, *_ in ROLLS:
        rows = read_csv(AR_DIR / f"{name}.csv")
        header, body = rows[0], rows[1:]
        assert header == COLUMNS and len(header) == N_COLUMNS
        assert all(len(r) == N_COLUMNS for r in body)
        blank = [i + 1 for i, r in enumerate(body) if is_blank_row(r)]
        total = [r for r in body if r[0] == "TOTAL"]
        assert body[-1][0] == "TOTAL" and len(total) == 1
        data = [r for r in body if not is_blank_row(r) and r[0] != "TOTAL"]
        col = {h: j for j, h in enumerate(header)}
        ains = [r[0] for r in data]
        for a in ains:
            seen.setdefault(a, []).append(name)
        f: dict[str, Any] = {
            "data_rows": len(data),
            "lines": len(rows),
            "blank_row_at_body_line": blank,
            "total_row": [body[-1][0], body[-1][1]],
            "null_cells": sum(1 for r in data for c in r if c == NULL),
            "null_cells_named": sum(
                1
                for r in data
                for h, c in zip(header, r, strict=True)
                if c == NULL and not h.startswith("FIELD_")
            ),
            "empty_cells": sum(1 for r in data for c in r if c == ""),
            "ten_digit_ains": sum(1 for a in ains if re.fullmatch(r"\d{10}", a)),
            "ruined_ains": [
                (i + 1, a) for i, a in enumerate(ains) if not re.fullmatch(r"\d{10}", a)
            ],
            "land_sci": [
                (i + 1, r[0], r[col["LAND_VALUE"]])
                for i, r in enumerate(data)
                if "E+" in r[col["LAND_VALUE"]]
            ],
            "land_comma": [
                (i + 1, r[0], r[col["LAND_VALUE"]])
                for i, r in enumerate(data)
                if "," in r[col["LAND_VALUE"]]
            ],
            "no_latlon": [(i + 1, r[0]) for i, r in enumerate(data) if r[col["LAT"]] == NULL],
            "bytes": (AR_DIR / f"{name}.csv").stat().st_size,
            "gdal": gdal_csv_view(AR_DIR / f"{name}.csv"),
        }
        assert [x[0] for x in f["land_sci"]] == made[name]["sci"]
        assert [x[0] for x in f["land_comma"]] == made[name]["comma"]
        assert [x[0] for x in f["no_latlon"]] == made[name]["no_latlon"]
        assert f["total_row"] == ["TOTAL", str(made[name]["n"])]
        assert f["data_rows"] == made[name]["n"]
        s["files"][name] = f
    s["in_two_files"] = {a: v for a, v in seen.items() if len(v) > 1}
    valid = sorted(a for a in seen if re.fullmatch(r"\d{10}", a))
    s["distinct_valid_ains"] = len(valid)
    apns = (AR_DIR / "registry_apns.txt").read_text(encoding="utf-8").splitlines()
    assert all(re.fullmatch(r"\d{4}-\d{3}-\d{3}", a) for a in apns)
    undashed = [a.replace("-", "") for a in apns]
    assert set(undashed) <= set(valid) and len(set(undashed)) == len(undashed)
    s["registry_apns"] = len(apns)
    s["registry_in"] = {name: sum(1 for a in undashed if name in seen[a]) for name, *_ in ROLLS}
    s["shared_in_registry"] = made["shared"] in undashed
    s["example_in_registry"] = "5056011903" in undashed
    return s


# ---------------------------------------------------------------------------------------------
# ogrinfo, sizes, determinism helpers, README
# ---------------------------------------------------------------------------------------------


def ogrinfo_check() -> dict[str, str]:
    out: dict[str, str] = {}
    exe = shutil.which("ogrinfo")
    if not exe:
        return {"ogrinfo": "not installed (apt-get install -y --no-upgrade gdal-bin)"}
    for target in (str(PL_DIR / "parcels.topojson"), f"/vsizip/{LA_DIR / 'nonprofit_leases.zip'}"):
        res = subprocess.run(
            [exe, "-so", "-al", "-ro", target], capture_output=True, text=True, check=False
        )
        assert res.returncode == 0, res.stderr
        fc = re.search(r"Feature Count: (\d+)", res.stdout)
        gt = re.search(r"Geometry: (.+)", res.stdout)
        shown = target.replace(str(HERE) + "/", "")
        out[f"ogrinfo -so -al -ro {shown}"] = (
            f"ok - Geometry: {gt.group(1) if gt else '?'}, "
            f"Feature Count: {fc.group(1) if fc else '?'}"
        )
    ver = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    out["version"] = ver.stdout.strip()
    plain = subprocess.run(
        [exe, "-so", "-ro", str(LA_DIR / "nonprofit_leases.zip")],
        capture_output=True,
        text=True,
        check=False,
    )
    out["note"] = (
        "the ogrinfo CLI opens the plain `.zip` path too"
        if plain.returncode == 0
        else "this ogrinfo CLI cannot open the plain `.zip` path: prefix it with `/vsizip/` "
        "(pyogrio, and so the importer, add the prefix themselves)"
    )
    return out


def counts(d: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items())


def rows_list(xs: list[Any]) -> str:
    return ", ".join(str(x) for x in xs)


def write_readme(
    pl: dict[str, Any],
    la: dict[str, Any],
    ar: dict[str, Any],
    sizes: dict[str, int],
    ogr: dict[str, str],
) -> None:
    k = pl["kinds"]
    dup = pl["duplicate_ids"]
    ov = pl["overlaps"][0]
    inv = pl["invalid"]
    sale = pl["sale_formats"]
    lines: list[str] = []
    w = lines.append
    w("# Real-world imitation data sets")
    w("")
    w(
        "Small, faithful imitations of three public-record sets that the registry must import *as "
        "they are*: incomplete and dirty. Every defect below is deliberate, and every count is "
        "recomputed from the written files (pyogrio / the `csv` module) and asserted by "
        "`make_files.py`, which also writes this README - **do not edit it by hand; change the "
        "script and run it**:"
    )
    w("")
    w("    .venv/bin/python tests/data/real_world/make_files.py")
    w("")
    w(
        f"The script is deterministic (seed `{SEED}`, fixed zip timestamps and DBF date), uses only "
        "geopandas / shapely / pyogrio (+ pyproj through geopandas), and prints the same counts. "
        "All names, addresses and values are invented."
    )
    w("")
    w("Conventions used below:")
    w("")
    w(
        "- CSV files are UTF-8 **without** BOM, CRLF line ends, minimal quoting (as Excel's "
        '"CSV UTF-8" save minus the BOM). "Data row N" is the N-th line after the header '
        "(file line N + 1), counting only real data rows (the blank row and footer are not data "
        "rows) unless said otherwise."
    )
    w("- `NULL` means the four-letter literal text `NULL` in a cell (not an empty cell).")
    w(
        "- Parcels in the TopoJSON are identified by `OBJECTID` (1-based, = feature order) and "
        "`MAP_LOT`."
    )
    w("")
    w("## File list")
    w("")
    w("| file | bytes |")
    w("| --- | ---: |")
    for name, size in sizes.items():
        w(f"| `{name}` | {size:,} |")
    w("")

    # ---------------- portland
    w("## 1. `portland_like/` - a New England city (Portland, Maine look-alike)")
    w("")
    w(
        "Parcels around lon -70.26, lat 43.66 (WGS84 lon/lat). The shapes carry no department and no "
        "address: those come from the separate assessor table, joined by map-lot, whose column has a "
        "different spelling (`MAP_LOT` in the shapes, `Map-Lot` in the table)."
    )
    w("")
    w("### `parcels.topojson`")
    w("")
    w(
        f"- Hand-written TopoJSON `Topology`, **no `crs` member** (GDAL reports no CRS: "
        f"`{pl['crs']}`; the coordinates are WGS84 lon/lat). Quantized: "
        "`transform` with scale/translate, delta-encoded arcs, 1e5 quantization. One object "
        f"`{pl['layer']}` = a `GeometryCollection` of {pl['features']} geometries "
        f"({counts(pl['raw_types'])}), built on a 20 x 15 grid of cells with jittered (shared) "
        "corners. "
        f"{pl['arcs']} arcs, {pl['shared_arcs']} of them shared by two parcels: neighbours share "
        "edges through shared arcs; district borders run along parcel edges."
    )
    w(
        "- Properties: `OBJECTID` (int) and `MAP_LOT` (text) only. GDAL adds an empty `id` field: "
        "fields read = " + ", ".join(f"`{x}`" for x in pl["fields"]) + "."
    )
    w(f"- Read by GDAL as {pl['features']} features: {counts(pl['geom_types'])}.")
    w(
        f"- `MAP_LOT` ids look like `127-123`, `268B-41` (sheet letter A-D). "
        f"{pl['distinct_genuine']} distinct genuine ids (placeholders excluded)."
    )
    w(
        f"- **{len(pl['e_ids'])} genuine E-ids** matching `^\\d{{3}}E-\\d+$` that look like "
        "scientific notation but are real map-lots (a number parser turns `267E-17` into 2.67e-15 "
        "and `120E-05` into 0.0012, losing the id): "
        + ", ".join(f"`{ml}` (OBJECTID {o})" for o, ml in pl["e_id_features"])
        + ". "
        "Both `268B-41` and `268E-41` exist. Two of them have a zero-padded lot (`120E-05`, "
        "`333E-07`)."
    )
    w(
        f"- **{len(pl['placeholders'])} placeholder ids**: "
        + ", ".join(f"`{ml}` (OBJECTID {o})" for o, ml in pl["placeholders"])
        + "."
    )
    w(
        f"- **{len(dup)} duplicated genuine ids**, each on exactly 2 features: "
        + "; ".join(f"`{ml}` (OBJECTIDs {rows_list(o)})" for ml, o in dup.items())
        + "."
    )
    w(
        f"- **1 bow-tie** (self-intersecting ring a-b-d-c over its cell's corners): OBJECTID "
        f"{k['bowtie'][0]} `{k['bowtie'][1]}`. Its two lobes' signed areas nearly cancel: "
        f"shapely area {pl['bowtie_area']:.2e} deg2 as read, {pl['bowtie_valid_area']:.2e} after "
        f"`make_valid`; a typical parcel is {pl['median_area']:.2e}. It is the only invalid "
        "geometry: " + "; ".join(f"OBJECTID {o} `{ml}`: {why}" for o, ml, why in inv) + ". "
        "`make_valid` turns it into two triangles; the rest of its cell is a gap."
    )
    w(
        f"- **1 overlapping pair**: OBJECTID {ov[0]} `{k['overlap_a'][1]}` reaches halfway into its "
        f"eastern neighbour OBJECTID {ov[1]} `{k['overlap_b'][1]}` (overlap = "
        f"{pl['overlap_share_of_b']:.0%} of the neighbour). No other pair of parcels overlaps "
        "(shared edges only)."
    )
    w(
        f"- **1 empty geometry**: OBJECTID {pl['empty'][0][0]} `{pl['empty'][0][1]}` is written as "
        '`{"type":"Polygon","arcs":[]}` and read by GDAL as `POLYGON EMPTY`. (A '
        '`"type": null` geometry is also legal TopoJSON, but GDAL 3.6-3.12 silently drops such '
        "features, so it is not used.)"
    )
    w(
        f"- **{len(pl['multis'])} MultiPolygons** (a parcel in two pieces, one cell apart in the "
        "same row, another parcel between them): "
        + ", ".join(f"OBJECTID {o} `{ml}`" for o, ml in pl["multis"])
        + "."
    )
    w(
        f"- **1 polygon with a hole** (OBJECTID {k['donut'][0]} `{k['donut'][1]}`) and an **island "
        f"parcel** filling it exactly (OBJECTID {k['island'][0]} `{k['island'][1]}`), through one "
        "shared closed arc."
    )
    w("")
    w("### `assessor.csv`")
    w("")
    w(
        f"- Header: `{','.join(pl['assessor_header'])}`; {pl['assessor_rows']} data rows, one per "
        "id, sorted by map sheet then lot; no placeholder ids."
    )
    w(
        f"- **{len(pl['table_not_in_shape'])} ids not in the shape file**: "
        + ", ".join(f"`{x}`" for x in pl["table_not_in_shape"])
        + "."
    )
    w(
        f"- **{len(pl['shape_not_in_table'])} shape ids missing from the table**: "
        + ", ".join(f"`{x}`" for x in pl["shape_not_in_table"])
        + "."
    )
    w(
        f"- {len(pl['table_e_ids'])} E-ids in the table: the {len(pl['e_ids'])} of the shape file "
        "plus the orphan `315E-3`."
    )
    w(
        f"- **{pl['null_cells']} `NULL` cells** (never in `Map-Lot`): per column "
        + ", ".join(f"{h} {n}" for h, n in pl["nulls_by_col"].items() if n)
        + ". Positions "
        "(data row, column): " + "; ".join(f"{r} {h}" for r, h in pl["null_positions"]) + "."
    )
    w(
        f"- **{len(pl['acreage_thousands'])} `ACREAGE` values with a thousands separator** "
        "(quoted in the CSV; far larger than the drawn parcel): "
        + "; ".join(f"row {r} `{ml}` = `{v}`" for r, ml, v in pl["acreage_thousands"])
        + ". "
        "Other acreages are plain `0.52`-style numbers computed from the parcel shape (random for "
        "the orphans)."
    )
    w(
        f"- `SALE_DATE` formats: MM/DD/YYYY (e.g. `03/15/1998`) {sale.get('MM/DD/YYYY', 0)}, "
        f"`YYYY-MM-DD 00:00:00` {sale.get('YYYY-MM-DD 00:00:00', 0)}, literal `unknown` "
        f"{sale.get('unknown', 0)}, blank {sale.get('blank', 0)}, `NULL` {sale.get('NULL', 0)}."
    )
    w(
        "- `OWNER` values: " + ", ".join(f"`{o}` {n}" for o, n in pl["owners"].items()) + ". "
        f"{pl['locations_without_number']} `LOCATION`s have no house number (e.g. `BAXTER BLVD`)."
    )
    w("")
    w("### `departments.csv`")
    w("")
    w(
        f"`code,name,aliases`, {len(pl['departments']) - 1} rows; aliases separated by `;`, "
        "`LIBRARY` has none; `PARKS`' name contains a comma (quoted)."
    )
    w("")
    w("| code | name | aliases |")
    w("| --- | --- | --- |")
    for code, name, aliases in pl["departments"][1:]:
        w(f"| {code} | {name} | {aliases} |")
    w("")
    w("### `districts.geojson` and `boundary.geojson`")
    w("")
    w(
        f"- `boundary.geojson`: one Polygon (properties `NAME`, `STATE`, `TOWN_ID`), irregular, "
        "covering every parcel with a margin. No `crs` member (RFC 7946), read as "
        f"EPSG:{pl['boundary_crs']}."
    )
    w(
        f'- `districts.geojson`: 5 Polygons, property `DISTRICT` = `"1"`..`"5"` (text) and '
        f"`COUNCILOR` null; read as EPSG:{pl['districts_crs']}. They tile the boundary exactly "
        "(union = boundary, no overlaps); borders follow parcel edges (column lines 4, 8, 12 and, "
        "east of line 12, row line 7)."
    )
    w(
        "- Parcels per district (by the centre of each parcel's first cell; the empty geometry has "
        "none): "
        + ", ".join(f"district {d}: {n}" for d, n in pl["parcels_per_district"].items())
        + f". Parcels touching a second district by area: "
        f"{pl['straddling'] or 'none'}."
    )
    w("")

    # ---------------- LA leases
    w("## 2. `la_nonprofit_leases/` - Los Angeles' list of leases to non-profits")
    w("")
    w("### `nonprofit_leases.csv`")
    w("")
    w(
        f"- Header exactly `{','.join(LEASE_HEADER)}`; {la['rows']} data rows with `No.` = 1..112 "
        "(unique, in order). **No rent columns at all.**"
    )
    w(
        f"- After the data: **1 blank row** (`,,,,,,,,`, file line {N_LEASES + 2}) then the "
        "**footer** "
        f"`{la['footer']}` (file line {N_LEASES + 3}, other cells empty). {la['lines']} CSV lines in "
        "all."
    )
    w(
        "- `Dept` values (abbreviations, old names, typos, question marks): "
        + ", ".join(f"`{d}` {n}" for d, n in la["dept"].items())
        + ". Against `departments.csv`: "
        "by code `GSD`, `RAP`, `LAHD`, `LAPL`; by alias `HCID` (-> LAHD), `Rec&Parks` (-> RAP), "
        "`DOT` (-> LADOT); by name `Cultural Affairs` (-> DCA); unresolvable as written: "
        "`GSD?` and the typo `Cutural Affairs`."
    )
    for h, fm in la["date_formats"].items():
        w(
            f"- `{h}`: "
            + ", ".join(f"{'`' + f + '`' if f not in ('blank',) else f} {n}" for f, n in fm.items())
            + "."
        )
    w(
        "- Text/blank dates by row (`No.`): "
        + "; ".join(
            f"{lab}: {rows_list(v)}"
            for lab, v in [
                ("both `Lease in process`", la_made["in_process"]),
                ("Exp. `Month to Month`", la_made["m2m"]),
                ("both `TBD`", la_made["tbd_both"]),
                ("Exp. only `TBD`", la_made["tbd_exp"]),
                ("Start blank", la_made["blank_start"]),
                ("Exp. blank", la_made["blank_exp"]),
                ("both blank", la_made["blank_both"]),
            ]
        )
        + "."
    )
    w(
        f"- Terms: {len(la['undetermined'])} rows have a non-date in Start or Exp. (above); "
        f"{la['whole']} whole-month terms; **{len(la['partial'])} partial-month terms**, rows "
        f"{rows_list(la['partial'])}. A term is *whole* when the day after `Lease Exp.` is "
        "`Lease Start` + N months (`7/1/2014`-`6/30/2024` = 120 months); every whole term starts on "
        "the 1st and ends on a month's last day. Partial terms either start mid-month and end on a "
        "month's last day (`1/15/2015`-`6/30/2025`) or start on the 1st and end mid-month; none "
        "has equal start/end day-of-month either, so they are partial under both usual conventions."
    )
    w(
        f"- **{len(la['far'])} far-off points** (an LA address geocoded elsewhere): "
        + "; ".join(
            f"row {no} in {where} ({la_:.4f}, {lo:.4f})" for no, where, la_, lo in la["far"]
        )
        + f". All other points lie in lat 33.94-34.28, lon -118.55 to -118.20, except "
        f"**{len(la['no_coords'])} rows with blank Lat/Lon**: {rows_list(la['no_coords'])}."
    )
    w(
        "- `Council District`: text `1`..`15` except `CD n` in rows "
        + ", ".join(f"{no} (`{v}`)" for no, v in la["cd"]["prefixed"])
        + f"; blank in rows {rows_list(la['cd']['blank'])}; `"
        + la["cd"]["multi"][0][1]
        + f"` in row {la['cd']['multi'][0][0]}."
    )
    w(
        f"- `Non Profit`: {la['distinct_names']} distinct names; the same organisation holds two "
        "leases in "
        + "; ".join(f"`{n}` (rows {rows_list(r)})" for n, r in la["repeated_names"].items())
        + f". {la['names_with_comma']} names contain a comma (quoted); "
        f"{len(la['non_ascii_names'])} non-ASCII names: "
        + ", ".join(f"row {no} `{n}`" for no, n in la["non_ascii_names"])
        + "."
    )
    w(
        f"- `Address` blank in row {rows_list(la['blank_address'])}; some addresses end with "
        "`, Los Angeles, CA 900xx` (quoted) or a `#unit`."
    )
    w(
        f"- Read through GDAL with the importer's CSV options (`Lat`/`Lon` become the point): "
        f"{la['gdal'][0]} features ({la['rows']} leases + the blank row + the footer), "
        f"{la['gdal'][1]} fields, {la['gdal'][2]} null geometries (the 2 rows without "
        "coordinates, the blank row, the footer)."
    )
    w("")
    w("### `nonprofit_leases.zip`")
    w("")
    w(
        "- The same 112 leases (no blank/footer row) as a point ESRI Shapefile written by pyogrio, "
        "zipped flat: "
        + ", ".join(f"`{n}`" for n, _ in la["zip_members"])
        + " (the four components plus the `.cpg` GDAL writes; read it as `/vsizip/...` or the zip)."
    )
    w(
        f"- Geometry {la['shp_geometry_type']}, EPSG:{la['shp_crs']}; Lat/Lon are not kept as "
        f"attributes. The {len(la['shp_null_geoms'])} rows without coordinates have **null "
        f"geometries** (`No_` {rows_list(la['shp_null_geoms'])}); the 4 far-off points are kept."
    )
    w(
        "- DBF field names cut to 10 characters: "
        + ", ".join(f"`{h}` -> `{s}`" for h, s in SHP_NAMES.items())
        + "; read types "
        + ", ".join(f"`{f}` {t}" for f, t in zip(la["shp_fields"], la["shp_dtypes"], strict=True))
        + " (`No_` is a DBF integer, the rest text). Dates stay text "
        "exactly as in the CSV. Blank CSV cells read back as null (None/NaN): "
        + ", ".join(f"{c} {n}" for c, n in la["shp_blank_as_null"].items() if n)
        + "."
    )
    w("")
    w("### `departments.csv`")
    w("")
    w("| code | name | aliases |")
    w("| --- | --- | --- |")
    for code, name, aliases in la["departments"][1:]:
        w(f"| {code} | {name} | {aliases} |")
    w("")

    # ---------------- LA roll
    w("## 3. `la_assessor_roll/` - LA County assessor roll extracts of city-owned parcels")
    w("")
    w(
        f"- `CD01.csv`, `CD02.csv`, `CD14.csv`: one per council district, the same {N_COLUMNS} "
        f"columns in the same order ({len(NAMED_COLUMNS)} named ones - `AIN`, `SA_HOUSE_NBR`, "
        "`SA_FRACTION`, `SA_DIRECTION`, `SA_STREET`, `SA_SUFFIX`, `SA_UNIT`, `SA_CITY`, `SA_ZIP`, "
        "`USE_CODE`, `USE_DESC`, `LAND_VALUE`, `IMPROVEMENT_VALUE`, `YEAR_BUILT`, `SQFT_MAIN`, "
        "`LAT`, `LON`, `CENTER_LAT`, `CENTER_LON`, `CENTER_X`/`CENTER_Y` (State Plane CA V, US "
        "ft), `TRA`, `ZONING`, `RECORDING_DATE` (YYYYMMDD), `CLUSTER`, `EXEMPTION_CODE`, ... - then "
        f"`FIELD_001`..`FIELD_{N_COLUMNS - len(NAMED_COLUMNS):03d}`)."
    )
    w(
        "- AINs are 10 digits without dashes (book 4, page 3, parcel 3; mostly 9xx government "
        "parcels), also split into `MAP_BOOK`/`MAP_PAGE`/`PARCEL_NBR`. `USE_CODE`s keep leading "
        "zeros (`0100`, `010V`)."
    )
    w(
        "- Each file: a **blank row in the middle** (all cells empty) and a final **`TOTAL` footer** "
        "(`AIN` cell `TOTAL`, `MAP_BOOK` cell = the data-row count, the rest empty)."
    )
    w("")
    w(
        "| file | data rows | blank row (line) | TOTAL row | `NULL` cells (all / named cols) "
        "| empty cells | LAND_VALUE `E+` | LAND_VALUE `1,234,567` | LAT/LON `NULL` | bad AIN |"
    )
    w("| --- | ---: | --- | --- | ---: | --- | --- | --- | --- | --- |")
    for name, f in ar["files"].items():
        blank_line = f["blank_row_at_body_line"][0] + 1
        w(
            f"| `{name}.csv` | {f['data_rows']} | after data row {made_roll[name]['blank_after']} "
            f"(file line {blank_line}) | `TOTAL,{f['total_row'][1]}` (file line {f['lines']}) "
            f"| {f['null_cells']} / {f['null_cells_named']} | {f['empty_cells']} "
            f"| {len(f['land_sci'])}: "
            + "; ".join(f"row {r} `{v}`" for r, _, v in f["land_sci"])
            + f" | {len(f['land_comma'])}: "
            + "; ".join(f"row {r} `{v}`" for r, _, v in f["land_comma"])
            + f" | {len(f['no_latlon'])}: rows {rows_list([r for r, _ in f['no_latlon']])} "
            f"| {'; '.join(f'row {r} `{a}`' for r, a in f['ruined_ains']) or 'none'} |"
        )
    w("")
    w("Row numbers in the table are data rows (the blank row not counted). ")
    w("")
    shared = next(iter(ar["in_two_files"].items()))
    w(
        "- `NULL` appears in every column except `AIN`, `MAP_BOOK`, `MAP_PAGE`, `PARCEL_NBR`, "
        "`LAND_VALUE`, `SA_CITY`, `COUNCIL_DISTRICT`, `CENTER_*` (and `LAT`/`LON` only in the rows "
        "listed); `FIELD_*` columns are mostly `NULL`."
    )
    w(
        "- **1 spreadsheet-ruined AIN** in `CD02.csv` (see the table; Excel's `n.nnE+09` form): its "
        "real AIN is unrecoverable. The other "
        f"{sum(f['ten_digit_ains'] for f in ar['files'].values())} AIN cells are 10 digits."
    )
    w(
        f"- **1 parcel in two files**: AIN `{shared[0]}` is in {' and '.join(shared[1])} (same "
        "row except `COUNCIL_DISTRICT`). Distinct valid AINs over the three files: "
        f"{ar['distinct_valid_ains']}. `5056011903` (-> `5056-011-903`) is `CD01.csv` row 4."
    )
    w(
        f"- `registry_apns.txt`: **{ar['registry_apns']} APNs** in the registry's dashed form "
        f"`5056-011-903`, one per line, sorted - half (rounded down) of the "
        f"{ar['distinct_valid_ains']} distinct valid AINs; per file: "
        f"{counts(ar['registry_in'])} (the shared parcel "
        f"{'is' if ar['shared_in_registry'] else 'is not'} among them and counts for both "
        "files; `5056-011-903` "
        f"{'is' if ar['example_in_registry'] else 'is not'})."
    )
    w(
        "- Read through GDAL with the importer's CSV options (`LAT`/`LON` become the point, "
        "`AUTODETECT_TYPE=NO`, `EMPTY_STRING_AS_NULL=YES`): the blank row and the `TOTAL` row come "
        "back as features with null geometry, and so do the `NULL` LAT/LON rows (not (0, 0)): "
        + "; ".join(
            f"`{n}.csv` {f['gdal'][0]} features, {f['gdal'][1]} fields, {f['gdal'][2]} "
            "null geometries"
            for n, f in ar["files"].items()
        )
        + "."
    )
    w("")
    w("## Checked with GDAL's `ogrinfo -so`")
    w("")
    w("Paths relative to this folder:")
    w("")
    for key, val in ogr.items():
        w(f"- {key if key in ('version', 'note') else '`' + key + '`'}: {val}")
    w("")
    (HERE / "README.md").write_text("\n".join(lines), encoding="utf-8")


la_made: dict[str, Any] = {}
made_roll: dict[str, Any] = {}


def main() -> None:
    pl_made = make_portland()
    la_made.update(make_leases())
    made_roll.update(make_roll())
    pl = check_portland(pl_made)
    la = check_leases(la_made)
    ar = check_roll(made_roll)
    sizes = {
        str(p.relative_to(HERE)): p.stat().st_size
        for p in sorted(HERE.rglob("*"))
        if p.is_file() and p.name not in ("README.md", "make_files.py")
    }
    assert all(n < MAX_BYTES for n in sizes.values()), sizes
    ogr = ogrinfo_check()
    write_readme(pl, la, ar, sizes, ogr)

    print("portland_like/parcels.topojson:", pl["features"], "features", pl["geom_types"])
    print(
        "  E-ids:",
        len(pl["e_ids"]),
        " placeholders:",
        len(pl["placeholders"]),
        " duplicate ids:",
        pl["duplicate_ids"],
    )
    print("  invalid:", pl["invalid"], " empty:", pl["empty"], " overlaps:", pl["overlaps"])
    print(
        "  with holes:",
        pl["with_holes"],
        " multipolygons:",
        len(pl["multis"]),
        " per district:",
        pl["parcels_per_district"],
        " straddling:",
        pl["straddling"],
    )
    print(
        "portland_like/assessor.csv:",
        pl["assessor_rows"],
        "rows; not in shape:",
        len(pl["table_not_in_shape"]),
        " shape ids missing:",
        len(pl["shape_not_in_table"]),
        " NULL cells:",
        pl["null_cells"],
        " thousands acreage:",
        len(pl["acreage_thousands"]),
        " sale formats:",
        pl["sale_formats"],
    )
    print("la_nonprofit_leases/nonprofit_leases.csv:", la["rows"], "rows; dept:", la["dept"])
    print("  date formats:", la["date_formats"])
    print(
        "  partial-month terms:",
        len(la["partial"]),
        la["partial"],
        " whole:",
        la["whole"],
        " undetermined:",
        len(la["undetermined"]),
    )
    print("  far-off:", la["far"], " no coords:", la["no_coords"], " cd:", la["cd"])
    print(
        "  zip:",
        la["zip_members"],
        la["shp_fields"],
        la["shp_rows"],
        "rows, EPSG",
        la["shp_crs"],
        " null geoms:",
        la["shp_null_geoms"],
    )
    for name, f in ar["files"].items():
        print(f"la_assessor_roll/{name}.csv:", {k: v for k, v in f.items()})
    print(
        "  in two files:",
        ar["in_two_files"],
        " distinct valid:",
        ar["distinct_valid_ains"],
        " registry_apns:",
        ar["registry_apns"],
        ar["registry_in"],
    )
    print("ogrinfo:", ogr)
    print("sizes:", sizes)


if __name__ == "__main__":
    main()
