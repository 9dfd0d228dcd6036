"""Precise editing and any screen (issue 12, items 3 and 4), in Debian's Chromium: snapping to a
neighbour, undo/redo, Esc, refused gestures said on the map, the revoke warning, split and merge
with their lineage in the history, the editor on a 390×844 phone (screenshot kept in docs/),
pinch-zoom allowed, and axe-core (vendored from npm) finding no critical or serious violation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import BrowserContext
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.auth_fixtures import TEST_PASSWORD
from tests.conftest import LiveServer
from tests.live_apps import sample_app
from tests.sql import execute
from tests.sql import query

pytestmark = pytest.mark.browser

AXE = "/static/vendor/axe-core/axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SIZE = 0.0005  # degrees: ~46 m squares
GAP = 0.00002  # ~2 m between the neighbours: a few pixels at zoom 18


@pytest.fixture(scope="module")
def editing_app(template_url: str) -> Iterator[Flask]:
    users = (("ed@city.example", "editor"), ("eve@city.example", "editor"))
    with sample_app(template_url, users) as app:
        yield app


@pytest.fixture(scope="module")
def server(editing_app: Flask) -> Iterator[LiveServer]:
    with LiveServer(editing_app) as live:
        yield live


def _query(app: Flask, sql: str, **params: object) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in query(app.config["DATABASE_URL"], sql, **params)]


class Ground:
    """Free ground inside the city's extent (no parcel within ~300 m), for a test's own parcels."""

    def __init__(self, app: Flask, row: int) -> None:
        ((x, y),) = _query(
            app,
            "SELECT x, y FROM (SELECT extent FROM city_profile LIMIT 1) c, "
            "generate_series(1, 29) i, generate_series(1, 29) j, "
            "LATERAL (SELECT ST_XMin(c.extent) + (ST_XMax(c.extent) - ST_XMin(c.extent)) * i / 30.0"
            " AS x, ST_YMin(c.extent) + (ST_YMax(c.extent) - ST_YMin(c.extent)) * j / 30.0 AS y) p "
            "WHERE NOT EXISTS (SELECT 1 FROM parcels WHERE geom && "
            "ST_Expand(ST_SetSRID(ST_MakePoint(x, y), 4326), 0.004)) "
            "ORDER BY i, j OFFSET :row LIMIT 1",
            row=row * 3,
        )
        self.x, self.y = round(float(x), 6), round(float(y), 6)

    def square(self, east: float = 0.0) -> dict[str, Any]:
        x0, y0 = round(self.x + east, 7), self.y
        x1, y1 = round(x0 + SIZE, 7), round(y0 + SIZE, 7)
        ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
        return {"type": "MultiPolygon", "coordinates": [[ring]]}


def _signed_in(
    browser: Browser, server: LiveServer, viewport: tuple[int, int] = (1400, 900), **options: Any
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, **options)
    page = context.new_page()
    page.goto(server.url + "/login")
    page.fill("#email", "ed@city.example")
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")
    return context, page


def _create(page: Page, parcel_id: str, geometry: dict[str, Any]) -> None:
    """POST the parcel from the signed-in page (its session and CSRF token)."""
    status = page.evaluate(
        """async ([id, geometry]) => {
            const token = document.querySelector('meta[name="csrf-token"]').content;
            const response = await fetch('/api/parcels', {method: 'POST',
              headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
              body: JSON.stringify({type: 'Feature', geometry: geometry, properties: {
                parcel_id: id, address: '1 Test Way', use: 'Yard', status: 'in_use',
                legal_interest: 'owned', digitization_status: 'digitized',
                acquisition_cost: '1000.00'}})});
            return response.status;
        }""",
        [parcel_id, geometry],
    )
    assert status == 201


def _edit(page: Page, server: LiveServer, parcel_id: str) -> None:
    page.goto(f"{server.url}/?edit={parcel_id}")
    expect(page.locator("#parcel-panel")).to_be_visible(timeout=15_000)
    expect(page.locator("#f-parcel_id")).to_have_value(parcel_id, timeout=10_000)
    expect(page.locator(".marker-icon:not(.marker-icon-middle)").first).to_be_visible()


def _wait_for_neighbour(page: Page, parcel_id: str) -> None:
    """Wait until this parcel is among the neighbours drawn, the shapes a vertex snaps to.

    Opening a parcel fetches its neighbours twice: for the city-wide view the page starts with
    (the city's first 500 parcels by id) and for the parcel's own view. Any neighbour
    drawn may be the first answer, not yet the parcel's."""
    expect(page.locator(f'[data-neighbour="{parcel_id}"]')).to_be_attached(timeout=10_000)


def _pixel(page: Page, lon: float, lat: float) -> tuple[float, float]:
    """Where a point of the map is on the page."""
    point = page.evaluate(
        """([lon, lat]) => {
            const map = RegistryMap.editor.map;
            const p = map.latLngToContainerPoint([lat, lon]);
            const box = map.getContainer().getBoundingClientRect();
            return [box.left + p.x, box.top + p.y];
        }""",
        [lon, lat],
    )
    return float(point[0]), float(point[1])


def _drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move((start[0] + end[0]) / 2, (start[1] + end[1]) / 2, steps=5)
    page.mouse.move(*end, steps=8)
    page.mouse.up()


def _corners(page: Page) -> list[list[float]]:
    shape = page.evaluate("RegistryMap.editor.shape()")
    return [list(point) for point in shape["coordinates"][0][0]]


def test_a_vertex_snaps_to_a_neighbours_corner_and_undo_redo_step_through_it(
    browser: Browser, server: LiveServer, editing_app: Flask
) -> None:
    ground = Ground(editing_app, 0)
    context, page = _signed_in(browser, server)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _create(page, "7100-001-001", ground.square())
    _create(page, "7100-001-002", ground.square(east=SIZE + GAP))
    _edit(page, server, "7100-001-001")
    _wait_for_neighbour(page, "7100-001-002")
    area_before = page.locator("#area-readout").inner_text()
    assert area_before.startswith("Area: ")
    north_east = (ground.x + SIZE, ground.y + SIZE)
    neighbour_corner = (round(ground.x + 2 * SIZE + GAP - SIZE, 7), round(ground.y + SIZE, 7))
    target = _pixel(page, *neighbour_corner)
    _drag(page, _pixel(page, *north_east), (target[0] + 4, target[1] + 3))  # near, not on it
    snapped = _corners(page)
    assert any(
        abs(x - neighbour_corner[0]) < 1e-9 and abs(y - neighbour_corner[1]) < 1e-9
        for x, y in snapped
    ), snapped
    expect(page.locator("#area-readout")).not_to_have_text(area_before)
    page.click("#undo-edit")
    assert [round(x, 7) for x, _ in _corners(page)].count(round(ground.x + SIZE, 7)) == 2
    expect(page.locator("#area-readout")).to_have_text(area_before)
    page.locator("#panel-title").focus()
    page.keyboard.press("Control+y")
    assert _corners(page) == snapped
    page.keyboard.press("Control+z")
    assert _corners(page) != snapped
    context.close()
    assert errors == []


#: Holds back the page's first neighbours answer (the city-wide view's) for 2.5 s, so it comes
#: after the parcel's own view's; `window.lateNeighboursArrived` says when it has.
_LATE_CITY_WIDE_NEIGHBOURS = """(() => {
    const fetchNow = window.fetch;
    let held = false;
    window.lateNeighboursArrived = false;
    window.fetch = function (url, options) {
        const answer = fetchNow.call(this, url, options);
        if (held || !String(url).includes("limit=500&bbox=")) { return answer; }
        held = true;
        return answer.then(response => new Promise(resolve => setTimeout(() => {
            resolve(response);
            setTimeout(() => { window.lateNeighboursArrived = true; }, 500);
        }, 2500)));
    };
})();"""


def test_a_late_answer_for_an_earlier_view_does_not_replace_the_neighbours_to_snap_to(
    browser: Browser, server: LiveServer, editing_app: Flask
) -> None:
    """The city-wide neighbours (the first 500 parcels by id) answered after the parcel's own
    view's replaced them: the neighbour was gone and a corner dragged to it did not snap."""
    ground = Ground(editing_app, 5)
    context, page = _signed_in(browser, server)
    _create(page, "7100-006-001", ground.square())
    _create(page, "7100-006-002", ground.square(east=SIZE + GAP))
    page.add_init_script(_LATE_CITY_WIDE_NEIGHBOURS)
    _edit(page, server, "7100-006-001")
    _wait_for_neighbour(page, "7100-006-002")
    page.wait_for_function("() => window.lateNeighboursArrived", timeout=15_000)
    expect(page.locator('[data-neighbour="7100-006-002"]')).to_be_attached(timeout=2_000)
    context.close()


def test_a_refused_drag_and_a_bow_tie_say_why_on_the_map_and_esc_cancels(
    browser: Browser, server: LiveServer, editing_app: Flask
) -> None:
    ground = Ground(editing_app, 1)
    context, page = _signed_in(browser, server)
    _create(page, "7100-002-001", ground.square())
    _edit(page, server, "7100-002-001")
    before = _corners(page)
    # the north-east corner dragged west past the west edge: the edges would cross
    _drag(
        page,
        _pixel(page, ground.x + SIZE, ground.y + SIZE),
        _pixel(page, ground.x - SIZE / 2, ground.y + SIZE / 2),
    )
    message = page.locator("#map-message")
    expect(message).to_be_visible()
    expect(message).to_have_attribute("role", "alert")
    expect(message).to_contain_text("edges")
    assert _corners(page) == before
    # an edit Esc takes back: the shape as saved
    _drag(
        page,
        _pixel(page, ground.x + SIZE, ground.y + SIZE),
        _pixel(page, ground.x + SIZE * 1.2, ground.y + SIZE * 1.2),
    )
    assert _corners(page) != before
    page.keyboard.press("Escape")
    assert _corners(page) == before
    expect(message).to_contain_text("cancelled")
    # a bow-tie drawn: the crossing corner is refused, said on the map; Esc ends the drawing
    page.click("#close-panel")
    page.click("#draw-parcel")
    x, y = ground.x + SIZE * 3, ground.y
    for lon, lat in ((x, y), (x + SIZE, y + SIZE), (x + SIZE, y), (x, y + SIZE)):
        page.mouse.click(*_pixel(page, lon, lat))
    expect(message).to_contain_text("bow-tie")
    page.keyboard.press("Escape")
    assert page.evaluate("RegistryMap.editor.map.pm.globalDrawModeEnabled()") is False
    expect(message).to_contain_text("Drawing cancelled")
    context.close()


def test_saving_a_verified_parcel_asks_before_revoking_its_verification(
    browser: Browser, server: LiveServer, editing_app: Flask
) -> None:
    ground = Ground(editing_app, 2)
    context, page = _signed_in(browser, server)
    _create(page, "7100-003-001", ground.square())
    execute(
        editing_app.config["DATABASE_URL"],
        "UPDATE parcels SET digitization_status = 'verified', verified_by = 'eve@city.example', "
        "verified_at = now() WHERE parcel_id = '7100-003-001'",
    )
    ((version,),) = _query(
        editing_app, "SELECT version FROM parcels WHERE parcel_id = '7100-003-001'"
    )
    _edit(page, server, "7100-003-001")
    page.fill("#f-use", "Depot")
    page.click("#save-parcel")
    warning = page.locator("#revoke-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("revokes its verification")
    page.click("#revoke-cancel")
    expect(page.locator("#panel-status")).to_contain_text("stays verified")
    assert _query(editing_app, "SELECT version FROM parcels WHERE parcel_id = '7100-003-001'") == [
        (version,)
    ]
    page.click("#save-parcel")
    page.click("#revoke-confirm")
    expect(page.locator("#panel-status")).to_contain_text(
        "verification was revoked", timeout=10_000
    )
    assert _query(
        editing_app,
        "SELECT use, digitization_status <> 'verified' FROM parcels "
        "WHERE parcel_id = '7100-003-001'",
    ) == [("Depot", True)]
    context.close()


def test_split_and_merge_in_the_editor_keep_the_lineage_in_the_history(
    browser: Browser, server: LiveServer, editing_app: Flask
) -> None:
    ground = Ground(editing_app, 3)
    context, page = _signed_in(browser, server)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _create(page, "7100-004-001", ground.square())
    _edit(page, server, "7100-004-001")
    page.click("#split-start")
    expect(page.locator("#split-box")).to_be_visible()
    page.fill("#split-ids", "7100-004-002, 7100-004-003")
    middle = ground.x + SIZE / 2
    south = _pixel(page, middle, ground.y - SIZE / 5)
    north = _pixel(page, middle, ground.y + SIZE * 1.2)
    page.mouse.click(*south)
    page.mouse.click(*north)
    page.mouse.click(*north)  # the last point again: the line is finished
    expect(page.locator("#split-send")).to_be_enabled()
    page.click("#split-send")
    expect(page.locator("#panel-status")).to_contain_text(
        "Split into 7100-004-002, 7100-004-003", timeout=15_000
    )
    expect(page.locator("#f-parcel_id")).to_have_value("7100-004-002")
    page.click("#merge-start")
    page.fill("#merge-ids", "7100-004-003")
    page.click("#merge-send")
    expect(page.locator("#panel-status")).to_contain_text(
        "Merged 7100-004-003 into 7100-004-002", timeout=15_000
    )
    assert _query(
        editing_app,
        "SELECT parcel_id FROM parcels WHERE parcel_id LIKE '7100-004-%' AND retired_at IS NULL",
    ) == [("7100-004-002",)]
    page.goto(server.url + "/parcels/7100-004-002")
    lineage = page.locator("ul.lineage")
    expect(lineage).to_contain_text("Made by splitting 7100-004-001 on ")
    expect(lineage).to_contain_text("by ed@city.example")
    expect(lineage).to_contain_text("Merged from 7100-004-003")
    # the history in the form's words, never field names
    history = page.locator("ol.history").inner_text()
    assert "Acquisition cost" in history and "acquisition_cost" not in history
    page.goto(server.url + "/parcels/7100-004-001")
    expect(page.locator("ul.lineage")).to_contain_text("Split into 7100-004-002, 7100-004-003")
    context.close()
    assert errors == []


def test_the_editor_on_a_phone_is_a_bottom_sheet_without_sideways_scrolling(
    browser: Browser, server: LiveServer, editing_app: Flask
) -> None:
    ground = Ground(editing_app, 4)
    context, page = _signed_in(
        browser, server, (390, 844), device_scale_factor=2, is_mobile=True, has_touch=True
    )
    _create(page, "7100-005-001", ground.square())
    _edit(page, server, "7100-005-001")
    panel = page.locator("#parcel-panel").bounding_box()
    assert panel is not None
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= 390
    assert panel["y"] < 844 and panel["y"] > 844 * 0.3  # a sheet from the bottom, map above
    expect(page.locator("#panel-title")).to_be_in_viewport()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "phone-editor.png"))
    save = page.locator("#save-parcel")
    save.scroll_into_view_if_needed()
    box = save.bounding_box()
    assert box is not None
    covering = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).id",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert covering == "save-parcel"  # nothing (the legend) lies over Save
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    menu = page.locator("#menu-button")
    expect(menu).to_be_visible()
    expect(page.locator("nav[aria-label=Main]")).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.locator("nav[aria-label=Main]")).to_be_visible()
    for path in ("/parcels/7100-005-001", "/leases", "/milestone", "/kpi", "/parcels"):
        page.goto(server.url + path, wait_until="domcontentloaded", timeout=60_000)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    context.close()


