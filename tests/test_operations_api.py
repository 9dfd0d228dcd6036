"""The occupancy and O&M cost API over HTTP against a real PostGIS database of the test's own."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.database import session_factory
from registry.db import unit_of_work
from tests.auth_fixtures import LoginHelper
from tests.auth_fixtures import bearer
from tests.operations_fixtures import OTHER_PARCEL
from tests.operations_fixtures import PARCEL
from tests.operations_fixtures import TOWER
from tests.operations_fixtures import YARD
from tests.operations_fixtures import cost_body
from tests.operations_fixtures import occupancy_body
from tests.operations_fixtures import seed_operations_places

JSON_HEADERS = {"Content-Type": "application/json"}


@pytest.fixture
def places(app: Flask) -> None:
    with app.app_context(), unit_of_work(session_factory(), "test-setup") as session:
        seed_operations_places(session)


def post(client: FlaskClient, path: str, body: Any) -> Any:
    """POST raw JSON text, so that numbers with fractions stay JSON numbers."""
    return client.post(
        path, data=body if isinstance(body, str) else json.dumps(body), headers=JSON_HEADERS
    )


def errors(response: Any) -> dict[str, str]:
    return {error["field"]: error["message"] for error in response.get_json()["errors"]}


@pytest.mark.usefixtures("places")
@pytest.mark.parametrize(
    ("path", "body", "changes"),
    [
        ("/api/occupancy", occupancy_body(), {"headcount": 95}),
        ("/api/costs", cost_body(), {"amount": "90000.00"}),
    ],
)
def test_create_read_change_delete(
    app: Flask,
    auth: LoginHelper,
    editor_client: FlaskClient,
    path: str,
    body: dict[str, Any],
    changes: dict[str, Any],
) -> None:
    created = post(editor_client, path, body)
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    url = f"{path}/{record['id']}"
    assert created.headers["Location"] == url and created.headers["ETag"] == '"v1"'
    assert editor_client.get(url).get_json() == record
    assert editor_client.patch(url, json=changes).status_code == 428
    assert editor_client.patch(url, json=changes, headers={"If-Match": "x"}).status_code == 412
    changed = editor_client.patch(url, json=changes, headers={"If-Match": '"v1"'})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"v2"'
    assert all(changed.get_json()[key] == value for key, value in changes.items())
    same = editor_client.patch(url, json=changes, headers={"If-Match": '"v2"'})
    assert same.headers["ETag"] == '"v2"'  # nothing changed, nothing bumped
    other = auth.signed_in_client(app, "editor", "ana@city.example")
    stale = other.patch(url, json=changes, headers={"If-Match": '"v1"'})
    assert stale.status_code == 412
    problem = stale.get_json()
    assert problem["changed_by"] == "editor@city.example" and problem["current_version"] == 2
    assert problem["current"]["id"] == record["id"]
    assert editor_client.delete(url).status_code == 428
    assert editor_client.delete(url, headers={"If-Match": '"v1"'}).status_code == 412
    assert editor_client.delete(url, headers={"If-Match": '"v2"'}).status_code == 204
    assert editor_client.get(url).status_code == 404
    assert editor_client.get(url).mimetype == "application/problem+json"


@pytest.mark.usefixtures("places")
def test_invalid_records_list_every_field(editor_client: FlaskClient) -> None:
    bad = post(
        editor_client,
        "/api/occupancy",
        occupancy_body(
            building_id="5555-012-034-B7",
            department_code="RAPP",
            period_end="2024-01-01",
            headcount=-3,
            usable_sq_ft_occupied=50_000,
        ),
    )
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    found = errors(bad)
    assert set(found) == {"building_id", "department_code", "period_end", "headcount"}
    assert "did you mean 'RAP'" in found["department_code"]
    suggestion = next(e for e in bad.get_json()["errors"] if e["field"] == "department_code")
    assert suggestion["suggestion"] == "RAP"
    too_big = post(editor_client, "/api/occupancy", occupancy_body(usable_sq_ft_occupied=40_500))
    assert "usable 40,000 sq ft" in errors(too_big)["usable_sq_ft_occupied"]
    float_money = post(
        editor_client,
        "/api/costs",
        '{"parcel_id": "5555-012-034", "fiscal_year": 2025, '
        '"category": "capital", "amount": 100.10}',
    )
    assert "decimal string" in errors(float_money)["amount"]
    assert set(
        errors(post(editor_client, "/api/costs", cost_body(category="parking", fiscal_year=3000)))
    ) == {"category", "fiscal_year"}
    assert post(editor_client, "/api/costs", "[1]").status_code == 400


@pytest.mark.usefixtures("places")
def test_lists_filter_by_parcel_building_and_fiscal_year(editor_client: FlaskClient) -> None:
    for body in (
        occupancy_body(),
        occupancy_body(
            building_id=YARD, usable_sq_ft_occupied=10, period_start="2025-07-01", period_end=None
        ),
    ):
        assert post(editor_client, "/api/occupancy", body).status_code == 201
    for body in (
        cost_body(),
        cost_body(fiscal_year=2026, building_id=TOWER),
        cost_body(parcel_id=OTHER_PARCEL, category="janitorial"),
    ):
        assert post(editor_client, "/api/costs", body).status_code == 201

    def listed(path: str) -> list[tuple[Any, ...]]:
        response = editor_client.get(path)
        assert response.status_code == 200, response.get_json()
        key = "occupancy" if "occupancy" in path else "costs"
        return [
            (r["parcel_id"], r.get("fiscal_year") or r["period_start"])
            for r in response.get_json()[key]
        ]

    assert listed(f"/api/occupancy?parcel_id={PARCEL}") == [(PARCEL, "2024-07-01")]
    assert listed("/api/occupancy?fiscal_year=FY2026") == [(OTHER_PARCEL, "2025-07-01")]
    assert listed(f"/api/occupancy?building_id={YARD}") == [(OTHER_PARCEL, "2025-07-01")]
    assert listed(f"/api/costs?parcel_id={PARCEL}") == [(PARCEL, 2026), (PARCEL, 2025)]
    assert listed("/api/costs?fiscal_year=2025") == [(OTHER_PARCEL, 2025), (PARCEL, 2025)]
    assert listed(f"/api/costs?building_id={TOWER}") == [(PARCEL, 2026)]
    bad = editor_client.get("/api/costs?fiscal_year=soon&limit=0")
    assert bad.status_code == 400 and set(errors(bad)) == {"fiscal_year", "limit"}


@pytest.mark.usefixtures("places")
def test_who_may_do_what(
    app: Flask,
    client: FlaskClient,
    auth: LoginHelper,
    editor_client: FlaskClient,
    viewer_client: FlaskClient,
    finance_client: FlaskClient,
    admin_client: FlaskClient,
) -> None:
    record_id = post(editor_client, "/api/costs", cost_body()).get_json()["id"]
    for path in ("/api/costs", f"/api/costs/{record_id}", "/api/occupancy"):
        assert client.get(path).status_code == 401
        assert viewer_client.get(path).status_code == 200
        assert finance_client.get(path).status_code == 200
    for reader in (viewer_client, finance_client):
        assert post(reader, "/api/costs", cost_body(category="security")).status_code == 403
        assert (
            reader.delete(f"/api/costs/{record_id}", headers={"If-Match": '"v1"'}).status_code
            == 403
        )
    assert post(client, "/api/occupancy", occupancy_body()).status_code == 401
    assert post(admin_client, "/api/occupancy", occupancy_body()).status_code == 201
    token = auth.token(app, "script@city.example", "editor")
    scripted = client.post("/api/costs", json=cost_body(category="capital"), headers=bearer(token))
    assert scripted.status_code == 201  # tokens need no CSRF header
