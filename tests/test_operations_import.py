"""`asset-registry import occupancy|costs` with sheets as facilities and finance keep them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from click.testing import Result
from openpyxl import Workbook
from sqlalchemy import Engine
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from cli.main import cli
from registry.db import create_registry_engine
from registry.db import unit_of_work
from registry.imports.cells import normalise_cell
from tests.operations_fixtures import OTHER_PARCEL
from tests.operations_fixtures import PARCEL
from tests.operations_fixtures import TOWER
from tests.operations_fixtures import YARD
from tests.operations_fixtures import seed_operations_places

# A title, a blank line, headers as finance writes them, FY in three spellings, $ amounts,
# a repeated header (page break), a section heading, bad rows and a total.
MESSY_COSTS = f"""City of Example - O&M Costs by Facility
Prepared 2026-10-01

APN,Bldg,FY,Cost Type,Cost,Remarks
{PARCEL},,FY2025,Utilities,"$84,210.50",Electricity and water
{PARCEL},{TOWER},2024-25,Custodial,"12,000",
APN,Bldg,FY,Cost Type,Cost,Remarks
Parks yards
{OTHER_PARCEL},{YARD},FY 25,security,3000.00,
5555-012-043,,2025,utilities,100,typo in the APN
{PARCEL},,1850,lunch,12.345,
{PARCEL},{YARD},2025,capital,-5,
Total,,,,"$99,210.50",
"""

MESSY_OCCUPANCY = f"""Building occupancy (space plan)
Bldg,Dept,Move-in date,Move-out date,Staff,USF
{TOWER},General Services,7/1/2024,6/30/2025,120,"30,000"
{TOWER},RAP,2025-07-01,,15,2500
{YARD},GSD,7/1/2024,,4,6000
{TOWER},Genral Services,2024-07-01,2024-01-01,-1,10
"""


@pytest.fixture
def engine(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    engine = create_registry_engine(fresh_database_url)
    with unit_of_work(sessionmaker(engine), "test-setup") as session:
        seed_operations_places(session)
    yield engine
    engine.dispose()


def _import(kind: str, *args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["import", kind, *map(str, args)])


def _write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar_one())


def test_a_messy_cost_sheet_is_rejected_whole_with_every_problem(
    engine: Engine,
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, "costs.csv", MESSY_COSTS)
    report_path = tmp_path / "report.json"
    result = _import("costs", path, "--report", report_path)
    assert result.exit_code == 1, result.output
    assert "nothing written: 3 rows have problems" in result.output
    assert (
        f"{path}:row 10 cost 5555-012-043 FY2025 utilities field parcel_id: there is no "
        "parcel '5555-012-043' in the registry; did you mean '5555-012-03" in result.output
    )
    assert "[column 'APN']" in result.output
    report = json.loads(report_path.read_text())
    found = {(p["row"], p["field"]) for p in report["problems"]}
    assert found == {
        (10, "parcel_id"),
        (11, "fiscal_year"),
        (11, "category"),
        (11, "amount"),
        (12, "building_id"),
        (12, "amount"),
    }
    assert report["counts"]["skipped_by_reason"] == {"repeated header": 1, "heading": 1, "total": 1}
    assert report["header_row"] == 4 and report["columns"]["amount"] == "Cost"
    assert _count(engine, "SELECT count(*) FROM om_costs") == 0
    assert _count(engine, "SELECT count(*) FROM audit_events WHERE table_name = 'om_costs'") == 0


def test_skip_invalid_loads_the_good_rows_and_a_reimport_changes_nothing(
    engine: Engine,
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, "costs.csv", MESSY_COSTS)
    assert _import("costs", path, "--dry-run", "--skip-invalid").exit_code == 1
    assert _count(engine, "SELECT count(*) FROM om_costs") == 0
    first = _import("costs", path, "--skip-invalid")
    assert first.exit_code == 1 and "costs: 3 inserted, 0 updated, 0 unchanged" in first.output
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT fiscal_year, category, amount::text, note FROM om_costs ORDER BY id")
        ).all()
    assert [tuple(row) for row in rows] == [
        (2025, "utilities", "84210.50", "Electricity and water"),
        (2025, "janitorial", "12000.00", None),
        (2025, "security", "3000.00", None),
    ]
    events = _count(engine, "SELECT count(*) FROM audit_events")
    again = _import("costs", path, "--skip-invalid")
    assert "costs: 0 inserted, 0 updated, 3 unchanged" in again.output
    assert _count(engine, "SELECT count(*) FROM audit_events") == events
    assert _count(engine, "SELECT count(*) FROM om_costs") == 3
    actor = _count(engine, "SELECT count(*) FROM audit_events WHERE actor = 'import:costs.csv'")
    assert actor == 3
    changed = _write(tmp_path, "costs.csv", MESSY_COSTS.replace('"$84,210.50"', "90000"))
    assert "1 updated, 2 unchanged" in _import("costs", changed, "--skip-invalid").output


def test_an_occupancy_xlsx_with_a_map_and_its_problems(engine: Engine, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for line in MESSY_OCCUPANCY.splitlines():
        sheet.append([cell.strip('"') for cell in line.replace('"30,000"', "30000").split(",")])
    sheet.append([TOWER, "GSD", "2023-01-01", "", 5, 100, "annex wing"])
    path = tmp_path / "space.xlsx"
    workbook.save(path)
    rejected = _import("occupancy", path)
    assert rejected.exit_code == 1
    assert (
        "usable_sq_ft_occupied: 6,000 sq ft is more than the building's usable 5,000"
        in rejected.output
    )
    assert (
        "field department_code: there is no department 'Genral Services'; did you mean "
        "'General Services'?" in rejected.output
    )
    assert "row 6 occupancy" in rejected.output and "field period_end" in rejected.output
    loaded = _import("occupancy", path, "--skip-invalid", "--map", "headcount=Staff")
    assert "occupancy: 3 inserted" in loaded.output, loaded.output
    assert _count(engine, "SELECT sum(headcount) FROM occupancy") == 140
    again = _import("occupancy", path, "--skip-invalid")
    assert "0 inserted, 0 updated, 3 unchanged" in again.output


def test_usage_errors_exit_2(engine: Engine, tmp_path: Path) -> None:
    path = _write(tmp_path, "costs.csv", MESSY_COSTS)
    assert _import("costs", path, "--map", "colour=APN").exit_code == 2
    assert _import("costs", path, "--map", "amount=Nope").exit_code == 2
    no_amount = _import("costs", path, "--map", "amount=")
    assert no_amount.exit_code == 2 and "no column for amount" in no_amount.output
    assert _import("costs", _write(tmp_path, "x.doc", "hello")).exit_code == 2


def test_the_same_record_twice_in_a_file_is_refused_on_both_rows(
    engine: Engine,
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        "twice.csv",
        f"parcel_id,fiscal_year,category,amount\n"
        f"{PARCEL},2025,utilities,1\n{PARCEL},FY2025,Utilities,2\n",
    )
    result = _import("costs", path)
    assert result.exit_code == 1 and "appears 2 times in this file (rows 2, 3)" in result.output


@pytest.mark.parametrize(
    ("target", "cell", "expected"),
    [
        ("fiscal_year", "FY2025", 2025),
        ("fiscal_year", "2024-25", 2025),
        ("fiscal_year", "2024/2025", 2025),
        ("fiscal_year", "FY26", 2026),
        ("fiscal_year", 2025.0, 2025),
        ("fiscal_year", "2024-26", "2024-26"),
        ("amount", "$1,200.5", "1200.5"),
        ("amount", "(300)", "-300"),
        ("headcount", "12", 12),
        ("headcount", "12.5", "12.5"),
        ("period_start", "3/1/2025", "2025-03-01"),
        ("period_start", "TBD", "TBD"),
        ("category", "Custodial", "janitorial"),
        ("category", "R&M", "R&M"),
    ],
)
def test_cells_are_normalised_not_guessed(target: str, cell: object, expected: object) -> None:
    kind = "occupancy" if target in {"headcount", "period_start"} else "costs"
    assert normalise_cell(kind, target, cell) == (expected, None)


SUMMIT = "SUMMIT-01"  # a building id that starts like the totals word "sum"


@pytest.fixture
def summit(engine: Engine) -> str:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO buildings (building_id, parcel_id, name, usable_sq_ft) "
                "SELECT :b, id, 'Summit', 10000 FROM parcels WHERE parcel_id = :p"
            ),
            {"b": SUMMIT, "p": PARCEL},
        )
    return SUMMIT


@pytest.mark.parametrize(
    ("kind", "content", "table"),
    [
        (
            "costs",
            f"Bldg,FY,Cost Type,Cost\n{SUMMIT},FY2025,Utilities,1200\n"
            f"{TOWER},FY2025,Utilities,800\nTotal,,,2000\n",
            "om_costs",
        ),
        (
            "occupancy",
            f"Bldg,Dept,Move-in date,Staff,USF\n{SUMMIT},GSD,7/1/2024,10,2000\n"
            f"{TOWER},RAP,7/1/2024,5,1000\nSubtotal,,,15,3000\n",
            "occupancy",
        ),
    ],
)
def test_a_real_row_whose_first_cell_starts_like_a_totals_word_is_imported(
    engine: Engine,
    summit: str,
    tmp_path: Path,
    kind: str,
    content: str,
    table: str,
) -> None:
    """SUMMIT-01 begins with "sum" but is a building: only a real totals row is skipped."""
    path = _write(tmp_path, f"{kind}.csv", content)
    report_path = tmp_path / "report.json"
    result = _import(kind, path, "--report", report_path)
    assert result.exit_code == 0, result.output
    assert f"{kind}: 2 inserted, 0 updated, 0 unchanged" in result.output
    report = json.loads(report_path.read_text())
    assert report["counts"]["skipped_by_reason"] == {"total": 1}
    assert [item["row"] for item in report["skipped"]] == [4]
    assert (
        _count(
            engine,
            f"SELECT count(*) FROM {table} t JOIN buildings b "
            f"ON b.id = t.building_id WHERE b.building_id = '{SUMMIT}'",
        )
        == 1
    )