def test_the_map_page_allows_pinch_zoom_and_names_its_language(
    browser: Browser, server: LiveServer
) -> None:
    context, page = _signed_in(browser, server, (390, 844), is_mobile=True, has_touch=True)
    viewports = page.evaluate(
        "[...document.querySelectorAll('meta[name=viewport]')].map(m => m.content)"
    )
    assert viewports == ["width=device-width, initial-scale=1"]  # no user-scalable=no
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("h1").count() == 1
    context.close()


def _serious_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(url=AXE)
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("critical", "serious")
    ]


def test_axe_finds_no_critical_or_serious_violation_on_the_staff_pages(
    browser: Browser, server: LiveServer, editing_app: Flask
) -> None:
    ((parcel_id,),) = _query(
        editing_app,
        "SELECT parcel_id FROM parcels WHERE retired_at IS NULL AND geom IS NOT NULL "
        "ORDER BY parcel_id LIMIT 1",
    )
    context, page = _signed_in(browser, server)
    found = {}
    for path in (
        "/",
        "/parcels",
        f"/parcels/{parcel_id}",
        f"/?edit={parcel_id}",
        "/leases",
        "/kpi",
        "/milestone",
        "/imports",
    ):
        page.goto(server.url + path)
        page.wait_for_load_state("load")
        if "edit=" in path:
            expect(page.locator("#parcel-panel")).to_be_visible(timeout=15_000)
        violations = _serious_violations(page)
        if violations:
            found[path] = violations
    context.close()
    assert found == {}, json.dumps(found, indent=1)
