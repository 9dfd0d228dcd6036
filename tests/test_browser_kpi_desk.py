"""The KPI desk in Debian's Chromium, as the reform team uses it: a finance user filters by
department and district together and the tiles change in place (a marker set on `window`
survives: no page reload), and match what the server computes for that subset, with the
combination's trend starting at this first view (and saying so); the browser's
formatter agrees with the server's; axe-core finds no critical or serious accessibility
violation on /kpi and on the public page."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page
from sqlalchemy import text

from app.database import session_factory
from registry.kpis import KpiFilters
from registry.kpis import compute_kpis
from registry.kpis.units import format_kpi_value
from tests.auth_fixtures import TEST_PASSWORD
from tests.conftest import LiveServer
from tests.live_apps import sample_app

pytestmark = pytest.mark.browser
AXE = "/static/vendor/axe-core/axe.min.js"
FINANCE = "fi@city.example"


@pytest.fixture(scope="module")
def desk_app(template_url: str) -> Iterator[Flask]:
    """The sample portfolio, a finance user of the reform team, the KPIs published."""
    with sample_app(template_url, [(FINANCE, "finance")]) as app:
        settings = app.config["REGISTRY_SETTINGS"]
        app.config["REGISTRY_SETTINGS"] = dataclasses.replace(settings, public_kpis=True)
        yield app


@pytest.fixture(scope="module")
def server(desk_app: Flask) -> Iterator[LiveServer]:
    with LiveServer(desk_app) as live:
        yield live


def _sign_in(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/login?next=/kpi")
    page.fill("#email", FINANCE)
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/kpi")


def _busiest_pair(app: Flask) -> tuple[str, str]:
    """A department and a council district that share parcels (the sample's largest pair)."""
    with app.app_context(), session_factory()() as session:
        row = session.execute(
            text(
                "SELECT d.code, CAST(p.council_district AS text) FROM parcels p "
                "JOIN departments d ON d.id = p.department_id "
                "WHERE p.retired_at IS NULL AND p.council_district IS NOT NULL "
                "GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT 1"
            )
        ).one()
    return row[0], row[1]


def _expected(app: Flask, department: str, district: str) -> dict[str, str]:
    with app.app_context(), session_factory()() as session:
        values = compute_kpis(
            session,
            None,
            dt.date.today(),
            filters=KpiFilters(department=department, council_district=district),
        )
    return {
        v.kpi_id: format_kpi_value(v.value, v.unit)
        for v in values
        if v.breakdown == "city" and v.value is not None
    }


def test_a_reform_user_filters_by_department_and_district_without_a_reload(
    page: Page, server: LiveServer, desk_app: Flask
) -> None:
    _sign_in(page, server)
    department, district = _busiest_pair(desk_app)
    page.evaluate("() => { window.deskMarker = 'still here'; }")
    with page.expect_response(lambda r: "/kpi/values?" in r.url):
        page.select_option("#f-department", department)
    with page.expect_response(lambda r: "/kpi/values?" in r.url):
        page.select_option("#f-district", district)
    selection = page.locator("#kpi-selection")
    selection.filter(has_text=f"department {department}, council district {district}").wait_for()
    assert page.evaluate("() => window.deskMarker") == "still here"
    assert f"department={department}" in page.url and f"district={district}" in page.url
    expected = _expected(desk_app, department, district)
    assert "DIG-1" in expected
    for kpi_id in ("DIG-1", "DIG-2", "DIG-3", "UTL-1"):
        shown = page.locator(f"#tile-{kpi_id} .kpi-value").inner_text()
        assert shown == expected[kpi_id], kpi_id
    # the combination's trend starts with this first view, and the page says so
    today = dt.date.today().isoformat()
    note = page.locator("#kpi-trend-note")
    assert note.is_visible() and f"start on {today}, the day it was first viewed" in (
        note.inner_text()
    )
    trend = page.locator("#tile-DIG-1 .kpi-trend svg .point")
    assert trend.count() == 1  # one point so far, drawn as a marked point
    origin = page.locator("#tile-DIG-1 .kpi-trend-origin").inner_text()
    assert f"first viewed on {today}" in origin
    assert page.locator("#family-digitization .family-chart svg polyline.series").count() >= 1
    frame = page.locator("iframe.kpi-map")
    assert f"department={department}" in (frame.get_attribute("src") or "")
    assert page.locator("#district-values-stale").is_visible()


def test_the_browser_formats_values_as_the_server_does(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/kpi/public")
    cases: list[tuple[str, str, str]] = [
        ("157.00", "count", "count"),
        ("1287000.0", "$", "money"),
        ("64380299.09", "$", "money"),
        ("64.38", "%", "percent"),
        ("12.345", "$/sq ft", "rate"),
        ("162.4", "sq ft/person", "area_per_person"),
        ("-30", "date, days", "days"),
        ("1", "date, days", "days"),
        ("87.46", "0–100", "index"),
    ]
    from decimal import Decimal

    for value, unit, kind in cases:
        shown = page.evaluate("([v, k]) => window.formatKpi(v, k)", [value, kind])
        assert shown == format_kpi_value(Decimal(value), unit), (value, unit)


def _serious_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(url=AXE)
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("critical", "serious")
    ]


def test_the_desk_and_the_public_page_have_no_serious_accessibility_violation(
    page: Page, server: LiveServer
) -> None:
    _sign_in(page, server)
    page.wait_for_load_state("load")
    assert _serious_violations(page) == [], "/kpi"
    page.goto(server.url + "/kpi/public")
    page.wait_for_load_state("load")
    assert page.locator("h1").count() == 1
    assert _serious_violations(page) == [], "/kpi/public"
