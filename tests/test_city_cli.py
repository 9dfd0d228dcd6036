"""`asset-registry city …`, `departments …` and `districts import` through click's runner: a city
that is not Los Angeles described from the shell, every change audited under `--actor`, exit
codes 0 (done), 1 (refused, nothing written) and 2 (usage)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from click.testing import Result

from cli.main import cli
from tests.city_fixtures import PORTLAND
from tests.sql import execute
from tests.sql import query
from tests.sql import scalar


@pytest.fixture
def database(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    for name in (
        "REGISTRY_CITY_EXTENT",
        "REGISTRY_PARCEL_ID_PATTERN",
        "REGISTRY_FISCAL_YEAR_START_MONTH",
    ):
        monkeypatch.delenv(name, raising=False)
    return fresh_database_url


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_new_city_is_described_from_the_shell(database: str) -> None:
    ok("city", "set", "--name", "Portland", "--fiscal-year-start", "7", "--actor", "clerk")
    boundary = ok("city", "boundary", "import", str(PORTLAND / "boundary.geojson"))
    assert "extent -70.2724,43.6496,-70.2477,43.6705" in boundary
    ok("city", "id-format", "remove", "LA County APN")
    ok(
        "city",
        "id-format",
        "add",
        "Map-Lot",
        "--example",
        "127-123",
        "--example",
        "268B-41",
        "--example",
        "267E-17",
        "--pattern",
        r"^\d{3}[A-E]?-\d+$",
    )
    ok("city", "placeholder", "add", "000-000")
    ok("city", "placeholder", "add", "UNKNOWN")
    imported = ok("departments", "import", str(PORTLAND / "departments.csv"))
    assert "8 added, 0 renamed, 11 aliases added" in imported
    districts = ok("districts", "import", str(PORTLAND / "districts.geojson"))
    assert "5 council districts" in districts
    shown = ok("city", "show")
    assert "name: Portland" in shown
    assert "Map-Lot, e.g. 127-123, 268B-41 or 267E-17" in shown
    assert "LA County APN" not in shown
    assert "council districts: 1 (0 parcels), 2 (0 parcels)" in shown
    listed = ok("departments", "list")
    assert "PARKS\tParks, Recreation & Facilities (also: Parks & Rec; Parks Department)" in listed
    actors = {
        row[0]
        for row in query(
            database, "SELECT DISTINCT actor FROM audit_events WHERE table_name = 'city_profile'"
        )
    }
    assert actors == {"clerk", "cli"}


def test_the_environment_overrides_what_show_prints(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_FISCAL_YEAR_START_MONTH", "10")
    monkeypatch.setenv("REGISTRY_PARCEL_ID_PATTERN", r"^P\d+$")
    shown = ok("city", "show")
    assert "fiscal year starts: October (10) (set by REGISTRY_FISCAL_YEAR_START_MONTH" in shown
    assert "the configured parcel-id format" in shown
    saved = ok("city", "set", "--fiscal-year-start", "1")
    assert "note: REGISTRY_FISCAL_YEAR_START_MONTH is set and overrides this value" in saved
    assert scalar(database, "SELECT fiscal_year_start_month FROM city_profile") == 1


def test_departments_are_added_renamed_aliased_and_merged(database: str) -> None:
    ok("departments", "add", "LAHD", "Los Angeles Housing Department")
    ok("departments", "add", "HCID", "Housing and Community Investment", "--alias", "HCIDLA")
    ok("departments", "alias", "add", "Housing Dept", "LAHD")
    execute(
        database,
        "INSERT INTO parcels (parcel_id, department_id) "
        "SELECT '5056-011-903', id FROM departments WHERE code = 'HCID'",
    )
    merged = ok("departments", "merge", "HCID", "LAHD", "--actor", "ana@city.example")
    assert "1 parcels, 0 leases, 0 occupancy records moved; 3 aliases added" in merged
    ok("departments", "rename", "LAHD", "--name", "Housing Department")
    listed = ok("departments", "list")
    assert listed == (
        "LAHD\tHousing Department (also: HCID; HCIDLA; Housing and Community "
        "Investment; Housing Dept; Los Angeles Housing Department)\n"
    )
    assert (
        scalar(
            database,
            "SELECT count(*) FROM audit_events WHERE table_name = 'parcels' "
            "AND actor = 'ana@city.example'",
        )
        == 1
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("departments", "alias", "add", "X", "NOPE"), "error: code: no department 'NOPE'"),
        (("departments", "merge", "GSD", "GSD"), "cannot merge into itself"),
        (
            ("city", "id-format", "add", "Lot", "--example", "12-3", "--pattern", r"^\d+$"),
            "error: pattern: the example 12-3 is not written in the format Lot itself",
        ),
        (("city", "id-format", "remove", "Nothing"), "error: name: there is no format Nothing"),
        (("city", "placeholder", "remove", "ZZZ"), "'ZZZ' is not a placeholder"),
    ],
)
def test_a_refused_change_exits_1_and_says_why(
    database: str, args: tuple[str, ...], says: str
) -> None:
    execute(database, "INSERT INTO departments (code, name) VALUES ('GSD', 'General Services')")
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert says in result.output


@pytest.mark.parametrize(
    "args",
    [
        ("city", "set"),
        ("city", "set", "--extent", "1,2,3"),
        ("city", "set", "--fiscal-year-start", "13"),
        ("departments", "rename", "GSD"),
        ("districts", "import", "missing.geojson"),
    ],
)
def test_usage_errors_exit_2(database: str, args: tuple[str, ...]) -> None:
    assert run(*args).exit_code == 2


def test_a_bad_departments_file_writes_nothing(database: str, tmp_path: Path) -> None:
    bad = tmp_path / "departments.csv"
    bad.write_text("code,name,aliases\nA,Alpha,\n,Nameless,\n")
    result = run("departments", "import", str(bad))
    assert result.exit_code == 1
    assert "error: row 2 code: must be 1 to 16 characters" in result.output
    assert scalar(database, "SELECT count(*) FROM departments") == 0


def test_districts_need_a_field_that_names_their_number(database: str, tmp_path: Path) -> None:
    result = run("districts", "import", str(PORTLAND / "boundary.geojson"))
    assert result.exit_code == 2
    assert "name the field with the district number (--field)" in result.output
    named = run("districts", "import", str(PORTLAND / "boundary.geojson"), "--field", "NAME")
    assert named.exit_code == 1
    assert "'Portland' is not a district number from 1 to 99" in named.output
    unsafe = tmp_path / "districts.geojson"
    unsafe.write_text('<OGRVRTDataSource><OGRVRTLayer name="x"/></OGRVRTDataSource>')
    assert run("districts", "import", str(unsafe)).exit_code == 2
    assert scalar(database, "SELECT count(*) FROM council_districts") == 0
