"""The KPI dashboard `/kpi` and its district choropleth `/kpi/map`.

A small portfolio: GSD owns two office parcels in council district 1 (one verified), LAPL one
library in district 2 (digitized only). Values on the page must be the engine's, tile for tile.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from flask import Flask
from markupsafe import escape
from sqlalchemy.orm import Session

from app.database import session_factory
from geo.districts import district_areas
from geo.kpi_choropleth import CLASS_COLOURS
from geo.kpi_choropleth import NO_VALUE_COLOUR
from geo.kpi_choropleth import build_kpi_choropleth
from geo.map_builder import MapAssets
from registry.db import unit_of_work
from registry.kpis import KPI_DEFINITIONS
from registry.kpis import KpiValue
from registry.kpis import compute_kpis
from registry.kpis.units import format_kpi_value
from registry.models import KpiSnapshot
from tests.auth_fixtures import SignedInClient
from tests.builders import department
from tests.builders import parcel
from tests.builders import square

TODAY = dt.date.today()
# any absolute URL but the SVG namespace (an identifier, never fetched) and the app itself
EXTERNAL_URL = re.compile(
    r"""https?://(?!127\.0\.0\.1|localhost|www\.w3\.org/2000/svg)[^\s"'<>)]+"""
)


def _portfolio(session: Session) -> None:
    gsd, lapl = department("GSD", "General Services"), department("LAPL", "Library")
    common = {"legal_interest": "owned", "status": "in_use", "use": "Office"}
    session.add_all(
        [
            parcel(
                "1111-001-001",
                department=gsd,
                council_district=1,
                asset_type="office",
                geometry=square(-118.250),
                digitization_status="verified",
                verified_by="second",
                verified_at=dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC),
                **common,
            ),
            parcel(
                "1111-001-002",
                department=gsd,
                council_district=1,
                asset_type="office",
                geometry=square(-118.240, 34.06),
                digitization_status="digitized",
                **common,
            ),
            parcel(
                "1111-001-003",
                department=lapl,
                council_district=2,
                asset_type="library",
                geometry=square(-118.200),
                digitization_status="digitized",
                **common,
            ),
        ]
    )


@pytest.fixture
def portfolio_app(app: Flask) -> Flask:
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        _portfolio(session)
    return app


@pytest.fixture
def viewer(portfolio_app: Flask, signed_in: Callable[..., SignedInClient]) -> SignedInClient:
    return signed_in("viewer")


def _engine_values(app: Flask) -> list[KpiValue]:
    with app.app_context(), session_factory()() as session:
        return compute_kpis(session, None, TODAY)


def _shown(value: str, unit: str = "%") -> str:
    """A tile's figure: the raw value kept in data-value, formatted by unit for people."""
    return f'data-value="{value}">{format_kpi_value(Decimal(value), unit)}</span>'


def _tile(page: str, kpi_id: str) -> str:
    start = page.index(f'id="tile-{kpi_id}"')
    return page[start : page.index("</article>", start)]


def test_a_tile_per_kpi_with_the_engines_city_values(
    portfolio_app: Flask, viewer: SignedInClient
) -> None:
    page = viewer.get("/kpi").get_data(as_text=True)
    for definition in KPI_DEFINITIONS:
        assert f'id="tile-{definition.id}"' in page
    city = {v.kpi_id: v for v in _engine_values(portfolio_app) if v.breakdown == "city"}
    assert city["DIG-2"].value == Decimal("33.33")
    for kpi_id, value in city.items():
        tile = _tile(page, kpi_id)
        if value.value is not None:
            assert _shown(str(value.value), value.unit) in tile, kpi_id
        elif value.note:
            assert "no value" in tile and escape(value.note) in tile, kpi_id


def test_a_figure_links_to_the_records_behind_it(viewer: SignedInClient) -> None:
    page = viewer.get("/kpi").get_data(as_text=True)
    assert 'href="/verification"' in _tile(page, "DIG-2")
    assert 'href="/leases"' in _tile(page, "DIG-4")
    assert 'href="/milestone#findings"' in _tile(page, "DIG-1")
    department_page = viewer.get("/kpi?department=GSD").get_data(as_text=True)
    assert 'href="/verification?department=GSD"' in _tile(department_page, "DIG-2")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("department=GSD", "50.00"),  # 1 of GSD's 2 parcels verified
        ("department=LAPL", "0.00"),
        ("district=1", "50.00"),
        ("asset_type=library", "0.00"),
        ("", "33.33"),  # the city: 1 of 3
    ],
)
def test_filters_select_the_breakdown_row_shown(
    viewer: SignedInClient, query: str, expected: str
) -> None:
    tile = _tile(viewer.get(f"/kpi?{query}").get_data(as_text=True), "DIG-2")
    assert _shown(expected) in tile


def test_two_dimensions_are_applied_together(viewer: SignedInClient) -> None:
    page = viewer.get("/kpi?department=GSD&district=2").get_data(as_text=True)
    assert 'showing <span id="kpi-selection">department GSD, council district 2' in page
    assert "no parcels" in _tile(page, "DIG-2")  # GSD has none in district 2
    page = viewer.get("/kpi?department=GSD&district=1").get_data(as_text=True)
    assert _shown("50.00") in _tile(page, "DIG-2")


