"""In a real browser: an editor digitizes a lease list through the upload page. The list is laid
out like Los Angeles' list of leases to non-profits (No., Non Profit, Dept, Lease Start, Lease
Exp., Lat/Lon, a blank row and a totals footer), with a monthly fee and a rate (written when a
lease without payments could not be recorded; kept as the case mapped by hand). The editor maps
the two columns the resolver does not know, says the city is the lessor and rent is paid in
advance, dry-runs, reads the report (one point lies in Texas, shown on the map), chooses to skip
any invalid row, imports; the two other leases are then in the registry, each on the parcel its
point lies in, and listed on /leases.

Whether the point in Texas refuses its row (no parcel found) or only warns (not kept) is lease
validation's to say; this test holds either way.

The second test uploads the real list (tests/data/real_world/la_nonprofit_leases, no rent
columns): every column is recognised, and with the list's departments and the typo's alias in
the database all 112 leases are recorded incomplete and not measured, their problems warnings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import Locator
from playwright.sync_api import expect
from sqlalchemy.orm import sessionmaker

from registry.city.departments import add_alias
from registry.city.departments import import_departments
from registry.db import create_registry_engine
from registry.db import unit_of_work
from tests.auth_fixtures import TEST_PASSWORD
from tests.conftest import LiveServer
from tests.live_apps import sample_app
from tests.sql import query

pytestmark = pytest.mark.browser

EDITOR = "ed@city.example"
HEADER = (
    "No.,Non Profit,Address,Council District,Dept,Lease Start,Lease Exp.,Monthly Fee,Rate,Lat,Lon"
)


@pytest.fixture(scope="module")
def editing_app(template_url: str) -> Iterator[Flask]:
    with sample_app(template_url, ((EDITOR, "editor"),)) as app:
        yield app


@pytest.fixture(scope="module")
def server(editing_app: Flask) -> Iterator[LiveServer]:
    with LiveServer(editing_app) as live:
        yield live


def _rows(app: Flask, sql: str, **params: object) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in query(app.config["DATABASE_URL"], sql, **params)]


def _lease_list(app: Flask, folder: Path) -> tuple[Path, list[str]]:
    """Two leases at points inside two sample parcels, one at a point in Texas."""
    places = _rows(
        app,
        "SELECT parcel_id, ST_Y(ST_PointOnSurface(geom)), "
        "ST_X(ST_PointOnSurface(geom)) FROM parcels WHERE geom IS NOT NULL "
        "AND retired_at IS NULL ORDER BY parcel_id LIMIT 2",
    )
    (first, lat1, lon1), (second, lat2, lon2) = places
    path = folder / "zoo_leases.csv"
    path.write_text(
        "\r\n".join(
            [
                HEADER,
                "NP-901,Friends of the Zoo,5333 Zoo "
                f"Dr,4,Zoo,7/1/2024,6/30/2029,$500.00,3%,{lat1},{lon1}",
                "NP-902,Zoo Docents Guild,5333 Zoo "
                f"Dr,4,ZOO,1/1/2025,12/31/2027,$250.00,3%,{lat2},{lon2}",
                "NP-903,Far Away Org,1 Congress "
                "Ave,4,Zoo,1/1/2025,12/31/2027,$100.00,3%,30.2672,-97.7431",
                ",,,,,,,,,,",
                "Total: 3 leases,,,,,,,,,,",
            ]
        )
        + "\r\n",
        encoding="utf-8",
    )
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
    assert _rows(editing_app, "SELECT count(*) FROM leases WHERE lease_number LIKE 'NP-%'") == [
        (0,)
    ]

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

    assert _rows(
        editing_app,
        "SELECT l.lease_number, l.direction, p.parcel_id, d.code, "
        "l.payment_timing, l.term_months FROM leases l "
        "JOIN parcels p ON p.id = l.parcel_id "
        "JOIN departments d ON d.id = l.department_id "
        "WHERE l.lease_number IN ('NP-901', 'NP-902') ORDER BY 1",
    ) == [
        ("NP-901", "out", parcels[0], "ZOO", "advance", 60),
        ("NP-902", "out", parcels[1], "ZOO", "advance", 36),
    ]
    page.goto(server.url + "/leases?department=ZOO")
    listing = page.locator("main")
    expect(listing).to_contain_text("NP-901")
    expect(listing).to_contain_text("NP-902")
    assert errors == []
    context.close()


LA_LEASES = Path(__file__).parent / "data" / "real_world" / "la_nonprofit_leases"
DOUBTED = {"4", "15", "25", "102"}  # "GSD?" (tests/data/real_world/README.md)
FAR_OFF = {"21", "32", "36", "45"}  # geocoded to Texas, New York, Mexico, Spain
REAL_LEASES = "SELECT {} FROM leases WHERE lease_number ~ '^[0-9]+$'"  # the list's No. 1..112


def _la_departments(app: Flask) -> None:
    """The list's departments and aliases, and the typo `Cutural Affairs` made an alias of DCA
    (the one way it is ever applied), as tests/test_real_records_leases.py sets them up."""
    engine = create_registry_engine(app.config["DATABASE_URL"])
    try:
        with unit_of_work(sessionmaker(engine), "tests") as session:
            with (LA_LEASES / "departments.csv").open(encoding="utf-8", newline="") as lines:
                import_departments(session, lines)
            add_alias(session, "Cutural Affairs", "DCA")
    finally:
        engine.dispose()


def test_an_editor_uploads_the_real_la_list_and_every_lease_is_recorded_not_measured(
    browser: Browser, server: LiveServer, editing_app: Flask
) -> None:
    """Los Angeles' list of leases to non-profits as it is (no rent columns, text in the date
    columns, `GSD?`, four points geocoded far away, a blank row and a footer): with the typo's
    alias in place, all 112 leases go in, each recorded incomplete and not measured."""
    _la_departments(editing_app)
    assert _rows(editing_app, REAL_LEASES.format("count(*)")) == [(0,)]
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.url + "/login")
    page.fill("#email", EDITOR)
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server.url + "/")

    page.goto(server.url + "/imports")
    page.get_by_role("link", name="Import a file").click()
    page.get_by_role("radio", name="Leases").check()
    page.set_input_files("#file", str(LA_LEASES / "nonprofit_leases.csv"))
    page.get_by_role("button", name="Upload and map the columns").click()

    # map: every column the list has is recognised, nothing chosen by hand; no rent column
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Map the columns of nonprofit_leases.csv")
    for target, column in (
        ("lease_number", "No."),
        ("counterparty", "Non Profit"),
        ("premises", "Address"),
        ("department_code", "Dept"),
        ("commencement_date", "Lease Start"),
        ("end_date", "Lease Exp."),
        ("latitude", "Lat"),
        ("longitude", "Lon"),
        ("monthly_rent", ""),
    ):
        expect(page.locator(f"#map_{target}")).to_have_value(column)
    page.get_by_label("The city's side").select_option("out")
    page.get_by_role("button", name="Dry run").click()

    # the report: nothing written, no row refused, the warnings counted by kind
    expect(heading).to_contain_text("dry run — nothing written")
    counts = _table(page.locator("table.counts tr"))
    assert {
        label: counts[label]
        for label in (
            "rows read",
            "valid",
            "incomplete",
            "invalid",
            "skipped rows",
            "would be inserted",
        )
    } == {
        "rows read": ["114"],
        "valid": ["112"],
        "incomplete": ["112"],
        "invalid": ["0"],
        "skipped rows": ["2"],
        "would be inserted": ["112"],
    }
    expect(page.locator("nav.severity-filter")).not_to_contain_text("error")
    kinds = _table(page.locator("table.problem-kinds tbody tr"))
    assert {
        kind: kinds[kind]
        for kind in (
            "payments: not measured",
            "location: the point lies outside the city",
            "department: marked uncertain in the source",
            "commencement date: not a date",
            "commencement date: missing",
            "end date: not a date",
            "end date: missing",
            "row: blank row",
            "row: total row",
        )
    } == {
        "payments: not measured": ["warning", "112"],
        "location: the point lies outside the city": ["warning", "4"],
        "department: marked uncertain in the source": ["warning", "4"],
        "commencement date: not a date": ["warning", "6"],
        "commencement date: missing": ["warning", "4"],
        "end date: not a date": ["warning", "14"],
        "end date: missing": ["warning", "4"],
        "row: blank row": ["skipped", "1"],
        "row: total row": ["skipped", "1"],
    }
    # the rest are points in no parcel of the sample registry: warned of, kept, not linked
    assert {severity for severity, _ in kinds.values()} == {"warning", "skipped"}
    assert _rows(editing_app, REAL_LEASES.format("count(*)")) == [(0,)]

    page.get_by_role("button", name="Import nonprofit_leases.csv as checked").click()
    expect(heading).to_contain_text(": imported")
    counts = _table(page.locator("table.counts tr"))
    assert (counts["inserted"], counts["updated"], counts["unchanged"]) == (["112"], ["0"], ["0"])

    # every lease recorded as found: incomplete, not measured, what the source doubted noted
    assert _rows(
        editing_app,
        REAL_LEASES.format(
            "count(*), count(*) FILTER (WHERE NOT measured AND 'payments' = ANY(missing)), "
            "count(DISTINCT department_id), bool_and(direction = 'out')"
        ),
    ) == [(112, 112, 6, True)]
    assert sorted(
        _rows(
            editing_app,
            REAL_LEASES.format(
                "lease_number, location IS NULL, source_notes->>'location' LIKE 'POINT (%'"
            )
            + " AND source_notes ? 'location'",
        )
    ) == sorted((n, True, True) for n in FAR_OFF)
    assert sorted(
        _rows(
            editing_app,
            "SELECT l.lease_number, l.needs_confirmation, d.code "
            "FROM leases l JOIN departments d ON d.id = l.department_id "
            "WHERE l.lease_number ~ '^[0-9]+$' "
            "AND cardinality(l.needs_confirmation) > 0",
        )
    ) == sorted((n, ["department_code"], "GSD") for n in DOUBTED)
    unlinked = _rows(
        editing_app,
        REAL_LEASES.format("count(*)") + " AND location IS NOT NULL AND parcel_id IS NULL",
    )
    assert [(int(kinds["parcel id: the point lies in no parcel of the registry"][1]),)] == unlinked

    # /leases lists them, not measured (the eight Transportation leases: one page)
    numbers = [
        n
        for (n,) in _rows(
            editing_app,
            "SELECT l.lease_number FROM leases l "
            "JOIN departments d ON d.id = l.department_id "
            "WHERE l.lease_number ~ '^[0-9]+$' "
            "AND d.code = 'LADOT'",
        )
    ]
    assert len(numbers) == 8
    page.goto(server.url + "/leases?department=LADOT&direction=out")
    for number in numbers:
        row = page.locator(f"tr.lease-row[data-lease-number='{number}']")
        expect(row).to_contain_text("not measured")
    assert errors == []
    context.close()


def _table(rows: Locator) -> dict[str, list[str]]:
    """A table's rows by their first cell: the other cells' text."""
    found = {}
    for row in rows.all():
        first, *rest = [cell.strip() for cell in row.locator("th, td").all_inner_texts()]
        found[first] = rest
    return found
