"""A modified lease reads the same everywhere: its annual rent, end date and whether it is in
force at the as-of date are the same in the portfolio XLSX, the critical-dates page and CSV, and
the KPIs (LSE-1's annual rent and expiry window, REV-2's leases out in force), on real PostGIS:
each is checked against one table of expected values, `EXPECTED`.

As of 2025-01-15, each lease in a department of its own so that its KPI rows are its alone;
modifications recorded through `add_modification`, the API's path:

  PAY  in  from 2023-01-01, 36 × 1,000 monthly; from 2024-07-01 18 × 1,500: rent 18,000 a year,
           ends 2025-12-31 as signed.
  EXT  out from 2022-01-01, 36 × 2,000, ended 2024-12-31 and vacated; extended from 2024-07-01
           by 18 months at 2,100: in force, rent 25,200, ends 2025-12-31.
  CUT  in  from 2023-01-01, 60 × 3,000 (to 2027-12-31); cut from 2024-07-01 to 12 months at
           2,800: rent 33,600, ends 2025-06-30.
  GONE out from 2023-01-01, 60 × 500; cut from 2024-07-01 to 3 months (ends 2024-09-30),
           vacated: not in force, on no list.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.database import session_factory
from registry.db import create_registry_engine
from registry.db import unit_of_work
from registry.kpis import compute_kpis
from registry.kpis.units import format_kpi_value
from registry.leases.accounting import LeaseTerms
from registry.leases.accounting import lease_history
from registry.leases.accounting import payment_stream
from registry.leases.accounting.cashflows import escalated_amount
from registry.leases.records import add_modification
from registry.leases.records import create_lease
from registry.leases.records import leases_with_schedules
from registry.leases.rent_sql import CURRENT_TERMS_CTES
from registry.leases.rent_sql import without_jit
from tests.auth_fixtures import SignedInClient
from tests.builders import department
from tests.builders import parcel
from tests.builders import square

AS_OF = dt.date(2025, 1, 15)
D = Decimal
# lease → (annual rent, end date) at AS_OF, as the recorded modifications make them
EXPECTED = {
    "PAY": (D("18000.00"), dt.date(2025, 12, 31)),
    "EXT": (D("25200.00"), dt.date(2025, 12, 31)),
    "CUT": (D("33600.00"), dt.date(2025, 6, 30)),
}


def _lease(
    number: str, direction: str, start: str, periods: int, amount: str, **changes: Any
) -> dict[str, Any]:
    return {
        "lease_number": number, "direction": direction, "counterparty": f"Party {number}",
        "portfolio": "payable" if direction == "in" else "receivable",
        "parcel_id": "5555-012-034", "department_code": number,
        "commencement_date": start, "term_months": periods, "payment_frequency": "monthly",
        "payment_timing": "advance", "payments": [{"periods": periods, "amount": amount}],
        "discount_rate": "0.0089", "discount_rate_source": "stated", **changes,
    }  # fmt: skip


def _modified(periods: int, amount: str, term_months: int | None = None) -> dict[str, Any]:
    terms: dict[str, Any] = {"payments": [{"periods": periods, "amount": amount}]}
    if term_months is not None:
        terms["term_months"] = term_months
    return terms


@pytest.fixture
def modified_leases(app: Flask) -> Flask:
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        session.add_all(
            [department(code, f"Department {code}") for code in ("PAY", "EXT", "CUT", "GONE")]
        )
        session.add(parcel("5555-012-034", geometry=square()))
        session.flush()
        create_lease(session, _lease("PAY", "in", "2023-01-01", 36, "1000.00"))
        create_lease(session, _lease("EXT", "out", "2022-01-01", 36, "2000.00", occupied=False))
        create_lease(session, _lease("CUT", "in", "2023-01-01", 60, "3000.00"))
        create_lease(session, _lease("GONE", "out", "2023-01-01", 60, "500.00", occupied=False))
        add_modification(session, "PAY", "2024-07-01", _modified(18, "1500.00"))
        add_modification(session, "EXT", "2024-07-01", _modified(18, "2100.00", 18))
        add_modification(session, "CUT", "2024-07-01", _modified(12, "2800.00", 12))
        add_modification(session, "GONE", "2024-07-01", _modified(3, "500.00", 3))
    return app


class _TableRows(HTMLParser):
    """The text of each cell of each body row of the page's table."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_body = self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
        elif tag == "td" and self._in_body:
            self._in_cell = True
            self.rows[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag == "td":
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.rows[-1][-1] += data.strip()


def _money(text: str) -> Decimal:
    return D(re.sub(r"[$,]", "", text))


def test_the_workbook_reads_the_modified_terms(
    modified_leases: Flask, finance_client: SignedInClient
) -> None:
    response = finance_client.get(f"/portfolio/export?format=xlsx&as_of={AS_OF}")
    assert response.status_code == 200
    header, *rows = openpyxl.load_workbook(io.BytesIO(response.data))["leases"].iter_rows(
        values_only=True
    )
    sheet = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    workbook = {
        number: (D(str(row["annual_rent"])), row["current_end_date"].date())
        for number, row in sheet.items()
        if row["in_force"]
    }
    assert workbook == EXPECTED
    assert sheet["GONE"]["annual_rent"] is None
    assert sheet["GONE"]["current_end_date"].date() == dt.date(2024, 9, 30)
    assert sheet["EXT"]["end_date"].date() == dt.date(2024, 12, 31)  # as signed


def test_the_critical_dates_page_and_csv_read_the_modified_terms(
    modified_leases: Flask, finance_client: SignedInClient
) -> None:
    window = f"as_of={AS_OF}&months=24"
    parser = _TableRows()
    parser.feed(finance_client.get(f"/leases/critical-dates?{window}").get_data(as_text=True))
    # Date, Days, What, Lease, Counterparty, Direction, Parcel, Department, Annual rent, Details
    page = {
        row[3]: (_money(row[8]), dt.date.fromisoformat(row[0]))
        for row in parser.rows
        if row[2] == "Term ends"
    }
    assert page == EXPECTED
    download = finance_client.get(f"/leases/critical-dates?{window}&format=csv")
    listed = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert {row["lease_number"] for row in listed} == set(EXPECTED)
    assert {
        row["lease_number"]: (D(row["annual_rent"]), dt.date.fromisoformat(row["date"]))
        for row in listed
        if row["kind"] == "expiring"
    } == EXPECTED


def test_the_kpis_read_the_modified_terms(modified_leases: Flask) -> None:
    with modified_leases.app_context(), session_factory()() as session:
        kpis = {
            (v.kpi_id, v.breakdown_value): v
            for v in compute_kpis(session, None, AS_OF)
            if v.breakdown == "department"
        }
    for number, (rent, _) in EXPECTED.items():  # each ends within LSE-1's 12 months
        assert kpis[("LSE-1", number)].note == (
            f"annual rent {format_kpi_value(Decimal(rent), '$')}; 1 ending within 12 months, "
            "0 holdovers"
        ), number
    assert ("LSE-1", "GONE") not in kpis
    assert kpis[("REV-2", "EXT")].denominator == 1  # a lease out in force
    assert ("REV-2", "GONE") not in kpis


def _engines_annual_rent(terms: LeaseTerms, as_of: dt.date) -> Decimal:
    """The rate of the period holding `as_of` (else the first or last) × payments a year; a
    free period at the rate it would bill."""
    stream = payment_stream(terms)
    held = [p for p in stream if p.period_start <= as_of] or [stream[0]]
    index = held[-1].period - 1
    bases = [step.amount for step in terms.payments for _ in range(step.periods)]
    rate = escalated_amount(
        bases[index], terms.escalation_pct, index * terms.months_per_period // 12
    )
    return rate * terms.periods_per_year


def test_the_sql_model_is_the_engines_rent_and_the_apis_end(sample_database_url: str) -> None:
    """Every shipped lease (modified ones included) at the start of every other year 2019-2031: the
    annual rent is the engine's, from the schedule in force then, and the end is the API's
    `current_end_date`. Terminated leases are left out of the rent: the engine has no
    termination, the model stops their stream there."""
    engine = create_registry_engine(sample_database_url)
    try:
        with Session(engine) as session:
            without_jit(session)
            leases = list(leases_with_schedules(session))
            assert any(lease["modifications"] for lease, _ in leases)
            for year in range(2019, 2033, 2):
                as_of = dt.date(year, 1, 1)
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
                for lease, schedule in leases:
                    row = model[lease["lease_number"]]
                    assert row.ends.isoformat() == lease["current_end_date"], lease
                    if lease["terminated_on"] is None:
                        terms = lease_history(schedule).in_force(as_of).terms
                        assert row.rent == _engines_annual_rent(terms, as_of), (lease, as_of)
    finally:
        engine.dispose()


def test_the_lease_list_and_map_read_the_same_current_end(modified_leases: Flask) -> None:
    """The list's "expiring within N days" filter and the leased-parcels map use the one model:
    CUT (cut to end 2025-06-30) expires within 200 days of AS_OF; EXT, extended past its signed
    end of 2024-12-31, does not look expired; the map shows each lease's current end."""
    from registry.leases.queries import LeaseQuery
    from registry.leases.queries import leased_parcels_geojson
    from registry.leases.queries import list_leases

    with modified_leases.app_context(), unit_of_work(session_factory(), "tests") as session:
        expiring = list_leases(session, LeaseQuery(expiring_days=200, today=AS_OF)).leases
        assert [lease["lease_number"] for lease in expiring] == ["CUT"]
        geojson = leased_parcels_geojson(session, LeaseQuery(today=AS_OF))
    ends = {
        lease["lease_number"]: lease["end_date"]
        for feature in json.loads(geojson)["features"]
        for lease in feature["properties"]["leases"]
    }
    assert ends["CUT"] == "2025-06-30" and ends["EXT"] == "2025-12-31"
