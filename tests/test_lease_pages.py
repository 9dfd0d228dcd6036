"""Lease pages, the leases on the parcel page and the map, the SVG chart, and the sample leases."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Route
from playwright.sync_api import expect
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from app.charts import line_chart_svg
from app.charts import nice_ticks
from app.database import session_factory
from registry.db import create_registry_engine
from registry.db import unit_of_work
from registry.leases.records import add_modification
from registry.leases.records import create_lease
from sample_parcels.load import load_sample
from tests.auth_fixtures import TEST_PASSWORD
from tests.auth_fixtures import make_user
from tests.browser import chromium
from tests.conftest import LiveServer
from tests.lease_fixtures import PARCEL
from tests.lease_fixtures import lessor_example
from tests.lease_fixtures import seed_places
from tests.lease_fixtures import worked_example


@pytest.fixture
def leases(app: Flask) -> None:
    """The worked example (modified once) and a lessor lease on the test parcel."""
    with app.app_context(), unit_of_work(session_factory(), "test-setup") as session:
        seed_places(session)
        create_lease(session, worked_example())
        create_lease(session, lessor_example(payment_timing="advance"))
        add_modification(
            session, "R-2022-007", "2023-07-01", {"discount_rate": "0.05"}, "rate reset"
        )


@pytest.mark.usefixtures("leases")
def test_the_lease_page_shows_terms_schedule_and_chart(viewer_client: FlaskClient) -> None:
    page = viewer_client.get("/leases/L-2021-001")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "$1,066,109.82" in html  # liability and right-to-use asset at commencement
    assert "$29,614.16" in html and "$149,666.83" in html and "$1,006,878.27" in html
    svg = re.search(r"<svg class=\"chart\".*?</svg>", html, re.S)
    assert svg is not None and 'role="img"' in svg.group(0)
    assert svg.group(0).count("<polyline") == 2  # liability and asset
    assert "FY2021" in html and "FY2024" in html  # fiscal years, July to June
    assert "Maturity after FY" in html
    assert html.count('<tr class="measurement-0">') == 36
    assert "/api/leases/L-2021-001/schedule?format=csv" in html


@pytest.mark.usefixtures("leases")
def test_a_modified_lease_shows_both_measurements(viewer_client: FlaskClient) -> None:
    html = viewer_client.get("/leases/R-2022-007").get_data(as_text=True)
    assert "Modifications" in html and "rate reset" in html
    assert html.count('<tr class="measurement-0">') == 4  # quarters before July 2023
    assert html.count('<tr class="measurement-1">') == 16
    assert "Deferred inflow" in html


@pytest.mark.usefixtures("leases")
def test_the_lease_list_filters(viewer_client: FlaskClient) -> None:
    def numbers(query: str) -> list[str]:
        html = viewer_client.get(f"/leases?{query}").get_data(as_text=True)
        return re.findall(r'data-lease-number="([^"]+)"', html)

    assert numbers("") == ["L-2021-001", "R-2022-007"]
    assert numbers("direction=out") == ["R-2022-007"]
    assert numbers("portfolio=payable") == ["L-2021-001"]
    assert numbers("department=GSD") == ["L-2021-001"]
    assert numbers("expiring=36500") == ["R-2022-007"]  # L-2021-001 ended in 2024
    assert numbers("direction=sideways") == ["L-2021-001", "R-2022-007"]  # ignored, not an error
    html = viewer_client.get("/leases").get_data(as_text=True)
    assert "holdover" in html  # L-2021-001 ended and is still marked occupied


@pytest.mark.usefixtures("leases")
def test_leases_are_never_shown_to_anonymous_visitors(client: FlaskClient) -> None:
    for path in ("/leases", "/leases/L-2021-001"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    parcel = client.get(f"/parcels/{PARCEL}").get_data(as_text=True)
    assert "L-2021-001" not in parcel and "Leases" not in parcel
    assert "lease_overlay.js" not in client.get("/").get_data(as_text=True)


@pytest.mark.usefixtures("leases")
def test_the_parcel_page_and_the_map_show_leases(viewer_client: FlaskClient) -> None:
    parcel = viewer_client.get(f"/parcels/{PARCEL}").get_data(as_text=True)
    assert 'id="leases"' in parcel
    assert 'href="/leases/L-2021-001"' in parcel and 'href="/leases/R-2022-007"' in parcel
    map_page = viewer_client.get("/").get_data(as_text=True)
    assert "lease_overlay.js" in map_page and "/api/leases?format=geojson" in map_page
    assert 'href="/leases"' in viewer_client.get("/leases").get_data(as_text=True)


def test_an_unknown_lease_is_404(viewer_client: FlaskClient) -> None:
    assert viewer_client.get("/leases/NOPE").status_code == 404


def test_the_chart_is_plain_escaped_svg() -> None:
    svg = line_chart_svg(
        {"<b>liability</b>": [(0, 10), (1, 5), (2, 0)], "asset": []},
        title="A & B",
        width=300,
        height=120,
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "<b>" not in svg and "&lt;b&gt;liability&lt;/b&gt;" in svg and "A &amp; B" in svg
    assert svg.count("<polyline") == 1  # an empty series is left out
    assert "No data" in line_chart_svg({}, title="empty")
    assert nice_ticks(0, 1_066_109.82) == [0, 250_000, 500_000, 750_000, 1_000_000, 1_250_000]


def test_the_sample_leases_load_twice_without_changes(fresh_database_url: str) -> None:
    engine = create_registry_engine(fresh_database_url)
    try:
        first = load_sample(sessionmaker(engine))
        assert first.leases.inserted >= 200 and first.borrowing_rates.inserted > 0
        with engine.connect() as connection:
            events = connection.execute(text("SELECT count(*) FROM audit_events")).scalar()
            summary = connection.execute(
                text(
                    "SELECT count(*) FILTER (WHERE direction = 'in'), "
                    "count(*) FILTER (WHERE direction = 'out'), "
                    "count(*) FILTER (WHERE portfolio = 'non_profit'), "
                    "count(*) FILTER (WHERE discount_rate_source = 'ibr_table'), "
                    "count(*) FILTER (WHERE end_date < DATE '2026-12-01' AND occupied "
                    "AND terminated_on IS NULL) FROM leases"
                )
            ).one()
            modified = connection.execute(
                text("SELECT count(DISTINCT lease_id) FROM lease_modifications")
            ).scalar()
        assert summary[0] >= 100 and summary[1] >= 90 and summary[2] > 20 and summary[3] > 50
        assert summary[4] >= 6 and modified == 3  # holdovers; amended leases
        second = load_sample(sessionmaker(engine))
        assert (second.leases.inserted, second.leases.updated) == (0, 0)
        assert (second.borrowing_rates.inserted, second.borrowing_rates.updated) == (0, 0)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM audit_events")).scalar() == events
            assert connection.execute(text("SELECT max(version) FROM leases")).scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.browser
def test_the_lease_page_and_map_overlay_work_offline(
    sample_app: Flask, sample_server: LiveServer
) -> None:
    """No request leaves the app: the chart is inline SVG, the overlay comes from our API."""
    make_user(sample_app, "lease-browser@city.example", "viewer")
    with sample_app.app_context(), unit_of_work(session_factory(), "tests") as session:
        number = session.execute(
            text(
                "SELECT l.lease_number FROM leases l JOIN lease_modifications m ON m.lease_id "
                "= l.id "
                "ORDER BY 1 LIMIT 1"
            )
        ).scalar_one()
    outside: list[str] = []
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        def local_only(route: Route) -> None:
            if route.request.url.startswith(sample_server.url):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        context.route("**/*", local_only)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{sample_server.url}/login?next=/leases/{number}")
        page.fill("#email", "lease-browser@city.example")
        page.fill("#password", TEST_PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text(f"Lease {number}")
        chart = page.locator("figure.lease-chart svg.chart")
        expect(chart).to_be_visible()
        assert chart.locator("polyline").count() == 2
        assert (chart.bounding_box() or {"width": 0})["width"] > 300
        expect(page.locator("table.remeasurements")).to_be_visible()
        page.goto(f"{sample_server.url}/")
        expect(page.locator(".leaflet-control-layers")).to_contain_text("Leased parcels")
        page.locator(".leaflet-control-layers label", has_text="Leased parcels").locator(
            "input"
        ).check()
        expect(page.locator("path.leased-parcel").first).to_be_attached(timeout=10_000)
        context.close()
    assert errors == []
    assert all("tile.openstreetmap.org" in url for url in outside), outside
