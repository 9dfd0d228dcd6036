"""Leases whose term is not whole payment periods (a partial first or last period), recorded and
read everywhere, on real PostGIS: the API saves them (once a 500: the end date was a generated
column), the schedule follows the engine, and the portfolio, the critical dates, LSE-1 and the SQL
model of rent agree with the engine on their end and their rent, modifications included.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.database import session_factory
from registry.db import unit_of_work
from registry.kpis import compute_kpis
from registry.leases.accounting import LeaseHistory
from registry.leases.accounting import lease_history
from registry.leases.accounting import payment_stream
from registry.leases.accounting.cashflows import escalated_amount
from registry.leases.accounting.periods import default_anchor
from registry.leases.accounting.periods import payment_periods
from registry.leases.accounting.periods import whole_months
from registry.leases.records import add_modification
from registry.leases.records import create_lease
from registry.leases.records import lease_as_dict
from registry.leases.records import leases_with_schedules
from registry.leases.rent_sql import CURRENT_TERMS_CTES
from registry.leases.rent_sql import without_jit
from tests.auth_fixtures import SignedInClient
from tests.builders import department
from tests.builders import parcel
from tests.builders import square

D = Decimal
MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}
AS_OF = dt.date(2025, 1, 15)


def _periods(start: str, end: str, frequency: str) -> int:
    """The payment periods of [start, end] as the engine counts them (a partial one included)."""
    first = dt.date.fromisoformat(start)
    after = dt.date.fromisoformat(end) + dt.timedelta(days=1)
    months = MONTHS[frequency]
    return len(payment_periods(first, after, months, default_anchor(first, after, months)))


def dated(
    number: str,
    start: str,
    end: str,
    amount: str,
    frequency: str = "monthly",
    timing: str = "advance",
    **changes: Any,
) -> dict[str, Any]:
    """A lease from `start` to `end` (its last day), one payment step over every period."""
    return {
        "lease_number": number, "direction": changes.pop("direction", "in"),
        "counterparty": f"Party {number}", "parcel_id": "5555-012-034",
        "department_code": number, "commencement_date": start, "end_date": end,
        "payment_frequency": frequency, "payment_timing": timing,
        "payments": [{"periods": _periods(start, end, frequency), "amount": amount}],
        "discount_rate": "0.04", **changes,
    }  # fmt: skip


@pytest.fixture
def places(app: Flask) -> Flask:
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        session.add_all([department(code, f"Department {code}") for code in ("DT", "P2")])
        session.add(parcel("5555-012-034", geometry=square()))
    return app


# --- the API saves a dated term (it answered 500) ----------------------------------------------


@pytest.mark.usefixtures("places")
def test_a_partial_period_lease_is_created_read_and_changed_through_the_api(
    editor_client: SignedInClient,
) -> None:
    """2015-01-15 to 2025-06-30 monthly in advance: calendar months, January 15-31, 2015 a
    partial first period paying 1,000.00 x 17/31 = 548.39; 126 periods."""
    body = dated("DT", "2015-01-15", "2025-06-30", "1000.00")
    assert body["payments"][0]["periods"] == 126
    created = editor_client.post("/api/leases", json=body)
    assert created.status_code == 201, created.get_json()
    lease = editor_client.get("/api/leases/DT").get_json()
    assert (lease["end_date"], lease["current_end_date"], lease["term_months"]) == (
        "2025-06-30",
        "2025-06-30",
        126,
    )
    assert (lease["status"], lease["measured"], lease["missing"]) == ("complete", True, [])
    schedule = editor_client.get("/api/leases/DT/schedule").get_json()
    first, second, last = schedule["rows"][0], schedule["rows"][1], schedule["rows"][-1]
    assert (first["date"], first["payment"]) == ("2015-01-15", "548.39")
    assert (second["date"], second["payment"]) == ("2015-02-01", "1000.00")
    assert (len(schedule["rows"]), last["date"], last["balance"]) == (126, "2025-06-01", "0.00")
    # to 2025-09-10: no longer a month's last day, so months from the 15th and a partial last
    # period, August 15 to September 10: 1,000.00 x 27/31 = 870.97
    changed = editor_client.patch(
        "/api/leases/DT",
        json={"end_date": "2025-09-10", "payments": [{"periods": 128, "amount": "1000.00"}]},
        headers={"If-Match": '"v1"'},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.headers["ETag"] == '"v2"'
    assert changed.get_json()["end_date"] == "2025-09-10"
    rows = editor_client.get("/api/leases/DT/schedule").get_json()["rows"]
    assert (rows[0]["date"], rows[0]["payment"]) == ("2015-01-15", "1000.00")
    assert (rows[-1]["date"], rows[-1]["payment"]) == ("2025-08-15", "870.97")
    same = editor_client.patch("/api/leases/DT", json={"notes": None}, headers={"If-Match": '"v2"'})
    assert same.headers["ETag"] == '"v2"'  # the stored end date is no change
    whole = editor_client.patch(
        "/api/leases/DT",
        json={
            "commencement_date": "2016-01-01",
            "end_date": None,
            "term_months": 120,
            "payments": [{"periods": 120, "amount": "1000.00"}],
        },
        headers={"If-Match": '"v2"'},
    )
    assert whole.status_code == 200, whole.get_json()
    assert whole.get_json()["end_date"] == "2025-12-31"  # written for a whole term too


def test_the_end_date_must_lie_in_the_term_its_months_imply(places: Flask) -> None:
    """The database holds the stored end to `term_months`, whatever the write path."""
    with places.app_context(), unit_of_work(session_factory(), "tests") as session:
        create_lease(session, dated("DT", "2015-01-15", "2025-06-30", "1000.00"))
        for end in ("2025-07-15", "2025-06-14"):  # 127 and 125 months touched, not 126
            with (
                pytest.raises(IntegrityError, match="ck_leases_end_date_in_term"),
                session.begin_nested(),
            ):
                session.execute(text("UPDATE leases SET end_date = :end"), {"end": end})


# --- every reader of the end date and the rent agrees --------------------------------------


@pytest.mark.usefixtures("places")
def test_the_portfolio_critical_dates_and_kpis_agree_on_a_dated_end(
    places: Flask, finance_client: SignedInClient
) -> None:
    """Ending 2025-06-30 (within a year of AS_OF): the same end and rent everywhere."""
    with places.app_context(), unit_of_work(session_factory(), "tests") as session:
        create_lease(session, dated("DT", "2015-01-15", "2025-06-30", "1000.00"))
        create_lease(
            session,
            dated(
                "P2",
                "2019-03-01",
                "2024-02-14",
                "500.00",
                timing="arrears",
                direction="out",
                occupied=False,
            ),
        )
    end, rent = dt.date(2025, 6, 30), D("12000.00")
    response = finance_client.get(f"/portfolio/export?format=xlsx&as_of={AS_OF}")
    header, *rows = openpyxl.load_workbook(io.BytesIO(response.data))["leases"].iter_rows(
        values_only=True
    )
    sheet = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    assert (sheet["DT"]["end_date"].date(), sheet["DT"]["current_end_date"].date()) == (end, end)
    assert (D(str(sheet["DT"]["annual_rent"])), sheet["DT"]["measured"]) == (rent, True)
    assert sheet["P2"]["current_end_date"].date() == dt.date(2024, 2, 14)
    download = finance_client.get(f"/leases/critical-dates?as_of={AS_OF}&months=12&format=csv")
    listed = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert [(row["lease_number"], row["date"], row["annual_rent"]) for row in listed] == [
        ("DT", "2025-06-30", "12000.00")
    ]
    with places.app_context(), session_factory()() as session:
        kpis = {
            (v.kpi_id, v.breakdown_value): v
            for v in compute_kpis(session, None, AS_OF)
            if v.breakdown == "department"
        }
    assert (
        kpis[("LSE-1", "DT")].note == "annual rent $12,000; 1 ending within 12 months, 0 holdovers"
    )
    assert ("LSE-1", "P2") not in kpis  # ended before, vacated


# --- the SQL model of rent is the engine's, partial periods and modifications included -------


def _lease_book(session: Session) -> None:
    """Partial first and last periods in every frequency and timing, escalation, free rent,
    and modifications: a new end date with a partial last period, dates inside a period (in
    advance and in arrears), a cut by term_months of a dated lease, a frequency change."""
    session.add_all(
        [
            department(code, code)
            for code in ("A", "B", "C", "E", "F", "M1", "M2", "M3", "M4", "M5", "M6")
        ]
    )
    session.add(parcel("5555-012-034", geometry=square()))
    session.flush()
    create_lease(session, dated("A", "2015-01-15", "2025-06-30", "1000.00", escalation_pct="3"))
    create_lease(
        session,
        dated(
            "B",
            "2019-03-01",
            "2024-02-14",
            "500.00",
            timing="arrears",
            free_periods=2,
            direction="out",
        ),
    )
    create_lease(
        session, dated("C", "2020-02-10", "2026-06-30", "3000.00", "quarterly", escalation_pct="2")
    )
    create_lease(
        session, dated("E", "2018-07-01", "2023-03-15", "24000.00", "annual", timing="arrears")
    )
    create_lease(session, dated("F", "2017-01-31", "2022-12-14", "800.00", escalation_pct="5"))
    create_lease(session, dated("M1", "2021-01-01", "2025-12-31", "2000.00"))
    add_modification(
        session,
        "M1",
        "2023-01-01",
        {"end_date": "2027-08-15", "payments": [{"periods": 56, "amount": "2100.00"}]},
    )
    for number, timing in (("M2", "advance"), ("M3", "arrears")):
        create_lease(
            session,
            dated(
                number, "2016-03-20", "2026-12-31", "1500.00", timing=timing, escalation_pct="2.5"
            ),
        )
        add_modification(
            session,
            number,
            "2022-05-10",
            {"payments": [{"periods": 55, "amount": "1700.00"}], "escalation_pct": "1"},
        )
    create_lease(
        session, dated("M4", "2020-01-01", "2024-12-31", "6000.00", "quarterly", timing="arrears")
    )
    add_modification(
        session,
        "M4",
        "2022-01-01",
        {"term_months": 30, "payments": [{"periods": 10, "amount": "5500.00"}]},
    )
    create_lease(session, dated("M5", "2016-03-20", "2026-12-31", "1500.00"))
    add_modification(
        session,
        "M5",
        "2021-06-01",
        {"term_months": 24, "payments": [{"periods": 24, "amount": "1600.00"}]},
    )
    create_lease(session, dated("M6", "2020-01-01", "2025-12-31", "1000.00"))
    add_modification(
        session,
        "M6",
        "2022-01-01",
        {"payment_frequency": "quarterly", "payments": [{"periods": 16, "amount": "3000.00"}]},
    )


def _engines_booked_payments(history: LeaseHistory) -> list[tuple[dt.date, Decimal]]:
    """Every payment the engine books, in date order (the rows carry no non-lease part here);
    a period paid in advance before a modification inside it is booked once, at its start."""
    return [(row.date, row.payment) for _, row in history.booked_rows() if row.payment]


def _engines_annual_rent(history: LeaseHistory, as_of: dt.date) -> Decimal:
    """The full rate of the period holding `as_of` (else the first or last) × payments a year;
    escalation by lease years from commencement to the period's first day."""
    terms = history.in_force(as_of).terms
    stream = payment_stream(terms)
    held = [p for p in stream if p.period_start <= as_of] or [stream[0]]
    period = held[-1]
    bases = [step.amount for step in terms.payments for _ in range(step.periods)]
    year = whole_months(terms.commencement_date, period.period_start) // 12
    return (
        escalated_amount(bases[period.period - 1], terms.escalation_pct, year)
        * terms.periods_per_year
    )


