"""The portfolio map's tools in Debian's Chromium (issue 12, item 2): a shared URL reopens the
same view, filter, layers and selection; the filter reaches the tiles; the layer and base-map
switcher; measuring; box selection to the table; print to PDF; zooming out past the start; and a
message when the map's scripts do not load."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import Route
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect
from pyproj import Geod

from tests.auth_fixtures import TEST_PASSWORD
from tests.auth_fixtures import make_user
from tests.browser import wait_for_the_map_at_rest
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def _open_map(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("html[data-map-tools=ready]")).to_be_attached(timeout=20_000)
    expect(page.locator("path.parcel").first).to_be_attached(timeout=20_000)


def _query(page: Page) -> dict[str, str]:
    return dict(page.evaluate("() => Object.fromEntries(new URLSearchParams(location.search))"))


def _largest_visible_parcel(page: Page) -> int:
    """The index of the largest parcel drawn well inside the map, so a click lands on it.

    Waits for one: after a filter or a pan the tiles are redrawn, and for a moment the map may
    hold no parcel (the old tiles removed, the new not yet drawn). And first for the map at rest:
    a tile drawn or pruned after the pick would shift the index to another parcel."""
    wait_for_the_map_at_rest(page)
    try:
        handle = page.wait_for_function(
            """() => {
            const paths = Array.from(document.querySelectorAll('path.parcel'));
            let best = -1, bestArea = 0;
            paths.forEach((p, i) => {
                const r = p.getBoundingClientRect();
                const inside = r.left > 300 && r.top > 250 && r.right < 900 && r.bottom < 800;
                const area = r.width * r.height;
                if (inside && area > bestArea) { best = i; bestArea = area; }
            });
            return best >= 0 ? String(best) : null;
        }""",
            timeout=20_000,
        )
    except PlaywrightTimeoutError as error:
        raise AssertionError("no parcel fully inside the map") from error
    return int(handle.json_value())


def _box(locator: Any) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    return dict(box)


def _overlap(a: dict[str, float], b: dict[str, float]) -> float:
    width = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    height = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(width, 0) * max(height, 0)


def _zoom_to_a_parcel(page: Page, zoom: int = 17) -> None:
    """Centre the map on a parcel in use (a known place with parcels around it)."""
    page.evaluate(
        """async (zoom) => {
            const r = await fetch('/api/parcels?limit=20&status=in_use');
            const data = await r.json();
            const f = data.features.find(f => f.geometry);
            const b = L.geoJSON(f.geometry).getBounds();
            RegistryMap.map.setView(b.getCenter(), zoom, { animate: false });
        }""",
        zoom,
    )
    wait_for_the_map_at_rest(page)


def test_a_selected_parcel_is_outlined_and_its_popup_opens_beside_it(
    page: Page, sample_server: LiveServer
) -> None:
    _open_map(page, sample_server.url + "/")
    _zoom_to_a_parcel(page)
    index = _largest_visible_parcel(page)
    page.locator("path.parcel").nth(index).click(force=True)
    popup = page.locator(".leaflet-popup.popup-beside")
    expect(popup).to_be_visible(timeout=5_000)
    parcel_id = page.locator(".parcel-popup").get_attribute("data-parcel-id")
    selected = page.locator("path.parcel-selected")
    expect(selected.first).to_be_attached()
    assert page.evaluate(
        "() => getComputedStyle(document.querySelector('path.parcel-selected')).strokeWidth"
    ) in ("4px", "4")
    # beside, not over: the popup covers (almost) none of the parcel (once its autopan is over)
    wait_for_the_map_at_rest(page)
    parcel_box = _box(selected.first)
    assert _overlap(_box(popup), parcel_box) < 0.05 * parcel_box["width"] * parcel_box["height"]
    assert _query(page)["parcel"] == parcel_id

    page.locator(".leaflet-popup-close-button").click()
    expect(selected).to_have_count(0)
    assert "parcel" not in _query(page)


def test_a_shared_url_reopens_the_same_view_filter_layers_and_selection(
    browser: Browser, page: Page, sample_server: LiveServer
) -> None:
    _open_map(page, sample_server.url + "/")
    _zoom_to_a_parcel(page, 16)
    page.locator(".map-filter summary").click()
    page.select_option("#map-filter-status", "in_use")
    page.locator(".map-filter-form button[type=submit]").click()
    # the filtered tiles replace the others before a parcel is picked to click
    page.wait_for_function(
        """() => {
            const paths = Array.from(document.querySelectorAll('path.parcel'));
            return paths.length > 0
                && paths.every(p => p.classList.contains('parcel-status-in_use'));
        }""",
        timeout=20_000,
    )
    page.locator(".leaflet-control-layers label", has_text="Council districts").locator(
        "input"
    ).check()
    page.locator(".leaflet-control-layers label", has_text="No base map").locator("input").check()
    index = _largest_visible_parcel(page)
    page.locator("path.parcel").nth(index).click(force=True)
    expect(page.locator(".parcel-popup")).to_be_visible()
    parcel_id = page.locator(".parcel-popup").get_attribute("data-parcel-id")
    # the popup's autopan moves the centre, and the URL once it ends: both read after it
    wait_for_the_map_at_rest(page)
    state = _query(page)
    assert state["status"] == "in_use"
    assert state["base"] == "none"
    assert state["layers"] == "parcels,districts"
    assert state["parcel"] == parcel_id
    view = page.evaluate("() => [RegistryMap.map.getZoom(), RegistryMap.map.getCenter()]")

    # another person opens the shared link
    other = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    try:
        _open_map(other, page.url)
        expect(other.locator(".parcel-popup")).to_have_attribute(
            "data-parcel-id", str(parcel_id), timeout=10_000
        )
        expect(other.locator("path.parcel-selected").first).to_be_attached(timeout=10_000)
        wait_for_the_map_at_rest(other)  # an autopan of its own would move the centre meanwhile
        reopened = other.evaluate("() => [RegistryMap.map.getZoom(), RegistryMap.map.getCenter()]")
        assert reopened[0] == view[0]
        assert abs(reopened[1]["lat"] - view[1]["lat"]) < 1e-4
        assert abs(reopened[1]["lng"] - view[1]["lng"]) < 1e-4
        expect(other.locator("#map-filter-status")).to_have_value("in_use")
        expect(other.locator(".filter-count")).to_have_text("(1 on)")
        layers = other.locator(".leaflet-control-layers")
        expect(layers.locator("label", has_text="No base map").locator("input")).to_be_checked()
        expect(
            layers.locator("label", has_text="Council districts").locator("input")
        ).to_be_checked()
        expect(other.locator("path.district-outline").first).to_be_attached(timeout=10_000)
        statuses = set(
            other.evaluate(
                "() => Array.from(document.querySelectorAll('path.parcel'))"
                ".map(p => p.getAttribute('class').match(/parcel-status-(\\w+)/)[1])"
            )
        )
        assert statuses == {"in_use"}
    finally:
        other.context.close()


def test_the_filter_reaches_the_tiles_and_only_matching_parcels_are_drawn(
    page: Page, sample_server: LiveServer
) -> None:
    _open_map(page, sample_server.url + "/")
    wait_for_the_map_at_rest(page)  # every tile of the view, not the first few
    everything = page.locator("path.parcel").count()
    page.locator(".map-filter summary").click()
    page.select_option("#map-filter-status", "surplus")
    with page.expect_request(re.compile(r"/tiles/parcels/.*\?status=surplus")):
        page.locator(".map-filter-form button[type=submit]").click()
    expect(page.locator("path.parcel-status-surplus").first).to_be_attached(timeout=20_000)
    wait_for_the_map_at_rest(page)
    drawn = page.evaluate(
        "() => Array.from(document.querySelectorAll('path.parcel'))"
        ".map(p => p.getAttribute('class'))"
    )
    assert drawn and all("parcel-status-surplus" in cls for cls in drawn)
    assert len(drawn) < everything
    assert _query(page)["status"] == "surplus"
    expect(page.locator(".filter-table-link")).to_have_attribute("href", "/parcels?status=surplus")
    # the README's picture: one department's parcels over the districts as a light base
    department = page.evaluate(
        """async () => {
            const r = await fetch('/api/parcels?limit=500');
            const features = (await r.json()).features.filter(f => f.geometry);
            const counts = {};
            features.forEach(f => {
                const d = f.properties.department;
                counts[d] = (counts[d] || 0) + 1;
            });
            const name = Object.keys(counts).sort((a, b) => counts[b] - counts[a])[0];
            const mine = features.filter(f => f.properties.department === name);
            const bounds = L.geoJSON({type: 'FeatureCollection', features: mine}).getBounds();
            RegistryMap.map.fitBounds(bounds, { animate: false, maxZoom: 13 });
            return name;
        }"""
    )
    page.select_option("#map-filter-status", "")
    page.select_option("#map-filter-department", label=department)
    page.locator(".map-filter-form button[type=submit]").click()
    page.locator(".leaflet-control-layers label", has_text="Districts (light)").locator(
        "input"
    ).check()
    page.locator(".leaflet-control-layers label", has_text="Council districts").locator(
        "input"
    ).check()
    expect(page.locator("path.parcel").first).to_be_attached(timeout=20_000)
    expect(page.locator("path.district-outline").first).to_be_attached(timeout=10_000)
    wait_for_the_map_at_rest(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "filtered-map.png"))

    page.locator(".filter-clear").click()
    expect(page.locator("path.parcel-status-in_use").first).to_be_attached(timeout=20_000)
    assert "status" not in _query(page)


def test_the_layer_switcher_shows_buildings_districts_and_base_maps(
    page: Page, sample_server: LiveServer
) -> None:
    _open_map(page, sample_server.url + "/")
    switcher = page.locator(".leaflet-control-layers")
    for label in ("Base map", "Districts (light)", "No base map", "Parcels", "Buildings"):
        expect(switcher).to_contain_text(label)

    switcher.locator("label", has_text="Districts (light)").locator("input").check()
    expect(page.locator("path.district-base").first).to_be_attached(timeout=10_000)
    assert _query(page)["base"] == "local"

    switcher.locator("label", has_text="Council districts").locator("input").check()
    expect(page.locator("path.district-outline").first).to_be_attached(timeout=10_000)
    expect(page.locator(".layer-legend")).to_contain_text("Council district")

    # buildings are read by view, where they can be seen
    page.evaluate(
        """async () => {
            const r = await fetch('/ogc/collections/buildings/items?f=json&limit=50');
            const data = await r.json();
            const f = data.features.find(f => f.geometry);
            const b = L.geoJSON(f.geometry).getBounds();
            RegistryMap.map.setView(b.getCenter(), 17, { animate: false });
        }"""
    )
    switcher.locator("label", has_text="Buildings").locator("input").check()
    expect(page.locator("path.building").first).to_be_attached(timeout=10_000)
    assert "buildings" in _query(page)["layers"]

    switcher.locator("label", has_text="Parcels").first.locator("input").uncheck()
    expect(page.locator("path.parcel")).to_have_count(0)
    assert "parcels" not in _query(page)["layers"].split(",")


def _geodesic_distance(a: dict[str, float], b: dict[str, float]) -> float:
    """Haversine on Leaflet's sphere (L.CRS.Earth.R = 6,371,000 m)."""
    lat1, lat2 = math.radians(a["lat"]), math.radians(b["lat"])
    dlat, dlng = lat2 - lat1, math.radians(b["lng"] - a["lng"])
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlng / 2) ** 2
    return 2 * 6371000 * math.asin(math.sqrt(h))


