"""The synthetic Los Angeles portfolio: shape of the data, geometry rules, determinism and
the shipped sample files. Pure tests: no database."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from sample_parcels import _city
from sample_parcels import _geometry
from sample_parcels import _grid
from sample_parcels._random import Stream
from sample_parcels._uses import ASSET_TYPES
from sample_parcels._uses import USES
from sample_parcels.generator import BUILDING_COLUMNS
from sample_parcels.generator import DEFAULT_SEED
from sample_parcels.generator import PARCEL_COLUMNS
from sample_parcels.generator import SAMPLE_PARCEL_COUNT
from sample_parcels.generator import SHIPPED_DIRECTORY
from sample_parcels.generator import Portfolio
from sample_parcels.generator import generate_portfolio
from sample_parcels.generator import iter_portfolio_chunks
from sample_parcels.generator import read_shipped_portfolio

SMALL = 500
APN = re.compile(r"^\d{4}-\d{3}-\d{3}$")
STREET_NAMES = {s[0] for s in _city._STREETS}


@pytest.fixture(scope="module")
def sample() -> Portfolio:
    return generate_portfolio(SAMPLE_PARCEL_COUNT)


@pytest.fixture(scope="module")
def small() -> Portfolio:
    return generate_portfolio(SMALL)


@pytest.fixture(scope="module")
def shipped() -> Portfolio:
    return read_shipped_portfolio()


def _metric(geoms: gpd.GeoSeries) -> np.ndarray:
    return np.asarray(geoms.to_crs(_grid.UTM).values)


def _centres(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Centroids computed in metres, returned in degrees."""
    return geoms.to_crs(_grid.UTM).centroid.to_crs(4326)


def _km_to_street(lon: float, lat: float, name: str) -> float:
    """Distance from a point to the nearest stretch of the named street."""
    best = np.inf
    for street, axis, pos, lo, hi in _city._STREETS:
        if street != name:
            continue
        along, across = (lat, lon) if axis == "ns" else (lon, lat)
        k_across, k_along = (92.3, 111.0) if axis == "ns" else (111.0, 92.3)
        beyond = max(lo - along, along - hi, 0.0) * k_along
        best = min(best, float(np.hypot((across - pos) * k_across, beyond)))
    return best


def _overlaps(geoms: np.ndarray) -> np.ndarray:
    """Intersection areas of every pair of distinct geometries that touch."""
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = i < j
    return shapely.area(shapely.intersection(geoms[i[keep]], geoms[j[keep]]))


def test_frames_have_the_documented_columns_crs_and_python_types(small: Portfolio) -> None:
    assert tuple(small.parcels.columns) == PARCEL_COLUMNS
    assert tuple(small.buildings.columns) == BUILDING_COLUMNS
    assert list(small.departments.columns) == ["code", "name"]
    assert small.parcels.crs.to_epsg() == 4326 and small.buildings.crs.to_epsg() == 4326
    p = small.parcels
    assert p["council_district"].dtype == np.int64
    for col in ("acquisition_date", "disposition_date"):
        assert all(v is None or type(v) is dt.date for v in p[col])
    for col in ("acquisition_cost", "disposition_proceeds"):
        assert all(v is None or isinstance(v, Decimal) for v in p[col])
    assert all(g is None or g.geom_type == "MultiPolygon" for g in p.geometry)
    assert set(small.buildings.geom_type) == {"MultiPolygon"}


def test_departments_are_the_city_departments_with_their_usual_codes(small: Portfolio) -> None:
    deps = dict(zip(small.departments["code"], small.departments["name"], strict=True))
    assert deps["GSD"] == "General Services" and deps["LAFD"] == "Fire"
    assert deps["StreetsLA"] == "Street Services" and deps["ELP"] == "El Pueblo de Los Angeles"
    assert len(deps) == 16
    assert set(small.parcels["department_code"]) <= set(deps)


def test_parcel_ids_are_unique_county_apns(sample: Portfolio) -> None:
    ids = sample.parcels["parcel_id"]
    assert ids.is_unique
    assert ids.str.fullmatch(APN.pattern).all()


def test_apns_are_unique_for_every_slot_of_the_city_beyond_a_million() -> None:
    cat = _grid.catalog(DEFAULT_SEED)
    assert cat.capacity > 1_000_000
    ids = _grid.apns(cat, np.arange(cat.capacity))
    assert len(set(ids)) == cat.capacity
    assert all(APN.match(a) for a in ids[::997])


