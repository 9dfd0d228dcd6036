"""The KPI exports (CSV, XLSX, JSON; CLI and /kpi/export) and `kpi snapshot`, on real PostGIS:
each file opens with its ordinary reader and agrees with `compute_kpis` row for row."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.database import session_factory
from cli.main import cli
from registry.db import unit_of_work
from registry.kpis import EXPORT_COLUMNS
from registry.kpis import KPI_DEFINITIONS
from registry.kpis import KpiValue
from registry.kpis import compute_kpis
from registry.models import Building
from registry.models import KpiSnapshot
from registry.models import Occupancy
from registry.models import OmCost
from tests.auth_fixtures import SignedInClient
from tests.builders import department
from tests.builders import parcel
from tests.builders import square

AS_OF = dt.date(2026, 3, 31)
QUERY = "period=FY2026&as_of=2026-03-31"


@pytest.fixture
def kpi_app(app: Flask) -> Flask:
    """Two parcels, one office building with occupancy and FY2026 costs, and a paper parcel:
    enough for values, breakdowns and KPIs without data (leases, disposals)."""
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        gsd = department("GSD", "General Services")
        p1 = parcel(
            "1111-001-001",
            department=gsd,
            council_district=1,
            asset_type="office",
            use="Office",
            geometry=square(-118.25),
            digitization_status="digitized",
        )
        p2 = parcel(
            "1111-001-002",
            department=gsd,
            council_district=2,
            asset_type="library",
            geometry=None,
            status="no_current_use",
        )
        b1 = Building(
            building_id="B1",
            parcel=p1,
            asset_type="office",
            gross_sq_ft=12_000,
            usable_sq_ft=10_000,
            replacement_value=Decimal(5_000_000),
            repair_needs=Decimal(500_000),
        )
        session.add_all([gsd, p1, p2, b1])
        session.flush()
        session.add_all(
            [
                Occupancy(
                    building_id=b1.id,
                    department_id=gsd.id,
                    period_start=dt.date(2025, 7, 1),
                    headcount=45,
                    usable_sq_ft_occupied=10_000,
                ),
                OmCost(
                    building_id=b1.id,
                    fiscal_year=2026,
                    category="operations",
                    amount=Decimal("120000.10"),
                ),
            ]
        )
    return app


def engine_values(app: Flask, as_of: dt.date = AS_OF) -> list[KpiValue]:
    with app.app_context(), session_factory()() as session:
        return compute_kpis(session, "FY2026", as_of)


def as_text(value: Any) -> str:
    """How a KpiValue cell is written in CSV and JSON."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def test_csv_agrees_with_the_engine(kpi_app: Flask, finance_client: SignedInClient) -> None:
    response = finance_client.get(f"/kpi/export?format=csv&{QUERY}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    reader = csv.reader(io.StringIO(response.get_data(as_text=True)))
    header, *rows = list(reader)
    assert tuple(header) == EXPORT_COLUMNS
    values = engine_values(kpi_app)
    assert rows == [[as_text(getattr(v, name)) for name in EXPORT_COLUMNS] for v in values]
    # families and breakdowns all present; a KPI without data is empty with a reason
    assert {row[0] for row in rows} >= {"DIG-1", "UTL-2", "CST-1"}
    assert {row[4] for row in rows} >= {"city", "department", "council_district", "asset_type"}
    empty = [row for row in rows if row[6] == ""]
    assert empty and all(row[12] for row in empty)
    utl3 = next(row for row in rows if row[0] == "UTL-3" and row[4] == "city")
    assert (utl3[6], utl3[8], utl3[9]) == ("222.22", "10000", "45")  # 10,000 USF ÷ 45 people


def test_json_agrees_with_the_engine_and_carries_the_definitions(
    kpi_app: Flask, finance_client: SignedInClient
) -> None:
    response = finance_client.get(f"/kpi/export?format=json&{QUERY}")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = json.loads(response.data)
    metadata = document["metadata"]
    assert metadata["definitions"] == [dataclasses.asdict(d) for d in KPI_DEFINITIONS]
    assert metadata["columns"] == list(EXPORT_COLUMNS)
    assert metadata["period"] == "FY2026" and metadata["as_of"] == "2026-03-31"
    assert metadata["kpi_set_version"] == 1
    expected = [
        {
            name: (None if getattr(v, name) is None else as_text(getattr(v, name)))
            for name in EXPORT_COLUMNS
        }
        for v in engine_values(kpi_app)
    ]
    assert document["rows"] == expected
    assert all(isinstance(row["value"], str | None) for row in document["rows"])


def test_xlsx_agrees_with_the_engine_and_defines_the_kpi_set(
    kpi_app: Flask, finance_client: SignedInClient
) -> None:
    response = finance_client.get(f"/kpi/export?format=xlsx&{QUERY}")
    assert response.status_code == 200
    assert "kpis-FY2026-2026-03-31.xlsx" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["KPIs", "Definitions"]
    header, *rows = list(book["KPIs"].iter_rows(values_only=True))
    assert header == EXPORT_COLUMNS
    values = engine_values(kpi_app)
    assert len(rows) == len(values)
    for row, value in zip(rows, values, strict=True):
        got = dict(zip(EXPORT_COLUMNS, row, strict=True))
        for name in ("value", "numerator", "denominator", "target"):
            expected = getattr(value, name)
            if expected is None:
                assert got[name] is None, (value, name)
            else:  # a number cell, equal to the engine's exact figure
                assert isinstance(got[name], int | float), (value, name)
                assert Decimal(str(got[name])) == expected, (value, name)
        assert got["as_of"].date() == AS_OF
        for name in (
            "kpi_id",
            "kpi_name",
            "period",
            "breakdown",
            "breakdown_value",
            "unit",
            "status",
            "note",
        ):
            assert got[name] == getattr(value, name), (value, name)
    definitions = list(book["Definitions"].iter_rows(values_only=True))
    assert definitions[0] == ("id", "name", "definition", "unit", "better")
    assert definitions[1:] == [dataclasses.astuple(d) for d in KPI_DEFINITIONS]


def test_an_empty_registry_exports_reasons_not_zeros(
    app: Flask, finance_client: SignedInClient
) -> None:
    rows = json.loads(finance_client.get(f"/kpi/export?format=json&{QUERY}").data)["rows"]
    dig1 = next(row for row in rows if row["kpi_id"] == "DIG-1")
    assert dig1["value"] is None and dig1["note"]


def test_viewers_and_anonymous_cannot_export(
    kpi_app: Flask, viewer_client: SignedInClient, client: FlaskClient
) -> None:
    for export_format in ("csv", "xlsx", "json"):
        url = f"/kpi/export?format={export_format}&{QUERY}"
        assert viewer_client.get(url).status_code == 403
        assert client.get(url, headers={"Accept": "application/json"}).status_code == 401


@pytest.mark.parametrize("query", ["format=pdf", "period=2026x", "as_of=31/03/2026"])
def test_bad_requests_are_refused(kpi_app: Flask, admin_client: SignedInClient, query: str) -> None:
    assert admin_client.get(f"/kpi/export?{query}").status_code == 400


def test_cli_export_writes_what_the_endpoint_serves(
    kpi_app: Flask, finance_client: SignedInClient, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {"DATABASE_URL": kpi_app.config["DATABASE_URL"]}
    for export_format in ("csv", "json", "xlsx"):
        target = tmp_path / f"kpis.{export_format}"
        result = runner.invoke(
            cli,
            [
                "export",
                "kpi",
                "-f",
                export_format,
                "-o",
                str(target),
                "--period",
                "FY2026",
                "--as-of",
                "2026-03-31",
            ],
            env=env,
        )
        assert result.exit_code == 0, result.output
        assert result.output.startswith("FY2026: ")
        if export_format != "xlsx":  # an XLSX zip carries its own timestamps
            served = finance_client.get(f"/kpi/export?format={export_format}&{QUERY}")
            assert target.read_bytes() == served.data
    assert openpyxl.load_workbook(tmp_path / "kpis.xlsx").sheetnames == ["KPIs", "Definitions"]
    usage = runner.invoke(
        cli, ["export", "kpi", "-o", str(tmp_path / "x.csv"), "--period", "2026"], env=env
    )
    assert usage.exit_code == 2, usage.output


def test_snapshots_store_the_engines_values_and_are_never_rewritten(kpi_app: Flask) -> None:
    runner = CliRunner()
    env = {"DATABASE_URL": kpi_app.config["DATABASE_URL"]}
    first = runner.invoke(cli, ["kpi", "snapshot", "--as-of", "2026-03-31"], env=env)
    assert first.exit_code == 0, first.output
    values = engine_values(kpi_app)
    assert f"{len(values)} values stored" in first.output
    again = runner.invoke(cli, ["kpi", "snapshot", "--as-of", "2026-03-31"], env=env)
    assert again.exit_code == 0 and "skipped" in again.output
    later = runner.invoke(cli, ["kpi", "snapshot", "--as-of", "2026-04-30"], env=env)
    assert later.exit_code == 0 and "values stored" in later.output
    with kpi_app.app_context(), session_factory()() as session:
        stored = session.scalars(
            select(KpiSnapshot).where(KpiSnapshot.as_of == AS_OF).order_by(KpiSnapshot.id)
        ).all()
        assert [
            (
                s.kpi_id,
                s.breakdown,
                s.breakdown_value,
                s.value,
                s.numerator,
                s.denominator,
                s.unit,
                s.note,
                s.period,
            )
            for s in stored
        ] == [
            (
                v.kpi_id,
                v.breakdown,
                v.breakdown_value,
                v.value,
                v.numerator,
                v.denominator,
                v.unit,
                v.note,
                v.period,
            )
            for v in values
        ]
        dates = session.scalars(select(func.count(func.distinct(KpiSnapshot.as_of)))).one()
        assert dates == 2
        with pytest.raises(DBAPIError):
            session.execute(text("UPDATE kpi_snapshots SET value = 0"))
