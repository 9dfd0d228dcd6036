"""The report of an import on the web: its problems counted by kind and by severity, filtered,
paged on the server, downloaded as CSV and placed on a map, for any number of problems.

The batch is recorded as every table import records it (`pipeline.recorded_batch`), from a
report made here, so these tests hold whatever validation finds in a lease list; the map of a
real upload is checked in the browser test and by the parcel upload below."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import geopandas as gpd
import pytest
from flask import Flask
from shapely.geometry import box
from sqlalchemy.orm import sessionmaker

from registry.db import create_registry_engine
from registry.imports.pipeline import recorded_batch
from registry.imports.report import ImportProblem
from registry.imports.report import ImportReport
from tests.auth_fixtures import SignedInClient
from tests.import_page_helpers import submit
from tests.import_page_helpers import upload
from tests.lease_fixtures import seed_places

ROWS = 230
LON, LAT = -118.2495, 34.0505


def _report() -> ImportReport:
    """A dry run of ROWS leases whose start is "TBD" (an error), every other one of an unknown
    department (a warning), each row with its point; a blank row and a totals row below."""
    report = ImportReport(
        file="many.csv",
        kind="leases",
        record_label="lease",
        dry_run=True,
        rows_read=ROWS + 2,
        invalid=0,
    )
    for row in range(2, ROWS + 2):
        lease = f"B-{row - 1:03d}"
        report.add_problem(
            row, lease, "commencement_date", "'TBD' is not a date (YYYY-MM-DD)", "TBD", "Start"
        )
        if row % 2 == 0:
            report.problems.append(
                ImportProblem(
                    row,
                    lease,
                    "department_code",
                    "no department 'XYZ'",
                    "XYZ",
                    "Dept",
                    severity="warning",
                )
            )
        report.places[row] = (LON, LAT + row * 1e-6)
    report.places_srid = 4326
    report.skip(ROWS + 2, "blank")
    report.skip(ROWS + 3, "total", f"Total: {ROWS} leases")
    return report


@pytest.fixture
def report_url(app: Flask) -> str:
    engine = create_registry_engine(app.config["DATABASE_URL"])
    report = _report()
    with recorded_batch(sessionmaker(engine), report, Path("many.csv"), {}):
        pass
    engine.dispose()
    return f"/imports/{report.batch_id}"


def _rows(page: str, table: str) -> list[list[str]]:
    body = re.search(rf'<table class="listing {table}">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, page
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)
    ]


def test_problems_are_counted_by_kind_and_by_severity(
    editor_client: SignedInClient, report_url: str
) -> None:
    page = editor_client.get(report_url).get_data(as_text=True)
    assert "Import #" in page and "dry run — nothing written" in page
    assert f'<th scope="row">invalid</th><td class="num">{ROWS}</td>' in page
    kinds = {row[0]: (row[1], int(row[2].replace(",", ""))) for row in _rows(page, "problem-kinds")}
    assert kinds == {
        "commencement date: not a date": ("error", ROWS),
        "department: no department": ("warning", ROWS // 2),
        "row: blank row": ("skipped", 1),
        "row: total row": ("skipped", 1),
    }
    assert "all (347)" in page and "errors (230)" in page and "warnings (115)" in page
    assert "skipped rows (2)" in page and "Problems (345) and skipped rows (2)" in page
    assert "Lease number" in page  # the id column says what the id is


def test_a_kind_is_filtered_and_paged_on_the_server(
    editor_client: SignedInClient, report_url: str
) -> None:
    page = editor_client.get(report_url).get_data(as_text=True)
    link = re.search(r'<a href="([^"]*field=commencement_date[^"]*)#problems">', page)
    assert link, page
    url = link.group(1).replace("&amp;", "&")
    first = editor_client.get(url).get_data(as_text=True)
    assert f"Showing {ROWS}:" in first and "Page 1 of 3" in first
    rows = _rows(first, "problems")
    assert len(rows) == 100
    assert rows[0] == [
        "2",
        "B-001",
        "commencement date (column Start)",
        "&#39;TBD&#39; is not a date (YYYY-MM-DD)",
        "TBD",
    ]
    last = editor_client.get(url + "&page=3").get_data(as_text=True)
    rows = _rows(last, "problems")
    assert len(rows) == ROWS - 200 and rows[-1][1] == f"B-{ROWS:03d}"
    assert "Page 3 of 3" in last and 'rel="next"' not in last

    warnings = editor_client.get(report_url + "?severity=warning").get_data(as_text=True)
    assert "Showing 115:" in warnings and len(_rows(warnings, "problems")) == 100
    skipped = _rows(
        editor_client.get(report_url + "?severity=skipped").get_data(as_text=True), "problems"
    )
    assert [(row[0], row[3], row[4]) for row in skipped] == [
        (str(ROWS + 2), "skipped: blank row", ""),
        (str(ROWS + 3), "skipped: total row", f"Total: {ROWS} leases"),
    ]


def test_the_csv_holds_every_problem_that_passes_the_filter(
    editor_client: SignedInClient, report_url: str
) -> None:
    everything = editor_client.get(f"{report_url}/problems.csv")
    assert everything.headers["Content-Disposition"].startswith("attachment")
    lines = list(csv.reader(io.StringIO(everything.get_data(as_text=True))))
    assert lines[0] == ["file", "row", "record", "field", "severity", "message", "value"]
    assert len(lines) == 1 + 347
    departments = editor_client.get(
        f"{report_url}/problems.csv",
        query_string={"field": "department_code", "kind": "no department"},
    )
    lines = list(csv.reader(io.StringIO(departments.get_data(as_text=True))))[1:]
    assert len(lines) == 115
    assert lines[0] == [
        "many.csv",
        "2",
        "B-001",
        "department_code",
        "warning",
        "no department 'XYZ'",
        "XYZ",
    ]


def test_the_map_places_each_row_with_problems_at_its_point(
    editor_client: SignedInClient, report_url: str
) -> None:
    page = editor_client.get(report_url).get_data(as_text=True)
    assert 'id="problem-map"' in page and "vendor/leaflet/leaflet.js" in page
    collection = editor_client.get(f"{report_url}/problems.geojson").get_json()
    assert collection["type"] == "FeatureCollection" and collection["located"] == 345
    features = collection["features"]
    assert len(features) == ROWS
    first = features[0]
    assert first["geometry"]["coordinates"] == [pytest.approx(LON), pytest.approx(LAT + 2e-6)]
    assert first["properties"] == {
        "row": 2,
        "record": "B-001",
        "problems": 2,
        "messages": [
            "commencement_date: 'TBD' is not a date (YYYY-MM-DD)",
            "department_code: no department 'XYZ'",
        ],
    }
    filtered = editor_client.get(
        f"{report_url}/problems.geojson", query_string={"severity": "warning"}
    ).get_json()
    assert len(filtered["features"]) == 115


def test_parcel_problems_are_placed_at_their_staged_shapes(
    app: Flask, editor_client: SignedInClient, tmp_path: object
) -> None:
    engine = create_registry_engine(app.config["DATABASE_URL"])
    with sessionmaker(engine)() as session, session.begin():
        seed_places(session)
    engine.dispose()
    frame = gpd.GeoDataFrame(
        [
            {
                "APN": "5555-001-001",
                "SITE_ADDR": "1 Main St",
                "DEPT": "GSD",
                "geometry": box(-118.30, 34.05, -118.299, 34.051),
            },
            {
                "APN": "5555-001-001",
                "SITE_ADDR": "2 Main St",
                "DEPT": "Nowhere",
                "geometry": box(-118.28, 34.05, -118.279, 34.051),
            },
        ],
        crs="EPSG:4326",
    )
    buffer = io.BytesIO()
    frame.to_file(buffer, driver="GPKG")
    prepare = upload(editor_client, "two.gpkg", buffer.getvalue(), "parcels")
    batch_id = submit(editor_client, prepare, "dry_run").split("?")[0].rsplit("/", 1)[1]
    page = editor_client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert "Parcel id" in page and "parcel id: appears more than once in the file" in page
    points = {
        feature["properties"]["row"]: feature["geometry"]["coordinates"]
        for feature in editor_client.get(f"/imports/{batch_id}/problems.geojson").get_json()[
            "features"
        ]
    }
    assert points == {
        1: [pytest.approx(-118.2995), pytest.approx(34.0505)],
        2: [pytest.approx(-118.2795), pytest.approx(34.0505)],
    }