def test_same_seed_gives_identical_output_and_another_seed_does_not(small: Portfolio) -> None:
    again = generate_portfolio(SMALL, DEFAULT_SEED)
    pd.testing.assert_frame_equal(again.parcels, small.parcels)
    pd.testing.assert_frame_equal(again.buildings, small.buildings)
    other = generate_portfolio(SMALL, seed=7)
    assert set(other.parcels["parcel_id"]) != set(small.parcels["parcel_id"])
    assert other.parcels["address"].tolist() != small.parcels["address"].tolist()


def test_smaller_portfolio_is_the_start_of_a_larger_one(
    small: Portfolio, sample: Portfolio
) -> None:
    pd.testing.assert_frame_equal(small.parcels, sample.parcels.iloc[:SMALL])


def test_chunks_concatenate_to_the_whole_portfolio() -> None:
    n = 1234
    whole = generate_portfolio(n)
    chunks = list(iter_portfolio_chunks(n, chunk_size=300))
    assert [len(c.parcels) for c in chunks] == [300, 300, 300, 300, 34]
    assert all(c.departments.equals(whole.departments) for c in chunks)
    parcels = pd.concat([c.parcels for c in chunks])
    pd.testing.assert_frame_equal(parcels, whole.parcels)
    buildings = pd.concat([c.buildings for c in chunks], ignore_index=True)
    pd.testing.assert_frame_equal(buildings, whole.buildings.reset_index(drop=True))


def test_chunks_are_generated_lazily_one_at_a_time() -> None:
    chunks = iter_portfolio_chunks(1_000_000, chunk_size=200)
    first = next(chunks)
    assert len(first.parcels) == 200 and first.parcels.index[0] == 0
    assert next(chunks).parcels.index[0] == 200


def test_asking_for_more_parcels_than_the_city_holds_is_an_error() -> None:
    with pytest.raises(ValueError, match="n_parcels"):
        generate_portfolio(_grid.catalog(DEFAULT_SEED).capacity + 1)


def test_polygons_are_valid_with_4_to_12_distinct_vertices(sample: Portfolio) -> None:
    for frame in (sample.parcels, sample.buildings):
        geoms = np.asarray(frame.geometry.dropna().values)
        assert shapely.is_valid(geoms).all()
        assert (shapely.get_num_geometries(geoms) == 1).all()
        rings = shapely.get_exterior_ring(shapely.get_geometry(geoms, 0))
        distinct = np.array([len({tuple(c) for c in shapely.get_coordinates(r)}) for r in rings])
        assert distinct.min() >= 4 and distinct.max() <= 12
    counts = np.bincount(
        shapely.get_num_coordinates(np.asarray(sample.parcels.geometry.dropna().values)) - 1
    )
    assert {4, 5, 6, 8, 12} <= set(np.flatnonzero(counts))  # a mix of shapes


def test_parcels_do_not_overlap_by_more_than_one_square_metre(shipped: Portfolio) -> None:
    assert _overlaps(_metric(shipped.parcels.geometry.dropna())).max(initial=0) <= 1.0
    dense = generate_portfolio(30_000).parcels.geometry.dropna()  # neighbours share blocks
    assert _overlaps(_metric(dense)).max(initial=0) <= 1.0


def test_every_lot_of_a_fully_built_district_stays_inside_its_own_cell() -> None:
    """All slots of 20 block rows (~100,000 parcels' worth of city) at once."""
    cat = _grid.catalog(DEFAULT_SEED)
    row = cat.slot_block // cat.ncols
    slots = np.flatnonzero((row >= 300) & (row < 320)).astype(np.int64)
    stream = Stream(DEFAULT_SEED)
    cells = np.column_stack(_grid.cells(cat, slots, stream))
    family = np.arange(len(slots)) % len(_geometry.FAMILIES)
    geoms, area, _, _ = _geometry.parcels(stream, slots, cells, family)
    metric = _metric(gpd.GeoSeries(geoms, crs=4326))
    assert shapely.is_valid(metric).all()
    inner = shapely.box(*(cells + np.array([1, 1, -1, -1]) * (_geometry.MIN_INSET_M - 0.01)).T)
    assert shapely.within(metric, inner).all()
    assert _overlaps(metric).max(initial=0) <= 1.0
    np.testing.assert_allclose(area, shapely.area(metric), rtol=1e-3)


def test_parcel_areas_are_realistic_for_their_use(sample: Portfolio) -> None:
    p = sample.parcels.dropna(subset=["geometry"])
    area = pd.Series(shapely.area(_metric(p.geometry)), index=p.index)
    lots = area[p["use"].isin(["Single-Family Residence", "Remnant Parcel"])]
    assert lots.between(250, 1_500).all() and 400 <= lots.median() <= 1_000
    stations = area[p["use"].isin(["Fire Station", "Branch Library", "Police Station"])]
    assert stations.between(1_000, 11_000).all() and 1_500 <= stations.median() <= 8_000
    big = area[p["use"].isin(["Park", "Maintenance Yard", "Recreation Center"])]
    assert big.max() <= 140_000 and (big > 20_000).sum() >= 20


