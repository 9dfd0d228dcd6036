"""The GASB 87 fiscal-year export (XLSX, CSV, CLI) against the engine, lease by lease, on real
PostGIS: every total must be the sum of what the engine says for each lease."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from app.database import session_factory as app_session_factory
from cli.main import cli
from registry.db import unit_of_work
from registry.fiscal_years import fiscal_year_bounds
from registry.leases.accounting import balances_at
from registry.leases.accounting import fiscal_year_balances
from registry.leases.accounting import maturity_table
from registry.leases.accounting.balances import lease_state
from registry.leases.gasb87.report import gasb87_report
from registry.leases.records import add_modification
from registry.leases.records import create_lease
from registry.leases.records import lease_history_of
from registry.leases.records import lease_modifications
from registry.leases.records import lease_schedule_of as schedule_of
from tests.auth_fixtures import SignedInClient
from tests.builders import department
from tests.builders import parcel

CENT = Decimal("0.01")
WORKED_EXAMPLE = {
    "lease_number": "WA-SBCTC", "direction": "in", "counterparty": "Landlord, LLC",
    "department_code": "GSD", "parcel_id": "5555-012-034",
    "commencement_date": "2021-04-01", "term_months": 36, "payment_frequency": "monthly",
    "payment_timing": "advance", "payments": [{"periods": 36, "amount": "30000.00"}],
    "discount_rate": "0.0089", "discount_rate_source": "stated", "fund_type": "governmental",
}  # fmt: skip


def lease(number: str, **changes: Any) -> dict[str, Any]:
    return {**WORKED_EXAMPLE, "lease_number": number, "counterparty": f"Party {number}", **changes}


LEASES = [
    WORKED_EXAMPLE,
    lease(
        "IN-BT",
        fund_type="business_type",
        commencement_date="2019-10-01",
        term_months=120,
        payment_frequency="quarterly",
        payment_timing="arrears",
        escalation_pct="2",
        payments=[{"periods": 40, "amount": "12000.00"}],
        discount_rate="0.05",
    ),
    lease(
        "OUT-GOV",
        direction="out",
        portfolio="receivable",
        commencement_date="2018-07-01",
        term_months=240,
        payment_frequency="annual",
        payments=[{"periods": 20, "amount": "50000.00"}],
        discount_rate="0.04",
    ),
    lease(
        "OUT-NP",
        direction="out",
        portfolio="non_profit",
        fund_type="business_type",
        commencement_date="2020-01-01",
        term_months=60,
        escalation_pct="3",
        payments=[{"periods": 60, "amount": "100.00"}],
        discount_rate="0.03",
        counterparty='=HYPERLINK("http://evil.example")',
    ),
    lease(
        "SHORT",
        commencement_date="2021-01-01",
        term_months=12,
        payments=[{"periods": 12, "amount": "2000.00"}],
    ),
    lease(
        "MOD",
        commencement_date="2020-01-01",
        term_months=60,
        discount_rate="0.03",
        payments=[{"periods": 60, "amount": "5000.00"}],
    ),
    lease("FUTURE", commencement_date="2022-08-01"),  # not commenced in FY2021 or FY2022
    lease("OLD", commencement_date="2015-01-01"),  # settled in 2017
]
INCLUDED = {
    2021: {"WA-SBCTC", "IN-BT", "OUT-GOV", "OUT-NP", "SHORT", "MOD"},
    2022: {"WA-SBCTC", "IN-BT", "OUT-GOV", "OUT-NP", "SHORT", "MOD"},  # SHORT pays to Dec
}


def add_leases(session: Session, leases: list[dict[str, Any]] = LEASES) -> None:
    session.add_all([department("GSD", "General Services"), parcel("5555-012-034")])
    session.flush()
    for data in leases:
        create_lease(session, data)
    if any(data["lease_number"] == "MOD" for data in leases):
        add_modification(
            session, "MOD", "2021-01-01", {"payments": [{"periods": 48, "amount": "5500.00"}]}
        )


@pytest.fixture
def leases_app(app: Flask) -> Flask:
    with app.app_context(), unit_of_work(app_session_factory(), "tests") as session:
        add_leases(session)
    return app


def engine_figures(
    session: Session, number: str, fiscal_year: int, start_month: int = 7
) -> dict[str, Decimal]:
    """What the engine says for one lease and year, straight from `lease_schedule_of`."""
    schedule = schedule_of(session, number)
    _, end = fiscal_year_bounds(fiscal_year, start_month)
    at_end = balances_at(schedule, end)
    year = next(
        y for y in fiscal_year_balances(schedule, start_month) if y.fiscal_year == fiscal_year
    )
    lessee = schedule.direction == "in"
    carrying = at_end.right_of_use_asset_net if lessee else at_end.deferred_inflow_balance
    recognized = year.amortization if lessee else year.inflow_recognized
    assert carrying is not None and recognized is not None
    return {
        "balance": at_end.balance, "carrying": carrying, "recognized": recognized,
        "interest": year.interest, "payments": year.payments,
        "current": maturity_table(schedule, fiscal_year, start_month).buckets[0].principal,
    }  # fmt: skip


def cents(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def summary_values(sheet: Worksheet) -> dict[tuple[str, str], list[Decimal]]:
    """{(direction, measure): [governmental, business-type, total]} from the Summary sheet."""
    values: dict[tuple[str, str], list[Decimal]] = {}
    direction = ""
    for row in sheet.iter_rows(min_row=4, values_only=True):
        label = row[0]
        if isinstance(label, str) and label.startswith(("Lessee", "Lessor")):
            direction = "in" if label.startswith("Lessee") else "out"
        elif label and row[1] is not None and label != "Measure":
            values[(direction, label)] = [cents(value) for value in row[1:4]]
    return values


def test_the_worked_example_in_fy2021_equals_the_engine(
    leases_app: Flask, finance_client: SignedInClient
) -> None:
    response = finance_client.get("/leases/gasb87/export?fy=2021&format=xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="gasb87-FY2021.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Summary", "Leases", "Maturity", "Not measured", "Definitions"]
    leases = book["Leases"]
    header = [cell.value for cell in leases[1]]
    rows = {
        row[0]: dict(zip(header, row, strict=True))
        for row in leases.iter_rows(min_row=2, values_only=True)
    }
    assert set(rows) == INCLUDED[2021]
    example = rows["WA-SBCTC"]
    with leases_app.app_context(), app_session_factory()() as session:
        engine = engine_figures(session, "WA-SBCTC", 2021)
    # three payments made by 2021-06-30: balance after payment 3 (payment 4 leaves 948,350.11)
    assert cents(example["lease_liability"]) == engine["balance"] == Decimal("977625.04")
    assert cents(example["right_of_use_asset_net"]) == engine["carrying"] == Decimal("977267.34")
    assert cents(example["amortization_expense"]) == Decimal("88842.48")  # 3 x 29,614.16
    assert cents(example["interest_expense"]) == engine["interest"]
    assert cents(example["lease_liability_current"]) == engine["current"]
    money_cell = leases.cell(2, header.index("lease_liability") + 1)
    assert money_cell.number_format == "#,##0.00"


@pytest.mark.parametrize("fiscal_year", [2021, 2022])
def test_xlsx_totals_are_the_sum_of_the_engines_balances(
    leases_app: Flask, finance_client: SignedInClient, fiscal_year: int
) -> None:
    response = finance_client.get(f"/leases/gasb87/export?fy={fiscal_year}")  # xlsx by default
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    summary = summary_values(book["Summary"])
    with leases_app.app_context(), app_session_factory()() as session:
        records = {d["lease_number"]: d for d in LEASES}
        expected: dict[tuple[str, str], list[Decimal]] = {}
        for number in sorted(INCLUDED[fiscal_year]):
            data = records[number]
            figures = engine_figures(session, number, fiscal_year)
            fund = 0 if data.get("fund_type", "governmental") == "governmental" else 1
            lessee = data["direction"] == "in"
            names = {
                "balance": "Lease liability" if lessee else "Lease receivable",
                "carrying": "Right-to-use asset, net of amortization" if lessee
                else "Deferred inflow of resources",
                "recognized": "Amortization expense" if lessee else "Lease revenue",
                "interest": "Interest expense" if lessee else "Interest revenue",
                "current": ("Lease liability" if lessee else "Lease receivable")
                + ", due within one year",
            }  # fmt: skip
            for key, measure in names.items():
                line = expected.setdefault((data["direction"], measure), [Decimal(0)] * 3)
                line[fund] += figures[key]
                line[2] += figures[key]
    for measured, totals in expected.items():
        assert summary[measured] == totals, measured
    assert summary[("in", "Lease liability")][2] == (
        summary[("in", "Lease liability, due within one year")][2]
        + summary[("in", "Lease liability, due after one year")][2]
    )
    if fiscal_year == 2021:  # the short-term lease: six payments of 2,000 are the expense
        assert summary[("in", "Short-term lease expense")] == [Decimal("12000.00"), 0, 12000]
    _check_maturity(book["Maturity"], summary, fiscal_year)


def _check_maturity(
    sheet: Worksheet, summary: dict[tuple[str, str], list[Decimal]], fiscal_year: int
) -> None:
    """Each direction's block: five single years, then five-year buckets; principal columns
    total the balances on the Summary sheet."""
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    for direction, measure in (("in", "Lease liability"), ("out", "Lease receivable")):
        start = next(
            i
            for i, row in enumerate(rows)
            if isinstance(row[0], str)
            and row[0].startswith("Lessee" if direction == "in" else "Lessor")
        )
        end = next(i for i in range(start, len(rows)) if rows[i][0] == "Total")
        labels = [row[0] for row in rows[start + 2 : end]]
        assert labels[:5] == [str(fiscal_year + k) for k in range(1, 6)]
        assert all("-" in label for label in labels[5:])
        total = rows[end]
        # columns: governmental P, I, business-type P, I, total P, I, total payments
        principal = [cents(total[1]), cents(total[3]), cents(total[5])]
        assert principal == summary[(direction, measure)]
        assert cents(total[7]) == cents(total[5]) + cents(total[6])
    out_block = [row[0] for row in rows if row[0] and str(row[0]).startswith(str(fiscal_year + 6))]
    assert out_block  # OUT-GOV runs to 2038: a five-year bucket after the single years


def test_csv_parses_and_agrees_with_the_engine_and_the_workbook(
    leases_app: Flask, finance_client: SignedInClient
) -> None:
    response = finance_client.get("/leases/gasb87/export?fy=FY2022&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    leases = {row["lease_number"]: row for row in rows if row["row_type"] == "lease"}
    totals = {
        (row["direction"], row["fund_type"]): row for row in rows if row["row_type"] == "total"
    }
    assert set(leases) == INCLUDED[2022]
    assert set(totals) == {
        (d, f) for d in ("in", "out") for f in ("governmental", "business_type", "all")
    }
    with leases_app.app_context(), app_session_factory()() as session:
        for number, row in leases.items():
            figures = engine_figures(session, number, 2022)
            balance = "lease_liability" if row["direction"] == "in" else "lease_receivable"
            other = "lease_receivable" if row["direction"] == "in" else "lease_liability"
            assert Decimal(row[balance]) == figures["balance"], number
            assert row[other] == ""  # never a receivable on a lessee row
            assert Decimal(row["payments"]) == figures["payments"]
    for (direction, fund), total in totals.items():
        members = [
            r
            for r in leases.values()
            if r["direction"] == direction and fund in ("all", r["fund_type"])
        ]
        balance = "lease_liability" if direction == "in" else "lease_receivable"
        assert Decimal(total[balance]) == sum((Decimal(r[balance]) for r in members), Decimal(0))
        assert int(total["lease_count"]) == len(members)
    # the counterparty typed as a formula stays text
    assert leases["OUT-NP"]["counterparty"].startswith("'=HYPERLINK")
    book = openpyxl.load_workbook(
        io.BytesIO(finance_client.get("/leases/gasb87/export?fy=2022&format=xlsx").data)
    )
    summary = summary_values(book["Summary"])
    assert summary[("in", "Lease liability")][2] == Decimal(
        totals[("in", "all")]["lease_liability"]
    )
    cell = next(row[1] for row in book["Leases"].iter_rows(min_row=2) if row[0].value == "OUT-NP")
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


def test_viewers_and_anonymous_cannot_export(
    leases_app: Flask, viewer_client: SignedInClient, client: FlaskClient
) -> None:
    for export_format in ("xlsx", "csv"):
        url = f"/leases/gasb87/export?fy=2022&format={export_format}"
        assert viewer_client.get(url).status_code == 403
        assert client.get(url).status_code in (302, 401)
        assert client.get(url, headers={"Accept": "application/json"}).status_code == 401


@pytest.mark.parametrize("query", ["fy=20x2", "fy=22", "fy=2022&format=pdf"])
def test_bad_requests_are_refused(
    leases_app: Flask, finance_client: SignedInClient, query: str
) -> None:
    assert finance_client.get(f"/leases/gasb87/export?{query}").status_code == 400


def test_the_fiscal_year_follows_the_configured_start_month(
    leases_app: Flask, finance_client: SignedInClient
) -> None:
    settings = leases_app.config["REGISTRY_SETTINGS"]
    leases_app.config["REGISTRY_SETTINGS"] = settings.overriding(fiscal_year_start_month=10)
    rows = list(
        csv.DictReader(
            io.StringIO(
                finance_client.get("/leases/gasb87/export?fy=2021&format=csv").get_data(
                    as_text=True
                )
            )
        )
    )
    example = next(row for row in rows if row["lease_number"] == "WA-SBCTC")
    with leases_app.app_context(), app_session_factory()() as session:
        balance = balances_at(schedule_of(session, "WA-SBCTC"), dt.date(2021, 9, 30)).balance
    assert Decimal(example["lease_liability"]) == balance  # FY2021 ends 2021-09-30


def test_cli_writes_both_formats(
    leases_app: Flask, tmp_path: Path, finance_client: SignedInClient
) -> None:
    runner = CliRunner()
    env = {"DATABASE_URL": leases_app.config["DATABASE_URL"]}
    target = tmp_path / "gasb87.csv"
    result = runner.invoke(
        cli, ["export", "gasb87", "--fy", "2022", "-f", "csv", "-o", str(target)], env=env
    )
    assert result.exit_code == 0, result.output
    assert "FY2022 (2021-07-01 to 2022-06-30): 6 leases" in result.output
    over_http = finance_client.get("/leases/gasb87/export?fy=2022&format=csv")
    assert target.read_bytes() == over_http.data
    workbook = tmp_path / "gasb87.xlsx"
    result = runner.invoke(cli, ["export", "gasb87", "--fy", "2022", "-o", str(workbook)], env=env)
    assert result.exit_code == 0, result.output
    assert openpyxl.load_workbook(workbook).sheetnames[0] == "Summary"
    usage = runner.invoke(cli, ["export", "gasb87", "--fy", "2022", "-f", "pdf", "-o", "x"])
    assert usage.exit_code == 2
    assert not list(tmp_path.glob(".*.part"))


# --- a lease modified twice: the report reaches back before the latest remeasurement ----------


@pytest.fixture
def twice_modified(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with unit_of_work(session_factory, "tests") as session:
        add_leases(
            session,
            [
                lease(
                    "MOD2",
                    commencement_date="2019-07-01",
                    term_months=60,
                    payments=[{"periods": 60, "amount": "4000.00"}],
                    discount_rate="0.04",
                )
            ],
        )
        add_modification(
            session, "MOD2", "2020-09-01", {"payments": [{"periods": 46, "amount": "4200.00"}]}
        )
        add_modification(
            session,
            "MOD2",
            "2021-03-01",
            {"payments": [{"periods": 40, "amount": "3900.00"}], "discount_rate": "0.05"},
        )
    with session_factory() as session:
        yield session


def test_a_year_spanning_two_modifications(twice_modified: Session) -> None:
    """FY2021 (2020-07-01..2021-06-30) contains both modifications: its amounts compose the
    engine's own states of each remeasurement over the part of the year it covers."""
    report = gasb87_report(twice_modified, 2021)
    (row,) = report.leases
    base, applied = lease_modifications(twice_modified, "MOD2")
    first, second = (modification for _, modification in applied)
    opening, cut, closing = dt.date(2020, 6, 30), dt.date(2021, 2, 28), dt.date(2021, 6, 30)
    interest = (
        lease_state(first, cut).interest
        - lease_state(first, opening).interest
        + lease_state(second, closing).interest
        - lease_state(second, cut).interest
    )
    amortization = (
        lease_state(first, cut).recognized
        - lease_state(first, opening).recognized
        + lease_state(second, closing).recognized
        - lease_state(second, cut).recognized
    )
    assert row.amounts.interest == interest
    assert row.amounts.recognized == amortization
    assert row.amounts.opening_balance == balances_at(base, opening).balance
    assert row.amounts.closing_balance == balances_at(second, closing).balance
    assert row.commencement_date == dt.date(2019, 7, 1)
    assert row.end_date == dt.date(2024, 6, 30)
    assert report.group("in").amounts.closing_balance == row.amounts.closing_balance


