"""A seeded, realistic synthetic portfolio of Los Angeles city-owned real estate.

The city is laid out once per seed (``_grid``): a street grid of blocks over the San
Fernando Valley, central/west/south LA and the harbor strip, subdivided into lots, lot
groups, half blocks, blocks and superblocks. The portfolio of ``n`` parcels is the first
``n`` slots of a fixed weighted random order, and every attribute of a parcel is hashed
from its slot id. That makes the output deterministic, prefix-stable and identical
however it is chunked, so a million parcels can be streamed in bounded memory.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd

from sample_parcels import _city
from sample_parcels import _geometry
from sample_parcels import _grid
from sample_parcels._random import Stream
from sample_parcels._uses import DEPARTMENTS
from sample_parcels._uses import DIGITIZATION
from sample_parcels._uses import DIGITIZATION_P
from sample_parcels._uses import STATUS_P_OTHER
from sample_parcels._uses import STATUS_P_VACANT
from sample_parcels._uses import STATUSES
from sample_parcels._uses import USE_INDEX
from sample_parcels._uses import USES

DEFAULT_SEED = 2026
SAMPLE_PARCEL_COUNT = 2400
SHIPPED_DIRECTORY = Path(__file__).resolve().parent
CRS = "EPSG:4326"

PARCEL_COLUMNS = (
    "parcel_id",
    "address",
    "council_district",
    "use",
    "asset_type",
    "legal_interest",
    "status",
    "department_code",
    "acquisition_date",
    "acquisition_cost",
    "disposition_date",
    "disposition_proceeds",
    "digitization_status",
    "geometry",
)
BUILDING_COLUMNS = (
    "building_id",
    "parcel_id",
    "name",
    "asset_type",
    "gross_sq_ft",
    "usable_sq_ft",
    "year_built",
    "replacement_value",
    "repair_needs",
    "geometry",
)
DATE_COLUMNS = ("acquisition_date", "disposition_date")
MONEY_COLUMNS = ("acquisition_cost", "disposition_proceeds", "replacement_value", "repair_needs")
_STR_PARCEL = (
    "parcel_id",
    "address",
    "use",
    "asset_type",
    "legal_interest",
    "status",
    "department_code",
    "digitization_status",
)
_STR_BUILDING = ("building_id", "parcel_id", "name", "asset_type")
_INT_BUILDING = ("gross_sq_ft", "usable_sq_ft", "year_built")

_EPOCH = np.datetime64("1905-01-01")
_LAST_ACQUISITION = np.datetime64("2024-12-31")
_LAST_DISPOSITION = np.datetime64("2025-06-30")
_MIN_FOOTPRINT_M2 = 40.0
# Parcel outline families (rect, trapezoid, cut corner, L, jitter-8, jitter-12) for lots
# and for anything bigger, where odd shapes are more common.
_FAMILY_P_LOT = (0.58, 0.10, 0.10, 0.08, 0.08, 0.06)
_FAMILY_P_LARGE = (0.35, 0.15, 0.15, 0.15, 0.10, 0.10)
_USE_ON = np.array([u.on for u in USES], dtype=np.float64)
_VACANT = np.array([u.vacant for u in USES])
_LEASABLE = np.array([u.leasable for u in USES])


@dataclass(frozen=True)
class Portfolio:
    """Departments, parcels and buildings, ready for the loader."""

    departments: pd.DataFrame
    parcels: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame


def departments_frame() -> pd.DataFrame:
    return pd.DataFrame(list(DEPARTMENTS), columns=["code", "name"]).astype("str")


def generate_portfolio(n_parcels: int = SAMPLE_PARCEL_COUNT, seed: int = DEFAULT_SEED) -> Portfolio:
    """The first ``n_parcels`` parcels of the city for ``seed``, with their buildings."""
    cat = _catalog(n_parcels, seed)
    return Portfolio(departments_frame(), *_chunk(cat, 0, n_parcels))


def iter_portfolio_chunks(
    n_parcels: int, seed: int = DEFAULT_SEED, chunk_size: int = 50_000
) -> Iterator[Portfolio]:
    """The same portfolio as ``generate_portfolio`` in chunks of at most ``chunk_size``
    parcels; only one chunk is alive at a time. Departments repeat in every chunk."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    cat = _catalog(n_parcels, seed)

    def chunks() -> Iterator[Portfolio]:
        for start in range(0, n_parcels, chunk_size):
            stop = min(start + chunk_size, n_parcels)
            yield Portfolio(departments_frame(), *_chunk(cat, start, stop))

    return chunks()