def test_parcels_are_inside_the_city_and_spread_across_it(sample: Portfolio) -> None:
    b = sample.parcels.geometry.dropna().bounds
    region = np.full(len(b), -1)
    for i, (x0, y0, x1, y1) in enumerate(_city.REGIONS):
        inside = (b.minx >= x0) & (b.maxx <= x1) & (b.miny >= y0) & (b.maxy <= y1)
        region[inside.to_numpy()] = i
    assert (region >= 0).all()
    shares = np.bincount(region, minlength=3) / len(region)
    assert (shares > 0.05).all()
    # scattered: no single block holds more than a handful of the sample's parcels
    assert sample.parcels["parcel_id"].str[:8].value_counts().max() <= 3


def test_council_districts_follow_location(sample: Portfolio) -> None:
    p = sample.parcels
    assert set(p["council_district"]) == set(range(1, 16))
    c = _centres(p.geometry.dropna())
    cd = p.loc[c.index, "council_district"]
    assert set(cd[c.y < 33.80]) == {15}  # San Pedro, Wilmington, Harbor City
    assert set(cd[(c.y > 34.15) & (c.x < -118.40)]) <= {2, 3, 4, 6, 7, 12}  # the Valley
    near = (
        np.hypot(c.x.to_numpy()[:, None] - c.x.to_numpy(), c.y.to_numpy()[:, None] - c.y.to_numpy())
        < 0.004
    )
    same = cd.to_numpy()[:, None] == cd.to_numpy()
    assert same[near].mean() > 0.9  # parcels a few hundred metres apart share a district


def test_addresses_are_on_real_streets_near_the_parcel(sample: Portfolio) -> None:
    p = sample.parcels
    parsed = p["address"].str.extract(r"^(\d+) (?:([NSEW]) )?(.+)$")
    assert parsed[0].notna().all()
    assert parsed[0].astype(int).between(100, 30_000).all()
    assert set(parsed[2]) <= STREET_NAMES
    assert {"Sunset Blvd", "Van Nuys Blvd", "Figueroa St", "Gaffey St"} & set(parsed[2])
    c = _centres(p.geometry.dropna())
    km = np.array(
        [
            _km_to_street(x, y, name)
            for x, y, name in zip(c.x, c.y, parsed.loc[c.index, 2], strict=True)
        ]
    )
    assert km.max() < 4.0 and np.median(km) < 0.6 and np.percentile(km, 90) < 1.5


def test_department_and_asset_type_match_the_use(sample: Portfolio) -> None:
    p = sample.parcels
    expected = {
        "Fire Station": "LAFD",
        "Police Station": "LAPD",
        "Branch Library": "LAPL",
        "Park": "RAP",
        "Recreation Center": "RAP",
        "Animal Shelter": "LAAS",
        "Affordable Housing Site": "LAHD",
    }
    for use, code in expected.items():
        assert set(p.loc[p["use"] == use, "department_code"]) == {code}
    by_name = {u.name: u for u in USES}
    for use, group in p.groupby("use"):
        assert set(group["asset_type"]) == {by_name[use].asset_type}
        allowed = {c for c, _ in by_name[use].departments} | {"ELP"}
        assert set(group["department_code"]) <= allowed
    assert set(p["asset_type"]) <= set(ASSET_TYPES)
    assert p["use"].nunique() >= 20


def test_status_interest_and_digitisation_mix_is_plausible(sample: Portfolio) -> None:
    p = sample.parcels
    status = p["status"].value_counts(normalize=True)
    assert status["in_use"] > 0.78
    assert 0.04 <= status["no_current_use"] <= 0.09 and 0.025 <= status["leased_out"] <= 0.06
    assert 0.015 <= status["surplus"] <= 0.05 and 0.003 <= status["disposed"] <= 0.02
    interest = p["legal_interest"].value_counts(normalize=True)
    assert set(interest.index) == {"owned", "leased"} and interest["owned"] > 0.94
    digit = p["digitization_status"].value_counts(normalize=True)
    assert 0.03 <= digit["paper"] <= 0.09 and digit["verified"] > 0.28
    assert 0.25 <= digit["digitized"] <= 0.35 and 0.25 <= digit["attributed"] <= 0.35


def test_paper_records_have_no_geometry_and_no_buildings(sample: Portfolio) -> None:
    p = sample.parcels
    paper = p["digitization_status"] == "paper"
    assert p.loc[paper].geometry.isna().all() and p.loc[~paper].geometry.notna().all()
    assert not set(sample.buildings["parcel_id"]) & set(p.loc[paper, "parcel_id"])


