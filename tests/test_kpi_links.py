"""The KPI desk's links to the records behind each figure (walk defect 8): every link opens for
the reader's role (the exports answered 403 to the reform team), keeps every filter of the
figure its page understands, and UTL-4's lists the parcels its figure counts.

A small portfolio: GSD owns, in district 1, office parcels P1 (no current use), P2 (building
B1, 15 % used: under 60 %) and P3 (building B2, 100 % used), and in district 2 office parcel
P4 (no current use, building B3 with no occupancy: 0 %, so the parcel counts twice); LAPL owns
library parcel P5 in district 1 (no current use).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from html import unescape
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from flask import Flask

from app.database import session_factory
from registry.db import unit_of_work
from registry.models import Building
from registry.models import Occupancy
from tests.auth_fixtures import SignedInClient
from tests.builders import department
from tests.builders import parcel
from tests.builders import square

COMBINATION = "department=GSD&district=1&asset_type=office"
# the filters each page the desk links to understands (`app/kpi_links.py`)
UNDERSTOOD = {
    "/parcels": {"department", "district", "asset_type"},
    "/milestone": {"department", "district"},
    "/verification": {"department"},
    "/leases": {"department"},
    "/leases/critical-dates": {"department"},
}
QUERY_NAMES = {"department": "GSD", "district": "1", "asset_type": "office"}


def _links_portfolio(session: Any) -> None:
    gsd, lapl = department("GSD", "General Services"), department("LAPL", "Library")
    owned = {"legal_interest": "owned", "use": "Office", "asset_type": "office"}
    p1 = parcel("1111-001-001", department=gsd, council_district=1, status="no_current_use",
                geometry=square(-118.250), **owned)  # fmt: skip
    p2 = parcel("1111-001-002", department=gsd, council_district=1, status="in_use",
                geometry=square(-118.240), **owned)  # fmt: skip
    p3 = parcel("1111-001-003", department=gsd, council_district=1, status="in_use",
                geometry=square(-118.230), **owned)  # fmt: skip
    p4 = parcel("1111-001-004", department=gsd, council_district=2, status="no_current_use",
                geometry=square(-118.220), **owned)  # fmt: skip
    p5 = parcel("1111-001-005", department=lapl, council_district=1, status="no_current_use",
                geometry=square(-118.210), legal_interest="owned", use="Library",
                asset_type="library")  # fmt: skip
    b1 = Building(building_id="B1", parcel=p2, asset_type="office", gross_sq_ft=12_000,
                  usable_sq_ft=10_000)  # fmt: skip
    b2 = Building(building_id="B2", parcel=p3, asset_type="office", gross_sq_ft=1_800,
                  usable_sq_ft=1_500)  # fmt: skip
    b3 = Building(building_id="B3", parcel=p4, asset_type="office", gross_sq_ft=2_400,
                  usable_sq_ft=2_000)  # fmt: skip
    session.add_all([gsd, lapl, p1, p2, p3, p4, p5, b1, b2, b3])
    session.flush()
    start = dt.date.today() - dt.timedelta(days=30)
    session.add_all(
        [
            Occupancy(building_id=b1.id, department_id=gsd.id, period_start=start,
                      headcount=10, usable_sq_ft_occupied=10_000),  # 150 × 10 ÷ 10,000: 15 %
            Occupancy(building_id=b2.id, department_id=gsd.id, period_start=start,
                      headcount=10, usable_sq_ft_occupied=1_500),  # 100 %
        ]
    )  # fmt: skip


@pytest.fixture
def links_app(app: Flask) -> Flask:
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        _links_portfolio(session)
    return app


@pytest.fixture
def as_role(
    links_app: Flask, signed_in: Callable[..., SignedInClient]
) -> Callable[[str], SignedInClient]:
    return lambda role: signed_in(role)


def _tiles(client: SignedInClient, query: str) -> dict[str, dict[str, Any]]:
    response = client.get(f"/kpi/values?{query}")
    assert response.status_code == 200
    return {tile["id"]: tile for tile in json.loads(response.get_data(as_text=True))["tiles"]}


def _page_links(client: SignedInClient, query: str) -> list[str]:
    """Every records link of `/kpi`'s tiles and district table."""
    page = client.get(f"/kpi?{query}").get_data(as_text=True)
    tiles = re.findall(r'class="kpi-value-link" href="([^"]+)"', page)
    table = page[page.index('class="listing district-values"') :]
    return [unescape(url) for url in tiles + re.findall(r'<a href="([^"]+)"', table)]


@pytest.mark.parametrize("role", ["viewer", "finance"])  # an editor reads what a viewer reads
@pytest.mark.parametrize("query", ["", "department=GSD", COMBINATION])
def test_every_records_link_of_the_desk_opens_for_the_readers_role(
    as_role: Callable[[str], SignedInClient], role: str, query: str
) -> None:
    client = as_role(role)
    tiles = _tiles(client, query)
    urls = {tile["url"] for tile in tiles.values() if tile["url"]}
    for map_kpi in ("UTL-4", "UTL-2"):
        urls.update(_page_links(client, f"{query}&map_kpi={map_kpi}"))
    assert urls
    for url in sorted(urls):
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, (url, response.status_code)


