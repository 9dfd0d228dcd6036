"""Playwright driving Debian's Chromium (no browser download is possible on these machines).

A pytest plugin too (tests/conftest.py): `browser`, one Chromium per test module, and `page`, a
fresh 1280×900 page that fails its test on any JavaScript error. A module needing another
viewport or a signed-in context makes its own from `browser`. And `wait_for_the_map_at_rest`,
for a test that reads the registry's map after moving or filtering it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import sync_playwright

from tests.auth_fixtures import TEST_PASSWORD

# Leaflet 1.9 says neither whether the map is moving nor whether old tiles are still shown: its
# own state does (app/static/vendor/leaflet, VectorGrid keeps GridLayer's tile records).
_MAP_AT_REST = """() => {
    const map = window.RegistryMap && RegistryMap.map, parcels = RegistryMap.parcels;
    if (!map || !parcels) { return false; }
    const moving = (map._panAnim && map._panAnim._inProgress) || map._animatingZoom
        || Boolean(map._flyToFrame);
    return !moving && !parcels.isLoading()
        && Object.values(parcels._tiles).every(tile => tile.current && tile.active);
}"""

CHROMIUM = os.environ.get("REGISTRY_TEST_CHROMIUM", "/usr/bin/chromium")
# Without these, Chromium's background services keep dialling out on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def sign_in(page: Page, base_url: str, email: str, password: str = TEST_PASSWORD) -> None:
    """Sign `page` in as `email` through the sign-in form, as a person would."""
    page.goto(base_url + "/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)


def wait_for_the_map_at_rest(page: Page, timeout: float = 20_000) -> None:
    """Wait until the registry's map (`RegistryMap`) is still and shows the parcel tiles of its
    view, every one drawn and the tiles of the view before removed.

    A move, a zoom, a filter or a popup's autopan keeps the map busy for a while: a 250 ms
    animation, tiles loading one by one, and the old tiles kept until the new ones have faded in.
    A test that counts the parcels, picks one by its index or reads the centre in that while
    passes or fails by chance (more often on a loaded machine)."""
    page.wait_for_function(_MAP_AT_REST, timeout=timeout)