def test_measuring_distance_and_area_and_esc_cancels(page: Page, sample_server: LiveServer) -> None:
    _open_map(page, sample_server.url + "/")
    _zoom_to_a_parcel(page, 16)
    corners = [(500, 350), (800, 350), (800, 650), (500, 650)]
    latlngs = [
        page.evaluate(f"() => RegistryMap.map.containerPointToLatLng([{x}, {y}])")
        for x, y in corners
    ]
    origin = _box(page.locator(".leaflet-container"))

    def click(x: float, y: float) -> None:
        page.mouse.click(origin["x"] + x, origin["y"] + y)

    page.locator(".measure-distance").click()
    click(*corners[0])
    click(*corners[1])
    readout = page.locator(".measure-readout")
    expect(readout).to_contain_text("Distance:")
    measured = float(readout.get_attribute("data-value") or "nan")
    assert measured == pytest.approx(_geodesic_distance(latlngs[0], latlngs[1]), rel=1e-3)
    page.keyboard.press("Enter")
    expect(page.locator(".measure-distance")).to_have_attribute("aria-pressed", "false")

    page.locator(".measure-area").click()
    for x, y in corners:
        click(x, y)
    expect(readout).to_contain_text("Area:")
    area = float(readout.get_attribute("data-value") or "nan")
    geod_area, _ = Geod(ellps="WGS84").polygon_area_perimeter(
        [p["lng"] for p in latlngs], [p["lat"] for p in latlngs]
    )
    assert area == pytest.approx(abs(geod_area), rel=0.01)  # sphere against the ellipsoid

    page.keyboard.press("Escape")
    expect(readout).to_be_empty()
    expect(page.locator("path.measure-shape")).to_have_count(0)
    click(*corners[0])  # no longer measuring: a click selects or does nothing
    expect(readout).to_be_empty()


