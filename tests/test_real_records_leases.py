"""Los Angeles' list of leases to non-profits, imported as it is (tests/data/real_world/
la_nonprofit_leases, described in its README): 112 leases with no rent columns, departments by
code, old name, abbreviation, typo and `GSD?`, "Lease in process", "Month to Month" and "TBD"
in the date columns, 20 partial-month terms, 4 points geocoded far away, 2 without a point, a
blank row and a "Total: 112 leases" footer; as CSV and as a zipped shapefile with DBF-shortened
headers. No `--map` is needed; `--direction out` and `--default portfolio=non_profit` say what
the whole list is.

Every lease without an error is recorded, incomplete and not measured, and every reader of
lease figures says how many leases it left out and which.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from click.testing import Result
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from cli.main import cli
from registry.city.departments import add_alias
from registry.city.departments import import_departments
from registry.db import create_registry_engine
from registry.db import unit_of_work
from registry.imports.cells import parse_date
from registry.kpis import compute_kpis
from registry.kpis.digitization import digitization_kpis
from registry.kpis.values import Period
from registry.leases.gasb87.report import gasb87_report
from registry.leases.records import create_lease
from registry.leases.records import lease_as_dict
from registry.milestones.findings import open_findings
from tests.auth_fixtures import SignedInClient
from tests.builders import parcel
from tests.builders import square

LA = Path(__file__).parent / "data" / "real_world" / "la_nonprofit_leases"
CSV_FILE, ZIP_FILE = LA / "nonprofit_leases.csv", LA / "nonprofit_leases.zip"
LIST = ("--direction", "out", "--default", "portfolio=non_profit")
TYPO_ROWS = {15: "14", 72: "71", 83: "82"}  # file row → lease number ("Cutural Affairs")
DOUBTED = {"4", "15", "25", "102"}  # "GSD?"
FAR_OFF = {"21", "32", "36", "45"}  # Texas, New York, Mexico, Spain
NO_POINT = {"6", "76"}
PARTIAL_TERMS = {
    "1",
    "4",
    "9",
    "12",
    "14",
    "16",
    "18",
    "21",
    "23",
    "41",
    "43",
    "45",
    "61",
    "73",
    "83",
    "84",
    "96",
    "105",
    "108",
    "112",
}
LINKED = "3"  # the one lease whose point lies in a parcel of the registry (set up below)
LINKED_PARCEL = "5001-001-001"
FY2026 = (dt.date(2025, 7, 1), dt.date(2026, 6, 30))


def _source() -> list[dict[str, str]]:
    """The CSV's 112 lease rows as written (the blank row and the footer left out)."""
    with CSV_FILE.open(encoding="utf-8", newline="") as lines:
        return [row for row in csv.DictReader(lines) if row["No."].isdigit()]


