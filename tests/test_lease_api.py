"""The lease API over HTTP against a real PostGIS database of the test's own.

The worked example is the Washington SBCTC lessee example (see tests/lease_fixtures.py).
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from app.database import session_factory
from registry.db import unit_of_work
from tests.auth_fixtures import LoginHelper
from tests.auth_fixtures import bearer
from tests.lease_fixtures import lessor_example
from tests.lease_fixtures import seed_places
from tests.lease_fixtures import worked_example

JSON_HEADERS = {"Content-Type": "application/json"}


@pytest.fixture
def places(app: Flask) -> None:
    with app.app_context(), unit_of_work(session_factory(), "test-setup") as session:
        seed_places(session)


def post(client: FlaskClient, body: Any, path: str = "/api/leases") -> Any:
    """POST raw JSON text, so that numbers with fractions stay JSON numbers."""
    return client.post(
        path, data=body if isinstance(body, str) else json.dumps(body), headers=JSON_HEADERS
    )


@pytest.mark.usefixtures("places")
def test_the_worked_example_through_the_api(editor_client: FlaskClient) -> None:
    created = post(editor_client, worked_example())
    assert created.status_code == 201, created.get_json()
    assert created.headers["Location"] == "/api/leases/L-2021-001"
    assert created.headers["ETag"] == '"v1"'
    schedule = editor_client.get("/api/leases/L-2021-001/schedule").get_json()
    assert schedule["short_term"] is False
    assert schedule["discount_rate"] == "0.0089"
    assert schedule["initial_measurement"] == "1066109.82"
    assert schedule["right_of_use_asset"] == "1066109.82"
    rows = schedule["rows"]
    assert len(rows) == 36
    assert rows[1] == {
        "period": 2,
        "date": "2021-05-01",
        "payment": "30000.00",
        "interest": "768.45",
        "principal": "29231.55",
        "balance": "1006878.27",
        "amortization": "29614.16",
        "asset_balance": "1006881.50",
        "measurement": 0,
    }
    assert rows[0]["interest"] == "0.00" and rows[0]["principal"] == "30000.00"
    assert rows[3]["balance"] == "948350.11"
    assert (rows[30]["interest"], rows[30]["balance"]) == ("133.15", "149666.83")
    assert rows[-1]["balance"] == "0.00" and rows[-1]["asset_balance"] == "0.00"


@pytest.mark.usefixtures("places")
def test_the_schedule_as_csv(editor_client: FlaskClient) -> None:
    post(editor_client, worked_example())
    response = editor_client.get("/api/leases/L-2021-001/schedule?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert list(rows[0]) == [
        "measurement",
        "period",
        "date",
        "payment",
        "interest",
        "principal",
        "balance",
        "amortization",
        "asset_balance",
    ]
    assert rows[30]["interest"] == "133.15" and rows[30]["balance"] == "149666.83"
    assert sum(float(row["principal"]) for row in rows) == pytest.approx(1066109.82)


@pytest.mark.usefixtures("places")
def test_a_lessor_schedule(editor_client: FlaskClient) -> None:
    assert post(editor_client, lessor_example()).status_code == 201
    schedule = editor_client.get("/api/leases/R-2022-007/schedule").get_json()
    assert "right_of_use_asset" not in schedule
    assert schedule["deferred_inflow"] == schedule["initial_measurement"]
    assert {"period", "date", "payment", "interest", "principal", "balance"} <= set(
        schedule["rows"][0]
    )
    assert schedule["rows"][0]["date"] == "2022-10-01"  # a quarter in arrears
    assert schedule["rows"][-1]["balance"] == "0.00"


@pytest.mark.usefixtures("places")
def test_invalid_input_lists_every_problem(editor_client: FlaskClient) -> None:
    body = (
        json.dumps(
            worked_example(parcel_id="0000-000-000", department_code="GDS", end_date="2020-01-01")
        )
        .replace('"0.0089"', "0.0089")
        .replace('"30000.00"', "30000.50")
    )
    response = post(editor_client, body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = {e["field"]: e["message"] for e in response.get_json()["errors"]}
    assert "decimal string" in errors["discount_rate"]
    assert "decimal string" in errors["payments[0].amount"]
    assert "did you mean 'GSD'" in errors["department_code"]
    assert {"parcel_id", "end_date"} <= set(errors)
    assert editor_client.get("/api/leases").get_json()["leases"] == []  # nothing written


@pytest.mark.usefixtures("places")
def test_a_json_area_number_is_fine(editor_client: FlaskClient) -> None:
    body = json.dumps(worked_example(leased_area_sq_ft=12500.5))
    assert post(editor_client, body).get_json()["leased_area_sq_ft"] == 12500.5


@pytest.mark.usefixtures("places")
def test_editing_needs_the_current_etag(
    app: Flask, auth: LoginHelper, editor_client: FlaskClient
) -> None:
    post(editor_client, worked_example())
    url = "/api/leases/L-2021-001"
    assert editor_client.patch(url, json={"notes": "x"}).status_code == 428
    assert (
        editor_client.patch(url, json={"notes": "x"}, headers={"If-Match": "abc"}).status_code
        == 412
    )
    changed = editor_client.patch(url, json={"notes": "renewal"}, headers={"If-Match": '"v1"'})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"v2"'
    assert changed.get_json()["notes"] == "renewal"
    other = auth.signed_in_client(app, "editor", "ana@city.example")
    stale = other.patch(url, json={"notes": "mine"}, headers={"If-Match": '"v1"'})
    assert stale.status_code == 412
    problem = stale.get_json()
    assert problem["changed_by"] == "editor@city.example" and problem["current_version"] == 2
    assert problem["current"]["notes"] == "renewal" and problem["changed_at"]
    invalid = editor_client.patch(url, json={"term_months": 0}, headers={"If-Match": '"v2"'})
    assert invalid.status_code == 422
    assert invalid.get_json()["errors"][0]["field"] == "term_months"
    same = editor_client.patch(url, json={"notes": "renewal"}, headers={"If-Match": '"v2"'})
    assert same.headers["ETag"] == '"v2"'  # nothing changed, nothing bumped
    assert editor_client.delete(url).status_code == 428
    assert editor_client.delete(url, headers={"If-Match": '"v2"'}).status_code == 204
    assert editor_client.get(url).status_code == 404


@pytest.mark.usefixtures("places")
def test_who_may_do_what(
    app: Flask,
    client: FlaskClient,
    auth: LoginHelper,
    editor_client: FlaskClient,
    viewer_client: FlaskClient,
    finance_client: FlaskClient,
) -> None:
    post(editor_client, worked_example())
    for path in (
        "/api/leases",
        "/api/leases/L-2021-001",
        "/api/leases/L-2021-001/schedule",
        "/api/leases?format=geojson",
    ):
        assert client.get(path).status_code == 401  # lease financials are never public
        assert viewer_client.get(path).status_code == 200
        assert finance_client.get(path).status_code == 200
    assert post(viewer_client, lessor_example()).status_code == 403
    # finance administers leases in the browser, and so through the API too (not delete)
    created = post(finance_client, lessor_example())
    assert created.status_code == 201, created.get_json()
    assert finance_client.delete("/api/leases/R-2022-007").status_code == 403
    assert post(client, {**lessor_example(), "lease_number": "R-2022-008"}).status_code == 401
    assert (
        viewer_client.post(
            "/api/leases/L-2021-001/modifications", json={"effective_date": "2022-04-01"}
        ).status_code
        == 403
    )
    token = auth.token(app, "script@city.example", "editor")
    scripted = client.post(
        "/api/leases",
        json={**lessor_example(), "lease_number": "R-2022-009"},
        headers=bearer(token),
    )
    assert scripted.status_code == 201  # tokens need no CSRF header
    assert client.get("/api/leases/NOPE", headers=bearer(token)).status_code == 404


@pytest.mark.usefixtures("places")
def test_a_modification_keeps_the_earlier_measurement(
    app: Flask, editor_client: FlaskClient
) -> None:
    post(editor_client, worked_example())
    before = editor_client.get("/api/leases/L-2021-001/schedule").get_json()
    url = "/api/leases/L-2021-001/modifications"
    refused = editor_client.post(url, json={"effective_date": "2021-03-15", "terms": {}})
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "effective_date"
    response = editor_client.post(
        url,
        json={
            "effective_date": "2022-04-01",
            "reason": "rent increase",
            "terms": {"discount_rate": "0.02", "payments": [{"periods": 24, "amount": "32000.00"}]},
        },
    )
    assert response.status_code == 201, response.get_json()
    schedule = editor_client.get(response.headers["Location"]).get_json()
    assert schedule["initial_measurement"] == "1066109.82"
    assert schedule["rows"][:12] == before["rows"][:12]  # never restated
    assert [row["measurement"] for row in schedule["rows"]] == [0] * 12 + [1] * 24
    (remeasured,) = schedule["remeasurements"]
    assert remeasured["modification_date"] == "2022-04-01"
    assert remeasured["adjustment"] == "39585.47"
    assert remeasured["balance_after"] == "753482.25"
    assert remeasured["right_of_use_asset_after"] == "750325.37"
    assert remeasured["reason"] == "rent increase" and remeasured["discount_rate"] == "0.02"
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        actors = session.execute(
            text("SELECT actor FROM audit_events WHERE table_name = 'lease_modifications'")
        ).all()
    assert actors == [("editor@city.example",)]


@pytest.mark.usefixtures("places")
def test_the_ibr_table_through_the_api(editor_client: FlaskClient) -> None:
    created = post(
        editor_client, worked_example(discount_rate=None, discount_rate_source="ibr_table")
    )
    assert created.get_json()["discount_rate"] == "0.015"
    schedule = editor_client.get("/api/leases/L-2021-001/schedule").get_json()
    assert schedule["discount_rate"] == "0.015"


@pytest.mark.usefixtures("places")
def test_listing_filters_and_pages(editor_client: FlaskClient) -> None:
    post(editor_client, worked_example())
    post(
        editor_client,
        worked_example(
            lease_number="L-2025-002", commencement_date="2025-01-01", department_code="RAP"
        ),
    )
    for index in range(3):
        post(editor_client, lessor_example(lease_number=f"R-{index}", portfolio="non_profit"))

    def numbers(query: str) -> list[str]:
        answer = editor_client.get(f"/api/leases?{query}")
        assert answer.status_code == 200, answer.get_json()
        return [lease["lease_number"] for lease in answer.get_json()["leases"]]

    assert numbers("direction=in") == ["L-2021-001", "L-2025-002"]
    assert numbers("portfolio=non_profit") == ["R-0", "R-1", "R-2"]
    assert numbers("department=Recreation and Parks") == ["L-2025-002"]
    assert numbers("parcel_id=5555-012-034&direction=out") == ["R-0", "R-1", "R-2"]
    assert numbers("expiring=36500&direction=in") == ["L-2025-002"]  # the other has ended
    first = editor_client.get("/api/leases?limit=2").get_json()
    assert [lease["lease_number"] for lease in first["leases"]] == ["L-2021-001", "L-2025-002"]
    (next_link,) = [link["href"] for link in first["links"] if link["rel"] == "next"]
    second = editor_client.get(next_link).get_json()
    assert [lease["lease_number"] for lease in second["leases"]] == ["R-0", "R-1"]
    bad = editor_client.get("/api/leases?direction=up&limit=0&expiring=soon")
    assert bad.status_code == 400
    assert {e["field"] for e in bad.get_json()["errors"]} == {"direction", "limit", "expiring"}


@pytest.mark.usefixtures("places")
def test_leased_parcels_as_geojson_points(editor_client: FlaskClient) -> None:
    post(editor_client, worked_example())
    post(editor_client, lessor_example())
    answer = editor_client.get("/api/leases?format=geojson")
    assert answer.mimetype == "application/geo+json"
    (feature,) = answer.get_json()["features"]  # two leases, one parcel: one point
    assert feature["geometry"]["type"] == "Point"
    lon, lat = feature["geometry"]["coordinates"]
    assert -118.25 < lon < -118.249 and 34.05 < lat < 34.051  # inside the parcel
    assert feature["properties"]["lease_count"] == 2
    assert [lease["lease_number"] for lease in feature["properties"]["leases"]] == [
        "L-2021-001",
        "R-2022-007",
    ]


def test_a_body_that_is_not_a_json_object_is_refused(editor_client: FlaskClient) -> None:
    assert post(editor_client, "[1, 2]").status_code == 400
    assert post(editor_client, "{not json").status_code == 400


@pytest.mark.usefixtures("places")
def test_a_lease_paid_in_arrears_can_be_modified(editor_client: FlaskClient) -> None:
    """No longer a 422: the receipt due on the modification date stays with the earlier
    measurement, and unchanged terms remeasure to the carrying receivable (within a cent)."""
    post(editor_client, lessor_example())
    url = "/api/leases/R-2022-007/modifications"
    response = editor_client.post(
        url, json={"effective_date": "2023-07-01", "terms": {"discount_rate": "0.04"}}
    )
    assert response.status_code == 201, response.get_json()
    schedule = response.get_json()
    assert [row["measurement"] for row in schedule["rows"]] == [0] * 4 + [1] * 16
    assert schedule["rows"][3]["date"] == "2023-07-01"
    (remeasured,) = schedule["remeasurements"]
    assert remeasured["adjustment"] == "0.01"
    assert sum(Decimal(row["payment"]) for row in schedule["rows"]) == Decimal("48000.00")