def test_a_box_drawn_on_the_map_selects_parcels_for_the_table(
    page: Page, sample_server: LiveServer
) -> None:
    _open_map(page, sample_server.url + "/")
    _zoom_to_a_parcel(page, 15)
    origin = _box(page.locator(".leaflet-container"))
    page.locator(".box-select").click()
    page.mouse.move(origin["x"] + 400, origin["y"] + 300)
    page.mouse.down()
    page.mouse.move(origin["x"] + 600, origin["y"] + 450, steps=5)
    page.mouse.move(origin["x"] + 800, origin["y"] + 600, steps=5)
    page.mouse.up()
    link = page.locator("a.box-select-table")
    expect(link).to_be_visible(timeout=10_000)
    href = link.get_attribute("href") or ""
    assert href.startswith("/parcels?ids=")
    ids = href.split("=", 1)[1].replace("%2C", ",").split(",")
    assert ids and all(ids)
    expect(page.locator(".box-select-result")).to_contain_text(f"{len(ids)}")
    # the map can be dragged again
    assert page.evaluate("() => RegistryMap.map.dragging.enabled()")


def test_the_map_zooms_out_past_its_start(page: Page, sample_server: LiveServer) -> None:
    """It stopped at the parcel layer's minimum zoom (10), the start's zoom for the sample."""
    _open_map(page, sample_server.url + "/")
    start = page.evaluate("() => RegistryMap.map.getZoom()")
    for step in range(1, 4):
        page.locator(".leaflet-control-zoom-out").click()
        # Leaflet drops a zoom asked for while one is animating: each click waits for the last
        try:
            page.wait_for_function(
                "zoom => RegistryMap.map.getZoom() === zoom && !RegistryMap.map._animatingZoom",
                arg=start - step,
                timeout=10_000,
            )
        except PlaywrightTimeoutError as error:
            zoom = page.evaluate("() => RegistryMap.map.getZoom()")
            raise AssertionError(f"zoom out {step} from {start} stopped at {zoom}") from error
    assert page.evaluate("() => RegistryMap.map.getZoom()") == start - 3