@pytest.fixture
def registry(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Los Angeles (the seeded profile) with the list's departments and aliases, and one parcel
    under lease 3's point."""
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    engine = create_registry_engine(fresh_database_url)
    with unit_of_work(sessionmaker(engine), "tests") as session:
        with (LA / "departments.csv").open(encoding="utf-8", newline="") as lines:
            import_departments(session, lines)
        session.add(parcel(LINKED_PARCEL, geometry=square(-118.2860, 34.2763)))
    yield engine
    engine.dispose()


@pytest.fixture
def aliased(registry: Engine) -> Engine:
    """The typo `Cutural Affairs` made an alias of DCA: the one way it is ever applied."""
    with unit_of_work(sessionmaker(registry), "tests") as session:
        add_alias(session, "Cutural Affairs", "DCA")
    return registry


def _import(path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["import", "leases", str(path), *LIST, *args])


def _leases(engine: Engine) -> dict[str, dict[str, Any]]:
    with sessionmaker(engine)() as session:
        numbers = session.scalars(text("SELECT lease_number FROM leases")).all()
        return {number: lease_as_dict(session, number) for number in numbers}


def _report(tmp_path: Path, path: Path, *args: str) -> tuple[Result, dict[str, Any]]:
    out = tmp_path / f"{path.name}.json"
    result = _import(path, *args, "--report", str(out))
    return result, json.loads(out.read_text(encoding="utf-8"))


# --- errors refuse a row; a suggestion is never applied ------------------------------------


def test_a_typo_without_an_alias_refuses_its_rows_with_a_suggestion_never_applied(
    registry: Engine, tmp_path: Path
) -> None:
    result, report = _report(tmp_path, CSV_FILE)
    assert result.exit_code == 1, result.output
    assert _leases(registry) == {}  # all or nothing
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert [(p["row"], p["record_id"]) for p in errors] == sorted(TYPO_ROWS.items())
    assert {p["message"] for p in errors} == {
        "no department 'Cutural Affairs'; did you mean 'Cultural Affairs'?"
    }
    assert {p["details"]["suggestion"] for p in errors} == {"Cultural Affairs"}
    lines = result.output.splitlines()
    assert "field department_code: no department 'Cutural Affairs'" in lines[3]  # errors first
    assert report["counts"]["valid"] == 109 and report["counts"]["invalid"] == 3
    loaded = _import(CSV_FILE, "--skip-invalid")
    assert loaded.exit_code == 1, loaded.output  # some input was still refused
    assert "leases: 109 inserted" in loaded.output
    leases = _leases(registry)
    assert len(leases) == 109 and not set(TYPO_ROWS.values()) & set(leases)


# --- with the alias, every lease of the list is recorded -----------------------------------


def test_every_lease_of_the_list_is_recorded_incomplete_and_not_measured(
    aliased: Engine, tmp_path: Path
) -> None:
    result, report = _report(tmp_path, CSV_FILE)
    assert result.exit_code == 0, result.output
    assert "112 valid (112 incomplete), 0 invalid" in result.output
    assert "2 skipped (1 blank, 1 total)" in result.output
    assert "leases: 112 inserted, 0 updated, 0 unchanged" in result.output
    assert report["columns"] == {
        "lease_number": "No.",
        "counterparty": "Non Profit",
        "premises": "Address",
        "department_code": "Dept",
        "commencement_date": "Lease Start",
        "end_date": "Lease Exp.",
        "latitude": "Lat",
        "longitude": "Lon",
    }
    assert report["counts"]["skipped_by_reason"] == {"blank": 1, "total": 1}
    assert {p["severity"] for p in report["problems"]} == {"warning"}
    leases = _leases(aliased)
    source = {row["No."]: row for row in _source()}
    assert set(leases) == set(source)
    assert {(lease["status"], lease["measured"]) for lease in leases.values()} == {
        ("incomplete", False)
    }
    by_department = Counter(lease["department_code"] for lease in leases.values())
    assert by_department == {
        "GSD": 26,
        "RAP": 30,
        "LAHD": 24,
        "DCA": 15,
        "LAPL": 9,
        "LADOT": 8,
    }  # codes, aliases, a name, the aliased typo, "GSD?"
    for number, lease in leases.items():
        row = source[number]
        assert (lease["direction"], lease["portfolio"]) == ("out", "non_profit")
        assert lease["counterparty"] == row["Non Profit"]
        assert {"payments", "payment_frequency", "payment_timing"} <= set(lease["missing"])
        for field, column in (("commencement_date", "Lease Start"), ("end_date", "Lease Exp.")):
            written, read = row[column], parse_date(row[column])
            if read is not None:
                assert lease[field] == read.isoformat(), (number, field)
                assert field not in lease["missing"]
            else:  # blank, or free text kept verbatim
                assert lease[field] is None and field in lease["missing"], (number, field)
                assert lease["source_notes"].get(field) == (written or None), (number, field)


def test_free_text_doubts_points_and_partial_terms(aliased: Engine, tmp_path: Path) -> None:
    result, report = _report(tmp_path, CSV_FILE)
    assert result.exit_code == 0, result.output
    leases = _leases(aliased)
    assert leases["35"]["source_notes"] == {
        "commencement_date": "Lease in process",
        "end_date": "Lease in process",
    }
    assert leases["11"]["source_notes"] == {"end_date": "Month to Month"}
    assert leases["58"]["source_notes"] == {"commencement_date": "TBD", "end_date": "TBD"}
    assert leases["60"]["source_notes"] == {}  # both blank: missing, nothing to keep
    # GSD? is read as GSD and awaits confirmation
    doubted = {n for n, lease in leases.items() if lease["needs_confirmation"]}
    assert doubted == DOUBTED
    assert {leases[n]["department_code"] for n in DOUBTED} == {"GSD"}
    # the far-off points are geocoding errors: reported as outside the city, not kept
    outside = [p for p in report["problems"] if p["field"] == "location"]
    assert sorted(p["record_id"] for p in outside) == sorted(FAR_OFF)
    assert all("lies outside the city (a geocoding error?)" in p["message"] for p in outside)
    for number in FAR_OFF:
        assert leases[number]["location"] is None
        assert leases[number]["source_notes"]["location"].startswith("POINT (")
    # inside the city: one lease linked to its parcel, the rest keep their point, not linked
    assert leases[LINKED]["parcel_id"] == LINKED_PARCEL
    not_linked = {
        n
        for n, lease in leases.items()
        if lease["location"] is not None and lease["parcel_id"] is None
    }
    assert not_linked == set(leases) - FAR_OFF - NO_POINT - {LINKED}
    assert len(not_linked) == 105
    unlinked = [p for p in report["problems"] if p["field"] == "parcel_id"]
    assert {p["record_id"] for p in unlinked} == not_linked
    assert all("not linked to a parcel" in p["message"] for p in unlinked)
    # partial-month terms are recorded with their own end date (no longer refused)
    source = {row["No."]: row for row in _source()}
    for number in PARTIAL_TERMS:
        end = parse_date(source[number]["Lease Exp."])
        assert end is not None and leases[number]["end_date"] == end.isoformat(), number
        assert leases[number]["term_months"] is not None
    kinds = Counter(p["field"] for p in report["problems"])
    assert kinds == {
        "payments": 112,
        "parcel_id": 105,
        "end_date": 18,
        "commencement_date": 10,
        "department_code": 4,
        "location": 4,
    }
    assert report["counts"]["warnings"] == sum(kinds.values())


def test_the_zipped_shapefile_reads_the_same_leases_under_dbf_headers(
    aliased: Engine, tmp_path: Path
) -> None:
    result, report = _report(tmp_path, ZIP_FILE)
    assert result.exit_code == 0, result.output
    assert report["columns"] == {
        "lease_number": "No_",
        "counterparty": "Non_Profit",
        "premises": "Address",
        "department_code": "Dept",
        "commencement_date": "Lease_Star",
        "end_date": "Lease_Exp_",
    }  # the point is the feature's geometry
    assert "112 features read, 112 valid (112 incomplete)" in result.output
    from_zip = _leases(aliased)
    again = _import(CSV_FILE)
    assert again.exit_code == 0, again.output
    assert "leases: 0 inserted, 0 updated, 112 unchanged" in again.output  # the same leases
    assert _leases(aliased) == from_zip


# --- every measurement leaves them out and says how many and which -------------------------


def _expected_in(year: tuple[dt.date, dt.date]) -> list[str]:
    """The leases a report of `year` names as not measured: those not known to lie outside."""
    found = []
    for row in _source():
        start, end = parse_date(row["Lease Start"]), parse_date(row["Lease Exp."])
        if (start is None or start <= year[1]) and (end is None or end >= year[0]):
            found.append(row["No."])
    return sorted(found)


def test_gasb87_export_and_lse_kpis_say_how_many_are_not_measured(
    aliased: Engine, app: Flask, finance_client: SignedInClient, tmp_path: Path
) -> None:
    assert _import(CSV_FILE).exit_code == 0
    expected = _expected_in(FY2026)
    with Session(aliased) as session:
        report = gasb87_report(session, 2026)
        assert (
            report.leases == ()
            and [lease.lease_number for lease in report.not_measured] == expected
        )
        kpis = {
            v.kpi_id: v
            for v in compute_kpis(session, "FY2026", dt.date(2026, 6, 30))
            if v.breakdown == "city" and v.kpi_id in ("LSE-1", "LSE-2")
        }
    for kpi in kpis.values():
        assert kpi.value is None
        assert (
            kpi.note == "no lease is measured; not measured, left out: 112 leases "
            "(1, 10, 100, 101, 102, 103, 104, 105, 106, 107, …)"
        )
    download = finance_client.get("/leases/gasb87/export?fy=2026&format=csv")
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    listed = [row for row in rows if row["row_type"] == "not_measured"]
    assert [row["lease_number"] for row in listed] == expected
    month_to_month = next(row for row in listed if row["lease_number"] == "11")
    assert (month_to_month["missing"], month_to_month["lease_receivable"]) == (
        "end_date, payment_frequency, payment_timing, payments, discount_rate",
        "",
    )
    assert {row["lease_count"] for row in rows if row["row_type"] == "total"} == {"0"}
    book = openpyxl.load_workbook(
        io.BytesIO(finance_client.get("/leases/gasb87/export?fy=2026").data)
    )
    sheet = [row for row in book["Not measured"].iter_rows(values_only=True) if any(row)]
    assert (
        sheet[2][0] == f"Not measured: {len(expected)} leases, left out of every figure "
        "until their terms are recorded"
    )
    assert [row[0] for row in sheet[4:]] == expected
    summary = [
        row
        for row in book["Summary"].iter_rows(values_only=True)
        if row[0] and str(row[0]).startswith("Not measured")
    ]
    assert [row[3] for row in summary] == [0, len(expected)]  # lessee, lessor: all funds
    out = tmp_path / "gasb87.csv"
    command = CliRunner().invoke(
        cli, ["export", "gasb87", "--fy", "2026", "-f", "csv", "-o", str(out)]
    )
    assert command.exit_code == 0, command.output
    assert command.output.rstrip().endswith(
        f"; not measured, left out: {len(expected)} leases (recorded incomplete)"
    )


def test_one_measured_lease_counts_and_the_rest_are_named(aliased: Engine) -> None:
    assert _import(CSV_FILE).exit_code == 0
    with unit_of_work(sessionmaker(aliased), "tests") as session:
        create_lease(
            session,
            {
                "lease_number": "M-1",
                "direction": "out",
                "portfolio": "non_profit",
                "counterparty": "Measured Co",
                "commencement_date": "2025-01-01",
                "end_date": "2026-03-31",
                "payment_frequency": "monthly",
                "payment_timing": "advance",
                "payments": [{"periods": 15, "amount": "1.00"}],
                "discount_rate": "0.04",
            },
        )
    with Session(aliased) as session:
        kpis = [
            v
            for v in compute_kpis(session, "FY2026", dt.date(2025, 9, 1))
            if v.breakdown == "city" and v.kpi_id in ("LSE-1", "LSE-2")
        ]
    lse1 = next(v for v in kpis if v.kpi_id == "LSE-1")
    assert lse1.value == 1 and lse1.note is not None
    assert lse1.note.startswith(
        "annual rent $12; 1 ending within 12 months, 0 holdovers; "
        "not measured, left out: 112 leases (1, 10, 100"
    )
    assert all("not measured, left out: 112 leases" in (v.note or "") for v in kpis)


def test_the_schedule_of_a_lease_not_measured_answers_409_naming_what_it_lacks(
    aliased: Engine, app: Flask, finance_client: SignedInClient
) -> None:
    assert _import(CSV_FILE).exit_code == 0
    response = finance_client.get("/api/leases/35/schedule")
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["title"] == "The lease is not measured"
    assert [e["field"] for e in problem["errors"]] == [
        "commencement_date",
        "end_date",
        "payment_frequency",
        "payment_timing",
        "payments",
        "discount_rate",
    ]
    page = finance_client.get("/leases/35")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Not measured: the lease is recorded incomplete" in html
    assert "the source says “Lease in process”" in html
    workbook = openpyxl.load_workbook(
        io.BytesIO(finance_client.get("/portfolio/export?format=xlsx&as_of=2026-01-01").data)
    )
    header, *rows = workbook["leases"].iter_rows(values_only=True)
    leases = [dict(zip(header, row, strict=True)) for row in rows]
    assert {lease["measured"] for lease in leases} == {False}
    assert {lease["annual_rent"] for lease in leases} == {None}
    about = {row[0]: row[1] for row in workbook["About"].iter_rows(values_only=True)}
    assert about["Not measured"].startswith("112 leases recorded without every term")


def test_the_work_queue_lists_what_each_lease_lacks_and_dig5_counts_it(aliased: Engine) -> None:
    assert _import(CSV_FILE).exit_code == 0
    with Session(aliased) as session:
        page = open_findings(session, limit=5000)
        kinds = Counter(finding.kind for finding in page.findings)
        dig5 = next(
            v
            for v in digitization_kpis(session, Period.resolve(None, dt.date.today()))
            if v.kpi_id == "DIG-5" and v.breakdown == "city"
        )
    missing = sum(len(lease["missing"]) for lease in _leases(aliased).values())
    parcel_findings = kinds.pop("missing field")  # the one parcel's blank use and district
    assert kinds == {
        "incomplete lease": missing,
        "lease value to confirm": 4,
        "lease not linked": 105,
    }
    assert page.total == dig5.value == missing + 4 + 105 + parcel_findings
    detail = next(
        f.detail
        for f in page.findings
        if f.lease_number == "35" and "commencement_date" in f.detail
    )
    assert detail == "lease 35: commencement_date is missing (the source says 'Lease in process')"