# The engine's first period of a remeasurement from inside a period paid in advance carries no
# payment (it was paid at the period's start); the model reads that stretch at the rate billed.
_PAID_IN_ADVANCE = {"M2": (dt.date(2022, 5, 10), dt.date(2022, 6, 1))}


def test_the_sql_model_is_the_engine_for_dated_terms_and_their_modifications(app: Flask) -> None:
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        _lease_book(session)
    with app.app_context(), session_factory()() as session:
        without_jit(session)
        leases = {
            lease["lease_number"]: (lease, lease_history(schedule))
            for lease, schedule in leases_with_schedules(session)
        }
        dues: dict[str, list[tuple[dt.date, Decimal]]] = {}
        for number, due, rent in session.execute(
            text(f"""
                WITH {CURRENT_TERMS_CTES}
                SELECT l.lease_number, r.due, r.rent FROM rent_due r
                  JOIN leases l ON l.id = r.lease_id WHERE r.rent <> 0 ORDER BY 1, 2"""),
            {"as_of": AS_OF},
        ):
            dues.setdefault(number, []).append((due, rent))
        for number, (_, history) in leases.items():
            assert dues[number] == _engines_booked_payments(history), number
        days = [
            dt.date(year, month, day)
            for year in range(2014, 2029)
            for month in range(1, 13)
            for day in (1, 15)
        ]
        for as_of in days:
            model = {
                row.lease_number: row
                for row in session.execute(
                    text(f"""
                WITH {CURRENT_TERMS_CTES}
                SELECT l.lease_number, a.rent, t.ends FROM leases l
                  JOIN annual_rent a ON a.lease_id = l.id
                  JOIN lease_term t ON t.lease_id = l.id"""),
                    {"as_of": as_of},
                )
            }
            for number, (lease, history) in leases.items():
                row = model[number]
                assert row.ends == history.latest_terms.last_day, number
                assert row.ends.isoformat() == lease["current_end_date"], number
                skipped = _PAID_IN_ADVANCE.get(number)
                if skipped and skipped[0] <= as_of < skipped[1]:
                    continue
                assert row.rent == _engines_annual_rent(history, as_of), (number, as_of)


def test_a_modification_may_give_a_new_end_date(places: Flask) -> None:
    """The API's current end follows a modification's `end_date` as the model does."""
    with places.app_context(), unit_of_work(session_factory(), "tests") as session:
        create_lease(session, dated("DT", "2015-01-15", "2025-06-30", "1000.00"))
        add_modification(
            session,
            "DT",
            "2020-01-01",
            {"end_date": "2026-03-10", "payments": [{"periods": 75, "amount": "1100.00"}]},
        )
        lease = session.execute(
            text("SELECT end_date FROM leases WHERE lease_number = 'DT'")
        ).scalar_one()
        assert lease == dt.date(2025, 6, 30)  # as signed
    with places.app_context(), session_factory()() as session:
        row = session.execute(
            text(f"WITH {CURRENT_TERMS_CTES} SELECT ends FROM lease_term"), {"as_of": AS_OF}
        ).scalar_one()
        assert lease_as_dict(session, "DT")["current_end_date"] == "2026-03-10" == row.isoformat()