def test_print_to_pdf_has_the_legend_scale_north_arrow_and_date(
    page: Page, sample_server: LiveServer, tmp_path: Path
) -> None:
    _open_map(page, sample_server.url + "/?status=in_use")
    page.emulate_media(media="print")
    page.evaluate("() => window.dispatchEvent(new Event('beforeprint'))")
    expect(page.locator(".registry-header")).to_be_hidden()
    expect(page.locator("#print-sheet")).to_be_visible()
    expect(page.locator(".registry-legend")).to_be_visible()
    expect(page.locator(".north-arrow")).to_be_visible()
    expect(page.locator(".leaflet-control-scale")).to_be_visible()
    pdf = tmp_path / "map.pdf"
    page.pdf(path=str(pdf), landscape=True, print_background=True)
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: scripts/apt-ensure.sh poppler-utils")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "Parcel status" in text and "In use" in text
    assert re.search(r"Printed \d{4}-\d\d-\d\d \d\d:\d\d", text)
    assert re.search(r"\d+ (m|km|ft|mi)\b", text), "no scale bar in the PDF"
    assert "N" in text.split()
    assert "Status in_use" in text or "Status in use" in text.replace("_", " ")


def test_a_clear_message_when_the_maps_scripts_do_not_load(
    browser: Browser, sample_server: LiveServer
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:

        def missing(route: Route) -> None:
            route.fulfill(status=404, body="")

        context.route(re.compile(r".*/vendor/leaflet/leaflet\.js.*"), missing)
        page = context.new_page()
        page.goto(sample_server.url + "/")
        message = page.locator("#map-script-failure")
        expect(message).to_be_visible()
        expect(message).to_contain_text("The map could not load its scripts")
        expect(message).to_have_attribute("role", "alert")
    finally:
        context.close()


def test_the_message_is_hidden_once_the_map_starts(page: Page, sample_server: LiveServer) -> None:
    _open_map(page, sample_server.url + "/")
    expect(page.locator("#map-script-failure")).to_be_hidden()


def test_signed_in_staff_switch_on_leased_parcels_with_their_legend(
    browser: Browser, sample_app: Flask, sample_server: LiveServer
) -> None:
    make_user(sample_app, "map-tools-lease-viewer@city.example", "viewer")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{sample_server.url}/login?next=/")
        page.fill("#email", "map-tools-lease-viewer@city.example")
        page.fill("#password", TEST_PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("html[data-map-tools=ready]")).to_be_attached(timeout=20_000)
        # staff filter by every field of the table
        expect(page.locator("#map-filter-area_min")).to_be_attached()
        legend = page.locator(".registry-legend")
        expect(legend).not_to_contain_text("City is tenant")
        page.locator(".leaflet-control-layers label", has_text="Leased parcels").locator(
            "input"
        ).check()
        expect(page.locator("path.leased-parcel").first).to_be_attached(timeout=10_000)
        expect(legend).to_contain_text("City is tenant")
        expect(legend).to_contain_text("City is landlord")
        assert "leases" in _query(page)["layers"].split(",")

        # a filter the tiles refuse is said, in the filter's words, not shown as an empty map
        page.goto(f"{sample_server.url}/?area_min=-5")
        error = page.locator(".filter-error")
        expect(error).to_be_visible(timeout=10_000)
        expect(error).to_contain_text("Area from (m²) must be a number of square metres")
    finally:
        context.close()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=bogus", "Status has no choice “bogus”."),
        ("district=3", "Sign in to filter by district."),
    ],
)
def test_a_filter_the_map_cannot_use_is_said_beside_the_filter(
    page: Page, sample_server: LiveServer, query: str, message: str
) -> None:
    page.goto(f"{sample_server.url}/?{query}")
    expect(page.locator("html[data-map-tools=ready]")).to_be_attached(timeout=20_000)
    error = page.locator(".filter-error")
    expect(error).to_be_visible()
    expect(error).to_have_text(message)


def test_axe_finds_no_critical_or_serious_violation_in_the_map_tools(
    page: Page, sample_server: LiveServer
) -> None:
    _open_map(page, sample_server.url + "/?status=in_use&layers=parcels,districts")
    page.locator(".map-filter summary").click()  # the filter's fields shown
    page.locator(".measure-distance").click()  # a readout shown
    page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    result = page.evaluate(
        "async () => await axe.run(document, {include: [['.leaflet-control-container']]})"
    )
    serious = [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("critical", "serious")
    ]
    assert serious == []
