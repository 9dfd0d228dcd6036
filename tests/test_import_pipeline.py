"""One import pipeline for parcels, leases, occupancy and costs: one column resolver, one `--map`
and `--default`, one set of cell readers, one row detector, one report, every run a batch."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from click.testing import Result

from cli.main import cli
from registry.imports.cells import is_blank
from registry.imports.cells import normalise_cell
from registry.imports.cells import parse_date
from registry.imports.columns import MappingError
from registry.imports.columns import resolve_columns
from registry.imports.rows import skip_reason
from tests.sql import query


def _import(kind: str, *args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["import", kind, *map(str, args)])


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def _columns(
    kind: str, headers: list[str], mapping: dict[str, str] | None = None
) -> dict[str, str]:
    return {
        target: source.label
        for target, source in resolve_columns(kind, headers, mapping or {}).items()
    }


@pytest.mark.parametrize(
    ("kind", "headers", "expected"),
    [
        (
            "parcels",
            ["APN", "SITE_ADDR", "Dept", "Acq Date"],
            {
                "parcel_id": "APN",
                "address": "SITE_ADDR",
                "department_code": "Dept",
                "acquisition_date": "Acq Date",
            },
        ),
        (
            "leases",
            ["Lease No.", "Lessor/Lessee", "Start", "Expiration", "Monthly Rent"],
            {
                "lease_number": "Lease No.",
                "counterparty": "Lessor/Lessee",
                "commencement_date": "Start",
                "end_date": "Expiration",
                "monthly_rent": "Monthly Rent",
            },
        ),
        (
            "occupancy",
            ["Bldg", "Dept", "Move-in date", "Staff", "USF"],
            {
                "building_id": "Bldg",
                "department_code": "Dept",
                "period_start": "Move-in date",
                "headcount": "Staff",
                "usable_sq_ft_occupied": "USF",
            },
        ),
        (
            "costs",
            ["APN", "Bldg", "FY", "Cost Type", "Cost"],
            {
                "parcel_id": "APN",
                "building_id": "Bldg",
                "fiscal_year": "FY",
                "category": "Cost Type",
                "amount": "Cost",
            },
        ),
        # a Shapefile's DBF cuts names to ten characters, spaces and punctuation made `_`
        (
            "leases",
            ["No_", "Non_Profit", "Address", "Council_Di", "Dept", "Lease_Star", "Lease_Exp_"],
            {
                "lease_number": "No_",
                "counterparty": "Non_Profit",
                "premises": "Address",
                "department_code": "Dept",
                "commencement_date": "Lease_Star",
                "end_date": "Lease_Exp_",
            },
        ),
        (
            "parcels",
            ["PARCEL_NUM", "SITUS_ADDR", "OWNING_DEP", "DIGITIZATI"],
            {
                "parcel_id": "PARCEL_NUM",
                "address": "SITUS_ADDR",
                "department_code": "OWNING_DEP",
                "digitization_status": "DIGITIZATI",
            },
        ),
        (
            "occupancy",
            ["building_n", "occupying_", "move_in_da", "head_count", "usable_sq_"],
            {
                "building_id": "building_n",
                "department_code": "occupying_",
                "period_start": "move_in_da",
                "headcount": "head_count",
                "usable_sq_ft_occupied": "usable_sq_",
            },
        ),
        (
            "costs",
            ["facility_i", "budget_yea", "expense_ca", "expenditur"],
            {
                "building_id": "facility_i",
                "fiscal_year": "budget_yea",
                "category": "expense_ca",
                "amount": "expenditur",
            },
        ),
    ],
)
def test_one_resolver_knows_each_kinds_names_and_their_dbf_forms(
    kind: str, headers: list[str], expected: dict[str, str]
) -> None:
    assert _columns(kind, headers) == expected


def test_the_better_name_wins_whatever_the_column_order() -> None:
    assert _columns("leases", ["Lease", "Lease No", "Tenant"])["lease_number"] == "Lease No"
    assert _columns("parcels", ["PARCEL", "APN"])["parcel_id"] == "APN"


def test_map_names_a_column_like_a_header_composes_and_ignores() -> None:
    headers = ["HOUSE_NO", "DIR", "STREET", "Site Address"]
    columns = resolve_columns(
        "parcels",
        headers,
        {"address": "{house no} {DIR} {Street}", "use": "site_address", "status": ""},
    )
    assert columns["address"].columns == ("HOUSE_NO", "DIR", "STREET")
    assert (
        columns["address"].value({"HOUSE_NO": "100", "DIR": "NULL", "STREET": " Main St"})
        == "100 Main St"
    )  # a blank part takes its surrounding spaces with it
    assert columns["use"].label == "Site Address"
    with pytest.raises(MappingError, match=r"no column 'UNIT'; its columns: HOUSE_NO, DIR"):
        resolve_columns("parcels", headers, {"address": "{HOUSE_NO} {UNIT}"})
    with pytest.raises(MappingError, match="unknown target 'colour'"):
        resolve_columns("costs", headers, {"colour": "DIR"})


@pytest.mark.parametrize("cell", [None, "", "  ", "NULL", "null", "N/A", "#N/A", float("nan")])
def test_null_and_n_a_literals_are_blank(cell: object) -> None:
    assert is_blank(cell)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1962-11-03", "1962-11-03"),
        ("1962-11-03 00:00:00", "1962-11-03"),
        ("3/15/1998", "1998-03-15"),
        ("03/15/1998", "1998-03-15"),
        ("Jan 5, 2020", "2020-01-05"),
        ("1962-11-03 10:30:00", None),
        ("unknown", None),
        ("15/3/1998", None),
    ],
)
def test_one_date_reader(cell: str, expected: str | None) -> None:
    parsed = parse_date(cell)
    assert (parsed.isoformat() if parsed else None) == expected


@pytest.mark.parametrize(
    ("kind", "target", "cell", "expected"),
    [
        ("leases", "monthly_rent", "$1,289.60", "1289.60"),
        ("costs", "amount", "$1,289.60", "1289.60"),
        ("leases", "leased_area_sq_ft", "1,289.6", "1289.6"),
        ("occupancy", "usable_sq_ft_occupied", "30,000", 30000),
        ("leases", "discount_rate", "0.89%", "0.0089"),
        ("leases", "term_months", "10 years", 120),
        ("leases", "end_date", "2024-06-30 00:00:00", "2024-06-30"),
        ("occupancy", "period_start", "7/1/2024", "2024-07-01"),
    ],
)
def test_one_set_of_cell_readers(kind: str, target: str, cell: str, expected: object) -> None:
    assert normalise_cell(kind, target, cell) == (expected, None)


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ([("Bldg", "SUMMIT-01"), ("FY", "2025"), ("Cost", "10")], None),
        ([("Bldg", "SUMMIT-01")], None),  # a lone id: a record that lacks the rest
        ([("Bldg", "Summary of costs")], "heading"),
        ([("Bldg", "Total"), ("Cost", "10")], "total"),
        ([("Bldg", "TOTAL: 112 leases"), ("FY", None)], "total"),
        ([("Bldg", "Grand Total"), ("Cost", "10")], "total"),
        ([("Bldg", None), ("FY", "NULL")], "blank"),
        ([("Note", "Total Fitness"), ("Bldg", "B-1"), ("Cost", "10")], None),
    ],
)
def test_one_detector_of_blank_heading_and_totals_rows(
    cells: list[tuple[str, object]], reason: str | None
) -> None:
    assert skip_reason(cells, {"Bldg", "FY"}) == reason
    assert skip_reason(cells, {"Bldg", "FY"}, has_shape=True) is None


def _report(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def test_parcels_take_a_composed_address_a_default_and_skip_blank_and_total_rows(
    database: str, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path / "roll.csv",
        ["AIN", "HOUSE", "DIR", "STREET", "USE"],
        [
            ["5555-001-001", "100", "N", "Main St", "Office"],
            ["", "", "", "", ""],
            ["5555-001-002", "200", "NULL", "Spring St", "NULL"],
            ["TOTAL", "2", "", "", ""],
        ],
    )
    out = tmp_path / "report.json"
    result = _import(
        "parcels",
        path,
        "--map",
        "parcel_id=AIN",
        "--map",
        "address={HOUSE} {DIR} {STREET}",
        "--default",
        "department_code=GSD",
        "--report",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "parcels: 2 inserted, 0 updated, 0 unchanged" in result.output
    assert query(
        database,
        "SELECT p.parcel_id, p.address, p.use, d.code FROM parcels p "
        "JOIN departments d ON d.id = p.department_id "
        "ORDER BY p.parcel_id",
    ) == [
        ("5555-001-001", "100 N Main St", "Office", "GSD"),
        ("5555-001-002", "200 Spring St", None, "GSD"),
    ]
    report = _report(out)
    assert report["outcome"] == "imported" and report["written"] is True
    assert report["counts"]["skipped_by_reason"] == {"blank": 1, "total": 1}
    assert [(s["row"], s["reason"]) for s in report["skipped"]] == [(2, "blank"), (4, "total")]
    assert report["columns"]["address"] == "{HOUSE} {DIR} {STREET}"
    (options,) = query(database, "SELECT options FROM import_batches")[0]
    assert options["defaults"] == {"department_code": "GSD"}


def test_a_map_naming_a_missing_column_is_a_usage_error_for_every_importer(
    database: str, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path / "list.csv",
        ["APN", "Lease No", "Bldg", "FY", "Cost Type", "Cost"],
        [["5555-001-001", "L-1", "B-1", "2025", "utilities", "1"]],
    )
    for kind, target in (
        ("parcels", "address"),
        ("leases", "premises"),
        ("costs", "note"),
        ("occupancy", "period_end"),
    ):
        result = _import(kind, path, "--map", f"{target}={{APN}} {{Suite}}")
        assert result.exit_code == 2, (kind, result.output)
        assert "no column 'Suite'; its columns: APN, Lease No, Bldg" in result.output
    refused = _import("parcels", path, "--default", "parcel_id=1")
    assert refused.exit_code == 2 and "'parcel_id' cannot have a default" in refused.output


@pytest.fixture
def places(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Departments, parcels and buildings for the lease, occupancy and cost imports."""
    from sqlalchemy.orm import sessionmaker

    from registry.db import create_registry_engine
    from registry.db import unit_of_work
    from tests.operations_fixtures import seed_operations_places

    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    engine = create_registry_engine(fresh_database_url)
    with unit_of_work(sessionmaker(engine), "test-setup") as session:
        seed_operations_places(session)
    engine.dispose()
    return fresh_database_url


