"""GASB 87 journal entries for the general ledger: every entry balances, the months add up to
the year, the year ties to the GASB 87 report to the cent (lessee and lessor, short-term,
prepaid at commencement, a modification), account codes are the city's; and finance downloads
them from the exports page and the command line."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from app.database import session_factory as app_session_factory
from cli.main import cli
from registry.db import unit_of_work
from registry.leases.accounting.money import ZERO
from registry.leases.gasb87.journal import DEFAULT_ACCOUNTS
from registry.leases.gasb87.journal import Journal
from registry.leases.gasb87.journal import journal_entries
from registry.leases.gasb87.journal import parse_accounts
from registry.leases.gasb87.journal import tie_out
from registry.leases.gasb87.report import gasb87_report
from registry.leases.records import create_lease
from tests.auth_fixtures import LoginHelper
from tests.test_gasb87_export import LEASES
from tests.test_gasb87_export import add_leases
from tests.test_gasb87_export import lease

PREPAID = lease(
    "PREPAID",
    commencement_date="2020-09-15",
    term_months=24,
    payments=[{"periods": 24, "amount": "4000.00"}],
    prepaid_at_commencement="12000.00",
    initial_direct_costs="1500.00",
    incentives="500.00",
    discount_rate="0.04",
)
ALL_LEASES = [*LEASES, PREPAID]


@pytest.fixture
def journal_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with unit_of_work(session_factory, "tests") as session:
        add_leases(session, ALL_LEASES)
    with session_factory() as session:
        yield session


def _by_lease(journal: Journal) -> dict[str, tuple[Decimal, Decimal]]:
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for line in journal.lines:
        sums[line.lease_number][0] += line.debit
        sums[line.lease_number][1] += line.credit
    return {number: (debit, credit) for number, (debit, credit) in sums.items()}


@pytest.mark.parametrize("fiscal_year", [2021, 2022])
def test_the_year_ties_to_the_gasb87_report_to_the_cent(
    journal_session: Session, fiscal_year: int
) -> None:
    journal = journal_entries(journal_session, fiscal_year)
    report = gasb87_report(journal_session, fiscal_year)
    ties = tie_out(journal, report)
    assert [(what, ours) for what, ours, theirs in ties if ours != theirs] == []
    assert any(ours for _what, ours, _theirs in ties)  # not a tie of zeros
    assert journal.unbalanced_entries() == []
    assert all(debit == credit for debit, credit in _by_lease(journal).values())


def test_the_months_add_up_to_the_year(journal_session: Session) -> None:
    year = journal_entries(journal_session, 2021)
    months = [journal_entries(journal_session, 2021, month=m) for m in range(1, 13)]
    assert sorted(
        (line.entry, line.account, line.debit, line.credit) for m in months for line in m.lines
    ) == sorted((line.entry, line.account, line.debit, line.credit) for line in year.lines)
    assert {line.fiscal_period for line in months[0].lines} == {1}
    assert {line.date for line in months[0].lines} == {dt.date(2020, 7, 31)}


def test_commencement_books_the_asset_the_liability_and_what_was_paid_before(
    journal_session: Session,
) -> None:
    # PREPAID commences 2020-09-15: FY2021 period 3
    journal = journal_entries(journal_session, 2021, month=3)
    first = [
        line
        for line in journal.lines
        if line.lease_number == "PREPAID" and line.entry.endswith("/1")
    ]
    amounts = {line.account: line.debit - line.credit for line in first}
    assert set(amounts) == {"right_to_use_asset", "lease_liability", "cash"}
    # asset = liability + prepaid + initial direct costs - incentives; the difference is cash
    assert amounts["right_to_use_asset"] == -amounts["lease_liability"] + Decimal("13000.00")
    assert amounts["cash"] == Decimal("-13000.00")
    assert all(line.memo.startswith("Lease PREPAID: commencement") for line in first)


def test_a_short_term_lease_is_expense_paid_in_cash(journal_session: Session) -> None:
    journal = journal_entries(journal_session, 2021)
    short = {line.account for line in journal.lines if line.lease_number == "SHORT"}
    assert short == {"short_term_lease_expense", "cash"}
    debit, _credit = journal.totals("short_term_lease_expense")
    assert debit == Decimal("2000.00") * 6  # January to June 2021 in FY2021


def test_a_modification_is_booked_as_a_remeasurement_in_its_month(
    journal_session: Session,
) -> None:
    # MOD's payments change on 2021-01-01: FY2021 period 7
    journal = journal_entries(journal_session, 2021, month=7)
    remeasured = [
        line
        for line in journal.lines
        if line.lease_number == "MOD" and "remeasurement" in line.memo
    ]
    accounts = {line.account for line in remeasured}
    assert {"right_to_use_asset", "lease_liability"} <= accounts
    assert journal.unbalanced_entries() == []
    assert not any(
        "remeasurement" in line.memo
        for m in (6, 8)
        for line in journal_entries(journal_session, 2021, month=m).lines
        if line.lease_number == "MOD"
    )


def test_the_city_names_its_own_account_codes(journal_session: Session) -> None:
    accounts = parse_accounts("lease_liability=2310-100; cash = 1010-000")
    journal = journal_entries(journal_session, 2022, month=1, accounts=accounts)
    codes = {line.account: line.account_code for line in journal.lines}
    assert codes["lease_liability"] == "2310-100" and codes["cash"] == "1010-000"
    assert codes["interest_expense"] == DEFAULT_ACCOUNTS["interest_expense"][0]
    with pytest.raises(ValueError, match="'liability' is not an account"):
        parse_accounts("liability=1")
    with pytest.raises(ValueError, match="give cash a code"):
        parse_accounts("cash=")


def test_one_code_for_two_kinds_of_account_is_refused() -> None:
    """Cash and the lease liability both on 2310 net every payment away, and the journal no
    longer ties to the GASB 87 report: it was accepted. Revenue (or expense) accounts may
    share a code."""
    with pytest.raises(ValueError, match="cash and lease liability would all post to 2310"):
        parse_accounts("cash=2310")
    shared = parse_accounts(
        "interest_revenue=4600, lease_revenue=4600, short_term_lease_revenue=4600"
    )
    assert shared["lease_revenue"][0] == shared["interest_revenue"][0] == "4600"


@pytest.fixture
def journal_app(app: Flask) -> Flask:
    with app.app_context(), unit_of_work(app_session_factory(), "tests") as session:
        add_leases(session, ALL_LEASES)
    return app


def test_finance_downloads_the_journal_from_the_exports_page(
    journal_app: Flask, auth: LoginHelper
) -> None:
    finance = auth.signed_in_client(journal_app, "finance")
    page = finance.get("/exports")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for label in (
        "Download portfolio summary",
        "Download GASB 87 report",
        "Download journal entries",
        "Download KPI set",
    ):
        assert label in html
    assert 'action="/leases/gasb87/journal"' in html
    response = finance.get("/leases/gasb87/journal?fy=2021&month=7&format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="journal-FY2021-P07.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows and {row["date"] for row in rows} == {"2021-01-31"}
    debits = sum(Decimal(row["debit"] or "0") for row in rows)
    credits = sum(Decimal(row["credit"] or "0") for row in rows)
    assert debits == credits > 0
    book = finance.get("/leases/gasb87/journal?fy=2021&format=xlsx")
    sheets = load_workbook(io.BytesIO(book.get_data()))
    assert sheets.sheetnames == ["Journal", "Trial balance", "Tie-out to GASB 87"]
    differences = [
        row[3] for row in sheets["Tie-out to GASB 87"].iter_rows(min_row=2, values_only=True)
    ]
    assert differences and all(difference == 0 for difference in differences)
    assert finance.get("/leases/gasb87/journal?fy=21").status_code == 400
    assert finance.get("/leases/gasb87/journal?fy=2021&month=13").status_code == 400
    viewer = auth.signed_in_client(journal_app, "viewer")
    assert viewer.get("/exports").status_code == 403
    assert viewer.get("/leases/gasb87/journal?fy=2021").status_code == 403


def test_the_year_pickers_reach_back_to_the_oldest_lease(
    journal_app: Flask, auth: LoginHelper
) -> None:
    """They stopped ten years back (FY2017 in 2026), though the city's leases go back to 1971
    and the report and journal of any fiscal year are asked for."""
    with journal_app.app_context(), unit_of_work(app_session_factory(), "tests") as session:
        create_lease(session, lease("GROUND-1971", commencement_date="1971-07-01",
                                    term_months=1200,
                                    payments=[{"periods": 1200, "amount": "100.00"}]))  # fmt: skip
    html = auth.signed_in_client(journal_app, "finance").get("/exports").get_data(as_text=True)
    gasb87 = html[
        html.index('id="gasb87-fy"') : html.index("</select>", html.index('id="gasb87-fy"'))
    ]
    years = [int(year) for year in re.findall(r'<option value="(\d{4})"', gasb87)]
    current = dt.date.today().year
    assert years[0] >= current and min(years) in (1971, 1972)  # the fiscal year of 1971-07-01
    assert years == list(range(years[0], min(years) - 1, -1))


def test_export_journal_from_the_shell(
    journal_app: Flask, fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("REGISTRY_JOURNAL_ACCOUNTS", "interest_expense=6510-20")
    out = tmp_path / "journal.csv"
    result = CliRunner().invoke(cli, ["export", "journal", "--fy", "2022", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert "6510-20" in {row["account_code"] for row in rows}
    xlsx = tmp_path / "journal.xlsx"
    monthly = CliRunner().invoke(
        cli, ["export", "journal", "--fy", "2022", "--month", "1", "-f", "xlsx", "-o", str(xlsx)]
    )
    assert monthly.exit_code == 0 and "period 1" in monthly.output
    monkeypatch.setenv("REGISTRY_JOURNAL_ACCOUNTS", "nonsense=1")
    refused = CliRunner().invoke(cli, ["export", "journal", "--fy", "2022", "-o", str(out)])
    assert refused.exit_code == 2 and "not an account of the journal" in refused.output
