"""In a real browser: an editor opens a paper record, presses *Draw its shape*, draws the polygon
on the map; the shape is saved to that record (PATCH, If-Match), which becomes digitized. A shape
the server refuses is reported like any edit, and the editor draws again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import BrowserContext
from playwright.sync_api import Page
from playwright.sync_api import expect

from app.database import session_factory
from registry.db import unit_of_work
from registry.parcels.records import ParcelChange
from registry.parcels.records import create_parcel
from tests.auth_fixtures import TEST_PASSWORD
from tests.conftest import LiveServer
from tests.live_apps import sample_app
from tests.sql import query

pytestmark = pytest.mark.browser

PAPER_ID = "9990-001-001"
# Santa Monica Bay: inside the city's extent, far from every sample parcel.
EMPTY_INSIDE = (33.68, -118.90)
# East of the city's extent (-117.95).
OUTSIDE = (34.00, -117.60)


@pytest.fixture(scope="module")
def editing_app(template_url: str) -> Iterator[Flask]:
    with sample_app(template_url, (("ed@city.example", "editor"),)) as app:
        yield app


@pytest.fixture(scope="module")
def server(editing_app: Flask) -> Iterator[LiveServer]:
    with LiveServer(editing_app) as live:
        yield live


def _rows(app: Flask, sql: str, **params: object) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in query(app.config["DATABASE_URL"], sql, **params)]


def _paper_record(app: Flask) -> str:
    """A record without a shape, on a street of the sample two numbers from a mapped parcel."""
    ((address,),) = _rows(
        app,
        "SELECT address FROM parcels WHERE geom IS NOT NULL AND address ~ '^[0-9]+ ' "
        "ORDER BY parcel_id LIMIT 1",
    )
    number, street = str(address).split(" ", 1)
    change = ParcelChange(
        {
            "parcel_id": PAPER_ID,
            "address": f"{int(number) + 2} {street}",
            "digitization_status": "paper",
        },
        geometry=None,
    )
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        create_parcel(session, change, app.config["REGISTRY_SETTINGS"])
    return str(address)


def _signed_in(browser: Browser, server: LiveServer) -> tuple[BrowserContext, Page, list[str]]:
    """A page signed in as the editor, and the JavaScript errors it will raise."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.url + "/login")
    page.fill("#email", "ed@city.example")
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")
    return context, page, errors


def _draw_square(page: Page, centre: tuple[float, float]) -> None:
    """Press *Draw its shape*, then click four corners around `centre` and the first again."""
    page.evaluate(
        "([lat, lon]) => RegistryMap.map.setView([lat, lon], 18, {animate: false})", list(centre)
    )
    page.get_by_role("button", name="Draw its shape").click()
    box = page.locator(".leaflet-container").bounding_box()
    assert box is not None
    x, y, d = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, 50
    for px, py in ((x - d, y - d), (x + d, y - d), (x + d, y + d), (x - d, y + d), (x - d, y - d)):
        page.mouse.click(px, py)
        page.wait_for_timeout(150)