def read_shipped_portfolio(directory: Path | None = None) -> Portfolio:
    """Read departments.csv, parcels.geojson and buildings.geojson back into the same
    types ``generate_portfolio`` returns (dates, Decimals, ints, None for missing)."""
    directory = Path(directory) if directory is not None else SHIPPED_DIRECTORY
    departments = pd.read_csv(directory / "departments.csv", dtype=str, keep_default_na=False)
    parcels = gpd.read_file(directory / "parcels.geojson", engine="pyogrio")
    buildings = gpd.read_file(directory / "buildings.geojson", engine="pyogrio")
    for frame in (parcels, buildings):
        for col in DATE_COLUMNS:
            if col in frame:
                frame[col] = pd.Series(
                    [_to_date(v) for v in frame[col]], index=frame.index, dtype=object
                )
        for col in MONEY_COLUMNS:
            if col in frame:
                frame[col] = pd.Series(
                    [_to_decimal(v) for v in frame[col]], index=frame.index, dtype=object
                )
    parcels = _typed(parcels[list(PARCEL_COLUMNS)], _STR_PARCEL, ("council_district",))
    buildings = _typed(buildings[list(BUILDING_COLUMNS)], _STR_BUILDING, _INT_BUILDING)
    return Portfolio(departments.astype("str"), parcels, buildings)


def _missing(v: object) -> bool:
    return v is None or (not isinstance(v, str) and bool(pd.isna(v)))


def _to_date(v: object) -> dt.date | None:
    if _missing(v):
        return None
    if isinstance(v, str):
        return dt.date.fromisoformat(v[:10])
    return pd.Timestamp(v).date()  # GDAL may already have parsed the ISO string


def _to_decimal(v: object) -> Decimal | None:
    return None if _missing(v) else Decimal(str(v))


def _typed(
    frame: gpd.GeoDataFrame, strs: tuple[str, ...], ints: tuple[str, ...]
) -> gpd.GeoDataFrame:
    """One place that fixes dtypes, so generated and re-read frames compare equal."""
    frame = frame.astype({**dict.fromkeys(strs, "str"), **dict.fromkeys(ints, "int64")})
    return frame.set_crs(CRS, allow_override=True)


def _catalog(n_parcels: int, seed: int) -> _grid.Catalog:
    cat = _grid.catalog(int(seed))
    if not 0 <= n_parcels <= cat.capacity:
        raise ValueError(f"n_parcels must be between 0 and {cat.capacity} for this city")
    return cat


def _dates(days: np.ndarray, start: np.datetime64, missing: np.ndarray) -> np.ndarray:
    out = (start + days.astype("timedelta64[D]")).astype(object)
    out[missing] = None
    return out