def test_the_exports_are_linked_for_finance_on_the_whole_city_only(
    as_role: Callable[[str], SignedInClient],
) -> None:
    finance, editor = as_role("finance"), as_role("editor")
    city = _tiles(finance, "")
    assert urlsplit(city["LSE-2"]["url"]).path == "/leases/gasb87/export"
    assert urlsplit(city["CST-1"]["url"]).path == "/portfolio/export"
    assert "as_of=" in city["CST-1"]["url"]
    # the exports take no department: a GSD figure does not link to the city's workbook
    assert _tiles(finance, "department=GSD")["CST-1"]["url"] is None
    assert all(
        _tiles(editor, "")[kpi_id]["url"] is None
        for kpi_id in ("UTL-2", "UTL-3", "CST-1", "CST-3", "CST-4", "CST-5", "LSE-2")
    )


@pytest.mark.parametrize("role", ["editor", "viewer"])
@pytest.mark.parametrize(
    ("query", "pages"),
    [
        (COMBINATION, {"/parcels"}),
        ("department=GSD&district=1", {"/parcels", "/milestone"}),
        (
            "department=GSD",
            {"/parcels", "/milestone", "/verification", "/leases", "/leases/critical-dates"},
        ),
    ],
)
def test_links_keep_department_district_and_asset_type_where_their_page_takes_them(
    as_role: Callable[[str], SignedInClient], role: str, query: str, pages: set[str]
) -> None:
    """A page that cannot apply every filter of the figure is not linked: a list of the
    department's leases under a district's figure would pass for that district's (the
    mismatch of walk defect 8, 35 shown and 29 listed)."""
    tiles = _tiles(as_role(role), query)
    given = dict(pair.split("=") for pair in query.split("&"))
    linked = set()
    for kpi_id, tile in tiles.items():
        if not tile["url"]:
            continue
        parts = urlsplit(tile["url"])
        args = {name: values[0] for name, values in parse_qs(parts.query).items()}
        understood = UNDERSTOOD[parts.path]
        if "ids" in args:  # UTL-4: its parcels by id, asset type already applied
            understood = understood - {"asset_type"}
        else:
            assert set(given) <= UNDERSTOOD[parts.path], (kpi_id, tile["url"])
        for name in understood & set(given):
            assert args.get(name) == QUERY_NAMES[name], (kpi_id, tile["url"])
        linked.add(parts.path)
    assert linked == pages


def test_the_desk_reads_no_counted_parcels_it_could_not_link(
    as_role: Callable[[str], SignedInClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """UTL-4's parcels were read on every view, also when the figure was over the table's 500
    ids (7,156 for the whole city at 100,000 parcels: a fifth of the desk's time) or 0."""
    import app.blueprints.kpis.dashboard as dashboard

    reads: list[object] = []
    real = dashboard.underused_records
    monkeypatch.setattr(
        dashboard, "underused_records", lambda *args: reads.append(args) or real(*args)
    )
    client = as_role("editor")
    assert _tiles(client, "department=GSD")["UTL-4"]["url"]  # 4 counted: read and linked
    assert len(reads) == 1
    monkeypatch.setattr(dashboard, "MAX_IDS", 3)
    assert _tiles(client, "department=GSD")["UTL-4"]["url"] is None
    assert _tiles(client, "department=LAPL&asset_type=office")["UTL-4"]["url"] is None  # 0
    assert len(reads) == 1


def test_lease_expiries_link_to_the_critical_dates_of_the_department_and_as_of(
    as_role: Callable[[str], SignedInClient],
) -> None:
    tiles = _tiles(as_role("editor"), "department=GSD")
    args = parse_qs(urlsplit(tiles["LSE-1"]["url"]).query)
    assert args["department"] == ["GSD"] and args["months"] == ["12"]
    assert args["as_of"] == [dt.date.today().isoformat()]


def _parcels_listed(client: SignedInClient, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    return re.findall(r'<tr data-parcel-id="([^"]+)"', response.get_data(as_text=True))


@pytest.mark.parametrize(
    ("query", "figure", "parcels"),
    [
        # P1, P4 with no current use; B1 (on P2) and B3 (on P4) under 60 %
        ("department=GSD", 4, ["1111-001-001", "1111-001-002", "1111-001-004"]),
        # P1 with no current use; B1 on P2
        (COMBINATION, 2, ["1111-001-001", "1111-001-002"]),
        # the whole city: P5 of LAPL too
        ("", 5, ["1111-001-001", "1111-001-002", "1111-001-004", "1111-001-005"]),
    ],
)
def test_underused_assets_link_lists_the_parcels_the_figure_counts(
    as_role: Callable[[str], SignedInClient], query: str, figure: int, parcels: list[str]
) -> None:
    client = as_role("editor")
    tile = _tiles(client, query)["UTL-4"]
    assert tile["value"] == f"{figure}.00"
    assert _parcels_listed(client, tile["url"]) == parcels
    # buildings are involved: the tile says what the link lists
    assert tile["url_label"].startswith(f"lists {len(parcels)} parcels: ")
    assert "office building" in tile["url_label"] and "under 60 %" in tile["url_label"]
    page = client.get(f"/kpi?{query}").get_data(as_text=True)
    assert "lists " in page[page.index('id="tile-UTL-4"') :].split("</article>")[0]


def test_underused_assets_link_of_a_district_lists_that_districts_parcels(
    as_role: Callable[[str], SignedInClient],
) -> None:
    client = as_role("viewer")
    links = _page_links(client, "map_kpi=UTL-4")
    district_2 = [url for url in links if "district=2" in url]
    assert len(district_2) == 1
    assert _parcels_listed(client, district_2[0]) == ["1111-001-004"]  # P4, counted twice
