"""Lease records against real PostGIS: validation rules, discount rates, versions, modifications.

Each test runs in a transaction rolled back at the end (the `db_session` fixture).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.errors import NotFound
from registry.errors import VersionConflict
from registry.fields import RecordInvalid
from registry.leases.accounting import LeaseModification
from registry.leases.accounting import LeaseSchedule
from registry.leases.accounting import balances_at
from registry.leases.accounting import lease_schedule
from registry.leases.records import LEASE_FIELDS
from registry.leases.records import add_modification
from registry.leases.records import clean_lease
from registry.leases.records import create_lease
from registry.leases.records import delete_lease
from registry.leases.records import lease_as_dict
from registry.leases.records import lease_history_of
from registry.leases.records import lease_modifications
from registry.leases.records import lease_schedule_of
from registry.leases.records import lease_terms
from registry.leases.records import leases_with_schedules
from registry.leases.records import update_lease
from registry.leases.validation import terms_from_values
from tests.lease_fixtures import BUILDING
from tests.lease_fixtures import OTHER_PARCEL
from tests.lease_fixtures import lessor_example
from tests.lease_fixtures import seed_places
from tests.lease_fixtures import worked_example

D = Decimal


@pytest.fixture
def session(db_session: Session) -> Session:
    seed_places(db_session)
    return db_session


def problems_of(session: Session, body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(RecordInvalid) as caught:
        clean_lease(session, body)
    return {problem.field: problem.message for problem in caught.value.problems}


def test_the_worked_example_is_stored_and_measured(session: Session) -> None:
    number = create_lease(session, worked_example())
    record = lease_as_dict(session, number)
    assert list(record)[: len(LEASE_FIELDS)] == list(LEASE_FIELDS)
    assert record["parcel_id"] == "5555-012-034" and record["department_code"] == "GSD"
    assert record["discount_rate"] == "0.0089" and record["end_date"] == "2024-03-31"
    assert record["payments"] == [{"periods": 36, "amount": "30000.00"}]
    assert record["portfolio"] == "payable" and record["version"] == 1
    schedule = lease_schedule_of(session, number)
    assert isinstance(schedule, LeaseSchedule)
    assert schedule.initial_measurement == D("1066109.82")
    row = schedule.lessee_rows[1]
    assert (row.interest, row.principal, row.balance) == (
        D("768.45"),
        D("29231.55"),
        D("1006878.27"),
    )
    assert row.amortization == D("29614.16")
    assert schedule.rows[3].balance == D("948350.11")
    assert (schedule.rows[30].interest, schedule.rows[30].balance) == (D("133.15"), D("149666.83"))
    assert schedule.rows[-1].balance == D("0.00")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"parcel_id": "9999-999-999"}, "parcel_id", "no parcel"),
        ({"building_id": BUILDING, "parcel_id": OTHER_PARCEL}, "building_id", "is on parcel"),
        ({"department_code": "GDS"}, "department_code", "did you mean 'GSD'"),
        ({"department_code": "Recreation & Parks?"}, "department_code", "Recreation and Parks"),
        ({"end_date": "2021-01-31"}, "end_date", "before the commencement date"),
        ({"end_date": "2024-03-15", "term_months": 35}, "end_date", "disagrees with term_months"),
        ({"direction": "sideways"}, "direction", "must be one of"),
        ({"payment_timing": "whenever"}, "payment_timing", "must be one of"),
        ({"fund_type": "enterprise"}, "fund_type", "must be one of"),
        ({"non_lease_amount": "-5.00"}, "non_lease_amount", "negative"),
        ({"fair_value": "100.005"}, "fair_value", "whole cents"),
        (
            {"payments": [{"periods": 36, "amount": 30000.5}]},
            "payments[0].amount",
            "decimal string",
        ),
        ({"discount_rate": 0.0089}, "discount_rate", "decimal string"),
        ({"payments": [{"periods": 30, "amount": "30000.00"}]}, "payments", "periods sum to 30"),
        ({"payments": [{"periods": 36}]}, "payments[0].amount", "is required"),
        ({"free_periods": 36}, "free_periods", "fewer than the 36"),
        ({"non_lease_amount": "40000.00"}, "payments[0].amount", "less than non_lease_amount"),
        (
            {
                "term_months": 10,
                "payment_frequency": "quarterly",
                "payments": [{"periods": 3, "amount": "1.00"}],
            },
            "term_months",
            "quarterly periods",
        ),
        ({"max_possible_term_months": 24}, "max_possible_term_months", "at least 36"),
        (
            {"discount_rate": None},
            "discount_rate",
            "is required when discount_rate_source is stated",
        ),
        ({"discount_rate": None, "discount_rate_source": "implicit"}, "fair_value", "required"),
        (
            {"discount_rate_source": "implicit", "fair_value": "1000000.00"},
            "discount_rate",
            "must be empty",
        ),
        (
            {"discount_rate": None, "discount_rate_source": "implicit", "fair_value": "2000000.00"},
            "fair_value",
            "exceeds the undiscounted payments",
        ),
        (
            {
                "discount_rate": None,
                "discount_rate_source": "ibr_table",
                "term_months": 240,
                "payments": [{"periods": 240, "amount": "1.00"}],
            },
            "discount_rate_source",
            "no rate",
        ),
        ({"portfolio": "receivable"}, "portfolio", "payable"),
        ({"terminated_on": "2020-12-31"}, "terminated_on", "before the commencement"),
        ({"incentives": "2000000.00"}, "incentives", "exceed"),
        (
            {"options": [{"kind": "renewal", "holder": "lessee", "months": 12}]},
            "options[0].kind",
            "must be one of",
        ),
        (
            {
                "options": [{"kind": "extension", "holder": "lessee", "months": 60}],
                "max_possible_term_months": 48,
            },
            "max_possible_term_months",
            "at least 96",
        ),
        ({"lease_number": "L 1/2"}, "lease_number", "letters, digits"),
        ({"commencement_date": "Lease in process"}, "commencement_date", "is not a date"),
        ({"colour": "red"}, "colour", "is not a lease field"),
    ],
)
def test_each_rule_names_its_field(
    session: Session, overrides: dict[str, Any], field: str, message: str
) -> None:
    body = {**worked_example(), **overrides}
    found = problems_of(session, {k: v for k, v in body.items() if v is not None})
    assert field in found, found
    assert message in found[field]


def test_every_problem_is_reported_at_once(session: Session) -> None:
    found = problems_of(
        session,
        worked_example(
            parcel_id="0000-000-000",
            department_code="GDS",
            direction="up",
            discount_rate=0.04,
            payments=[{"periods": 12, "amount": "-1"}],
            commencement_date="soon",
        ),
    )
    assert {
        "parcel_id",
        "department_code",
        "direction",
        "discount_rate",
        "payments[0].amount",
        "commencement_date",
    } <= set(found)


def test_a_lease_number_is_unique(session: Session) -> None:
    create_lease(session, worked_example())
    assert "already in the registry" in problems_of(session, worked_example())["lease_number"]


def test_end_date_gives_the_term_and_options_the_maximum_term(session: Session) -> None:
    values = clean_lease(
        session,
        worked_example(
            term_months=None,
            end_date="2024-03-31",
            options=[
                {"kind": "extension", "holder": "lessee", "months": 24, "notice_months": 6},
                {"kind": "extension", "holder": "lessee", "months": 12, "reasonably_certain": True},
            ],
        ),
    )
    assert values["term_months"] == 36
    assert values["max_possible_term_months"] == 60  # certain extensions are in the term already
    assert values["options"][0] == {
        "kind": "extension",
        "holder": "lessee",
        "months": 24,
        "notice_months": 6,
        "reasonably_certain": False,
    }


def test_building_gives_its_parcel(session: Session) -> None:
    number = create_lease(session, worked_example(parcel_id=None, building_id=BUILDING))
    record = lease_as_dict(session, number)
    assert (record["parcel_id"], record["building_id"]) == ("5555-012-034", BUILDING)


def test_a_short_term_lease_needs_no_rate(session: Session) -> None:
    number = create_lease(
        session,
        worked_example(
            term_months=12, payments=[{"periods": 12, "amount": "1000.00"}], discount_rate=None
        ),
    )
    schedule = lease_schedule_of(session, number)
    assert isinstance(schedule, LeaseSchedule)
    assert schedule.short_term and schedule.initial_measurement == D("0.00")


def test_the_implicit_rate_is_solved_when_read(session: Session) -> None:
    number = create_lease(
        session,
        lessor_example(discount_rate=None, discount_rate_source="implicit", fair_value="43309.33"),
    )
    assert lease_as_dict(session, number)["discount_rate"] is None
    rate = lease_terms(session, number).discount_rate
    assert rate is not None and abs(rate - D("0.04")) < D("0.000001")
    schedule = lease_schedule_of(session, number)
    assert isinstance(schedule, LeaseSchedule)
    assert schedule.initial_measurement == D("43309.33")


@pytest.mark.parametrize(
    ("start", "months", "rate"),
    [
        ("2021-04-01", 36, "0.015"),  # shortest bucket covering 36 months, in force since 2020-07
        ("2021-04-01", 84, "0.021"),  # the 120-month bucket
        ("2022-07-01", 60, "0.038"),  # the newer table
        ("2022-07-01", 84, "0.021"),  # no newer 120-month rate: the older one is still in force
    ],
)
def test_the_ibr_table_gives_the_rate_in_force_for_the_term(
    session: Session, start: str, months: int, rate: str
) -> None:
    number = create_lease(
        session,
        worked_example(
            commencement_date=start,
            term_months=months,
            discount_rate=None,
            discount_rate_source="ibr_table",
            payments=[{"periods": months, "amount": "1000.00"}],
        ),
    )
    assert lease_as_dict(session, number)["discount_rate"] == rate
    assert lease_terms(session, number).discount_rate == D(rate)


def test_a_table_rate_stays_when_other_fields_change(session: Session) -> None:
    number = create_lease(
        session, worked_example(discount_rate=None, discount_rate_source="ibr_table")
    )
    session.execute(text("UPDATE incremental_borrowing_rates SET rate = 0.05"))
    update_lease(session, number, 1, {"notes": "renewal under review"})
    assert lease_as_dict(session, number)["discount_rate"] == "0.015"
    update_lease(session, number, 2, {"commencement_date": "2021-05-01"})
    assert lease_as_dict(session, number)["discount_rate"] == "0.05"


def test_versions_guard_against_lost_updates(session: Session) -> None:
    number = create_lease(session, worked_example())
    assert update_lease(session, number, 1, {"notes": "first"}) == 2
    assert update_lease(session, number, 2, {"notes": "first"}) == 2  # nothing really changed
    with pytest.raises(VersionConflict) as conflict:
        update_lease(session, number, 1, {"notes": "stale"})
    assert conflict.value.current_version == 2
    with pytest.raises(NotFound):
        update_lease(session, "NOPE", 1, {})


def test_an_end_date_inside_a_month_gives_a_partial_last_period(session: Session) -> None:
    """2021-04-01 to 2024-03-15, monthly in advance: 35 whole months, then March 1-15, 2024,
    15 of 31 days: 30,000.00 x 15/31 = 14,516.13 on March 1. The term touches 36 months."""
    values = clean_lease(session, worked_example(term_months=None, end_date="2024-03-15"))
    assert values["term_months"] == 36 and values["max_possible_term_months"] == 36
    assert values["end_date"] == dt.date(2024, 3, 15)
    terms = terms_from_values(values)
    assert terms.end_date == dt.date(2024, 3, 15) and terms.period_count == 36
    last = lease_schedule(terms).rows[-1]
    assert (last.date, last.payment, last.balance) == (
        dt.date(2024, 3, 1),
        D("14516.13"),
        D("0.00"),
    )
    whole = clean_lease(session, worked_example(term_months=None, end_date="2024-03-31"))
    assert whole["end_date"] == dt.date(2024, 3, 31) and whole["term_months"] == 36
    quarterly = clean_lease(
        session,
        worked_example(
            term_months=None,
            end_date="2024-02-29",
            payment_frequency="quarterly",
            payments=[{"periods": 12, "amount": "90000.00"}],
        ),
    )  # 35 months: 11 quarters and 2/3
    assert quarterly["term_months"] == 35 and quarterly["end_date"] == dt.date(2024, 2, 29)


def test_a_change_keeps_a_term_given_by_dates(session: Session) -> None:
    current = {**worked_example(), "term_months": 36, "end_date": "2024-03-15"}
    kept = clean_lease(session, {"notes": "keys returned"}, current)
    assert (kept["term_months"], kept["end_date"]) == (36, dt.date(2024, 3, 15))
    moved = clean_lease(
        session, {"term_months": 24, "payments": [{"periods": 24, "amount": "30000.00"}]}, current
    )
    assert moved["term_months"] == 24 and moved["end_date"] == dt.date(2023, 3, 31)
    quarterly = {
        **worked_example(
            payment_frequency="quarterly", payments=[{"periods": 12, "amount": "90000.00"}]
        ),
        "term_months": 35,
        "end_date": "2024-02-29",
    }  # whole months, not quarters
    assert clean_lease(session, {"notes": "n"}, quarterly)["end_date"] == dt.date(2024, 2, 29)


def test_a_patch_is_checked_as_a_whole_record(session: Session) -> None:
    number = create_lease(session, worked_example())
    with pytest.raises(RecordInvalid) as caught:
        update_lease(session, number, 1, {"term_months": 48})
    assert [p.field for p in caught.value.problems] == ["payments"]
    update_lease(
        session,
        number,
        1,
        {"end_date": "2025-03-31", "payments": [{"periods": 48, "amount": "30000.00"}]},
    )
    assert lease_as_dict(session, number)["term_months"] == 48


def test_modifications_remeasure_and_keep_the_earlier_measurement(session: Session) -> None:
    number = create_lease(session, worked_example())
    original = lease_schedule_of(session, number)
    assert isinstance(original, LeaseSchedule)
    add_modification(
        session,
        number,
        "2022-04-01",
        {"discount_rate": "0.02", "payments": [{"periods": 24, "amount": "32000.00"}]},
        "rent increase",
    )
    result = lease_schedule_of(session, number)
    assert isinstance(result, LeaseModification)
    assert result.adjustment == D("39585.47") and result.carrying_after == D("750325.37")
    assert result.original.rows == original.rows[:12]  # never restated
    add_modification(
        session,
        number,
        "2023-04-01",
        {"term_months": 24, "payments": [{"periods": 24, "amount": "31000.00"}]},
    )
    _, applied = lease_modifications(session, number)
    assert [m.modification_date for _, m in applied] == [dt.date(2022, 4, 1), dt.date(2023, 4, 1)]
    assert applied[1][1].original.rows == applied[0][1].remeasured.rows[:12]
    assert lease_as_dict(session, number)["current_end_date"] == "2025-03-31"


@pytest.mark.parametrize(
    ("effective", "terms", "field"),
    [
        ("2021-04-01", {}, "effective_date"),
        ("2024-04-01", {}, "effective_date"),
        ("2022-04-15", {"payment_timing": "arrears"}, "terms.payment_timing"),
        ("2022-04-15", {"payments": [{"periods": 24, "amount": "1.00"}]}, "terms.payments"),
        ("2022-04-01", {"term_months": 12, "end_date": "2023-03-31"}, "terms.end_date"),
        ("2022-04-01", {"term_months": 48}, "terms.payments"),
        ("2022-04-01", {"payments": [{"periods": 10, "amount": "1.00"}]}, "terms.payments"),
        ("2022-04-01", {"direction": "out"}, "terms.direction"),
        ("2022-04-01", {"discount_rate": 0.02}, "terms.discount_rate"),
        ("2022-04-01", {"payment_timing": "arrears"}, "terms.payments"),
        (None, {}, "effective_date"),
    ],
)
def test_a_bad_modification_is_refused(
    session: Session, effective: str | None, terms: dict[str, Any], field: str
) -> None:
    number = create_lease(session, worked_example())
    with pytest.raises(RecordInvalid) as caught:
        add_modification(session, number, effective, terms)
    assert field in [p.field for p in caught.value.problems]


def test_a_lease_paid_in_arrears_is_modified_without_losing_a_payment(session: Session) -> None:
    """Once refused (the receipt due on the modification date fell between the schedules):
    unchanged terms now remeasure to the carrying amount, and every receipt is booked once."""
    number = create_lease(session, lessor_example())
    add_modification(session, number, "2023-07-01", {"discount_rate": "0.04"})
    result = lease_schedule_of(session, number)
    assert isinstance(result, LeaseModification)
    assert result.adjustment == D("0.01")  # was -2,399.99
    assert result.original.rows[-1].date == dt.date(2023, 7, 1)
    add_modification(session, number, "2024-07-01", {"discount_rate": "0.05"})
    history = lease_history_of(session, number)
    assert len(history.modifications) == 2
    assert [row.date for _, row in history.booked_rows()] == [row.date for row in history.base.rows]
    assert sum(row.payment for _, row in history.booked_rows()) == D("48000.00")


def test_the_history_reaches_back_before_the_first_modification(session: Session) -> None:
    number = create_lease(session, worked_example())
    add_modification(session, number, "2022-04-01", {"discount_rate": "0.02"})
    add_modification(session, number, "2023-04-01", {"discount_rate": "0.03"})
    history = lease_history_of(session, number)
    base = lease_schedule_of(session, number)
    assert isinstance(base, LeaseModification) and base.history == history
    unmodified = history.base
    assert unmodified.initial_measurement == D("1066109.82")
    march = dt.date(2022, 3, 31)
    assert balances_at(history, march) == balances_at(unmodified, march)
    assert balances_at(base, march).balance == D("713367.70")  # was 0.00 before the fix


def test_a_carried_modification_changes_only_the_rate(session: Session) -> None:
    number = create_lease(session, worked_example())
    add_modification(session, number, "2022-04-01", {"discount_rate": "0.0089"})
    result = lease_schedule_of(session, number)
    assert isinstance(result, LeaseModification)
    assert result.remeasured.initial_measurement == D("713896.77")  # the 24 remaining payments


def test_a_correction_must_keep_modifications_valid(session: Session) -> None:
    number = create_lease(session, worked_example())
    add_modification(session, number, "2023-04-01", {"discount_rate": "0.02"})
    with pytest.raises(RecordInvalid) as caught:
        update_lease(
            session,
            number,
            1,
            {"term_months": 24, "payments": [{"periods": 24, "amount": "30000.00"}]},
        )
    assert caught.value.problems[0].field == "modifications[0].effective_date"


def test_delete_removes_the_lease_and_its_modifications(session: Session) -> None:
    number = create_lease(session, worked_example())
    add_modification(session, number, "2022-04-01", {"discount_rate": "0.02"})
    with pytest.raises(VersionConflict):
        delete_lease(session, number, 7)
    delete_lease(session, number, 1)
    with pytest.raises(NotFound):
        lease_as_dict(session, number)
    actions = session.execute(
        text(
            "SELECT table_name, action FROM audit_events WHERE table_name LIKE 'lease%' ORDER BY id"
        )
    ).all()
    assert [tuple(a) for a in actions][-2:] == [
        ("lease_modifications", "DELETE"),
        ("leases", "DELETE"),
    ]


def test_reports_read_every_lease_with_its_schedule(session: Session) -> None:
    create_lease(session, worked_example())
    create_lease(session, lessor_example())
    create_lease(session, lessor_example(lease_number="R-2", fund_type="business_type"))
    everything = list(leases_with_schedules(session))
    assert [record["lease_number"] for record, _ in everything] == [
        "L-2021-001",
        "R-2",
        "R-2022-007",
    ]
    outgoing = list(leases_with_schedules(session, direction="out", fund_type="business_type"))
    assert [(r["lease_number"], s.direction) for r, s in outgoing] == [("R-2", "out")]
