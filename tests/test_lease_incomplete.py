"""Leases recorded as found (issue 11, item 2), rule by rule, against real PostGIS: missing terms
are listed and the lease is recorded but not measured; errors still refuse it; a doubted value is
read and flagged; a source's free text is kept until the field has a value; a lease not measured
has no schedule, no modification, no place in GASB 87 figures.

The API keeps refusing an incomplete lease unless the client says `"incomplete": true` (or the
stored lease is already incomplete); the importer always records leases as found.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from app.database import session_factory
from registry.db import unit_of_work
from registry.errors import NotMeasured
from registry.fields import RecordInvalid
from registry.imports.columns import ColumnSource
from registry.imports.lease_rows import read_lease_row
from registry.imports.report import ImportReport
from registry.imports.sources import SourceRow
from registry.leases.gasb87.report import gasb87_report
from registry.leases.queries import unmeasured_leases
from registry.leases.queries import unmeasured_note
from registry.leases.records import add_modification
from registry.leases.records import clean_lease
from registry.leases.records import create_lease
from registry.leases.records import lease_as_dict
from registry.leases.records import lease_schedule_of
from registry.leases.records import leases_with_schedules
from registry.leases.records import update_lease
from tests.lease_fixtures import seed_places
from tests.lease_fixtures import worked_example

D = Decimal
UNPRICED = {
    "payments": None,
    "payment_frequency": None,
    "payment_timing": None,
    "discount_rate": None,
}


@pytest.fixture
def session(db_session: Session) -> Session:
    seed_places(db_session)
    return db_session


def problems_of(session: Session, data: dict[str, Any], **options: Any) -> dict[str, str]:
    with pytest.raises(RecordInvalid) as caught:
        clean_lease(session, data, **options)
    return {problem.field: problem.message for problem in caught.value.problems}


def found(**overrides: Any) -> dict[str, Any]:
    """The worked example with `overrides`, None leaving a field out."""
    return {k: v for k, v in {**worked_example(), **overrides}.items() if v is not None}


# --- missing is not an error, as found ------------------------------------------------------


def test_missing_terms_are_listed_and_the_lease_is_not_measured(session: Session) -> None:
    values = clean_lease(session, found(**UNPRICED), as_found=True)
    assert values["missing"] == ["payment_frequency", "payment_timing", "payments", "discount_rate"]
    assert values["measured"] is False
    assert (values["term_months"], values["end_date"]) == (36, dt.date(2024, 3, 31))
    strict = problems_of(session, found(**UNPRICED))  # the API's rule without the flag
    assert set(strict) == {"payment_frequency", "payment_timing", "payments", "discount_rate"}


def test_a_lease_lacking_only_its_counterparty_is_still_measured(session: Session) -> None:
    values = clean_lease(session, found(counterparty=None), as_found=True)
    assert (values["missing"], values["measured"]) == (["counterparty"], True)


@pytest.mark.parametrize(
    ("overrides", "missing"),
    [
        ({"commencement_date": None}, ["commencement_date"]),
        ({"term_months": None}, ["end_date"]),
        ({"commencement_date": None, "term_months": None}, ["commencement_date", "end_date"]),
        ({"discount_rate": None}, ["discount_rate"]),
    ],
)
def test_each_missing_term_is_named(
    session: Session, overrides: dict[str, Any], missing: list[str]
) -> None:
    values = clean_lease(session, found(**overrides), as_found=True)
    assert (values["missing"], values["measured"]) == (missing, False)


def test_an_end_without_a_start_is_kept_until_the_start_is_known(session: Session) -> None:
    number = create_lease(
        session,
        found(commencement_date=None, term_months=None, end_date="2024-03-31"),
        as_found=True,
    )
    lease = lease_as_dict(session, number)
    assert (lease["end_date"], lease["term_months"], lease["missing"]) == (
        "2024-03-31",
        None,
        ["commencement_date"],
    )
    update_lease(session, number, 1, {"commencement_date": "2021-04-01"})
    lease = lease_as_dict(session, number)
    assert (lease["term_months"], lease["measured"], lease["status"]) == (36, True, "complete")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"end_date": "2021-01-31", "term_months": None}, "end_date", "before the commencement"),
        ({"department_code": "GDS"}, "department_code", "did you mean 'GSD'"),
        ({"commencement_date": "Lease in process"}, "commencement_date", "is not a date"),
        (
            {"payments": [{"periods": 30, "amount": "30000.00"}], "discount_rate": None},
            "payments",
            "periods sum to 30 but the term has 36",
        ),  # checked although the rate is missing
        ({"source_notes": {"colour": "red"}}, "source_notes.colour", "is not a lease field"),
        ({"location": {"type": "Point", "coordinates": [-200, 34]}}, "location", "not a longitude"),
        ({"location": [-118.25, 34.05]}, "location", "GeoJSON Point"),
    ],
)
def test_errors_still_refuse_a_lease_recorded_as_found(
    session: Session, overrides: dict[str, Any], field: str, message: str
) -> None:
    problems = problems_of(session, found(**overrides), as_found=True)
    assert message in problems[field], problems


def test_a_suggestion_is_never_applied(session: Session) -> None:
    problems = problems_of(session, found(department_code="Genral Services"), as_found=True)
    assert problems == {
        "department_code": "no department 'Genral Services'; did you mean 'General Services'?"
    }


# --- a doubted value is read and flagged --------------------------------------------------------


def test_a_doubted_department_is_read_flagged_and_confirmed_by_stating_it(
    session: Session,
) -> None:
    assert (
        "did you mean 'GSD'"
        in problems_of(session, found(department_code="GSD?"))["department_code"]
    )
    number = create_lease(session, found(department_code="GSD?"), as_found=True)
    lease = lease_as_dict(session, number)
    assert (lease["department_code"], lease["needs_confirmation"]) == ("GSD", ["department_code"])
    assert (lease["status"], lease["measured"]) == ("complete", True)  # a doubt is not missing
    update_lease(session, number, 1, {"notes": "checked the file"})
    assert lease_as_dict(session, number)["needs_confirmation"] == ["department_code"]
    update_lease(session, number, 2, {"department_code": "GSD"})
    assert lease_as_dict(session, number)["needs_confirmation"] == []


# --- the source's text is kept until the field has a value ------------------------------------


def test_source_notes_stand_in_for_a_missing_value(session: Session) -> None:
    number = create_lease(
        session,
        found(commencement_date=None, source_notes={"commencement_date": "Lease in process"}),
        as_found=True,
    )
    lease = lease_as_dict(session, number)
    assert lease["source_notes"] == {"commencement_date": "Lease in process"}
    update_lease(session, number, 1, {"commencement_date": "2021-04-01"})
    lease = lease_as_dict(session, number)
    assert (lease["source_notes"], lease["status"]) == ({}, "complete")


def test_a_point_is_stored_and_read_as_geojson(session: Session) -> None:
    point = {"type": "Point", "coordinates": [-118.2501234567, 34.05]}
    number = create_lease(session, found(location=point))
    assert lease_as_dict(session, number)["location"] == {
        "type": "Point",
        "coordinates": [-118.2501235, 34.05],
    }


# --- a lease not measured has no schedule and no figures --------------------------------------


def test_a_lease_not_measured_has_no_schedule_and_no_modification(session: Session) -> None:
    number = create_lease(session, found(**UNPRICED), as_found=True)
    with pytest.raises(NotMeasured) as caught:
        lease_schedule_of(session, number)
    assert caught.value.missing == (
        "payment_frequency",
        "payment_timing",
        "payments",
        "discount_rate",
    )
    with pytest.raises(NotMeasured):
        add_modification(session, number, "2022-04-01", {"discount_rate": "0.02"})
    assert [lease["lease_number"] for lease, _ in leases_with_schedules(session)] == []
    assert (
        unmeasured_note(unmeasured_leases(session)) == f"not measured, left out: 1 lease ({number})"
    )


def test_a_modified_lease_cannot_become_incomplete(session: Session) -> None:
    number = create_lease(session, worked_example())
    add_modification(session, number, "2022-04-01", {"discount_rate": "0.02"})
    with pytest.raises(RecordInvalid) as caught:
        update_lease(session, number, 1, {"discount_rate": None, "incomplete": True})
    assert [p.field for p in caught.value.problems] == ["discount_rate"]


def test_the_gasb87_report_names_the_leases_it_leaves_out(session: Session) -> None:
    create_lease(session, worked_example())
    create_lease(session, found(lease_number="L-OPEN", **UNPRICED), as_found=True)
    create_lease(
        session,
        found(lease_number="L-OLD", commencement_date="2010-01-01", **UNPRICED),
        as_found=True,
    )  # ended 2012: not in FY2022
    create_lease(
        session,
        found(lease_number="L-UNDATED", commencement_date=None, term_months=None, **UNPRICED),
        as_found=True,
    )
    report = gasb87_report(session, 2022)
    assert [lease.lease_number for lease in report.leases] == ["L-2021-001"]
    assert [(lease.lease_number, lease.missing[:2]) for lease in report.not_measured] == [
        ("L-OPEN", ("payment_frequency", "payment_timing")),
        ("L-UNDATED", ("commencement_date", "end_date")),
    ]


# --- through the API: explicit, and the schedule says what is missing -------------------------


@pytest.fixture
def places(app: Flask) -> None:
    with app.app_context(), unit_of_work(session_factory(), "test-setup") as session:
        seed_places(session)


@pytest.mark.usefixtures("places")
def test_the_api_records_an_incomplete_lease_only_when_asked(editor_client: FlaskClient) -> None:
    body = found(**UNPRICED)
    refused = editor_client.post("/api/leases", json=body)
    assert refused.status_code == 422
    assert {"field": "incomplete", "message": "must be true or false"} in editor_client.post(
        "/api/leases", json={**body, "incomplete": "yes"}
    ).get_json()["errors"]
    created = editor_client.post("/api/leases", json={**body, "incomplete": True})
    assert created.status_code == 201, created.get_json()
    lease = created.get_json()
    assert (lease["status"], lease["measured"]) == ("incomplete", False)
    assert lease["missing"] == ["payment_frequency", "payment_timing", "payments", "discount_rate"]
    schedule = editor_client.get("/api/leases/L-2021-001/schedule")
    assert schedule.status_code == 409
    assert schedule.get_json()["detail"] == (
        "Lease L-2021-001 is recorded incomplete and not measured: it needs payment_frequency, "
        "payment_timing, payments, discount_rate."
    )
    modification = editor_client.post(
        "/api/leases/L-2021-001/modifications",
        json={"effective_date": "2022-04-01", "terms": {"discount_rate": "0.02"}},
    )
    assert modification.status_code == 409
    # an incomplete lease stays one until what it lacks is given: then it is measured
    partly = editor_client.patch(
        "/api/leases/L-2021-001", json={"payment_timing": "advance"}, headers={"If-Match": '"v1"'}
    )
    assert partly.status_code == 200 and partly.get_json()["status"] == "incomplete"
    done = editor_client.patch(
        "/api/leases/L-2021-001",
        json={
            "payment_frequency": "monthly",
            "payments": [{"periods": 36, "amount": "30000.00"}],
            "discount_rate": "0.0089",
        },
        headers={"If-Match": '"v2"'},
    )
    assert done.status_code == 200, done.get_json()
    assert (done.get_json()["status"], done.get_json()["measured"]) == ("complete", True)
    schedule = editor_client.get("/api/leases/L-2021-001/schedule").get_json()
    assert schedule["initial_measurement"] == "1066109.82"


# --- the importer's own readings ----------------------------------------------------------


def test_a_rent_over_a_partial_period_term_counts_the_engines_periods() -> None:
    """1/15/2015 to 6/30/2025 monthly: a partial January and 125 whole months."""
    columns = {
        target: ColumnSource.column(name)
        for target, name in {
            "lease_number": "No",
            "commencement_date": "Start",
            "end_date": "End",
            "monthly_rent": "Rent",
        }.items()
    }
    row = SourceRow(2, {"No": "1", "Start": "1/15/2015", "End": "6/30/2025", "Rent": "$1,000"})
    lease = read_lease_row(row, columns, {}, ImportReport(file="list.csv", kind="leases"))
    assert lease is not None and lease.problems == []
    assert lease.data["payments"] == [{"periods": 126, "amount": "1000.00"}]


def test_free_text_in_a_date_column_is_kept_as_the_fields_note() -> None:
    columns = {
        target: ColumnSource.column(name)
        for target, name in {
            "lease_number": "No",
            "commencement_date": "Start",
            "end_date": "End",
        }.items()
    }
    row = SourceRow(2, {"No": "35", "Start": "Lease in process", "End": "Month to Month"})
    lease = read_lease_row(row, columns, {}, ImportReport(file="list.csv", kind="leases"))
    assert lease is not None and lease.problems == []
    assert lease.notes == {"commencement_date": "Lease in process", "end_date": "Month to Month"}
    assert "commencement_date" not in lease.data and "end_date" not in lease.data
