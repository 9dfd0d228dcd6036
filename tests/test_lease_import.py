"""`asset-registry import leases` with lease lists as cities keep them, against real PostGIS."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from click.testing import Result
from openpyxl import Workbook
from pyproj import Transformer
from shapely.geometry import Point
from sqlalchemy import Engine
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from cli.main import cli
from registry.db import create_registry_engine
from registry.imports.cells import normalise_cell
from registry.imports.columns import ColumnSource
from registry.imports.lease_rows import read_lease_row
from registry.imports.report import ImportReport
from registry.imports.sources import SourceRow
from registry.leases.accounting import LeaseSchedule
from registry.leases.records import lease_as_dict
from registry.leases.records import lease_schedule_of
from registry.models import AuditEvent
from registry.models import Lease
from tests.builders import department
from tests.builders import parcel
from tests.builders import square

DATA = Path(__file__).parent / "data" / "leases"
MESSY = DATA / "messy_leases.csv"
TENANT = ("--direction", "in", "--default", "payment_timing=advance")
GOOD_ROWS_OF_MESSY = ["L-100", "L-101", "L-103", "L-105", "L-106", "L-108"]


@pytest.fixture
def engine(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    engine = create_registry_engine(fresh_database_url)
    with sessionmaker(engine)() as session, session.begin():
        session.add_all([
            department("GSD", "General Services"),
            department("LAPD", "Police"),
            department("RAP", "Recreation and Parks"),
            parcel("5555-012-034", geometry=square(-118.250, 34.050)),
            parcel("5555-012-035", geometry=square(-118.240, 34.050)),
        ])  # fmt: skip
    yield engine
    engine.dispose()


def _import(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["import", "leases", *map(str, args)])


def _state(engine: Engine) -> tuple[int, int]:
    """(leases, audit events): what an import that writes nothing must leave as it was."""
    with sessionmaker(engine)() as session:
        return (
            session.scalar(select(func.count()).select_from(Lease)) or 0,
            session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        )


def _lease_numbers(engine: Engine) -> list[str]:
    with sessionmaker(engine)() as session:
        return list(session.scalars(select(Lease.lease_number).order_by(Lease.lease_number)))


def _problem_lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if ":row " in line]


def _clean_csv(path: Path, rows: list[list[str]]) -> Path:
    header = ["Lease No", "Lessor", "Address", "APN", "Dept", "Start", "Expiration",
              "Monthly Rent", "Discount Rate"]  # fmt: skip
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


CLEAN_ROWS = [
    ["C-1", "Spring Street Partners", "200 N Spring St", "5555-012-034", "GSD", "4/1/2021",
     "3/31/2024", "$30,000.00", "0.89%"],
    ["C-2", "Spring Street Partners", "200 N Spring St", "5555-012-034", "Police", "7/1/2022",
     "6/30/2027", "$2,500.00", "3.5%"],
]  # fmt: skip


def test_messy_list_is_rejected_with_every_bad_row_named_and_nothing_written(
    engine: Engine,
) -> None:
    """Errors refuse their rows (and so the file); free text where a date or the rent goes and
    a doubted department are warnings: those leases are valid, recorded incomplete."""
    before = _state(engine)
    result = _import(MESSY, *TENANT)
    assert result.exit_code == 1, result.output
    assert _state(engine) == before
    lines = _problem_lines(result)
    expected = [
        (8, "L-102", "department_code", "did you mean 'General Services'?"),
        (
            9,
            "L-103",
            "department_code [warning]",
            "'Police?' is marked uncertain in the source: read as LAPD, to be confirmed",
        ),
        (9, "L-103", "commencement_date [warning]", "'Lease in process' is not a date: kept"),
        (9, "L-103", "payments [warning]", "not measured: the rent cannot become payment steps"),
        (12, "L-104", "end_date", "before the commencement date 2023-07-01"),
        (13, "L-105", "commencement_date [warning]", "'TBD' is not a date"),
        (13, "L-105", "end_date [warning]", "'month-to-month' is not a date"),
        (13, "L-105", "payments [warning]", "not measured"),
        (15, "L-107", "lease_number", "appears 2 times in this file (rows 15, 16)"),
        (16, "L-107", "lease_number", "appears 2 times in this file (rows 15, 16)"),
        (17, "(none)", "lease_number", "is required"),
        (18, "L-108", "payments [warning]", "the rent is 'TBD', not an amount"),
    ]
    for row, lease, field, message in expected:
        prefix = f"{MESSY}:row {row} lease {lease} field {field}: "
        assert any(line.startswith(prefix) and message in line for line in lines), (
            prefix,
            message,
            result.output,
        )
    assert len(lines) == len(expected), result.output
    assert "nothing written" in result.output
    assert "6 valid (3 incomplete), 5 invalid (12 problems, 7 of them warnings)" in result.output
    assert "6 skipped (2 blank, 2 heading, 1 repeated header, 1 total)" in result.output


def test_skip_invalid_loads_the_good_rows_and_reports_the_rest(engine: Engine) -> None:
    result = _import(MESSY, *TENANT, "--skip-invalid")
    assert result.exit_code == 1, result.output  # some input was still rejected
    assert "leases: 6 inserted, 0 updated, 0 unchanged" in result.output
    assert _lease_numbers(engine) == GOOD_ROWS_OF_MESSY
    assert len(_problem_lines(result)) == 12
    with sessionmaker(engine)() as session:
        actors = set(
            session.scalars(select(AuditEvent.actor).where(AuditEvent.table_name == "leases"))
        )
        assert actors == {"import:messy_leases.csv"}
        first = lease_as_dict(session, "L-100")
        assert first["payments"] == [{"periods": 36, "amount": "30000.00"}]
        assert (first["term_months"], first["discount_rate"]) == (36, "0.0089")
        assert (first["department_code"], first["parcel_id"]) == ("GSD", "5555-012-034")
        assert Decimal(first["leased_area_sq_ft"]) == Decimal("12500")
        # the Washington State worked example, read from "$30,000.00" and "0.89%"
        schedule = lease_schedule_of(session, "L-100")
        assert isinstance(schedule, LeaseSchedule)
        assert schedule.initial_measurement == Decimal("1066109.82")
        both = [lease_as_dict(session, n)["parcel_id"] for n in ("L-100", "L-101")]
        assert both == ["5555-012-034", "5555-012-034"]  # two leases at one address
        started = lease_as_dict(session, "L-103")  # "Lease in process", "Police?"
        assert (started["status"], started["measured"]) == ("incomplete", False)
        assert started["missing"] == ["commencement_date", "payments"]
        assert started["source_notes"] == {"commencement_date": "Lease in process"}
        assert (started["department_code"], started["needs_confirmation"]) == (
            "LAPD",
            ["department_code"],
        )
        assert started["end_date"] == "2027-12-31"  # kept for when the start is known
        unpriced = lease_as_dict(session, "L-108")
        assert (unpriced["source_notes"], unpriced["term_months"]) == ({"payments": "TBD"}, 36)


def test_dry_run_writes_nothing_and_exits_0_when_clean_1_when_not(
    engine: Engine, tmp_path: Path
) -> None:
    before = _state(engine)
    clean = _import(_clean_csv(tmp_path / "clean.csv", CLEAN_ROWS), *TENANT, "--dry-run")
    assert clean.exit_code == 0, clean.output
    assert "dry run, nothing written (would insert 2, update 0" in clean.output
    messy = _import(MESSY, *TENANT, "--dry-run", "--skip-invalid")
    assert messy.exit_code == 1, messy.output
    assert _state(engine) == before


def test_reimporting_an_unchanged_file_changes_nothing_and_adds_no_history(
    engine: Engine, tmp_path: Path
) -> None:
    path = _clean_csv(tmp_path / "leases.csv", CLEAN_ROWS)
    assert _import(path, *TENANT).exit_code == 0
    after_first = _state(engine)
    again = _import(path, *TENANT)
    assert again.exit_code == 0, again.output
    assert "leases: 0 inserted, 0 updated, 2 unchanged" in again.output
    assert _state(engine) == after_first


def test_a_changed_row_is_updated_and_audited_as_the_import(engine: Engine, tmp_path: Path) -> None:
    assert _import(_clean_csv(tmp_path / "leases.csv", CLEAN_ROWS), *TENANT).exit_code == 0
    changed = [CLEAN_ROWS[0], [*CLEAN_ROWS[1][:7], "$2,750.00", "3.5%"]]
    result = _import(_clean_csv(tmp_path / "leases-v2.csv", changed), *TENANT)
    assert result.exit_code == 0, result.output
    assert "leases: 0 inserted, 1 updated, 1 unchanged" in result.output
    with sessionmaker(engine)() as session:
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.table_name == "leases", AuditEvent.action == "UPDATE"
            )
        ).one()
        assert event.actor == "import:leases-v2.csv"
        assert event.after is not None
        assert event.after["payments"] == [{"periods": 60, "amount": "2750.00"}]
        assert lease_as_dict(session, "C-2")["version"] == 2


def test_xlsx_with_a_title_above_the_header_on_a_chosen_sheet(
    engine: Engine, tmp_path: Path
) -> None:
    workbook = Workbook()
    notes = workbook.active
    assert notes is not None
    notes.title = "Read me"
    notes.append(["Leases are on the next sheet"])
    sheet = workbook.create_sheet("Leases")
    sheet.append(["City as landlord - communication sites"])
    sheet.append([])
    sheet.append(
        [
            "Lease Number",
            "In/Out",
            "Tenant",
            "APN",
            "Commencement",
            "Term (months)",
            "Annual Rent",
            "Payment Frequency",
            "Timing",
            "Escalation",
            "Discount Rate",
        ]
    )
    sheet.append(
        [
            1001,
            "Lease Out",
            "Tower Co",
            "5555-012-035",
            dt.datetime(2023, 1, 1),
            120,
            120000,
            "Monthly",
            "in advance",
            "3%",
            0.04,
        ]
    )
    sheet["K4"].number_format = "0.00%"
    workbook.save(tmp_path / "sites.xlsx")
    result = _import(tmp_path / "sites.xlsx", "--layer", "Leases")
    assert result.exit_code == 0, result.output
    with sessionmaker(engine)() as session:
        lease = lease_as_dict(session, "1001")
    assert (lease["direction"], lease["portfolio"], lease["counterparty"]) == (
        "out",
        "receivable",
        "Tower Co",
    )
    assert lease["payments"] == [{"periods": 120, "amount": "10000.00"}]  # 120,000 a year
    assert (lease["payment_timing"], lease["escalation_pct"], lease["discount_rate"]) == (
        "advance",
        "3",
        "0.04",
    )
    assert lease["commencement_date"] == "2023-01-01"


def test_geopackage_points_locate_the_parcel_when_the_id_is_missing(
    engine: Engine, tmp_path: Path
) -> None:
    """A point in a parcel names it; one in the city but in no parcel is kept, the lease not
    linked; one outside the city (a geocoding error) is not kept: warnings, not errors."""
    inside_035 = Point(-118.2395, 34.0505)
    frame = gpd.GeoDataFrame(
        {
            "lease_no": ["G-1", "G-2", "G-3", "G-4"],
            "tenant": ["Coffee Cart", "Kiosk", "Food Truck", "Ice Cream"],
            "apn": [None, "5555-012-034", None, None],
            "start": ["2024-01-01"] * 4,
            "term": [24] * 4,
            "monthly_rent": ["500.00", "600.00", "700.00", "800.00"],
        },
        geometry=[inside_035, inside_035, Point(-118.0, 34.3), Point(-97.7431, 30.2672)],
        crs="EPSG:4326",
    )
    frame.to_file(tmp_path / "sites.gpkg", layer="leases", driver="GPKG")
    args = (
        tmp_path / "sites.gpkg",
        "--direction",
        "out",
        "--default",
        "payment_timing=arrears",
        "--default",
        "discount_rate=0.04",
    )
    result = _import(*args)
    assert result.exit_code == 0, result.output
    assert (
        f"{tmp_path / 'sites.gpkg'}:feature 3 lease G-3 field parcel_id [warning]: the "
        "point (-118.0, 34.3) lies in no parcel of the registry: the lease keeps its point, "
        "not linked to a parcel" in result.output
    )
    assert (
        f"{tmp_path / 'sites.gpkg'}:feature 4 lease G-4 field location [warning]: the "
        "point (-97.7431, 30.2672) lies outside the city (a geocoding error?)" in result.output
    )
    with sessionmaker(engine)() as session:
        first, second, unlinked, far = (lease_as_dict(session, f"G-{n}") for n in range(1, 5))
    assert first["parcel_id"] == "5555-012-035"  # by the point
    assert second["parcel_id"] == "5555-012-034"  # as written
    assert (unlinked["parcel_id"], unlinked["location"]) == (
        None,
        {"type": "Point", "coordinates": [-118.0, 34.3]},
    )
    assert (far["location"], far["source_notes"]) == (
        None,
        {"location": "POINT (-97.7431 30.2672)"},
    )  # its coordinates noted
    assert all(lease["measured"] for lease in (first, second, unlinked, far))
    assert _lease_numbers(engine) == ["G-1", "G-2", "G-3", "G-4"]


def test_shapefile_without_a_crs_needs_srs_and_its_points_are_transformed(
    engine: Engine, tmp_path: Path
) -> None:
    mercator = Transformer.from_crs(4326, 3857, always_xy=True)
    inside_034 = Point(*mercator.transform(-118.2495, 34.0505))
    frame = gpd.GeoDataFrame(
        {
            "Lease No": ["S-1"],
            "Tenant": ["Newsstand"],
            "Start": ["7/1/2024"],
            "Term": [12],
            "Rent": ["250.00"],
            "Frequency": ["monthly"],
        },
        geometry=[inside_034],
        crs="EPSG:3857",
    )
    frame.to_file(tmp_path / "stands.shp")
    (tmp_path / "stands.prj").unlink()  # the .prj gone missing, as it often is
    args = (tmp_path / "stands.shp", "--direction", "out", "--default", "payment_timing=advance")
    refused = _import(*args)
    assert refused.exit_code == 2
    assert "no CRS; give --srs EPSG:N" in refused.output
    result = _import(*args, "--srs", "EPSG:3857")
    assert result.exit_code == 0, result.output
    with sessionmaker(engine)() as session:
        lease = lease_as_dict(session, "S-1")
    assert (lease["parcel_id"], lease["term_months"]) == ("5555-012-034", 12)


def test_map_overrides_name_columns_the_headers_do_not(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(
        "Contract,Who,Begins,Ends,Pay,Dept,Remarks\n"
        'K-9,Café Concessions,2024-07-01,2029-06-30,"$1,200.00",Recreation and Parks,old\n',
        encoding="cp1252",  # as Excel on Windows saves a CSV
    )
    result = _import(
        path, "--id-field", "Contract", "--map", "counterparty=Who", "--map", "notes=",
        "--map", "commencement_date=Begins", "--map", "end_date=Ends", "--map", "monthly_rent=Pay",
        "--map", "department_code=dept", "--direction", "out",
        "--default", "payment_timing=advance", "--default", "discount_rate=5%",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with sessionmaker(engine)() as session:
        lease = lease_as_dict(session, "K-9")
    assert (lease["term_months"], lease["department_code"]) == (60, "RAP")
    assert (lease["counterparty"], lease["notes"]) == ("Café Concessions", None)
    assert lease["payments"] == [{"periods": 60, "amount": "1200.00"}]
    assert lease["discount_rate"] == "0.05"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--map", "rent_per_sq_ft=Monthly Rent"), "unknown target 'rent_per_sq_ft'"),
        (("--map", "notes=No Such Column"), "no column 'No Such Column'"),
        (("--map", "notes"), "expected --map NAME=VALUE"),
        (("--default", "payments=100"), "'payments' cannot have a default"),
        (("--layer", "Sheet9"), "a CSV file has no layers"),
        (("--id-field", "Contract"), "no column 'Contract'"),
    ],
)
def test_usage_errors_exit_2_and_write_nothing(
    engine: Engine, args: tuple[str, ...], message: str
) -> None:
    before = _state(engine)
    result = _import(MESSY, *TENANT, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert _state(engine) == before


def test_missing_file_and_unreadable_format_exit_2(engine: Engine, tmp_path: Path) -> None:
    assert _import(tmp_path / "nope.csv").exit_code == 2
    (tmp_path / "leases.pdf").write_bytes(b"%PDF-1.4")
    result = _import(tmp_path / "leases.pdf")
    assert result.exit_code == 2
    assert "unknown format .pdf" in result.output
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    assert _import(broken).exit_code == 2


def test_json_report_lists_every_problem_with_file_row_lease_field_and_value(
    engine: Engine, tmp_path: Path
) -> None:
    copy = shutil.copy(MESSY, tmp_path / "messy.csv")
    out = tmp_path / "report.json"
    result = _import(copy, *TENANT, "--report", out)
    assert result.exit_code == 1, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["written"] is False
    assert report["header_row"] == 4
    assert report["columns"]["counterparty"] == "Lessor/Lessee"
    assert report["counts"] == {
        "read": 17, "valid": 6, "invalid": 5, "problems": 12, "warnings": 7, "incomplete": 3,
        "repaired": 0, "skipped": 6,
        "skipped_by_reason": {"heading": 2, "blank": 2, "repeated header": 1, "total": 1},
        "inserted": 0, "updated": 0, "unchanged": 0,
    }  # fmt: skip
    assert report["outcome"] == "rejected" and report["problem_count"] == 12
    typo = next(p for p in report["problems"] if p["record_id"] == "L-102")
    assert typo == {
        "file": str(copy),
        "row": 8,
        "record_id": "L-102",
        "field": "department_code",
        "message": "no department 'Genral Services'; did you mean 'General Services'?",
        "value": "Genral Services",
        "column": "Dept",
        "details": {"suggestion": "General Services"},
        "severity": "error",
    }
    total = next(s for s in report["skipped"] if s["reason"] == "total")
    assert total["row"] == 21 and total["text"].startswith("Total")


def test_header_typed_columns_and_audit_rows_count_once_per_lease(engine: Engine) -> None:
    """Skipping invalid rows still writes in one transaction: one INSERT event per lease."""
    assert _import(MESSY, *TENANT, "--skip-invalid").exit_code == 1
    with Session(engine) as session:
        per_lease = session.execute(
            text(
                "SELECT row_key, count(*) FROM audit_events WHERE table_name = 'leases' "
                "GROUP BY row_key ORDER BY row_key"
            )
        ).all()
    assert [tuple(row) for row in per_lease] == [(n, 1) for n in GOOD_ROWS_OF_MESSY]


@pytest.mark.parametrize(
    ("target", "cell", "expected"),
    [
        ("commencement_date", "4/1/2021", ("2021-04-01", None)),
        ("commencement_date", dt.datetime(2021, 4, 1), ("2021-04-01", None)),
        ("commencement_date", "Lease in process", ("Lease in process", None)),  # kept as a note
        ("monthly_rent", "$30,000.00", ("30000.00", None)),
        ("monthly_rent", "TBD", (None, "'TBD' is not an amount")),
        ("fair_value", "(1,200.00)", ("-1200.00", None)),
        ("discount_rate", "0.89%", ("0.0089", None)),
        ("discount_rate", "0.0089", ("0.0089", None)),
        ("escalation_pct", "3%", ("3", None)),
        ("term_months", "3 years", (36, None)),
        ("lease_number", 1001.0, ("1001", None)),
        ("direction", "Lease Out", ("out", None)),
        ("department_code", "Police?", ("Police?", None)),  # never corrected here
    ],
)
def test_cells_are_normalised_never_guessed(
    target: str, cell: object, expected: tuple[object, str | None]
) -> None:
    assert normalise_cell("leases", target, cell) == expected


@pytest.mark.parametrize(
    ("cells", "skipped_as"),
    [
        ({"Lease No": "OFFICE LEASES"}, "heading"),
        ({"Lease No": "Retail"}, "heading"),
        ({"Lessor": "Communication sites (continued)"}, "heading"),
        ({"Lease No": "Total", "Monthly Rent": "$51,850.00"}, "total"),
        ({"Lessor": "Subtotal", "Monthly Rent": "$1,000.00"}, "total"),
        ({"Lease No": "L-9"}, None),  # a bare lease number is a lease, reported if incomplete
        ({"Lessor": "Total Fitness LLC", "Lease No": "L-5"}, None),
        ({"Lessor": "Nameless LLC", "Monthly Rent": "$100.00"}, None),  # lacks its number
    ],
)
def test_headings_and_totals_are_skipped_but_leases_missing_data_are_not(
    cells: dict[str, object], skipped_as: str | None
) -> None:
    columns = {
        "lease_number": ColumnSource.column("Lease No"),
        "counterparty": ColumnSource.column("Lessor"),
        "monthly_rent": ColumnSource.column("Monthly Rent"),
    }
    report = ImportReport(file="list.csv", kind="leases")
    row = SourceRow(7, {"Lessor": None, "Lease No": None, "Monthly Rent": None, **cells})
    lease = read_lease_row(row, columns, {}, report)
    assert [item.reason for item in report.skipped] == ([skipped_as] if skipped_as else [])
    assert (lease is None) == (skipped_as is not None)


@pytest.mark.parametrize(
    ("cells", "payments", "problem"),
    [
        (
            {"Annual Rent": "$120,000.00", "Frequency": "monthly"},
            [{"periods": 24, "amount": "10000.00"}],
            None,
        ),
        (
            {"Annual Rent": "$100,000.00", "Frequency": "monthly"},
            None,
            ("annual_rent", "100,000.00 per year is not a whole number of cents per monthly"),
        ),
        (
            {"Annual Rent": "$120,000.00"},
            None,
            ("payment_frequency", "is required to read an annual rent"),
        ),
        (
            {"Monthly Rent": "$10,000.00", "Annual Rent": "$121,200.00"},
            None,
            ("annual_rent", "gives 10,100.00 per monthly payment but monthly_rent gives 10,000.00"),
        ),
        (
            {"Monthly Rent": "$10,000.00", "Annual Rent": "$120,000.00"},
            [{"periods": 24, "amount": "10000.00"}],
            None,
        ),
    ],
)
def test_rent_becomes_one_payment_step_only_when_it_converts_to_whole_cents(
    cells: dict[str, object],
    payments: list[dict[str, object]] | None,
    problem: tuple[str, str] | None,
) -> None:
    columns = {
        target: ColumnSource.column(name)
        for target, name in {
            "lease_number": "Lease No",
            "term_months": "Term",
            "payment_frequency": "Frequency",
            "monthly_rent": "Monthly Rent",
            "annual_rent": "Annual Rent",
        }.items()
    }
    row = SourceRow(3, {"Lease No": "R-1", "Term": "24", **cells})
    lease = read_lease_row(row, columns, {}, ImportReport(file="rents.csv", kind="leases"))
    assert lease is not None
    assert lease.data.get("payments") == payments
    if problem is None:
        assert lease.problems == []
    else:
        assert len(lease.problems) == 1
        assert lease.problems[0][0] == problem[0] and problem[1] in lease.problems[0][1]
