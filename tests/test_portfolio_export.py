"""The portfolio summary export (XLSX, CSV, GeoPackage, GeoJSON; CLI and /portfolio/export) on
real PostGIS: each file opens with its ordinary reader and its totals equal SQL counts and sums
over the same records."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pyogrio
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from app.database import session_factory
from cli.main import cli
from registry.db import unit_of_work
from registry.models import Building
from registry.models import Lease
from registry.models import Occupancy
from registry.models import OmCost
from tests.auth_fixtures import SignedInClient
from tests.builders import department
from tests.builders import parcel
from tests.builders import square

AS_OF = "2026-03-31"
D = Decimal
SUMMARY = (
    "parcels",
    "land_area_sq_ft",
    "buildings",
    "gross_sq_ft",
    "usable_sq_ft",
    "om_cost",
    "leases_in",
    "lease_cost",
    "leases_out",
    "lease_revenue",
)


def _lease(
    number: str, direction: str, parcel_pk: int, amount: str, frequency: str, periods: int
) -> Lease:
    return Lease(
        lease_number=number,
        direction=direction,
        counterparty='=HYPERLINK("x")',
        portfolio="payable" if direction == "in" else "receivable",
        parcel_id=parcel_pk,
        leased_area_sq_ft=D(5_000),
        commencement_date=dt.date(2024, 1, 1),
        term_months=60,
        max_possible_term_months=60,
        payment_frequency=frequency,
        payment_timing="advance",
        payments=[{"periods": periods, "amount": amount}],
    )


@pytest.fixture
def portfolio_app(app: Flask) -> Flask:
    """Three parcels in two departments and districts (one retired, one without a shape), two
    buildings, costs in FY2025 and FY2026, a lease in and a lease out."""
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        gsd, lapl = department("GSD", "General Services"), department("LAPL", "Library")
        p1 = parcel(
            "1111-001-001",
            department=gsd,
            council_district=1,
            asset_type="office",
            geometry=square(-118.25),
        )
        p2 = parcel(
            "1111-001-002",
            department=lapl,
            council_district=2,
            asset_type="library",
            geometry=square(-118.24, size=0.002),
            address="=1+1",
        )
        p3 = parcel("1111-001-003", department=lapl, council_district=2, geometry=None)
        gone = parcel(
            "1111-001-099",
            department=gsd,
            council_district=1,
            geometry=square(-118.23),
            retired_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        )
        b1 = Building(
            building_id="B1",
            parcel=p1,
            asset_type="office",
            gross_sq_ft=12_000,
            usable_sq_ft=10_000,
            replacement_value=D(5_000_000),
            repair_needs=D(1),
        )
        b2 = Building(building_id="B2", parcel=p2, gross_sq_ft=4_000, usable_sq_ft=3_000)
        session.add_all([gsd, lapl, p1, p2, p3, gone, b1, b2])
        session.flush()
        session.add_all(
            [
                Occupancy(
                    building_id=b1.id,
                    department_id=gsd.id,
                    period_start=dt.date(2025, 7, 1),
                    headcount=45,
                    usable_sq_ft_occupied=9_000,
                ),
                OmCost(
                    building_id=b1.id, fiscal_year=2026, category="operations", amount=D("1.10")
                ),
                OmCost(building_id=b2.id, fiscal_year=2026, category="utilities", amount=D("2.20")),
                OmCost(parcel_id=p3.id, fiscal_year=2026, category="security", amount=D("4.40")),
                OmCost(building_id=b1.id, fiscal_year=2025, category="capital", amount=D("8.80")),
                _lease("L-IN", "in", p1.id, "10000.00", "monthly", 60),
                _lease("L-OUT", "out", p2.id, "1.00", "annual", 5),
            ]
        )
    return app


def sql(app: Flask, query: str) -> Any:
    with app.app_context(), session_factory()() as session:
        return session.execute(text(query)).one()


def sheet_rows(book: Any, name: str) -> list[dict[str, Any]]:
    header, *rows = list(book[name].iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_the_workbook_totals_agree_with_sql(
    portfolio_app: Flask, finance_client: SignedInClient
) -> None:
    response = finance_client.get(f"/portfolio/export?format=xlsx&as_of={AS_OF}")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == [
        "parcels",
        "buildings",
        "leases",
        "costs by fiscal year",
        "by department",
        "by council district",
        "by asset type",
        "About",
    ]
    parcels, land, gsf, usf = sql(
        portfolio_app,
        """
        SELECT count(*), sum(land_area_sq_ft),
               (SELECT sum(gross_sq_ft) FROM buildings), (SELECT sum(usable_sq_ft) FROM buildings)
          FROM parcels WHERE retired_at IS NULL""",
    )
    rows = sheet_rows(book, "parcels")
    assert len(rows) == parcels == 3 and "1111-001-099" not in {r["parcel_id"] for r in rows}
    assert D(str(sum(r["land_area_sq_ft"] or 0 for r in rows))).quantize(D("0.1")) == land
    assert rows[1]["address"] == "=1+1"
    assert book["parcels"]["B3"].data_type == "s"  # text, never a formula
    assert book["parcels"]["K2"].number_format == "#,##0.0"  # land area
    assert book["parcels"]["O2"].number_format == "#,##0.00"  # O&M cost
    assert [r["om_cost"] for r in rows] == [1.1, 2.2, 4.4]  # FY2026 only
    assert len(sheet_rows(book, "buildings")) == 2
    assert sheet_rows(book, "buildings")[0]["headcount"] == 45
    leases = {r["lease_number"]: r for r in sheet_rows(book, "leases")}
    assert leases["L-IN"]["annual_rent"] == 120_000 and leases["L-OUT"]["annual_rent"] == 1
    assert leases["L-IN"]["in_force"] is True
    costs = {r["fiscal_year"]: r for r in sheet_rows(book, "costs by fiscal year")}
    assert costs[2026]["total"] == pytest.approx(7.7) and costs[2025]["capital"] == 8.8
    assert costs[2026]["records"] == 3
    expected = {
        "parcels": parcels,
        "land_area_sq_ft": land,
        "buildings": 2,
        "gross_sq_ft": gsf,
        "usable_sq_ft": usf,
        "om_cost": D("7.70"),
        "leases_in": 1,
        "lease_cost": D("120000.00"),
        "leases_out": 1,
        "lease_revenue": D("1.00"),
    }
    for sheet in ("by department", "by council district", "by asset type"):
        lines = sheet_rows(book, sheet)
        total = lines[-1]
        assert next(iter(total.values())) == "Total"
        for name in SUMMARY:
            assert D(str(total[name])) == expected[name], (sheet, name)
            # every record counts in exactly one line of each breakdown
            parts = sum(D(str(line[name])) for line in lines[:-1])
            assert parts == D(str(total[name])), (sheet, name)
    by_department = {r["department"]: r for r in sheet_rows(book, "by department")}
    assert by_department["GSD"]["lease_cost"] == 120_000
    assert by_department["LAPL"]["parcels"] == 2 and by_department["LAPL"]["om_cost"] == 6.6
    assert {r["asset_type"] for r in sheet_rows(book, "by asset type")} == {
        "office",
        "library",
        "(none)",
        "Total",
    }


def test_csv_is_the_parcels_sheet_with_exact_decimals(
    portfolio_app: Flask, finance_client: SignedInClient
) -> None:
    response = finance_client.get(f"/portfolio/export?format=csv&as_of={AS_OF}")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["parcel_id"] for r in rows] == ["1111-001-001", "1111-001-002", "1111-001-003"]
    (land,) = sql(
        portfolio_app, "SELECT land_area_sq_ft FROM parcels WHERE parcel_id = '1111-001-002'"
    )
    assert rows[1]["land_area_sq_ft"] == str(land) and rows[1]["om_cost"] == "2.20"
    assert rows[1]["address"] == "'=1+1" and rows[2]["land_area_sq_ft"] == ""


def test_gis_formats_carry_every_parcel_with_its_shape_and_attributes(
    portfolio_app: Flask, finance_client: SignedInClient, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {"DATABASE_URL": portfolio_app.config["DATABASE_URL"]}
    target = tmp_path / "parcels.gpkg"
    result = runner.invoke(
        cli, ["export", "portfolio", "-f", "gpkg", "-o", str(target), "--as-of", AS_OF], env=env
    )
    assert result.exit_code == 0, result.output
    frame = pyogrio.read_dataframe(target)
    assert list(frame["parcel_id"]) == ["1111-001-001", "1111-001-002", "1111-001-003"]
    assert frame.crs.to_epsg() == 4326
    assert list(frame.geometry.isna()) == [False, False, True]
    assert frame.geometry.iloc[0].bounds == pytest.approx((-118.25, 34.05, -118.249, 34.051))
    (land,) = sql(
        portfolio_app, "SELECT sum(land_area_sq_ft) FROM parcels WHERE retired_at IS NULL"
    )
    assert frame["land_area_sq_ft"].sum() == pytest.approx(float(land))
    assert frame["department_code"].tolist() == ["GSD", "LAPL", "LAPL"]
    response = finance_client.get(f"/portfolio/export?format=geojson&as_of={AS_OF}")
    assert response.mimetype == "application/geo+json"
    features = json.loads(response.data)["features"]
    assert [f["properties"]["parcel_id"] for f in features] == list(frame["parcel_id"])
    assert features[0]["geometry"]["type"] == "MultiPolygon" and features[2]["geometry"] is None
    assert features[1]["properties"]["om_cost"] == 2.2


def test_cli_writes_each_format_and_refuses_an_unknown_one(
    portfolio_app: Flask, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {"DATABASE_URL": portfolio_app.config["DATABASE_URL"]}
    for export_format in ("xlsx", "csv", "geojson"):
        target = tmp_path / f"portfolio.{export_format}"
        result = runner.invoke(
            cli, ["export", "portfolio", "-f", export_format, "-o", str(target)], env=env
        )
        assert result.exit_code == 0, result.output
        assert target.stat().st_size > 0
    assert openpyxl.load_workbook(tmp_path / "portfolio.xlsx").sheetnames[0] == "parcels"
    usage = runner.invoke(cli, ["export", "portfolio", "-f", "shp", "-o", "x"], env=env)
    assert usage.exit_code == 2


def test_viewers_and_anonymous_cannot_export(
    portfolio_app: Flask,
    viewer_client: SignedInClient,
    client: FlaskClient,
    admin_client: SignedInClient,
) -> None:
    for export_format in ("xlsx", "csv", "gpkg", "geojson"):
        url = f"/portfolio/export?format={export_format}"
        assert viewer_client.get(url).status_code == 403
        assert client.get(url, headers={"Accept": "application/json"}).status_code == 401
    assert admin_client.get("/portfolio/export?format=shp").status_code == 400
    assert admin_client.get("/portfolio/export?as_of=yesterday").status_code == 400
    assert admin_client.get("/portfolio/export?format=gpkg").status_code == 200
