"""Every kind through the web: an editor uploads a lease list, an occupancy list and a cost
workbook, maps the columns (pre-filled by the one resolver, DBF-shortened headers included),
dry-runs, reads the report and imports, on the same pages as parcels."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from flask import Flask
from openpyxl import Workbook
from sqlalchemy.orm import sessionmaker

from registry.db import create_registry_engine
from tests.auth_fixtures import LoginHelper
from tests.auth_fixtures import SignedInClient
from tests.import_page_helpers import heading
from tests.import_page_helpers import mapping_form
from tests.import_page_helpers import selected
from tests.import_page_helpers import submit
from tests.import_page_helpers import upload
from tests.lease_fixtures import BUILDING
from tests.lease_fixtures import OTHER_PARCEL
from tests.lease_fixtures import PARCEL
from tests.lease_fixtures import seed_places
from tests.sql import query
from tests.sql import scalar
from tests.test_security_uploads import HOSTILE_FILES
from tests.test_security_uploads import SECRET_FILE_LINE

# A lease list as a Shapefile's DBF leaves its headers: cut to ten characters.
DBF_HEADERS = [
    "No_",
    "Non_Profit",
    "APN",
    "Dept",
    "Lease_Star",
    "Lease_Exp_",
    "Monthly_Re",
    "Discount_R",
]
DBF_ROWS = [
    ["NP-1", "Eastside Arts Collective", PARCEL, "GSD", "7/1/2022", "6/30/2027", "$1,000.00",
     "3.5%"],
    ["NP-2", "Harbor Youth League", OTHER_PARCEL, "RAP", "2023-01-01 00:00:00", "12/31/2025",
     "$250.00", "4%"],
]  # fmt: skip


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode()


@pytest.fixture
def places(app: Flask) -> Iterator[str]:
    url = app.config["DATABASE_URL"]
    engine = create_registry_engine(url)
    with sessionmaker(engine)() as session, session.begin():
        seed_places(session)
    engine.dispose()
    yield url


def test_a_lease_list_with_dbf_headers_is_mapped_dry_run_and_imported(
    places: str, editor_client: SignedInClient
) -> None:
    prepare = upload(editor_client, "np_leases.csv", _csv(DBF_HEADERS, DBF_ROWS), "leases")
    page = editor_client.get(prepare).get_data(as_text=True)
    assert "Map the columns of np_leases.csv" in page
    expected = {
        "lease_number": "No_",
        "counterparty": "Non_Profit",
        "parcel_id": "APN",
        "department_code": "Dept",
        "commencement_date": "Lease_Star",
        "end_date": "Lease_Exp_",
        "monthly_rent": "Monthly_Re",
        "discount_rate": "Discount_R",
    }
    assert {target: selected(page, target) for target in expected} == expected
    assert 'id="direction"' in page and 'name="default_payment_timing"' in page

    # dry run: the city is the tenant, rent in advance; nothing is written
    report_url = submit(
        editor_client, prepare, "dry_run", direction="in", default_payment_timing="advance"
    )
    assert "token=" in report_url
    report = editor_client.get(report_url).get_data(as_text=True)
    assert heading(report).endswith("dry run — nothing written")
    assert "would be inserted" in report and "No problems." in report
    assert scalar(places, "SELECT count(*) FROM leases") == 0

    # the report offers the import as checked, with the same choices
    assert "as checked" in report
    done = editor_client.post(
        prepare, data={"csrf_token": editor_client.csrf_token, "use_saved": "1", "action": "import"}
    )
    assert done.status_code == 302 and "token=" not in done.headers["Location"]
    report = editor_client.get(done.headers["Location"]).get_data(as_text=True)
    assert heading(report).endswith(": imported")
    assert [
        tuple(row)
        for row in query(
            places,
            "SELECT lease_number, direction, counterparty, payment_timing, "
            "payment_frequency, term_months FROM leases ORDER BY lease_number",
        )
    ] == [
        ("NP-1", "in", "Eastside Arts Collective", "advance", "monthly", 60),
        ("NP-2", "in", "Harbor Youth League", "advance", "monthly", 36),
    ]
    batch_id = int(done.headers["Location"].rsplit("/", 1)[1])
    assert query(
        places, "SELECT kind, actor, outcome FROM import_batches WHERE id = :id", id=batch_id
    ) == [("leases", "editor@city.example", "imported")]
    assert (
        scalar(places, "SELECT DISTINCT actor FROM audit_events WHERE table_name = 'leases'")
        == f"editor@city.example (import #{batch_id})"
    )
    # the upload is gone once imported
    assert editor_client.get(prepare).status_code == 404
    assert (
        "np_leases.csv"
        not in editor_client.get("/imports").get_data(as_text=True).split("Every import")[0]
    )


def test_a_mapping_chosen_by_hand_is_kept_for_the_import(
    places: str, editor_client: SignedInClient
) -> None:
    header = ["Ref", "Org", "Parcel", "Department", "From", "Until", "Per month", "Rate"]
    prepare = upload(
        editor_client,
        "odd.csv",
        _csv(header, [["X-1", "Cafe", PARCEL, "GSD", "1/1/2024", "12/31/2024", "100", "4%"]]),
        "leases",
    )
    page = editor_client.get(prepare).get_data(as_text=True)
    assert selected(page, "lease_number") == ""  # "Ref" is no name of a lease number
    assert "Ref (e.g. X-1)" in page  # each column shows its first value
    report_url = submit(
        editor_client,
        prepare,
        "dry_run",
        map_lease_number="Ref",
        map_counterparty="Org",
        map_monthly_rent="Per month",
        map_end_date="Until",
        map_discount_rate="Rate",
        default_direction="out",
        default_payment_timing="arrears",
    )
    assert "dry run" in heading(editor_client.get(report_url).get_data(as_text=True))
    # back on the mapping page, the hand-made choices are still there
    again = mapping_form(editor_client.get(prepare).get_data(as_text=True))
    assert (again["map_lease_number"], again["map_monthly_rent"], again["default_direction"]) == (
        "Ref",
        "Per month",
        "out",
    )
    report_url = submit(editor_client, prepare, "import")
    assert heading(editor_client.get(report_url).get_data(as_text=True)).endswith(": imported")
    assert query(
        places, "SELECT lease_number, direction, payment_timing, term_months FROM leases"
    ) == [("X-1", "out", "arrears", 12)]


def test_no_lease_number_column_is_said_on_the_mapping_page(
    places: str, editor_client: SignedInClient
) -> None:
    prepare = upload(
        editor_client,
        "odd.csv",
        _csv(["Ref", "Org", "Start", "Term"], [["X-1", "Cafe", "1/1/2024", "12"]]),
        "leases",
    )
    response = editor_client.post(
        prepare,
        data={
            **mapping_form(editor_client.get(prepare).get_data(as_text=True)),
            "csrf_token": editor_client.csrf_token,
            "action": "dry_run",
        },
    )
    assert response.status_code == 400
    assert "no lease number column" in response.get_data(as_text=True)


def test_an_occupancy_list_goes_through_the_same_pages(
    places: str, editor_client: SignedInClient
) -> None:
    content = _csv(["Space report FY25", "", "", "", ""], []) + _csv(
        ["Bldg", "Dept", "Start", "Staff", "USF"], [[BUILDING, "GSD", "7/1/2024", "12", "2,400"]]
    )
    prepare = upload(editor_client, "space.csv", content, "occupancy")
    page = editor_client.get(prepare).get_data(as_text=True)
    assert "header on row 2" in page
    assert selected(page, "building_id") == "Bldg" and selected(page, "headcount") == "Staff"
    dry = editor_client.get(submit(editor_client, prepare, "dry_run")).get_data(as_text=True)
    assert heading(dry).endswith("dry run — nothing written")
    assert scalar(places, "SELECT count(*) FROM occupancy") == 0
    done = editor_client.get(submit(editor_client, prepare, "import")).get_data(as_text=True)
    assert heading(done).endswith(": imported")
    assert query(
        places,
        "SELECT b.building_id, o.headcount, o.usable_sq_ft_occupied "
        "FROM occupancy o JOIN buildings b ON b.id = o.building_id",
    ) == [(BUILDING, 12, 2400)]


def _costs_workbook() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "FY25 costs"
    sheet.append(["APN", "FY", "Cost Type", "Cost"])
    sheet.append([PARCEL, "FY2025", "Custodial", "$1,200.00"])
    sheet.append([PARCEL, "FY2025", None, 50])
    sheet.cell(row=3, column=3, value='=HYPERLINK("http://evil.example")').data_type = "s"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_a_cost_workbook_is_checked_then_its_valid_rows_imported(
    places: str, editor_client: SignedInClient
) -> None:
    prepare = upload(editor_client, "costs.xlsx", _costs_workbook(), "costs")
    page = editor_client.get(prepare).get_data(as_text=True)
    assert "sheet FY25 costs" in page and selected(page, "category") == "Cost Type"
    report_url = submit(editor_client, prepare, "dry_run")
    report = editor_client.get(report_url).get_data(as_text=True)
    assert heading(report).endswith("dry run — nothing written")
    assert "Importing as checked would be refused: 1 row has problems" in report
    assert "category: must be one of" in report

    batch_id = report_url.split("?")[0].rsplit("/", 1)[1]
    download = editor_client.get(f"/imports/{batch_id}/problems.csv")
    assert download.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in download.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert lines[0] == ["file", "row", "record", "field", "severity", "message", "value"]
    (problem,) = lines[1:]
    assert problem[:5] == [
        "costs.xlsx",
        "3",
        f'{PARCEL} FY2025 =HYPERLINK("http://evil.example")',
        "category",
        "error",
    ]
    assert problem[6] == '\'=HYPERLINK("http://evil.example")'  # shown, never run

    done = editor_client.get(submit(editor_client, prepare, "import", skip_invalid="1"))
    assert heading(done.get_data(as_text=True)).endswith("imported, the invalid rows skipped")
    assert query(places, "SELECT category, amount FROM om_costs") == [("janitorial", 1200)]


@pytest.mark.parametrize(
    "kind, name", [("leases", "list.txt"), ("costs", "costs.topojson"), ("occupancy", "a.xls")]
)
def test_each_kind_accepts_only_its_formats(
    editor_client: SignedInClient, kind: str, name: str
) -> None:
    response = editor_client.post(
        "/imports/new",
        data={
            "file": (io.BytesIO(b"x"), name),
            "kind": kind,
            "csrf_token": editor_client.csrf_token,
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "choose a file ending in" in response.get_data(as_text=True)


def test_only_editors_reach_the_pages_and_each_sees_only_their_own_uploads(
    app: Flask,
    places: str,
    editor_client: SignedInClient,
    auth: LoginHelper,
    viewer_client: SignedInClient,
    finance_client: SignedInClient,
) -> None:
    prepare = upload(editor_client, "np_leases.csv", _csv(DBF_HEADERS, DBF_ROWS), "leases")
    report_url = submit(editor_client, prepare, "dry_run", direction="in")
    for client in (viewer_client, finance_client):
        for url in ("/imports", "/imports/new", prepare, report_url):
            assert client.get(url).status_code == 403, url
    other = auth.signed_in_client(app, "editor", "other@city.example")
    assert other.get(prepare).status_code == 404
    assert (
        "np_leases.csv" not in other.get("/imports").get_data(as_text=True).split("Every import")[0]
    )
    assert (
        other.post(
            prepare, data={"csrf_token": other.csrf_token, "use_saved": "1", "action": "import"}
        ).status_code
        == 404
    )
    # the report is everyone's, the offer to import is its uploader's
    assert "as checked" not in other.get(report_url).get_data(as_text=True)
    assert (
        "np_leases.csv"
        in editor_client.get("/imports").get_data(as_text=True).split("Every import")[0]
    )
    admin = auth.signed_in_client(app, "admin", "admin@city.example")
    assert admin.get("/imports/new").status_code == 200


def test_a_form_without_the_csrf_token_is_refused(
    places: str, editor_client: SignedInClient
) -> None:
    prepare = upload(editor_client, "np_leases.csv", _csv(DBF_HEADERS, DBF_ROWS), "leases")
    del editor_client.environ_base["HTTP_X_CSRF_TOKEN"]
    response = editor_client.post(prepare, data={"action": "import", "use_saved": "1"})
    assert response.status_code == 400
    assert scalar(places, "SELECT count(*) FROM import_batches") == 0


@pytest.mark.parametrize(
    "name, content",
    [(name, content) for name, content in HOSTILE_FILES.values() if not name.endswith(".csv")],
)
def test_a_point_layer_upload_goes_through_the_same_gdal_guard(
    app: Flask, editor_client: SignedInClient, name: str, content: bytes
) -> None:
    response = editor_client.post(
        "/imports/new",
        data={
            "file": (io.BytesIO(content), name),
            "kind": "leases",
            "csrf_token": editor_client.csrf_token,
        },
        content_type="multipart/form-data",
    )
    if response.status_code == 302:
        response = editor_client.get(response.headers["Location"])
    assert response.status_code == 400
    assert SECRET_FILE_LINE not in response.get_data(as_text=True)
    assert scalar(app.config["DATABASE_URL"], "SELECT count(*) FROM import_batches") == 0
