"""The "Occupancy and costs" section of the parcel page: the list, and the editors' forms."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from app.database import session_factory
from registry.db import unit_of_work
from registry.operations.records import create_cost
from registry.operations.records import create_occupancy
from tests.auth_fixtures import SignedInClient
from tests.operations_fixtures import ANNEX
from tests.operations_fixtures import OTHER_PARCEL
from tests.operations_fixtures import PARCEL
from tests.operations_fixtures import TOWER
from tests.operations_fixtures import YARD
from tests.operations_fixtures import cost_body
from tests.operations_fixtures import occupancy_body
from tests.operations_fixtures import seed_operations_places

PAGE = f"/parcels/{PARCEL}"


@pytest.fixture
def places(app: Flask) -> None:
    with app.app_context(), unit_of_work(session_factory(), "test-setup") as session:
        seed_operations_places(session)
        create_occupancy(session, occupancy_body())
        create_cost(session, cost_body(note="Electricity and water"))
        create_cost(session, cost_body(parcel_id=OTHER_PARCEL, category="security"))


def stored(app: Flask, sql: str) -> list[tuple[object, ...]]:
    with app.app_context(), session_factory()() as session:
        return [tuple(row) for row in session.execute(text(sql))]


@pytest.mark.usefixtures("places")
def test_the_section_lists_the_parcels_records_only(viewer_client: FlaskClient) -> None:
    page = viewer_client.get(PAGE).get_data(as_text=True)
    assert 'id="operations"' in page and "Occupancy and costs" in page
    assert "General Services" in page and "30,000" in page and "2024-07-01" in page
    assert "$84,210.50" in page and "Electricity and water" in page
    assert "security" not in page.split('id="operations"')[1].split('id="history"')[0]
    assert 'class="record-form' not in page  # viewers read, they do not enter


@pytest.mark.usefixtures("places")
def test_costs_and_occupancy_are_not_public(app: Flask, client: FlaskClient) -> None:
    page = client.get(PAGE)
    assert app.config["REGISTRY_SETTINGS"].public_map and page.status_code == 200
    assert "Occupancy and costs" not in page.get_data(as_text=True)


@pytest.mark.usefixtures("places")
def test_an_editor_adds_a_cost_and_an_occupancy(app: Flask, editor_client: SignedInClient) -> None:
    page = editor_client.get(PAGE).get_data(as_text=True)
    assert 'class="record-form add-cost"' in page and 'class="record-form add-occupancy"' in page
    assert f'<option value="{ANNEX}">' in page and YARD not in page.split("add-occupancy")[1]
    added = editor_client.post(
        f"{PAGE}/costs",
        data={
            "fiscal_year": "2026",
            "building_id": TOWER,
            "category": "janitorial",
            "amount": "12,500.00",
            "note": "",
        },
        follow_redirects=True,
    )
    assert added.status_code == 200 and "Saved cost record" in added.get_data(as_text=True)
    added = editor_client.post(
        f"{PAGE}/occupancy",
        data={
            "building_id": ANNEX,
            "department_code": "RAP",
            "period_start": "2025-01-01",
            "period_end": "",
            "headcount": "8",
            "usable_sq_ft_occupied": "2000",
        },
        follow_redirects=True,
    )
    assert "Saved occupancy record" in added.get_data(as_text=True)
    assert stored(
        app,
        "SELECT fiscal_year, category, amount::text, building_id IS NOT NULL "
        "FROM om_costs WHERE fiscal_year = 2026",
    ) == [(2026, "janitorial", "12500.00", True)]
    assert stored(
        app,
        "SELECT actor FROM audit_events WHERE table_name = 'occupancy' ORDER BY id DESC LIMIT 1",
    ) == [("editor@city.example",)]


@pytest.mark.usefixtures("places")
def test_problems_are_shown_by_field_and_nothing_is_saved(
    app: Flask, editor_client: SignedInClient
) -> None:
    answer = editor_client.post(
        f"{PAGE}/occupancy",
        data={
            "building_id": TOWER,
            "department_code": "Genral Services",
            "period_start": "2025-07-01",
            "period_end": "2025-01-01",
            "headcount": "-2",
            "usable_sq_ft_occupied": "90000",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "The occupancy record was not saved" in answer
    for field in ("department_code", "period_end", "headcount", "usable_sq_ft_occupied"):
        assert f"{field}: " in answer
    assert "did you mean &#39;General Services&#39;?" in answer
    answer = editor_client.post(
        f"{PAGE}/costs",
        data={"fiscal_year": "FY26", "category": "snacks", "amount": "10.001"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "The cost record was not saved" in answer
    assert stored(app, "SELECT count(*) FROM om_costs") == [(2,)]
    assert stored(app, "SELECT count(*) FROM occupancy") == [(1,)]
    other = editor_client.post(
        f"{PAGE}/occupancy",
        data={
            "building_id": YARD,
            "department_code": "GSD",
            "period_start": "2025-07-01",
            "headcount": "1",
            "usable_sq_ft_occupied": "1",
        },
    )
    assert other.status_code == 400  # the Yard is on another parcel: a tampered form


@pytest.mark.usefixtures("places")
def test_forms_need_an_editor_and_the_csrf_token(
    app: Flask, viewer_client: SignedInClient, editor_client: SignedInClient
) -> None:
    data = {"fiscal_year": "2026", "category": "capital", "amount": "1.00"}
    assert viewer_client.post(f"{PAGE}/costs", data=data).status_code == 403
    del editor_client.environ_base["HTTP_X_CSRF_TOKEN"]
    assert editor_client.post(f"{PAGE}/costs", data=data).status_code == 400
    token = editor_client.csrf_token
    assert (
        editor_client.post(f"{PAGE}/costs", data={**data, "csrf_token": token}).status_code == 302
    )
    assert stored(app, "SELECT count(*) FROM om_costs WHERE category = 'capital'") == [(1,)]
