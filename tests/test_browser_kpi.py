"""`/kpi` and `/milestone` in Chromium with every request off this machine refused: the charts
(server-made SVG) and the district choropleth (Leaflet from the app's static files) must draw
with no internet, and without a JavaScript error."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import BrowserContext
from playwright.sync_api import Page
from playwright.sync_api import Route
from playwright.sync_api import expect
from sqlalchemy import delete
from sqlalchemy import text

from app.database import session_factory
from registry.db import unit_of_work
from registry.kpis import Period
from registry.kpis.digitization import digitization_kpis
from registry.milestones.progress import forecast
from registry.milestones.progress import verified_pace
from registry.models import KpiSnapshot
from registry.models import Milestone
from tests.auth_fixtures import TEST_PASSWORD
from tests.conftest import LiveServer
from tests.live_apps import sample_app

pytestmark = pytest.mark.browser
TODAY = dt.date.today()
LOCAL_HOSTS = {"127.0.0.1"}


@pytest.fixture(scope="module")
def kpi_app(template_url: str) -> Iterator[Flask]:
    """The sample portfolio, a viewer, three snapshots of DIG-1 and a milestone."""
    with sample_app(template_url, [("vi@city.example", "viewer")]) as app:
        with app.app_context(), unit_of_work(session_factory(), "tests") as session:
            for days, value in ((90, "80"), (45, "88"), (0, "93.46")):
                session.add(
                    KpiSnapshot(
                        as_of=TODAY - dt.timedelta(days=days),
                        kpi_id="DIG-1",
                        breakdown="city",
                        value=Decimal(value),
                        unit="%",
                    )
                )
            session.execute(delete(Milestone))  # only this test's milestone, not the sample's
            session.add(
                Milestone(
                    name="Half verified",
                    target_pct_verified=Decimal(50),
                    target_date=TODAY + dt.timedelta(days=180),
                )
            )
        yield app


@pytest.fixture(scope="module")
def server(kpi_app: Flask) -> Iterator[LiveServer]:
    with LiveServer(kpi_app) as live:
        yield live


class Offline:
    """A signed-in page that may only reach the live server: anything else is aborted and
    remembered, and JavaScript errors are collected, so a test can assert there were none."""

    def __init__(self, browser: Browser, server: LiveServer) -> None:
        self.context: BrowserContext = browser.new_context(viewport={"width": 1300, "height": 900})
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page: Page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )
        # straight to /kpi: the portfolio map at / may use an internet base map by setting
        self.page.goto(server.url + "/login?next=/kpi")
        self.page.fill("#email", "vi@city.example")
        self.page.fill("#password", TEST_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(server.url + "/kpi")

    def _route(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:", "about:")) or urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()


@pytest.fixture
def offline(browser: Browser, server: LiveServer) -> Iterator[Offline]:
    session = Offline(browser, server)
    yield session
    session.context.close()


def _districts(app: Flask) -> int:
    with app.app_context(), session_factory()() as session:
        return int(
            session.execute(
                text(
                    "SELECT count(DISTINCT council_district) FROM parcels "
                    "WHERE geom IS NOT NULL AND council_district IS NOT NULL AND retired_at IS NULL"
                )
            ).scalar_one()
        )


def test_the_dashboard_draws_its_charts_and_choropleth_offline(
    offline: Offline, server: LiveServer, kpi_app: Flask
) -> None:
    page = offline.page
    page.goto(server.url + "/kpi?map_kpi=DIG-1")
    expect(page.locator("#tile-DIG-1 svg.chart polyline.series")).to_have_count(1)
    assert page.locator("#family-digitization figure svg.chart").count() == 1
    assert page.locator("article.kpi-tile").count() == 21
    box = page.locator("#tile-DIG-1 polyline.series").bounding_box()
    assert box is not None and box["width"] > 50  # drawn, not just present

    frame = page.frame_locator("iframe.kpi-map")
    districts = frame.locator("path.leaflet-interactive")
    expect(districts).to_have_count(_districts(kpi_app), timeout=15_000)
    colours = {districts.nth(i).get_attribute("fill") for i in range(districts.count())}
    assert len(colours) > 1  # coloured by value, not one flat fill
    expect(frame.locator(".choropleth-legend")).to_contain_text("DIG-1")
    assert offline.blocked == []
    assert offline.errors == []


def test_the_milestone_page_draws_its_burn_up_offline(
    offline: Offline, server: LiveServer, kpi_app: Flask
) -> None:
    page = offline.page
    page.goto(server.url + "/milestone")
    chart = page.locator("figure.burn-up svg.chart")
    expect(chart).to_be_visible()
    series = {
        chart.locator("polyline.series").nth(i).get_attribute("data-series")
        for i in range(chart.locator("polyline.series").count())
    }
    target_date = (TODAY + dt.timedelta(days=180)).isoformat()
    assert {"Digitized", "Verified", "Target: Half verified", f"Target date {target_date}"} <= (
        series
    )
    # one pace: the page says the pace its forecast is made from, and the forecast's date is
    # the one that pace gives (the sample's programme verified parcels in the last 8 weeks)
    with kpi_app.app_context(), session_factory()() as session:
        pace = verified_pace(session, TODAY)
        city = next(
            v
            for v in digitization_kpis(session, Period.resolve(None, TODAY))
            if v.kpi_id == "DIG-2" and v.breakdown == "city"
        )
    outlook = forecast(
        Decimal(50), TODAY + dt.timedelta(days=180), int(city.numerator or 0),
        int(city.denominator or 0), pace, TODAY,
    )  # fmt: skip
    assert pace > 0 and outlook.forecast_date is not None
    expect(page.locator("#forecast")).to_contain_text(f"{pace:,.1f} parcels verified a week")
    expect(page.locator("#dig-6 .forecast-date")).to_have_text(outlook.forecast_date.isoformat())
    expect(page.locator("#dig-6")).not_to_contain_text("no pace")
    expect(page.locator("table.findings a[href^='/parcels/']").first).to_be_visible()
    assert offline.blocked == []
    assert offline.errors == []
