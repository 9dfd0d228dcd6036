"""`/admin/city`: admins describe the city in the browser (profile, parcel-id formats,
placeholders, departments, district polygons, boundary); everyone else is refused."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.auth_fixtures import SignedInClient
from tests.city_fixtures import PORTLAND
from tests.sql import execute
from tests.sql import query
from tests.sql import scalar

PAGE = "/admin/city"


def _upload(path: Path) -> tuple[io.BytesIO, str]:
    return io.BytesIO(path.read_bytes()), path.name


def _flashes(client: FlaskClient) -> str:
    return client.get(PAGE).get_data(as_text=True)


def test_admins_see_the_city_and_a_link_to_it(admin_client: SignedInClient) -> None:
    page = admin_client.get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Los Angeles</h1>" in html
    assert "LA County APN" in html and "5056-011-903" in html
    assert 'href="/admin/city">City</a>' in html


@pytest.mark.parametrize("role", ["viewer", "editor", "finance"])
def test_other_roles_are_refused(app: Flask, signed_in: object, role: str) -> None:
    client = signed_in(role)  # type: ignore[operator]
    assert client.get(PAGE).status_code == 403
    assert client.post(f"{PAGE}/profile", data={"name": "X"}).status_code == 403
    assert 'href="/admin/city"' not in client.get("/kpi").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    assert client.get(PAGE).status_code in (302, 401)


def test_a_form_without_the_sessions_csrf_token_is_refused(
    app: Flask, admin_client: SignedInClient
) -> None:
    del admin_client.environ_base["HTTP_X_CSRF_TOKEN"]
    response = admin_client.post(f"{PAGE}/placeholders", data={"value": "TBD2"})
    assert response.status_code == 400
    assert "TBD2" not in scalar(
        app.config["DATABASE_URL"], "SELECT array_to_string(placeholder_ids, ',') FROM city_profile"
    )


def test_an_admin_describes_portland_in_the_browser(
    app: Flask, admin_client: SignedInClient
) -> None:
    url = app.config["DATABASE_URL"]
    admin_client.post(
        f"{PAGE}/profile",
        data={
            "name": "Portland",
            "west": "-70.3",
            "south": "43.6",
            "east": "-70.2",
            "north": "43.7",
            "fiscal_year_start_month": "7",
        },
    )
    admin_client.post(
        f"{PAGE}/boundary",
        data={"file": _upload(PORTLAND / "boundary.geojson")},
        content_type="multipart/form-data",
    )
    admin_client.post(f"{PAGE}/id-formats/remove", data={"name": "LA County APN"})
    admin_client.post(
        f"{PAGE}/id-formats",
        data={
            "name": "Map-Lot",
            "examples": "127-123, 268B-41, 267E-17",
            "pattern": r"^\d{3}[A-E]?-\d+$",
        },
    )
    for value in ("000-000", "UNKNOWN"):
        admin_client.post(f"{PAGE}/placeholders", data={"value": value})
    admin_client.post(
        f"{PAGE}/departments/import",
        data={"file": _upload(PORTLAND / "departments.csv")},
        content_type="multipart/form-data",
    )
    admin_client.post(
        f"{PAGE}/districts",
        data={"file": _upload(PORTLAND / "districts.geojson")},
        content_type="multipart/form-data",
    )
    html = _flashes(admin_client)
    assert "<h1>Portland</h1>" in html
    assert "Map-Lot</td><td>127-123, 268B-41, 267E-17" in html
    assert "5 council districts; 0 parcels changed district." in html
    assert "flash error" not in html
    assert scalar(url, "SELECT name FROM city_profile") == "Portland"
    assert scalar(url, "SELECT boundary IS NOT NULL FROM city_profile")
    assert scalar(url, "SELECT ST_XMin(extent) FROM city_profile") == pytest.approx(-70.27244)
    assert scalar(url, "SELECT count(*) FROM departments") == 8
    assert scalar(url, "SELECT count(*) FROM council_districts") == 5
    actors = {
        row[0]
        for row in query(
            url,
            "SELECT DISTINCT actor FROM audit_events WHERE "
            "table_name IN ('city_profile', 'parcel_id_formats', "
            "'departments', 'council_districts')",
        )
    }
    assert actors == {"admin@city.example"}
    kpi_map = admin_client.get("/kpi/map?map_kpi=DIG-2").get_data(as_text=True)
    assert "-70.26744" in kpi_map  # district 1's west edge: the real boundaries


def test_departments_are_merged_and_aliased_from_the_page(
    app: Flask, admin_client: SignedInClient
) -> None:
    url = app.config["DATABASE_URL"]
    execute(
        url,
        "INSERT INTO departments (code, name) VALUES ('LAHD', 'Housing'), "
        "('HCID', 'Housing and Community Investment')",
    )
    execute(
        url,
        "INSERT INTO parcels (parcel_id, department_id) "
        "SELECT '5056-011-903', id FROM departments WHERE code = 'HCID'",
    )
    admin_client.post(f"{PAGE}/aliases", data={"alias": "Rec&Parks", "code": "LAHD"})
    admin_client.post(f"{PAGE}/departments/merge", data={"old": "HCID", "into": "LAHD"})
    html = _flashes(admin_client)
    assert "Merged HCID into LAHD." in html and "1 parcels" in html
    assert (
        scalar(url, "SELECT d.code FROM parcels p JOIN departments d ON d.id = p.department_id")
        == "LAHD"
    )
    aliases = {row[0] for row in query(url, "SELECT alias FROM department_aliases")}
    assert aliases == {"Rec&Parks", "HCID", "Housing and Community Investment"}


@pytest.mark.parametrize(
    ("form", "says"),
    [
        ({"name": "Lot", "examples": "12-3", "pattern": r"^\d+$"}, "not written in the format"),
        ({"name": "Lot", "examples": "", "pattern": r"^\d+$"}, "at least one example"),
    ],
)
def test_a_refused_change_is_explained_and_nothing_is_saved(
    app: Flask, admin_client: SignedInClient, form: dict[str, str], says: str
) -> None:
    admin_client.post(f"{PAGE}/id-formats", data=form)
    html = _flashes(admin_client)
    assert "flash error" in html and says in html
    assert scalar(app.config["DATABASE_URL"], "SELECT count(*) FROM parcel_id_formats") == 1


def test_a_file_that_is_not_what_it_says_is_refused(
    app: Flask, admin_client: SignedInClient
) -> None:
    fake = io.BytesIO(b'<OGRVRTDataSource><OGRVRTLayer name="x"/></OGRVRTDataSource>')
    admin_client.post(
        f"{PAGE}/districts",
        data={"file": (fake, "districts.geojson")},
        content_type="multipart/form-data",
    )
    html = _flashes(admin_client)
    assert "Not imported: districts.geojson: its content is not a GeoJSON file" in html
    assert scalar(app.config["DATABASE_URL"], "SELECT count(*) FROM council_districts") == 0
