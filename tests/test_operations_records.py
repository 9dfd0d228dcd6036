"""Occupancy and O&M cost records through the registry's services, against real PostGIS."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from registry.db import unit_of_work
from registry.errors import VersionConflict
from registry.fields import RecordInvalid
from registry.operations.queries import OperationsQuery
from registry.operations.queries import list_costs
from registry.operations.queries import list_occupancy
from registry.operations.records import cost_as_dict
from registry.operations.records import create_cost
from registry.operations.records import create_occupancy
from registry.operations.records import delete_cost
from registry.operations.records import occupancy_as_dict
from registry.operations.records import update_cost
from registry.operations.records import update_occupancy
from tests.operations_fixtures import ANNEX
from tests.operations_fixtures import OTHER_PARCEL
from tests.operations_fixtures import PARCEL
from tests.operations_fixtures import TOWER
from tests.operations_fixtures import YARD
from tests.operations_fixtures import cost_body
from tests.operations_fixtures import occupancy_body
from tests.operations_fixtures import seed_operations_places


@pytest.fixture
def places(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with unit_of_work(session_factory, "test-setup") as session:
        seed_operations_places(session)
    return session_factory


def problems_of(error: pytest.ExceptionInfo[RecordInvalid]) -> dict[str, str]:
    return {problem.field: problem.message for problem in error.value.problems}


def test_an_occupancy_record_is_created_read_and_audited(places: sessionmaker[Session]) -> None:
    with unit_of_work(places, "ana@city.example") as session:
        record_id = create_occupancy(session, occupancy_body(department_code="general services"))
    with places() as session:
        record = occupancy_as_dict(session, record_id)
        actor = session.execute(
            text("SELECT actor FROM audit_events WHERE table_name = 'occupancy' AND row_key = :k"),
            {"k": str(record_id)},
        ).scalar_one()
    assert record["building_id"] == TOWER and record["parcel_id"] == PARCEL
    assert record["department_code"] == "GSD" and record["headcount"] == 120
    assert (record["period_start"], record["period_end"]) == ("2024-07-01", "2025-06-30")
    assert record["version"] == 1 and actor == "ana@city.example"


def test_every_occupancy_problem_is_named_by_its_field(places: sessionmaker[Session]) -> None:
    with unit_of_work(places, "t") as session, pytest.raises(RecordInvalid) as error:
        create_occupancy(
            session,
            occupancy_body(
                building_id="5555-012-034-B9",
                department_code="GSDD",
                period_start="2025-07-01",
                period_end="2025-06-30",
                headcount=-1,
                usable_sq_ft_occupied="lots",
                colour="red",
            ),
        )
    problems = problems_of(error)
    assert "did you mean '5555-012-034-B" in problems["building_id"]
    assert "did you mean 'GSD'" in problems["department_code"]
    assert "before the period's start" in problems["period_end"]
    assert "from 0" in problems["headcount"]
    assert problems["usable_sq_ft_occupied"] == "must be a whole number"
    assert problems["colour"] == "is not an occupancy field"


def test_occupied_area_cannot_exceed_the_buildings_usable_area(
    places: sessionmaker[Session],
) -> None:
    with unit_of_work(places, "t") as session:
        with pytest.raises(RecordInvalid) as error:
            create_occupancy(session, occupancy_body(usable_sq_ft_occupied=40_001))
        assert (
            "more than the building's usable 40,000 sq ft"
            in problems_of(error)["usable_sq_ft_occupied"]
        )
        create_occupancy(session, occupancy_body(building_id=ANNEX, usable_sq_ft_occupied=9999))


def test_a_second_record_with_the_same_natural_key_is_refused(
    places: sessionmaker[Session],
) -> None:
    with unit_of_work(places, "t") as session:
        create_occupancy(session, occupancy_body())
        with pytest.raises(RecordInvalid) as error:
            create_occupancy(session, occupancy_body(headcount=5))
    assert "already recorded" in problems_of(error)["period_start"]


def test_required_fields_are_reported_together(places: sessionmaker[Session]) -> None:
    with unit_of_work(places, "t") as session, pytest.raises(RecordInvalid) as error:
        create_occupancy(session, {})
    assert set(problems_of(error)) == {
        "building_id",
        "department_code",
        "period_start",
        "headcount",
        "usable_sq_ft_occupied",
    }
    with unit_of_work(places, "t") as session, pytest.raises(RecordInvalid) as error:
        create_cost(session, {})
    assert set(problems_of(error)) == {"parcel_id", "fiscal_year", "category", "amount"}


def test_a_cost_is_exact_money_in_a_known_category_and_sane_year(
    places: sessionmaker[Session],
) -> None:
    with unit_of_work(places, "t") as session, pytest.raises(RecordInvalid) as error:
        create_cost(
            session,
            cost_body(
                parcel_id="5555-012-043", fiscal_year=1850, category="lunch", amount="12.345"
            ),
        )
    problems = problems_of(error)
    assert problems["parcel_id"].startswith("there is no parcel '5555-012-043'")
    assert "did you mean '5555-012-03" in problems["parcel_id"]
    assert "from 1950 to" in problems["fiscal_year"]
    assert problems["category"].startswith("must be one of: operations, maintenance")
    assert "whole cents" in problems["amount"]
    with unit_of_work(places, "t") as session, pytest.raises(RecordInvalid) as error:
        create_cost(session, cost_body(amount="-1"))
    assert problems_of(error)["amount"] == "must not be negative"


def test_a_building_cost_is_kept_with_its_parcel(places: sessionmaker[Session]) -> None:
    with unit_of_work(places, "t") as session:
        record_id = create_cost(
            session, cost_body(parcel_id=None, building_id=YARD, category="Security")
        )
        record = cost_as_dict(session, record_id)
        assert (record["parcel_id"], record["building_id"]) == (OTHER_PARCEL, YARD)
        assert record["category"] == "security" and record["amount"] == "84210.50"
        with pytest.raises(RecordInvalid) as error:
            create_cost(session, cost_body(building_id=YARD))
    assert "is on parcel 5555-012-035, not on 5555-012-034" in problems_of(error)["building_id"]


def test_updates_check_the_version_and_deletes_are_audited(
    places: sessionmaker[Session],
) -> None:
    with unit_of_work(places, "t") as session:
        cost_id = create_cost(session, cost_body())
        occupancy_id = create_occupancy(session, occupancy_body())
    with unit_of_work(places, "t") as session:
        assert update_cost(session, cost_id, 1, {"amount": "90000"}) == 2
        assert update_occupancy(session, occupancy_id, 1, {"headcount": 110}) == 2
        with pytest.raises(VersionConflict) as conflict:
            update_cost(session, cost_id, 1, {"amount": "1"})
    assert conflict.value.current_version == 2
    with unit_of_work(places, "bo@city.example") as session:
        delete_cost(session, cost_id, 2)
    with places() as session:
        assert list_costs(session, OperationsQuery()) == []
        actions = session.scalars(
            text("SELECT action FROM audit_events WHERE table_name = 'om_costs' ORDER BY id")
        ).all()
        assert [a.lower() for a in actions] == ["insert", "update", "delete"]
        assert occupancy_as_dict(session, occupancy_id)["headcount"] == 110


def test_lists_filter_by_parcel_building_and_fiscal_year(places: sessionmaker[Session]) -> None:
    with unit_of_work(places, "t") as session:
        create_occupancy(session, occupancy_body())
        create_occupancy(
            session,
            occupancy_body(
                building_id=YARD,
                period_start="2025-07-01",
                period_end=None,
                usable_sq_ft_occupied=100,
            ),
        )
        create_cost(session, cost_body())
        create_cost(session, cost_body(fiscal_year=2026, building_id=TOWER))
    with places() as session:

        def occupancy(**filters: object) -> list[str]:
            return [r["building_id"] for r in list_occupancy(session, OperationsQuery(**filters))]

        assert occupancy(parcel_id=PARCEL) == [TOWER]
        assert occupancy(fiscal_year=2025) == [TOWER]
        assert occupancy(fiscal_year=2027) == [YARD]  # open-ended
        assert [r["fiscal_year"] for r in list_costs(session, OperationsQuery())] == [2026, 2025]
        assert [r["amount"] for r in list_costs(session, OperationsQuery(building_id=TOWER))] == [
            "84210.50"
        ]
        assert Decimal(
            list_costs(session, OperationsQuery(fiscal_year=2025))[0]["amount"]
        ) == Decimal("84210.50")