def test_dates_and_money_are_realistic_and_dispositions_only_for_disposed(
    sample: Portfolio,
) -> None:
    p = sample.parcels
    acquired = p["acquisition_date"].dropna()
    assert min(acquired) >= dt.date(1905, 1, 1) and max(acquired) <= dt.date(2024, 12, 31)
    disposed = p["status"] == "disposed"
    assert p.loc[~disposed, ["disposition_date", "disposition_proceeds"]].isna().all().all()
    assert p.loc[disposed, "disposition_date"].notna().all()
    both = p.loc[disposed & p["acquisition_date"].notna()]
    assert (both["disposition_date"] > both["acquisition_date"]).all()
    money = pd.concat(
        [
            p["acquisition_cost"],
            p["disposition_proceeds"],
            sample.buildings["replacement_value"],
            sample.buildings["repair_needs"],
        ]
    )
    assert all(v.as_tuple().exponent == -2 and v >= 0 for v in money.dropna())
    assert p["acquisition_cost"].notna().mean() > 0.7


def test_buildings_lie_inside_their_parcel_with_a_margin_and_do_not_overlap(
    sample: Portfolio,
) -> None:
    b = sample.buildings
    parcels = sample.parcels.set_index("parcel_id").geometry
    outline = _metric(parcels.loc[b["parcel_id"]])
    footprint = _metric(b.geometry)
    assert shapely.within(footprint, shapely.buffer(outline, -0.4)).all()
    assert _overlaps(footprint).size == 0
    assert b["building_id"].is_unique
    assert (b["building_id"].str.rsplit("-B", n=1).str[0] == b["parcel_id"]).all()


def test_only_parcels_whose_use_has_buildings_get_one_to_three(sample: Portfolio) -> None:
    p = sample.parcels.set_index("parcel_id")
    per_parcel = sample.buildings.groupby("parcel_id").size()
    assert per_parcel.between(1, 3).all()
    uses = p.loc[per_parcel.index, "use"]
    assert not set(uses) & {"Vacant Land", "Parking Lot", "Remnant Parcel", "Community Garden"}
    assert (p.loc[per_parcel.index, "status"] != "disposed").all()
    offices = per_parcel[uses == "Office"]
    assert (offices == 1).all() and len(offices) > 10
    fire = sample.buildings[sample.buildings["parcel_id"].map(p["use"]) == "Fire Station"]
    assert fire["name"].str.fullmatch(r"Fire Station \d+( Apparatus Storage)?").all()


def test_building_figures_are_plausible(sample: Portfolio) -> None:
    b = sample.buildings
    ratio = b["usable_sq_ft"] / b["gross_sq_ft"]
    assert ratio.between(0.70, 0.90).all()
    assert b["year_built"].between(1910, 2022).all()
    value = b["replacement_value"].astype(float)
    assert (value / b["gross_sq_ft"]).between(299, 701).all()
    repair = b["repair_needs"].astype(float) / value
    assert repair.between(0, 0.40).all()
    old, new = repair[b["year_built"] < 1960], repair[b["year_built"] >= 1990]
    assert old.mean() > 2 * new.mean()  # older buildings need more repairs
    floor_area = shapely.area(_metric(b.geometry)) * _geometry.SQ_FT_PER_M2
    multi = b["gross_sq_ft"] > 1.5 * floor_area  # several floors
    assert multi.any() and (b["gross_sq_ft"] >= floor_area - 2).all()


def test_shipped_files_equal_the_generated_default_portfolio(
    shipped: Portfolio, sample: Portfolio
) -> None:
    pd.testing.assert_frame_equal(shipped.departments, sample.departments)
    for read, made in ((shipped.parcels, sample.parcels), (shipped.buildings, sample.buildings)):
        attrs = [c for c in read.columns if c != "geometry"]
        pd.testing.assert_frame_equal(pd.DataFrame(read[attrs]), pd.DataFrame(made[attrs]))
        a, b = np.asarray(read.geometry.values), np.asarray(made.geometry.values)
        assert (shapely.is_missing(a) == shapely.is_missing(b)).all()
        present = ~shapely.is_missing(a)
        assert shapely.equals_exact(a[present], b[present], tolerance=1e-7).all()


def test_shipped_geojson_is_small_with_seven_decimal_coordinates() -> None:
    parcels = SHIPPED_DIRECTORY / "parcels.geojson"
    assert parcels.stat().st_size < 1_700_000
    text = parcels.read_text()
    assert re.search(r"-118\.\d{7}\b", text) and not re.search(r"\d\.\d{8,}", text)
    assert text.count('"acquisition_date": "') > 1000  # ISO strings, not GDAL dates
