from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import BrowserContext
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.auth_fixtures import TEST_PASSWORD
from tests.browser import wait_for_the_map_at_rest
from tests.conftest import LiveServer
from tests.live_apps import sample_app
from tests.sql import query

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def editing_app(template_url: str) -> Iterator[Flask]:
    """The sample portfolio in a database of this module's own, with an editor and a viewer."""
    users = (
        ("ed@city.example", "editor"),
        ("eve@city.example", "editor"),
        ("vi@city.example", "viewer"),
    )
    with sample_app(template_url, users) as app:
        yield app


@pytest.fixture(scope="module")
def server(editing_app: Flask) -> Iterator[LiveServer]:
    with LiveServer(editing_app) as live:
        yield live


def _signed_in(browser: Browser, server: LiveServer, email: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(server.url + "/login")
    page.fill("#email", email)
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")
    expect(page.locator("path.parcel").first).to_be_attached(timeout=20_000)
    return context, page


def _query(app: Flask, sql: str, **params: object) -> list[tuple[object, ...]]:
    return [tuple(row) for row in query(app.config["DATABASE_URL"], sql, **params)]


def _a_parcel(app: Flask, street: str) -> str:
    (parcel_id,), *_ = _query(
        app,
        "SELECT parcel_id FROM parcels WHERE address LIKE :street AND geom IS NOT NULL "
        "AND retired_at IS NULL ORDER BY land_area_sq_ft DESC LIMIT 1",
        street=f"% {street}%",
    )
    return str(parcel_id)


def _find(page: Page, parcel_id: str) -> None:
    """Search the parcel and open it in the panel, its corners where the map will keep them.

    The map zooms to the parcel (an animated zoom when it is four levels or fewer from the
    view): a corner measured while it runs is not where the mouse will find it."""
    page.fill("#parcel-search-input", parcel_id)
    result = page.locator(f'.search-result[data-parcel-id="{parcel_id}"]')
    expect(result).to_be_visible(timeout=5_000)
    result.dispatch_event("mousedown")
    expect(page.locator("#parcel-panel")).to_be_visible(timeout=5_000)
    expect(page.locator("#f-parcel_id")).to_have_value(parcel_id)
    wait_for_the_map_at_rest(page)


def _save(page: Page) -> None:
    """Click Save; a verified parcel first asks before its verification is revoked: confirm."""
    page.click("#save-parcel")
    warning = page.locator("#revoke-warning")
    try:
        warning.wait_for(state="visible", timeout=1_500)
    except PlaywrightTimeout:
        return
    page.click("#revoke-confirm")


def _drag_first_vertex(page: Page, dx: int = 25, dy: int = 15) -> None:
    vertex = page.locator(".marker-icon:not(.marker-icon-middle)").first
    expect(vertex).to_be_visible(timeout=5_000)
    box = vertex.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx / 2, y + dy / 2, steps=5)
    page.mouse.move(x + dx, y + dy, steps=5)
    page.mouse.up()
    assert page.evaluate("RegistryMap.editor.state.geometryDirty") is True


def test_an_editor_finds_a_parcel_changes_an_attribute_and_a_vertex_and_both_are_stored(
    browser: Browser, server: LiveServer, editing_app: Flask
) -> None:
    parcel_id = _a_parcel(editing_app, "Sunset")
    ((geometry_before, start),) = _query(
        editing_app,
        "SELECT ST_AsText(geom), version FROM parcels WHERE parcel_id = :id",
        id=parcel_id,
    )
    context, page = _signed_in(browser, server, "ed@city.example")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    _find(page, parcel_id)
    page.fill("#f-address", "1 Reform Plaza")
    _drag_first_vertex(page)
    _save(page)
    expect(page.locator("#panel-status")).to_contain_text(
        f"Saved: version {start + 1}", timeout=10_000
    )

    ((address, geometry_after, version),) = _query(
        editing_app,
        "SELECT address, ST_AsText(geom), version FROM parcels WHERE parcel_id = :id",
        id=parcel_id,
    )
    assert (address, version) == ("1 Reform Plaza", start + 1)
    assert geometry_after != geometry_before
    ((actor, changed),) = _query(
        editing_app,
        "SELECT actor, changed_fields FROM audit_events WHERE row_key = :id AND action = 'UPDATE' "
        "ORDER BY id DESC LIMIT 1",  # the sample's own history holds earlier updates
        id=parcel_id,
    )
    assert actor == "ed@city.example"
    assert {"address", "geom"} <= set(changed)  # type: ignore[arg-type]
    context.close()
    assert errors == []