def test_leases_take_a_composed_premises_and_defaults(places: str, tmp_path: Path) -> None:
    path = _csv(tmp_path / "leases.csv",
                ["Lease No", "Tenant", "Street", "Unit", "Start", "Term", "Monthly Rent"], [
        ["C-1", "Cafe", "200 N Spring St", "Suite 100", "7/1/2024", "12", "$1,000.00"],
        ["C-2", "Kiosk", "1 Main St", "NULL", "2024-07-01 00:00:00", "12", "$500.00"],
    ])  # fmt: skip
    result = _import(
        "leases",
        path,
        "--map",
        "premises={Street} {Unit}",
        "--default",
        "direction=out",
        "--default",
        "payment_timing=advance",
        "--default",
        "discount_rate=4%",
        "--default",
        "department_code=RAP",
    )
    assert result.exit_code == 0, result.output
    assert query(
        places,
        "SELECT l.lease_number, l.premises, l.commencement_date::text, d.code "
        "FROM leases l JOIN departments d ON d.id = l.department_id "
        "ORDER BY 1",
    ) == [
        ("C-1", "200 N Spring St Suite 100", "2024-07-01", "RAP"),
        ("C-2", "1 Main St", "2024-07-01", "RAP"),
    ]


def test_leases_occupancy_and_costs_are_kept_as_batches_with_their_problems(
    places: str, tmp_path: Path
) -> None:
    from tests.operations_fixtures import PARCEL
    from tests.operations_fixtures import TOWER

    costs = _csv(
        tmp_path / "costs.csv",
        ["APN", "FY", "Cost Type", "Cost"],
        [[PARCEL, "FY2025", "Utilities", "100"], [PARCEL, "1850", "lunch", "x"]],
    )
    occupancy = _csv(
        tmp_path / "space.csv",
        ["Bldg", "Dept", "Start", "Staff", "USF"],
        [[TOWER, "GSD", "7/1/2024", "10", "1000"]],
    )
    leases = _csv(
        tmp_path / "leases.csv",
        ["Lease No", "Tenant", "Start", "End"],
        [["L-1", "Cafe", "7/1/2024", "6/30/2023"]],
    )  # an end before the start refuses it
    assert _import("costs", costs).exit_code == 1
    assert _import("costs", costs, "--skip-invalid").exit_code == 1
    assert _import("occupancy", occupancy, "--dry-run").exit_code == 0
    assert _import("occupancy", occupancy).exit_code == 0
    assert _import("occupancy", occupancy).exit_code == 0
    assert _import("leases", leases, "--default", "direction=in").exit_code == 1
    batches = query(
        places,
        "SELECT b.kind, b.source_name, b.outcome, b.counts->>'problems', "
        "count(p.id) FROM import_batches b "
        "LEFT JOIN import_problems p ON p.batch_id = b.id "
        "GROUP BY b.id ORDER BY b.id",
    )
    assert [tuple(row) for row in batches] == [
        ("costs", "costs.csv", "rejected", "3", 3),
        ("costs", "costs.csv", "imported_with_skips", "3", 3),
        ("occupancy", "space.csv", "dry_run", "0", 0),
        ("occupancy", "space.csv", "imported", "0", 0),
        ("occupancy", "space.csv", "unchanged", "0", 0),  # wrote nothing: never "imported"
        ("leases", "leases.csv", "rejected", "1", 1),
    ]
    problem, _ = query(
        places,
        "SELECT row_number, record_id, field, details FROM "
        "import_problems WHERE field = 'amount' ORDER BY id",
    )
    assert problem == (3, f"{PARCEL} FY1850 lunch", "amount", {"value": "x", "column": "Cost"})


def test_skip_invalid_with_no_valid_row_writes_nothing_and_is_rejected(
    places: str, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path / "costs.csv",
        ["APN", "FY", "Cost Type", "Cost"],
        [["5555-012-099", "FY2025", "Utilities", "100"]],
    )
    result = _import("costs", path, "--skip-invalid")
    assert result.exit_code == 1
    assert "(costs): rejected" in result.output and "nothing written" in result.output
    assert "imported" not in result.output


def test_the_json_report_holds_every_problem_however_many(database: str, tmp_path: Path) -> None:
    count = 10_050
    path = _csv(
        tmp_path / "big.csv",
        ["APN", "SITE_ADDR", "DEPT"],
        [[f"5555-{n // 1000:03d}-{n % 1000:03d}X", f"{n} Main St", "GSD"] for n in range(count)],
    )
    out = tmp_path / "report.json"
    result = _import("parcels", path, "--report", out)
    assert result.exit_code == 1
    assert f"... and {count - 20:,} more (see --report)" in result.output
    report = _report(out)
    assert report["problem_count"] == report["counts"]["problems"] == count
    assert len(report["problems"]) == count
    assert {p["field"] for p in report["problems"]} == {"parcel_id"}
    assert report["problems"][-1]["row"] == count
