"""In a real browser: an editor digitizes a lease list through the upload page. The list is laid
out like Los Angeles' list of leases to non-profits (No., Non Profit, Dept, Lease Start, Lease
Exp., Lat/Lon, a blank row and a totals footer), with a monthly fee and a rate, since a lease
without payments cannot be recorded yet. The editor maps the two columns the resolver does not
know, says the city is the lessor and rent is paid in advance, dry-runs, reads the report (one
point lies in Texas, shown on the map), chooses to skip any invalid row, imports; the two other
leases are then in the registry, each on the parcel its point lies in, and listed on /leases.

Whether the point in Texas refuses its row (no parcel found) or only warns (not kept) is lease
validation's to say; this test holds either way."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from tests.auth_fixtures import TEST_PASSWORD
from tests.browser import chromium
from tests.conftest import LiveServer
from tests.live_apps import sample_app
from tests.sql import query

pytestmark = pytest.mark.browser

EDITOR = "ed@city.example"
HEADER = ("No.,Non Profit,Address,Council District,Dept,Lease Start,Lease Exp.,Monthly Fee,"
          "Rate,Lat,Lon")


@pytest.fixture(scope="module")
def editing_app(template_url: str) -> Iterator[Flask]:
    with sample_app(template_url, ((EDITOR, "editor"),)) as app:
        yield app


@pytest.fixture(scope="module")
def server(editing_app: Flask) -> Iterator[LiveServer]:
    with LiveServer(editing_app) as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def _rows(app: Flask, sql: str, **params: object) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in query(app.config["DATABASE_URL"], sql, **params)]


def _lease_list(app: Flask, folder: Path) -> tuple[Path, list[str]]:
    """Two leases at points inside two sample parcels, one at a point in Texas."""
    places = _rows(app, "SELECT parcel_id, ST_Y(ST_PointOnSurface(geom)), "
                        "ST_X(ST_PointOnSurface(geom)) FROM parcels WHERE geom IS NOT NULL "
                        "AND retired_at IS NULL ORDER BY parcel_id LIMIT 2")
    (first, lat1, lon1), (second, lat2, lon2) = places
    path = folder / "zoo_leases.csv"
    path.write_text("\r\n".join([
        HEADER,
        f"NP-901,Friends of the Zoo,5333 Zoo Dr,4,Zoo,7/1/2024,6/30/2029,$500.00,3%,{lat1},{lon1}",
        f"NP-902,Zoo Docents Guild,5333 Zoo Dr,4,ZOO,1/1/2025,12/31/2027,$250.00,3%,{lat2},{lon2}",
        "NP-903,Far Away Org,1 Congress Ave,4,Zoo,1/1/2025,12/31/2027,$100.00,3%,30.2672,-97.7431",
        ",,,,,,,,,,",
        "Total: 3 leases,,,,,,,,,,",
    ]) + "\r\n", encoding="utf-8")
    return path, [first, second]


def test_an_editor_digitizes_a_lease_list_through_the_upload_page(
    browser: Browser, server: LiveServer, editing_app: Flask, tmp_path: Path
) -> None:
    path, parcels = _lease_list(editing_app, tmp_path)
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.url + "/login")
    page.fill("#email", EDITOR)
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")

    # upload: what the file holds, and the file
    page.goto(server.url + "/imports")
    page.get_by_role("link", name="Import a file").click()
    page.get_by_role("radio", name="Leases").check()
    page.set_input_files("#file", str(path))
    page.get_by_role("button", name="Upload and map the columns").click()

    # map: the resolver found most columns; two are chosen by hand, and the lease terms
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Map the columns of zoo_leases.csv")
    expect(page.locator("#map_lease_number")).to_have_value("No.")
    expect(page.locator("#map_counterparty")).to_have_value("Non Profit")
    expect(page.locator("#map_commencement_date")).to_have_value("Lease Start")
    expect(page.locator("#map_end_date")).to_have_value("Lease Exp.")
    expect(page.locator("#map_latitude")).to_have_value("Lat")
    expect(page.locator("#map_monthly_rent")).to_have_value("")
    page.get_by_label("monthly rent", exact=True).select_option("Monthly Fee")
    page.get_by_label("discount rate", exact=True).select_option("Rate")
    page.get_by_label("The city's side").select_option("out")
    page.get_by_label("Default payment timing").fill("advance")
    page.get_by_role("button", name="Dry run").click()

    # the report: nothing written, the problem counted by kind and placed on the map
    expect(heading).to_contain_text("dry run — nothing written")
    kinds = page.locator("table.problem-kinds")
    expect(kinds).to_contain_text("the point lies")
    expect(kinds).to_contain_text("row: total row")
    expect(page.locator("table.problems")).to_contain_text("NP-903")
    expect(page.locator(".problem-marker")).to_have_count(1, timeout=10_000)
    expect(page.locator("#problem-map-note")).to_contain_text("have a place: 1 row on the map")
    assert _rows(editing_app, "SELECT count(*) FROM leases WHERE lease_number LIKE 'NP-%'") \
        == [(0,)]

    # back to the mapping, which kept the choices: skip the row in Texas, check again, import
    page.get_by_role("link", name="Back to the column mapping").click()
    expect(page.locator("#map_monthly_rent")).to_have_value("Monthly Fee")
    expect(page.locator("#direction")).to_have_value("out")
    page.get_by_label("Load the valid rows, skip the invalid ones").check()
    page.get_by_role("button", name="Dry run").click()
    expect(heading).to_contain_text("dry run — nothing written")
    page.get_by_role("button", name="Import zoo_leases.csv as checked").click()
    expect(heading).to_contain_text(": imported")
    expect(page.locator("table.counts")).to_contain_text("inserted")

    assert _rows(editing_app, "SELECT l.lease_number, l.direction, p.parcel_id, d.code, "
                              "l.payment_timing, l.term_months FROM leases l "
                              "JOIN parcels p ON p.id = l.parcel_id "
                              "JOIN departments d ON d.id = l.department_id "
                              "WHERE l.lease_number IN ('NP-901', 'NP-902') ORDER BY 1") == [
        ("NP-901", "out", parcels[0], "ZOO", "advance", 60),
        ("NP-902", "out", parcels[1], "ZOO", "advance", 36)]
    page.goto(server.url + "/leases?department=ZOO")
    listing = page.locator("main")
    expect(listing).to_contain_text("NP-901")
    expect(listing).to_contain_text("NP-902")
    assert errors == []
    context.close()