def test_an_editor_draws_the_shape_of_a_paper_record_and_it_becomes_digitized(
    browser: Browser, server: LiveServer, editing_app: Flask
) -> None:
    near = _paper_record(editing_app)
    ((parcels_before,),) = _rows(editing_app, "SELECT count(*) FROM parcels")
    context, page, errors = _signed_in(browser, server)

    # The parcel page offers it as a real button, reached and pressed from the keyboard.
    page.goto(f"{server.url}/parcels/{PAPER_ID}")
    offer = page.get_by_role("button", name="Draw its shape")
    offer.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/?edit={PAPER_ID}")
    expect(page.locator("#parcel-panel")).to_be_visible(timeout=20_000)
    expect(page.locator("#f-parcel_id")).to_have_value(PAPER_ID)
    expect(page.locator("#f-digitization_status")).to_have_value("paper")
    expect(page.locator("#panel-status")).to_contain_text(f"Centred near {near}", timeout=10_000)
    expect(page.get_by_role("button", name="Draw its shape")).to_be_focused()

    # Outside the city: refused like any edit, nothing written, and the editor may draw again.
    _draw_square(page, OUTSIDE)
    expect(page.locator('.field[data-field="geometry"] .field-error')).to_contain_text(
        "outside the city's extent", timeout=10_000
    )
    expect(page.locator("#panel-status")).to_contain_text("Not saved")
    assert _rows(
        editing_app,
        "SELECT geom IS NULL, digitization_status, version FROM parcels WHERE parcel_id = :id",
        id=PAPER_ID,
    ) == [(True, "paper", 1)]

    _draw_square(page, EMPTY_INSIDE)
    expect(page.locator("#panel-status")).to_contain_text(
        "Saved: version 2. The record is now digitized.", timeout=10_000
    )
    expect(page.locator("#no-shape")).to_be_hidden()
    expect(page.locator("#f-digitization_status")).to_have_value("digitized")

    ((has_shape, status, version, points),) = _rows(
        editing_app,
        "SELECT geom IS NOT NULL, digitization_status, version, ST_NPoints(geom) "
        "FROM parcels WHERE parcel_id = :id",
        id=PAPER_ID,
    )
    assert (has_shape, status, version, points) == (True, "digitized", 2, 5)  # a closed square
    assert _rows(editing_app, "SELECT count(*) FROM parcels") == [(parcels_before,)]
    ((actor, changed),) = _rows(
        editing_app,
        "SELECT actor, changed_fields FROM audit_events "
        "WHERE table_name = 'parcels' AND row_key = :id AND action = 'UPDATE'",
        id=PAPER_ID,
    )
    assert actor == "ed@city.example"
    assert {"geom", "digitization_status"} <= set(changed)

    # The record's history shows the change.
    page.goto(f"{server.url}/parcels/{PAPER_ID}")
    latest = page.locator(".history-entry").first
    expect(latest).to_contain_text("Changed by ed@city.example")
    expect(latest.locator("tr", has_text="Digitization")).to_contain_text("paper")
    expect(latest.locator("tr", has_text="Digitization")).to_contain_text("digitized")
    expect(latest.locator("tr", has_text="shape")).to_contain_text("drawn")
    expect(page.get_by_role("button", name="Draw its shape")).to_have_count(0)
    context.close()
    assert errors == []


def _find(page: Page, parcel_id: str) -> None:
    page.fill("#parcel-search-input", parcel_id)
    result = page.locator(f'.search-result[data-parcel-id="{parcel_id}"]')
    expect(result).to_be_visible(timeout=5_000)
    result.dispatch_event("mousedown")
    expect(page.locator("#f-parcel_id")).to_have_value(parcel_id, timeout=5_000)


def test_searching_a_record_without_a_shape_offers_draw_its_shape(
    browser: Browser, server: LiveServer, editing_app: Flask
) -> None:
    ((paper_id,),) = _rows(
        editing_app,
        "SELECT parcel_id FROM parcels WHERE geom IS NULL AND retired_at IS NULL "
        "AND parcel_id <> :id ORDER BY parcel_id LIMIT 1",
        id=PAPER_ID,
    )
    ((mapped_id,),) = _rows(
        editing_app,
        "SELECT parcel_id FROM parcels WHERE geom IS NOT NULL AND retired_at IS NULL "
        "ORDER BY parcel_id LIMIT 1",
    )
    context, page, errors = _signed_in(browser, server)
    expect(page.locator("path.parcel").first).to_be_attached(timeout=20_000)

    _find(page, str(paper_id))
    expect(page.get_by_role("button", name="Draw its shape")).to_be_visible()
    expect(page.locator("#panel-status")).to_contain_text("then Draw its shape")

    _find(page, str(mapped_id))
    expect(page.get_by_role("button", name="Draw its shape")).to_be_hidden()
    context.close()
    assert errors == []