@pytest.fixture
def modified_twice_each_way(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """MOD2 as above (lessee, advance) and ARR2, a lessor lease paid quarterly in arrears, each
    modified twice - the arrears one on its payment dates, which the engine once could not do."""
    with unit_of_work(session_factory, "tests") as session:
        add_leases(
            session,
            [
                lease(
                    "MOD2",
                    commencement_date="2019-07-01",
                    term_months=60,
                    payments=[{"periods": 60, "amount": "4000.00"}],
                    discount_rate="0.04",
                ),
                lease(
                    "ARR2",
                    direction="out",
                    portfolio="receivable",
                    fund_type="business_type",
                    commencement_date="2019-10-01",
                    term_months=60,
                    payment_frequency="quarterly",
                    payment_timing="arrears",
                    payments=[{"periods": 20, "amount": "2400.00"}],
                    discount_rate="0.04",
                ),
            ],
        )
        add_modification(
            session, "MOD2", "2020-09-01", {"payments": [{"periods": 46, "amount": "4200.00"}]}
        )
        add_modification(
            session,
            "MOD2",
            "2021-03-01",
            {"payments": [{"periods": 40, "amount": "3900.00"}], "discount_rate": "0.05"},
        )
        add_modification(session, "ARR2", "2020-10-01", {"discount_rate": "0.05"})
        add_modification(
            session, "ARR2", "2022-01-01", {"payments": [{"periods": 11, "amount": "2600.00"}]}
        )
    with session_factory() as session:
        yield session


def test_report_totals_equal_the_engines_history_of_twice_modified_leases(
    modified_twice_each_way: Session,
) -> None:
    """Every fiscal year from before the first modification to after the end: each lease's
    figures are the engine's `LeaseHistory` figures, and the group totals their sums."""
    session = modified_twice_each_way
    histories = {number: lease_history_of(session, number) for number in ("MOD2", "ARR2")}
    assert [len(h.modifications) for h in histories.values()] == [2, 2]
    receipts = sum((row.payment for _, row in histories["ARR2"].booked_rows()), Decimal(0))
    assert receipts == Decimal("2400.00") * 9 + Decimal("2600.00") * 11  # none lost
    for fiscal_year in range(2020, 2026):
        report = gasb87_report(session, fiscal_year)
        rows = {row.lease_number: row for row in report.leases}
        for number, history in histories.items():
            _, end = fiscal_year_bounds(fiscal_year, 7)
            if number not in rows:  # settled before the year: MOD2 ends June 2024
                assert fiscal_year_balances(history)[-1].fiscal_year < fiscal_year
                continue
            year = next(y for y in fiscal_year_balances(history) if y.fiscal_year == fiscal_year)
            at_end = balances_at(history, end)
            amounts = rows[number].amounts
            lessee = history.direction == "in"
            assert amounts.closing_balance == at_end.balance == year.balance
            assert amounts.opening_balance == year.opening_balance
            assert amounts.interest == year.interest
            assert amounts.payments == year.payments
            assert amounts.accrued_interest == at_end.accrued_interest
            assert amounts.carrying == (
                at_end.right_of_use_asset_net if lessee else at_end.deferred_inflow_balance
            )
            assert amounts.recognized == (year.amortization if lessee else year.inflow_recognized)
            table = maturity_table(history, fiscal_year)
            assert amounts.current_portion == table.buckets[0].principal
            assert table.total_principal == at_end.balance
            # `lease_schedule_of` (the latest modification) now says the same.
            latest = schedule_of(session, number)
            assert balances_at(latest, end) == at_end
        for direction, number in (("in", "MOD2"), ("out", "ARR2")):
            if number not in rows:
                continue
            assert report.group(direction).amounts == rows[number].amounts
            lines = [m for m in report.maturity if (m.direction, m.fund_type) == (direction, "all")]
            assert sum((m.principal for m in lines), Decimal(0)) == (
                rows[number].amounts.closing_balance
            )
