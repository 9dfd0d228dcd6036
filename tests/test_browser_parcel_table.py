"""The parcel table in Debian's Chromium, as an editor uses it: filter, sort, page, select the
rows of a page, bulk-edit 50 parcels after a preview (50 audit events, one per parcel, each by
the editor); axe-core finds no critical or serious violation; the screenshot kept in docs/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.auth_fixtures import TEST_PASSWORD
from tests.auth_fixtures import make_user
from tests.browser import sign_in
from tests.conftest import LiveServer
from tests.parcel_fixtures import rows
from tests.test_parcel_table import seed_parcels

pytestmark = pytest.mark.browser

EDITOR = "ana@city.example"
AXE = "/static/vendor/axe-core/axe.min.js"
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "parcel-table.png"


@pytest.fixture
def server(app: Flask) -> Iterator[LiveServer]:
    seed_parcels(app)
    make_user(app, EDITOR, "editor", TEST_PASSWORD)
    with LiveServer(app) as live:
        yield live


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, server.url, EDITOR)
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def _serious_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(url=AXE)
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("critical", "serious")
    ]


def _ids(page: Page) -> list[str]:
    return page.locator("#parcel-table tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.parcelId)"
    )


def test_filter_sort_and_page_the_table(page: Page, server: LiveServer, app: Flask) -> None:
    """Each step loads a new page: its rows are read once the count shows all of them there
    (the page before, or the top of the new one, would be read otherwise)."""
    listed = page.locator("#parcel-table tbody tr")
    page.goto(server.url + "/parcels")
    expect(page.locator("#match-count")).to_contain_text("120 parcels match")
    page.get_by_label("Status").first.select_option("surplus")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#match-count")).to_contain_text("30 parcels match the filter")
    expect(listed).to_have_count(30)
    heading = page.locator("th[scope=col]", has_text="Address")
    heading.get_by_role("link").click()
    expect(heading).to_have_attribute("aria-sort", "ascending")
    heading.get_by_role("link").click()
    expect(page.locator("th[scope=col]", has_text="Address")).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(listed).to_have_count(30)
    expected = [
        r["parcel_id"]
        for r in rows(
            app,
            "SELECT parcel_id FROM parcels WHERE status = 'surplus' "
            "ORDER BY address DESC, parcel_id DESC",
        )
    ]
    assert _ids(page) == expected
    page.get_by_label("Rows per page").select_option("25")
    page.get_by_role("button", name="Filter").click()
    expect(listed).to_have_count(25)
    first = _ids(page)
    page.get_by_role("link", name="Next page").click()
    expect(listed).to_have_count(len(expected) - 25)
    second = _ids(page)
    assert first + second == expected  # paging keeps filter and sort, loses nobody
    # keyboard: the parcels are links in the table, reachable with Tab
    page.locator("#parcel-table tbody th a").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/parcels/{second[0]}")


def test_bulk_edit_of_50_parcels_after_a_preview(
    page: Page, server: LiveServer, app: Flask
) -> None:
    page.goto(server.url + "/parcels?size=50")
    page.get_by_role("button", name="Clear selection").click()
    page.get_by_role("checkbox", name="Select parcel 9000-000-001").check()
    expect(page.locator("#selection-status")).to_have_text("1 parcel selected.")
    page.get_by_role("button", name="Select all on this page").click()
    expect(page.locator("#selection-status")).to_have_text("50 parcels selected.")
    chosen = _ids(page)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=False)
    assert _serious_violations(page) == []
    bulk = page.locator("#bulk-form")
    bulk.locator("input[name=use]").fill("Depot")
    bulk.locator("select[name=legal_interest]").select_option("leased")
    page.get_by_role("button", name="Preview the change").click()
    expect(page.locator("#bulk-preview-note")).to_contain_text("50 of 50 parcels change")
    expect(page.locator("table.bulk-preview tbody tr")).to_have_count(50)
    assert _serious_violations(page) == []
    assert rows(app, "SELECT count(*) AS n FROM parcels WHERE use = 'Depot'")[0]["n"] == 0
    page.get_by_role("button", name="Apply to 50 parcels").click()
    expect(page.locator("#bulk-applied")).to_contain_text("50 parcels changed")
    events = rows(
        app,
        "SELECT row_key, actor FROM audit_events WHERE table_name = 'parcels' "
        "AND action = 'UPDATE'",
    )
    assert sorted(e["row_key"] for e in events) == sorted(chosen)
    assert {e["actor"] for e in events} == {EDITOR}


def test_the_table_has_no_serious_accessibility_violation(page: Page, server: LiveServer) -> None:
    for path in ("/parcels", "/parcels?status=surplus&sort=area&order=desc&cols=use,area"):
        page.goto(server.url + path)
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("main").count() == 1 and page.locator("h1").count() == 1
        assert _serious_violations(page) == []
