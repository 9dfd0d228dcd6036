"""The /ogc HTML pages in Debian's Chromium: the items page draws its features on the small map
with no script error and nothing refused by the Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.conftest import LiveServer

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and "Content-Security-Policy" in message.text
            else None
        ),
    )
    yield page
    context.close()
    assert problems == [], f"script errors or CSP refusals on the page: {problems}"


def test_the_items_page_maps_its_parcels_and_links_each_one(
    page: Page, sample_server: LiveServer
) -> None:
    page.goto(sample_server.url + "/ogc/collections/parcels/items?limit=20")
    expect(page.locator("h1")).to_have_text("City-owned parcels")
    shapes = page.locator("#ogc-map path.leaflet-interactive")
    expect(shapes.first).to_be_attached(timeout=20_000)
    assert shapes.count() >= 15  # a few of the sample's parcels are still on paper
    page.locator("table tbody tr a").first.click()
    expect(page.locator("#ogc-map path.leaflet-interactive")).to_have_count(1, timeout=20_000)
    expect(page.locator("table")).to_contain_text("parcel_id")


def test_a_browser_gets_html_from_the_landing_page(page: Page, sample_server: LiveServer) -> None:
    page.goto(sample_server.url + "/ogc")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="Collections").first.click()
    expect(page.locator("h1")).to_have_text("Collections")
