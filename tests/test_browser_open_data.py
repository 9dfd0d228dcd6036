"""The open-data page in Debian's Chromium: a visitor searches and filters, and the table and the
map show the same parcels; axe-core finds no critical or serious accessibility violation; on a
390 px phone nothing is wider than the screen."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.conftest import LiveServer
from tests.sql import query as _query

pytestmark = pytest.mark.browser

AXE = "/static/vendor/axe-core/axe.min.js"


def query(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in _query(url, sql, **params)]


def _page(browser: Browser, width: int, height: int) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, 1280, 900)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, 390, 844)


def _map_parcel_ids(page: Page) -> set[str]:
    """The parcels the map has drawn: the features of every loaded tile of the parcel layer."""
    page.locator('#open-map[data-tiles="loaded"]').wait_for(state="attached", timeout=20_000)
    ids = page.evaluate(
        """() => {
            const tiles = RegistryMap.parcels._vectorTiles;
            const ids = new Set();
            Object.values(tiles).forEach(
                t => Object.keys(t._features || {}).forEach(i => ids.add(i)));
            return Array.from(ids);
        }"""
    )
    return set(ids)


def _table_parcel_ids(page: Page) -> list[str]:
    return page.locator("table.open-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.parcelId)"
    )


def test_searching_and_filtering_shows_the_same_parcels_in_the_table_and_on_the_map(
    page: Page, sample_server: LiveServer, sample_database_url: str
) -> None:
    found = query(
        sample_database_url,
        "SELECT substring(address from '[0-9]+ (.*)') AS street, status FROM parcels"
        " WHERE retired_at IS NULL AND address ~ '^[0-9]+ '"
        " GROUP BY 1, 2 HAVING count(*) BETWEEN 3 AND 20 AND count(geom) > 1"
        " ORDER BY count(*) DESC LIMIT 1",
    )[0]
    street, status = str(found[0]), str(found[1])
    matching = query(
        sample_database_url,
        "SELECT parcel_id, geom IS NOT NULL FROM parcels WHERE retired_at IS NULL"
        " AND status = :status AND (address ILIKE :q OR parcel_id ILIKE :prefix)",
        status=status,
        q=f"%{street}%",
        prefix=f"{street}%",
    )
    listed = {row[0] for row in matching}
    expected = {row[0] for row in matching if row[1]}  # a paper record has no shape to draw
    page.goto(sample_server.url + "/open")
    expect(page.locator("h1")).to_contain_text("City-owned property")
    page.get_by_label("Address or parcel id").fill(street)
    page.get_by_label("Status").select_option(status)
    page.get_by_role("button", name="Show parcels").click()
    page.wait_for_url(re.compile(r"/open\?"))
    expect(page.locator("#result-count")).to_contain_text(f"{len(listed)} parcel")

    assert set(_table_parcel_ids(page)) == listed
    assert _map_parcel_ids(page) == expected

    # a click on a drawn parcel opens its public page
    page.locator("path.parcel").first.click(force=True)
    popup = page.locator(".parcel-popup")
    expect(popup).to_be_visible(timeout=5_000)
    parcel_id = popup.get_attribute("data-parcel-id")
    assert parcel_id in expected
    popup.locator("a.parcel-link").click()
    expect(page.locator("h1")).to_have_text(f"Parcel {parcel_id}")
    assert f"/open/parcels/{parcel_id}" in page.url


def test_a_department_filter_draws_only_that_departments_parcels(
    page: Page, sample_server: LiveServer, sample_database_url: str
) -> None:
    found = query(
        sample_database_url,
        "SELECT d.name, p.council_district FROM parcels p JOIN departments d"
        " ON d.id = p.department_id WHERE p.retired_at IS NULL"
        " GROUP BY 1, 2 HAVING count(*) BETWEEN 2 AND 25 AND count(p.geom) > 1"
        " ORDER BY count(*) DESC LIMIT 1",
    )[0]
    department, district = str(found[0]), int(found[1])
    page.goto(sample_server.url + "/open")
    page.get_by_label("Department").select_option(department)
    page.get_by_label("Council district").select_option(str(district))
    page.get_by_role("button", name="Show parcels").click()
    page.wait_for_url(re.compile(r"department="))
    table = _table_parcel_ids(page)
    with_shape = {
        row[0]
        for row in query(
            sample_database_url,
            "SELECT parcel_id FROM parcels WHERE geom IS NOT NULL AND parcel_id = ANY(:ids)",
            ids=table,
        )
    }
    assert with_shape
    assert _map_parcel_ids(page) == with_shape
    departments = page.locator("table.open-table tbody td:nth-child(3)").all_inner_texts()
    assert set(departments) == {department}


def _serious_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(url=AXE)
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("critical", "serious")
    ]


def test_the_open_pages_have_no_critical_or_serious_accessibility_violation(
    page: Page, sample_server: LiveServer, sample_database_url: str
) -> None:
    parcel_id = query(
        sample_database_url,
        "SELECT parcel_id FROM parcels WHERE retired_at IS NULL AND geom IS NOT NULL"
        " ORDER BY parcel_id LIMIT 1",
    )[0][0]
    for path in ("/open", "/open?status=surplus", f"/open/parcels/{parcel_id}", "/open/dictionary"):
        page.goto(sample_server.url + path)
        page.wait_for_load_state("load")
        if path.startswith("/open?") or path == "/open":
            # the map's attribution line is part of the page (axe ran before it, by chance)
            page.wait_for_selector(".leaflet-control-attribution a")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("main").count() == 1 and page.locator("h1").count() == 1
        assert _serious_violations(page) == [], path


def test_on_a_390_px_phone_nothing_scrolls_sideways(
    phone: Page, sample_server: LiveServer, sample_database_url: str
) -> None:
    parcel_id = query(
        sample_database_url,
        "SELECT parcel_id FROM parcels WHERE retired_at IS NULL AND geom IS NOT NULL"
        " ORDER BY parcel_id LIMIT 1",
    )[0][0]
    for path in ("/open", f"/open/parcels/{parcel_id}", "/open/dictionary"):
        phone.goto(sample_server.url + path)
        phone.wait_for_load_state("load")
        overflow = phone.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow} px wider than the phone"
    phone.goto(sample_server.url + "/open")
    map_box = phone.locator("#open-map").bounding_box()
    assert map_box is not None and map_box["width"] <= 390