def test_a_second_editor_is_told_who_saved_first_and_can_reapply_their_change(
    browser: Browser, server: LiveServer, editing_app: Flask
) -> None:
    parcel_id = _a_parcel(editing_app, "Figueroa")
    ((start,),) = _query(
        editing_app, "SELECT version FROM parcels WHERE parcel_id = :id", id=parcel_id
    )
    first_context, first = _signed_in(browser, server, "ed@city.example")
    second_context, second = _signed_in(browser, server, "eve@city.example")
    _find(first, parcel_id)
    _find(second, parcel_id)

    first.fill("#f-use", "Community Garden")
    _save(first)
    expect(first.locator("#panel-status")).to_contain_text("Saved", timeout=10_000)

    second.fill("#f-address", "2 Second Editor Way")
    _save(second)
    conflict = second.locator("#panel-conflict")
    expect(conflict).to_be_visible(timeout=10_000)
    expect(conflict).to_contain_text("ed@city.example")
    second.click("#reapply-changes")
    expect(second.locator("#panel-status")).to_contain_text(
        f"Saved: version {start + 2}", timeout=10_000
    )

    ((use, address),) = _query(
        editing_app, "SELECT use, address FROM parcels WHERE parcel_id = :id", id=parcel_id
    )
    assert (use, address) == ("Community Garden", "2 Second Editor Way")  # nothing overwritten
    first_context.close()
    second_context.close()


def test_a_viewer_sees_no_editing_controls(browser: Browser, server: LiveServer) -> None:
    context, page = _signed_in(browser, server, "vi@city.example")
    assert page.locator("#parcel-panel").count() == 0
    assert page.locator("#draw-parcel").count() == 0
    assert page.evaluate("typeof L.PM") == "undefined"  # the editing code is not even sent
    context.close()


def test_an_editor_cuts_a_hole_in_a_parcel(
    browser: Browser, server: LiveServer, editing_app: Flask
) -> None:
    ((parcel_id,),) = _query(
        editing_app,
        "SELECT parcel_id FROM parcels WHERE geom IS NOT NULL AND retired_at IS NULL "
        "ORDER BY land_area_sq_ft DESC LIMIT 1",
    )
    context, page = _signed_in(browser, server, "ed@city.example")
    _find(page, str(parcel_id))
    box = page.evaluate(
        """() => { const b = RegistryMap.editor.state.editLayer.getBounds();
                   const m = RegistryMap.map;
                   const sw = m.latLngToContainerPoint(b.getSouthWest());
                   const ne = m.latLngToContainerPoint(b.getNorthEast());
                   const r = m.getContainer().getBoundingClientRect();
                   return {x: r.left + (sw.x + ne.x) / 2, y: r.top + (sw.y + ne.y) / 2,
                           w: Math.abs(ne.x - sw.x), h: Math.abs(sw.y - ne.y)}; }"""
    )
    assert box["w"] > 60 and box["h"] > 60, box
    page.click("#cut-hole")
    x, y, d = box["x"], box["y"], min(box["w"], box["h"]) / 6
    for px, py in ((x - d, y - d), (x + d, y - d), (x + d, y + d), (x - d, y + d), (x - d, y - d)):
        page.mouse.click(px, py)
        page.wait_for_timeout(150)

    assert page.evaluate("RegistryMap.editor.state.geometryDirty") is True
    _save(page)
    expect(page.locator("#panel-status")).to_contain_text("Saved", timeout=10_000)
    ((rings,),) = _query(
        editing_app, "SELECT ST_NRings(geom) FROM parcels WHERE parcel_id = :id", id=parcel_id
    )
    assert rings == 2  # the outer ring and the hole
    context.close()


def test_an_editor_saving_a_shape_over_the_corner_limit_is_told_at_the_shape_field(
    browser: Browser, server: LiveServer, editing_app: Flask
) -> None:
    """Issue 15, finding 4: a traced outline of 20,001 corners (the limit is 20,000) is refused
    with the count and the limit next to the shape; the parcel keeps its shape and version."""
    parcel_id = _a_parcel(editing_app, "Main")
    ((shape, version),) = _query(
        editing_app,
        "SELECT ST_AsText(geom), version FROM parcels WHERE parcel_id = :id",
        id=parcel_id,
    )
    context, page = _signed_in(browser, server, "eve@city.example")
    _find(page, parcel_id)
    page.evaluate(
        """(corners) => {
             const state = RegistryMap.editor.state, c = state.editLayer.getBounds().getCenter();
             const ring = [];  // Leaflet closes the ring: corners - 1 distinct points
             for (let k = 0; k < corners - 1; k++) {
               const a = 2 * Math.PI * k / (corners - 1);
               ring.push([c.lat + 0.0003 * Math.sin(a), c.lng + 0.0003 * Math.cos(a)]);
             }
             state.editLayer.clearLayers();
             state.editLayer.addLayer(L.polygon(ring));
             state.geometryDirty = true;
           }""",
        20_001,
    )
    page.click("#save-parcel")
    expect(page.locator('.field[data-field="geometry"] .field-error')).to_contain_text(
        "has 20,001 corners; the limit is 20,000", timeout=10_000
    )
    assert _query(
        editing_app,
        "SELECT ST_AsText(geom), version FROM parcels WHERE parcel_id = :id",
        id=parcel_id,
    ) == [(shape, version)]
    context.close()
