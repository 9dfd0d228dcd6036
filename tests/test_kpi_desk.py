"""The KPI desk (issue #13 item 4): any combination of department, council district and asset
type; `/kpi` opens on the day's stored snapshot instead of recomputing; `/kpi/values` for the
page's script; an admin's snapshot button (audited); `kpi backfill` from the audit trail and
`kpi snapshot --if-month-end`; values formatted by unit; the public page behind its setting.

A small portfolio: GSD owns P1 (district 1, office, drawn, verified) and P2 (district 1, office,
no geometry), P3 (district 2, office, drawn); LAPL owns P4 (district 1, library, drawn).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text

from app.database import session_factory
from cli.main import cli
from registry.db import unit_of_work
from registry.kpis import KPI_DEFINITIONS
from registry.kpis import KpiFilters
from registry.kpis import compute_kpis
from registry.kpis.snapshots import month_ends_before
from registry.kpis.units import format_kpi_value
from registry.models import AuditEvent
from registry.models import KpiSnapshot
from tests.auth_fixtures import SignedInClient
from tests.builders import parcel
from tests.kpi_fixtures import parcel_version

TODAY = dt.date.today()


def _scalar(app: Flask, sql: str, **params: object) -> int:
    with app.app_context(), session_factory()() as session:
        return int(session.execute(text(sql), params).scalar_one())


def _snapshot_rows(app: Flask) -> int:
    with app.app_context(), session_factory()() as session:
        return int(session.scalar(select(func.count()).select_from(KpiSnapshot)) or 0)


def _tiles(response: object) -> dict[str, dict[str, Any]]:
    data = json.loads(response.get_data(as_text=True))  # type: ignore[attr-defined]
    return {tile["id"]: tile for tile in data["tiles"]}


def _add_parcel_without_geometry(app: Flask) -> None:
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        gsd = session.execute(text("SELECT id FROM departments WHERE code = 'GSD'")).scalar_one()
        session.add(
            parcel(
                "1111-001-009", department_id=gsd, council_district=1, asset_type="office",
                geometry=None, legal_interest="owned", status="in_use", use="Office",
            )
        )  # fmt: skip


def test_department_and_district_together_count_only_their_parcels(
    desk_app: Flask, viewer: SignedInClient
) -> None:
    drawn = _scalar(
        desk_app,
        "SELECT count(*) FILTER (WHERE p.geom IS NOT NULL) * 10000 / count(*) FROM parcels p "
        "JOIN departments d ON d.id = p.department_id "
        "WHERE d.code = 'GSD' AND p.council_district = 1",
    )
    assert drawn == 5000  # P1 of P1, P2
    tiles = _tiles(viewer.get("/kpi/values?department=GSD&district=1"))
    assert tiles["DIG-1"]["value"] == "50.00"
    assert tiles["DIG-1"]["formatted"] == "50.0 %"
    assert tiles["DIG-1"]["numerator"] == "1" and tiles["DIG-1"]["denominator"] == "2"
    page = viewer.get("/kpi?department=GSD&district=1&asset_type=office").get_data(as_text=True)
    assert "department GSD, council district 1, asset type office" in page
    assert 'data-value="50.00">50.0 %</span>' in page


@pytest.mark.parametrize(
    "query",
    [
        {"department": "GSD", "council_district": "1"},
        {"council_district": "1", "asset_type": "library"},
        {"department": "GSD", "council_district": "2", "asset_type": "office"},
    ],
)
def test_the_json_of_a_combination_is_the_engine_over_that_subset(
    desk_app: Flask, viewer: SignedInClient, query: dict[str, str]
) -> None:
    with desk_app.app_context(), session_factory()() as session:
        engine = {
            value.kpi_id: value
            for value in compute_kpis(session, None, TODAY, filters=KpiFilters(**query))
            if value.breakdown == "city"
        }
    args = "&".join(
        f"{'district' if key == 'council_district' else key}={value}"
        for key, value in query.items()
    )
    tiles = _tiles(viewer.get(f"/kpi/values?{args}"))
    for definition in KPI_DEFINITIONS:
        expected = engine.get(definition.id)
        shown = tiles[definition.id]
        if expected is None:
            assert shown["computed"] is False
        else:
            value = None if expected.value is None else str(expected.value)
            assert shown["value"] == value, definition.id


def test_a_filter_on_one_dimension_equals_its_breakdown_row(desk_app: Flask) -> None:
    with desk_app.app_context(), session_factory()() as session:
        whole = compute_kpis(session, None, TODAY)
        only = compute_kpis(session, None, TODAY, filters=KpiFilters(department="LAPL"))
    row = {v.kpi_id: v.value for v in whole if v.breakdown_value == "LAPL"}
    city = {v.kpi_id: v.value for v in only if v.breakdown == "city"}
    for kpi_id in ("DIG-1", "DIG-2", "DIG-3", "DIG-5", "UTL-1"):
        assert city[kpi_id] == row[kpi_id], kpi_id


def test_the_first_view_reads_the_days_snapshot_not_the_records(
    desk_app: Flask, viewer: SignedInClient
) -> None:
    first = viewer.get("/kpi").get_data(as_text=True)  # computed once and stored
    assert "Computed from the records now." in first
    stored = _snapshot_rows(desk_app)
    assert stored > 0
    _add_parcel_without_geometry(desk_app)  # the city's DIG-1 would now be 3 of 5
    again = viewer.get("/kpi").get_data(as_text=True)
    assert f"From the snapshot as of {TODAY.isoformat()}" in again
    assert 'data-value="75.00">75.0 %</span>' in again  # 3 of 4, as snapshotted
    assert "recompute from the records now" in again
    assert _snapshot_rows(desk_app) == stored  # read, not stored again
    department = _tiles(viewer.get("/kpi/values?department=GSD"))
    assert department["DIG-1"]["value"] == "66.67"  # the snapshot's GSD row: 2 of 3
    live = viewer.get("/kpi?recompute=1").get_data(as_text=True)
    assert 'data-value="60.00">60.0 %</span>' in live


def test_an_admin_takes_a_snapshot_now_and_it_is_audited(
    desk_app: Flask, signed_in: Callable[..., SignedInClient]
) -> None:
    admin, viewer = signed_in("admin"), signed_in("viewer")
    assert "Take snapshot now" in admin.get("/kpi").get_data(as_text=True)
    assert "Take snapshot now" not in viewer.get("/kpi").get_data(as_text=True)
    assert viewer.post("/kpi/snapshot").status_code == 403
    _add_parcel_without_geometry(desk_app)
    response = admin.post("/kpi/snapshot", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "KPI snapshot as of" in page
    assert 'data-value="60.00">60.0 %</span>' in page  # the newer snapshot of the day
    with desk_app.app_context(), session_factory()() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.table_name == "kpi_snapshots")
        ).one()
    assert event.actor == "admin@city.example" and event.row_key == TODAY.isoformat()
    assert event.after is not None and event.after["rows"] > 0


def test_the_snapshot_button_needs_the_csrf_token(
    desk_app: Flask, signed_in: Callable[..., SignedInClient]
) -> None:
    admin = signed_in("admin")
    del admin.environ_base["HTTP_X_CSRF_TOKEN"]
    assert admin.post("/kpi/snapshot").status_code in {400, 403}
    assert _snapshot_rows(desk_app) == 0


def test_snapshot_if_month_end_waits_for_the_month_end(desk_app: Flask) -> None:
    env = {"DATABASE_URL": desk_app.config["DATABASE_URL"]}
    runner = CliRunner()
    early = runner.invoke(
        cli, ["kpi", "snapshot", "--if-month-end", "--as-of", "2026-03-30"], env=env
    )
    assert early.exit_code == 0 and "not a fiscal month end" in early.output
    assert _snapshot_rows(desk_app) == 0
    end = runner.invoke(
        cli, ["kpi", "snapshot", "--if-month-end", "--as-of", "2026-02-28"], env=env
    )
    assert end.exit_code == 0 and "values stored" in end.output, end.output


def test_backfill_reads_digitization_at_past_month_ends_from_the_audit_trail(
    desk_app: Flask,
) -> None:
    oldest, middle, last = month_ends_before(TODAY, 3)
    before = {"digitization_status": "paper", "verified_at": None, "verified_by": None}
    for parcel_id in ("1111-001-001", "1111-001-002", "1111-001-003", "1111-001-004"):
        parcel_version(desk_app, parcel_id, oldest - dt.timedelta(days=5), geom=None, **before)
    for parcel_id in ("1111-001-001", "1111-001-003"):  # drawn in the middle month
        parcel_version(desk_app, parcel_id, middle - dt.timedelta(days=5), **before)
    parcel_version(  # P1 verified in the last month
        desk_app, "1111-001-001", last - dt.timedelta(days=5),
        digitization_status="verified", verified_at=f"{last.isoformat()}T09:00:00+00:00",
    )  # fmt: skip
    env = {"DATABASE_URL": desk_app.config["DATABASE_URL"]}
    result = CliRunner().invoke(cli, ["kpi", "backfill", "--months", "3"], env=env)
    assert result.exit_code == 0, result.output
    assert "back-filled 3 month ends" in result.output
    with desk_app.app_context(), session_factory()() as session:
        rows = session.execute(
            text(
                "SELECT as_of, kpi_id, value, note FROM kpi_snapshots "
                "WHERE breakdown = 'city' ORDER BY as_of, kpi_id"
            )
        ).all()
    city = {(row.as_of, row.kpi_id): row.value for row in rows}
    assert {row.kpi_id for row in rows} == {"DIG-1", "DIG-2", "DIG-3"}
    assert all("audit trail" in row.note for row in rows)
    assert city[(oldest, "DIG-1")] == Decimal(0)
    assert city[(middle, "DIG-1")] == Decimal(50)
    assert city[(middle, "DIG-2")] == Decimal(0)
    assert city[(last, "DIG-2")] == Decimal(25)
    again = CliRunner().invoke(cli, ["kpi", "backfill", "--months", "3"], env=env)
    assert "back-filled 0 month ends" in again.output


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        ("157.00", "count", "157"),
        ("1287000.0", "$", "$1,287,000"),
        ("64380299.09", "$", "$64,380,299"),
        ("64.38", "%", "64.4 %"),
        ("12.345", "$/sq ft", "$12.35 per sq ft"),
        ("162.4", "sq ft/person", "162 sq ft/person"),
        ("-30", "date, days", "−30 days"),
        ("12", "date, days", "+12 days"),
        ("87.46", "0–100", "87.5 of 100"),
        ("33.33", "count, %", "33.3 %"),
        ("2", "count, $", "2"),
    ],
)
def test_values_are_formatted_by_unit(value: str, unit: str, shown: str) -> None:
    assert format_kpi_value(Decimal(value), unit) == shown


def test_the_desk_and_its_json_use_one_formatter(viewer: SignedInClient) -> None:
    tiles = _tiles(viewer.get("/kpi/values"))
    page = viewer.get("/kpi").get_data(as_text=True)
    for tile in tiles.values():
        if tile["value"] is not None:
            assert tile["formatted"] == format_kpi_value(Decimal(tile["value"]), tile["unit"])
            assert f'data-value="{tile["value"]}">{tile["formatted"]}</span>' in page


def _publish(app: Flask, on: bool) -> None:
    settings = app.config["REGISTRY_SETTINGS"]
    app.config["REGISTRY_SETTINGS"] = dataclasses.replace(settings, public_kpis=on)


def test_the_public_page_is_a_404_unless_the_city_publishes_its_kpis(desk_app: Flask) -> None:
    anonymous = desk_app.test_client()
    assert anonymous.get("/kpi/public").status_code == 404
    assert anonymous.get("/kpi/public/values").status_code == 404
    _publish(desk_app, True)
    page = anonymous.get("/kpi/public")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-value="75.00">75.0 %</span>' in html  # DIG-1 of the city
    assert "/verification" not in html and "/leases" not in html  # no links to records
    assert anonymous.get("/kpi").status_code in {302, 401}  # the desk stays signed-in only


def test_the_public_page_shows_aggregates_one_dimension_at_a_time(desk_app: Flask) -> None:
    _publish(desk_app, True)
    anonymous = desk_app.test_client()
    data = json.loads(anonymous.get("/kpi/public/values?department=GSD").get_data(as_text=True))
    tiles = {tile["id"]: tile for tile in data["tiles"]}
    assert tiles["DIG-1"]["value"] == "66.67"
    assert all(tile["url"] is None and tile["note"] is None for tile in tiles.values())
    assert anonymous.get("/kpi/public/values?department=GSD&district=1").status_code == 404
    assert anonymous.get("/kpi/public/values?recompute=1").status_code == 404


def test_the_public_page_never_computes_a_past_year_on_request(desk_app: Flask) -> None:
    _publish(desk_app, True)
    current = TODAY.year + 1 if TODAY.month >= 7 else TODAY.year
    html = desk_app.test_client().get(f"/kpi/public?fy=FY{current - 1}").get_data(as_text=True)
    assert f"No KPI snapshot was taken for FY{current - 1}" in html
    assert "Not computed yet for this selection." in html
    assert _snapshot_rows(desk_app) == 0


def test_the_first_snapshot_of_a_trend_is_drawn_as_a_point(viewer: SignedInClient) -> None:
    page = viewer.get("/kpi").get_data(as_text=True)  # stores the day's (first) snapshot
    page = viewer.get("/kpi").get_data(as_text=True)
    tile = page[page.index('id="tile-DIG-1"') :]
    tile = tile[: tile.index("</article>")]
    assert '<circle class="point" data-series="DIG-1"' in tile
    assert "DIG-1: 75.0 %</title>" in tile