def test_unknown_filter_values_are_ignored(viewer: SignedInClient) -> None:
    response = viewer.get("/kpi?fy=FY1999&department=NOPE&district=99&map_kpi=XYZ-1")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _shown("33.33") in _tile(page, "DIG-2")
    assert "DIG-2 Records verified by council district" in page


def test_trends_come_from_snapshots_or_say_there_are_none(
    portfolio_app: Flask, viewer: SignedInClient
) -> None:
    # the first visit of a day stores the day's snapshot: DIG-1 has a point, DIG-6 (no
    # milestone, no value) has none
    page = viewer.get("/kpi").get_data(as_text=True)
    assert "No snapshots yet" in _tile(page, "DIG-6")
    assert "No snapshots yet" not in _tile(page, "DIG-1")
    with portfolio_app.app_context(), unit_of_work(session_factory(), "tests") as session:
        for days, value in ((60, "40"), (30, "55"), (0, "66.67")):
            session.add(
                KpiSnapshot(
                    as_of=TODAY - dt.timedelta(days=days),
                    kpi_id="DIG-1",
                    breakdown="city",
                    breakdown_value=None,
                    value=Decimal(value),
                    unit="%",
                )
            )
    page = viewer.get("/kpi").get_data(as_text=True)
    tile = _tile(page, "DIG-1")
    assert "No snapshots yet" not in tile
    assert tile.count('<polyline class="series"') == 1
    assert 'data-series="DIG-1"' in page[page.index('id="family-digitization"') :]


def test_the_dashboard_and_map_link_nothing_outside_the_app(viewer: SignedInClient) -> None:
    for path in ("/kpi", "/kpi/map", "/kpi/map?map_kpi=DIG-1&department=GSD"):
        page = viewer.get(path).get_data(as_text=True)
        assert EXTERNAL_URL.findall(page) == [], path
    map_page = viewer.get("/kpi/map").get_data(as_text=True)
    assert "/static/vendor/leaflet/leaflet.js" in map_page


def test_the_dashboard_needs_a_signed_in_user(portfolio_app: Flask) -> None:
    client = portfolio_app.test_client()
    assert client.get("/kpi").status_code in {302, 401}
    assert client.get("/kpi/map").status_code in {302, 401}


def test_the_district_table_lists_the_mapped_kpi_per_district(viewer: SignedInClient) -> None:
    page = viewer.get("/kpi?map_kpi=DIG-2").get_data(as_text=True)
    table = page[page.index('class="listing district-values"') :]
    assert "<tr><td>1</td>" in table and "<tr><td>2</td>" in table
    assert "50.0 %" in table


def test_district_areas_are_hulls_of_each_districts_parcels(
    portfolio_app: Flask,
) -> None:
    with portfolio_app.app_context(), session_factory()() as session:
        areas = district_areas(session)
    by_district = {f["properties"]["council_district"]: f for f in areas["features"]}
    assert set(by_district) == {"1", "2"}
    assert by_district["1"]["properties"]["parcels"] == 2
    assert by_district["1"]["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    # district 2 has a single parcel: its hull is the parcel's square
    ring = by_district["2"]["geometry"]["coordinates"][0]
    lons = {round(lon, 6) for lon, _ in ring}
    assert lons == {-118.2, -118.199}


def test_the_choropleth_colours_districts_by_value_and_greys_the_empty_ones() -> None:
    def feature(district: str, lon: float) -> dict[str, object]:
        ring = [[lon, 34.0], [lon + 0.01, 34.0], [lon + 0.01, 34.01], [lon, 34.0]]
        return {
            "type": "Feature",
            "properties": {"council_district": district, "parcels": 1},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }

    areas = {
        "type": "FeatureCollection",
        "features": [feature("1", -118.3), feature("2", -118.2), feature("3", -118.1)],
    }
    assets = MapAssets("/l.js", "/l.css", "/vg.js", "/m.js", "/m.css")
    html = (
        build_kpi_choropleth(
            areas,
            {"1": Decimal(10), "2": Decimal(90), "3": None},
            title="DIG-2",
            unit="%",
            assets=assets,
        )
        .get_root()
        .render()
    )
    assert CLASS_COLOURS[0] in html and CLASS_COLOURS[-1] in html and NO_VALUE_COLOUR in html
    assert EXTERNAL_URL.findall(html) == []


def test_a_past_fiscal_year_is_measured_at_its_last_day(viewer: SignedInClient) -> None:
    current = TODAY.year + 1 if TODAY.month >= 7 else TODAY.year
    page = viewer.get(f"/kpi?fy=FY{current - 1}").get_data(as_text=True)
    measured = f'FY{current - 1}, stock measured as of <span id="kpi-as-of">{current - 1}-06-30'
    assert measured in page
    # the city's DIG-2 then: P1 was verified in January 2025, so only if that is before
    verified_by_then = dt.date(2025, 1, 10) <= dt.date(current - 1, 6, 30)
    expected = "33.33" if verified_by_then else "0.00"
    assert _shown(expected) in _tile(page, "DIG-2")
