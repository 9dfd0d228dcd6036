from __future__ import annotations

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.browser import wait_for_the_map_at_rest
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser


def test_the_map_draws_parcels_and_a_click_opens_the_parcel_popup(
    page: Page, sample_server: LiveServer
) -> None:
    # The default base map is on the internet, which these machines cannot reach: the parcels
    # must be drawn all the same.
    page.goto(sample_server.url + "/")
    parcels = page.locator("path.parcel")
    expect(parcels.first).to_be_attached(timeout=20_000)
    # every tile of the view drawn: the first parcel comes with the first tile, not the last
    wait_for_the_map_at_rest(page)
    assert parcels.count() > 50
    expect(page.locator(".registry-legend")).to_contain_text("No current use")

    page.locator(".leaflet-container").wait_for()
    map_box = page.locator(".leaflet-container").bounding_box()
    assert map_box is not None
    target = _a_visible_parcel(page)
    target.click(force=True)
    popup = page.locator(".parcel-popup")
    expect(popup).to_be_visible(timeout=5_000)
    parcel_id = popup.get_attribute("data-parcel-id")
    assert parcel_id
    expect(popup.locator("a.parcel-link")).to_have_attribute("href", f"/parcels/{parcel_id}")

    popup.locator("a.parcel-link").click()
    expect(page.locator("h1")).to_have_text(f"Parcel {parcel_id}")


def _a_visible_parcel(page: Page):  # type: ignore[no-untyped-def]
    """The largest parcel drawn inside the viewport, so the click lands on it."""
    index = page.evaluate(
        """() => {
            const paths = Array.from(document.querySelectorAll('path.parcel'));
            const w = window.innerWidth, h = window.innerHeight;
            let best = -1, bestArea = 0;
            paths.forEach((p, i) => {
                const r = p.getBoundingClientRect();
                const inside = r.left > 40 && r.top > 60 && r.right < w - 220 && r.bottom < h - 40;
                const area = r.width * r.height;
                if (inside && area > bestArea) { best = i; bestArea = area; }
            });
            return best;
        }"""
    )
    assert index >= 0, "no parcel fully inside the viewport"
    return page.locator("path.parcel").nth(index)