def _money(amount: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Decimals with exactly two places, built from integer cents (no float artefacts)."""
    cents = np.rint(np.asarray(amount, dtype=np.float64) * 100).astype(np.int64).tolist()
    out = np.array([Decimal(c).scaleb(-2) for c in cents], dtype=object)
    if missing is not None:
        out[missing] = None
    return out


def _price_per_m2(year: np.ndarray) -> np.ndarray:
    """Land price in dollars per m2: ~$4 in 1905 growing to ~$2,800 by 2024."""
    return 4.0 * np.exp(0.055 * (year - 1905))


def _per_group(groups: np.ndarray, draw: Callable[[int, np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply ``draw(group, rows)`` group by group and scatter the results back."""
    out = np.empty(len(groups), dtype=np.int64)
    for g in np.unique(groups):
        rows = np.flatnonzero(groups == g)
        out[rows] = draw(int(g), rows)
    return out


def _table(field: str, index: np.ndarray) -> np.ndarray:
    """Per-use (low, high) ranges looked up for every row."""
    return np.array([getattr(u, field) for u in USES], dtype=np.float64)[index]


def _between(s: Stream, ids: np.ndarray, topic: str, bounds: np.ndarray) -> np.ndarray:
    return bounds[:, 0] + (bounds[:, 1] - bounds[:, 0]) * s.uniform(ids, topic)


class _Site(NamedTuple):
    """Where each parcel is and what it looks like."""

    ids: np.ndarray  # slot ids: the key of every random draw
    lon: np.ndarray  # cell centre
    lat: np.ndarray
    use: np.ndarray  # index into USES
    family: np.ndarray  # outline family
    geoms: np.ndarray
    area: np.ndarray  # m2
    box: np.ndarray  # UTM box the outline was stretched into
    flips: np.ndarray


def _site(cat: _grid.Catalog, s: Stream, start: int, stop: int) -> _Site:
    ids = cat.order[start:stop].astype(np.int64)
    cells = np.column_stack(_grid.cells(cat, ids, s))
    lon, lat = _grid.to_wgs84((cells[:, 0] + cells[:, 2]) / 2, (cells[:, 1] + cells[:, 3]) / 2)
    kind = cat.slot_kind[ids]
    use = _per_group(kind, lambda k, r: s.choice(ids[r], "use", _USE_ON[:, k]))
    family = np.where(
        kind == _grid.Kind.LOT,
        s.choice(ids, "shape", _FAMILY_P_LOT),
        s.choice(ids, "shape-large", _FAMILY_P_LARGE),
    )
    geoms, area, box, flips = _geometry.parcels(s, ids, cells, family)
    return _Site(ids, lon, lat, use, family, geoms, area, box, flips)


def _departments(s: Stream, site: _Site) -> np.ndarray:
    codes = [code for code, _ in DEPARTMENTS]

    def draw(u: int, rows: np.ndarray) -> np.ndarray:
        options = USES[u].departments
        picked = s.choice(site.ids[rows], "dept", [w for _, w in options])
        return np.array([codes.index(c) for c, _ in options])[picked]

    department = np.array(codes, dtype=object)[_per_group(site.use, draw)]
    historic = (site.use == USE_INDEX["Historic Site"]) & _city.near_el_pueblo(site.lon, site.lat)
    department[historic] = "ELP"  # the Olvera Street historic district has its own department
    return department


def _records(s: Stream, site: _Site) -> dict[str, np.ndarray]:
    """Record-keeping attributes: holder, status, acquisition, disposition, digitisation."""
    ids, use, area = site.ids, site.use, site.area
    digit = s.choice(ids, "digitization", DIGITIZATION_P)
    paper = digit == 0
    leased = _LEASABLE[use] & s.chance(ids, "leased", 0.12)
    status = np.where(
        _VACANT[use],
        s.choice(ids, "status", STATUS_P_VACANT),
        s.choice(ids, "status", STATUS_P_OTHER),
    )
    status = np.where(leased, np.where(s.chance(ids, "leased-idle", 0.1), 1, 0), status)
    disposed = status == STATUSES.index("disposed")

    # Acquisitions peak mid-century; paper records skew old; leases are recent.
    span = int((_LAST_ACQUISITION - _EPOCH).astype(int))
    frac = (s.uniform(ids, "acq-a") + s.uniform(ids, "acq-b")) / 2
    frac = np.where(paper, frac**1.6, frac)
    frac = np.where(leased, 0.67 + 0.33 * s.uniform(ids, "lease-start"), frac)
    acq_days = np.floor(frac * span)
    acq_none = ~leased & s.chance(ids, "acq-none", np.where(paper, 0.25, 0.03))
    acq_year = 1905 + acq_days / 365.25
    cost = area * _price_per_m2(acq_year) * s.uniform(ids, "acq-price", 0.5, 1.8)
    cost_none = acq_none | leased | s.chance(ids, "cost-none", 0.08)

    d_start = np.where(
        acq_none,
        (np.datetime64("1950-01-01") - _EPOCH).astype(int),
        np.minimum(acq_days + 365, span),
    )
    d_days = d_start + np.floor(
        s.uniform(ids, "disp") * ((_LAST_DISPOSITION - _EPOCH).astype(int) - d_start)
    )
    proceeds = area * _price_per_m2(1905 + d_days / 365.25) * s.uniform(ids, "disp-price", 0.6, 1.4)
    return {
        "legal_interest": np.where(leased, "leased", "owned"),
        "status": np.array(STATUSES)[status],
        "acquisition_date": _dates(acq_days, _EPOCH, acq_none),
        "acquisition_cost": _money(cost, cost_none),
        "disposition_date": _dates(d_days, _EPOCH, ~disposed),
        "disposition_proceeds": _money(proceeds, ~disposed | s.chance(ids, "disp-none", 0.08)),
        "digitization_status": np.array(DIGITIZATION)[digit],
        "_paper": paper,
        "_disposed": disposed,
        "_acq_year": np.where(acq_none, np.nan, acq_year),
    }


def _chunk(cat: _grid.Catalog, start: int, stop: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Parcels ``start:stop`` of the portfolio and their buildings."""
    s = Stream(cat.seed)
    site = _site(cat, s, start, stop)
    rec = _records(s, site)
    parcel_id = _grid.apns(cat, site.ids)
    address = _city.addresses(site.lon, site.lat)
    columns = {
        "parcel_id": parcel_id,
        "address": address,
        "council_district": _city.council_districts(site.lon, site.lat),
        "use": [USES[u].name for u in site.use],
        "asset_type": [USES[u].asset_type for u in site.use],
        "department_code": _departments(s, site),
        **{k: v for k, v in rec.items() if not k.startswith("_")},
    }
    geometry = site.geoms.copy()
    geometry[rec["_paper"]] = None
    parcels = gpd.GeoDataFrame(
        {c: columns[c] for c in PARCEL_COLUMNS[:-1]},
        geometry=geometry,
        crs=CRS,
        index=pd.RangeIndex(start, stop),
    )
    # Paper records have no captured outline, and disposed parcels keep no buildings.
    has = ~rec["_paper"] & ~rec["_disposed"]
    buildings = _buildings(s, site, has, rec["_acq_year"], parcel_id, address)
    return _typed(parcels, _STR_PARCEL, ("council_district",)), buildings


def _buildings(
    s: Stream,
    site: _Site,
    eligible: np.ndarray,
    acq_year: np.ndarray,
    parcel_id: list[str],
    address: list[str],
) -> gpd.GeoDataFrame:
    """1-3 buildings per eligible parcel, as many as its use allows."""
    limits = _table("buildings", site.use)
    count = np.floor(_between(s, site.ids, "bldg-count", limits + np.array([0, 1])))
    count = np.where(eligible, np.minimum(count, limits[:, 1]), 0).astype(np.int64)
    rows = np.repeat(np.arange(len(count)), count)
    slot = np.arange(len(rows)) - np.repeat(np.cumsum(count) - count, count)
    bid = site.ids[rows] * 4 + slot
    u = site.use[rows]
    fp = _table("footprint", u)
    footprint = np.column_stack([_between(s, bid, f"footprint-{a}", fp) for a in "ab"])
    geoms, fp_area = _geometry.buildings(
        s, bid, site.box[rows], site.family[rows], site.flips[rows], slot, count[rows], footprint
    )
    keep = fp_area >= _MIN_FOOTPRINT_M2  # no sheds: a slot too small gets no building
    bid, rows, slot, u, geoms, fp_area = (a[keep] for a in (bid, rows, slot, u, geoms, fp_area))

    floors = np.floor(_between(s, bid, "floors", _table("floors", u) + np.array([0, 1])))
    gross = np.floor(fp_area * floors * _geometry.SQ_FT_PER_M2).astype(np.int64)
    usable = np.clip(
        np.rint(gross * s.uniform(bid, "usable", 0.70, 0.90)),
        np.ceil(gross * 0.70),
        np.floor(gross * 0.90),
    ).astype(np.int64)
    acq = acq_year[rows]
    year = np.where(
        np.isnan(acq),
        s.integers(bid, "year", 1910, 2022),
        np.nan_to_num(acq) + s.integers(bid, "year-after", -25, 30),
    )
    year = np.clip(year, 1910, 2022).astype(np.int64)
    replacement = gross * _between(s, bid, "rate", _table("cost_per_sq_ft", u))
    age = np.clip((2025 - year) / 115.0, 0.0, 1.0)  # older buildings need more repairs
    repair = replacement * 0.40 * age**0.8 * s.uniform(bid, "repair", 0.25, 1.0)

    number = np.arange(len(rows)) - np.searchsorted(rows, rows) + 1  # rows is sorted
    hood = _city.neighbourhoods(site.lon[rows], site.lat[rows])
    station = s.integers(site.ids[rows], "station", 1, 112)
    names = [
        USES[k]
        .names[min(sl, len(USES[k].names) - 1)]
        .format(hood=h, station=st, address=address[r])
        for k, sl, h, st, r in zip(
            u.tolist(), slot.tolist(), hood, station.tolist(), rows.tolist(), strict=True
        )
    ]
    frame = gpd.GeoDataFrame(
        {
            "building_id": [
                f"{parcel_id[r]}-B{k}" for r, k in zip(rows.tolist(), number.tolist(), strict=True)
            ],
            "parcel_id": [parcel_id[r] for r in rows.tolist()],
            "name": names,
            "asset_type": [
                "recreation" if USES[k].asset_type == "park" else USES[k].asset_type
                for k in u.tolist()
            ],
            "gross_sq_ft": gross,
            "usable_sq_ft": usable,
            "year_built": year,
            "replacement_value": _money(replacement),
            "repair_needs": _money(repair),
        },
        geometry=geoms,
        crs=CRS,
    )
    return _typed(frame, _STR_BUILDING, _INT_BUILDING)
