"""Trend lines for combined filters on the KPI desk: the first view of a day of a combination
(department GSD and district 1) stores that day's values under the combination's key, once;
`/kpi/values` returns its trend; the back-fill right after the first view, `kpi backfill` and the
month-end `kpi snapshot` read its DIG-1..3 back from the audit trail before the first view, equal
to what the KPI computes over the records as they then stood; the page says where each trend
starts; the city's and one dimension's trends are what they were; a point that cannot be stored
is skipped, never an error.

The portfolio of tests/test_kpi_desk.py: GSD owns P1 (district 1, office, drawn, verified), P2
(district 1, office, no geometry), P3 (district 2, office, drawn); LAPL owns P4 (district 1,
library, drawn). GSD in district 1 is P1 and P2.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.blueprints.kpis.backfill_runner import wait_for_backfills
from app.database import session_factory
from cli.main import cli
from registry.db import unit_of_work
from registry.kpis import KpiFilters
from registry.kpis import compute_kpis
from registry.kpis.combinations import watched_combinations
from registry.kpis.snapshots import BACKFILLED_KPIS
from registry.kpis.snapshots import VIEW_EVENT
from registry.kpis.snapshots import VIEWED
from registry.kpis.snapshots import combination_filters
from registry.kpis.snapshots import combination_key
from registry.kpis.snapshots import is_month_end
from registry.kpis.snapshots import month_ends_before
from registry.kpis.snapshots import store_view
from registry.kpis.trends import kpi_trends
from registry.models import AuditEvent
from tests.auth_fixtures import SignedInClient
from tests.kpi_fixtures import VERIFIED_AT
from tests.kpi_fixtures import parcel_version

TODAY = dt.date.today()
GSD_1 = KpiFilters(department="GSD", council_district="1")
KEY = "department=GSD&council_district=1"
VIEW = "/kpi/values?department=GSD&district=1"
# P1 and P2 before anyone drew or verified them (an older version in the audit trail)
UNDRAWN = {"geom": None, "digitization_status": "paper", "verified_at": None, "verified_by": None}


def _rows(app: Flask, sql: str, **params: object) -> list[Any]:
    with app.app_context(), session_factory()() as session:
        return list(session.execute(text(sql), params).all())


def _combination_rows(app: Flask) -> list[Any]:
    return _rows(
        app,
        "SELECT as_of, kpi_id, value, numerator, denominator, note, breakdown_value "
        "FROM kpi_snapshots WHERE breakdown = 'combination' ORDER BY as_of, kpi_id",
    )


def _view(app: Flask, client: SignedInClient, path: str = VIEW) -> dict[str, Any]:
    """`/kpi/values` of `path`, once the back-fill it may have started has ended."""
    data = _json(client.get(path))
    wait_for_backfills(app)
    return data


def _json(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return dict(json.loads(response.get_data(as_text=True)))


def _tiles(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {tile["id"]: tile for tile in data["tiles"]}


def _engine_city_rows(app: Flask, as_of: dt.date) -> dict[str, Any]:
    with app.app_context(), session_factory()() as session:
        values = compute_kpis(session, None, as_of, filters=GSD_1)
    return {value.kpi_id: value for value in values if value.breakdown == "city"}


def _cli(app: Flask, *args: str) -> str:
    env = {"DATABASE_URL": app.config["DATABASE_URL"]}
    result = CliRunner().invoke(cli, ["kpi", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_combination_key_names_its_dimensions_and_reads_back() -> None:
    assert combination_key(GSD_1) == KEY
    assert combination_filters(KEY) == GSD_1
    odd = KpiFilters(department="A&B=C", asset_type="office")
    assert combination_filters(combination_key(odd) or "") == odd
    assert combination_key(KpiFilters(department="GSD")) is None  # one dimension: the city's
    assert combination_key(None) is None


def test_viewing_a_department_and_district_stores_that_days_values_for_the_combination(
    desk_app: Flask, viewer: SignedInClient
) -> None:
    assert _combination_rows(desk_app) == []
    _view(desk_app, viewer)
    rows = [row for row in _combination_rows(desk_app) if row.as_of == TODAY]
    engine = _engine_city_rows(desk_app, TODAY)
    assert {row.kpi_id for row in rows} == set(engine)
    for row in rows:
        assert (row.as_of, row.breakdown_value) == (TODAY, KEY)
        assert row.value == engine[row.kpi_id].value, row.kpi_id
    dig1 = next(row for row in rows if row.kpi_id == "DIG-1")
    assert (dig1.value, dig1.numerator, dig1.denominator) == (50, 1, 2)  # P1 of P1, P2
    with desk_app.app_context(), session_factory()() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.table_name == "kpi_snapshots")
        ).one()
        assert watched_combinations(session, TODAY).keys == [KEY]
    assert event.actor == "viewer@city.example" and event.after is not None
    assert event.after["why"] == VIEWED and event.after["combination"] == KEY
    assert event.after["event"] == VIEW_EVENT


def test_a_second_view_the_same_day_stores_nothing_more(
    desk_app: Flask, viewer: SignedInClient
) -> None:
    _view(desk_app, viewer)
    first = _combination_rows(desk_app)
    _view(desk_app, viewer)
    page = viewer.get("/kpi?department=GSD&district=1")
    assert page.status_code == 200
    wait_for_backfills(desk_app)
    assert _combination_rows(desk_app) == first
    views = _rows(desk_app, "SELECT count(*) FROM audit_events WHERE table_name = 'kpi_snapshots'")
    assert views[0][0] == 1


def test_the_values_endpoint_returns_the_combinations_trend_points(
    desk_app: Flask, viewer: SignedInClient
) -> None:
    data = _view(desk_app, viewer)
    dig1 = _tiles(data)["DIG-1"]
    assert dig1["trend_points"] == [[TODAY.isoformat(), "50.00"]]
    assert 'class="point" data-series="DIG-1"' in dig1["trend"]  # a first point, marked
    assert data["family_charts"]["Digitization"]
    assert f"first viewed on {TODAY.isoformat()}" in dig1["trend_origin"]
    assert "cannot be rebuilt" in _tiles(data)["UTL-1"]["trend_origin"]
    assert f"start on {TODAY.isoformat()}, the day it was first viewed" in data["trend_note"]
    # the parcels were recorded today: the audit trail, read back since, holds none before
    later = _view(desk_app, viewer)
    assert "the audit trail holds no parcels of it before" in _tiles(later)["DIG-1"]["trend_origin"]
    # a point of an earlier day someone viewed it is on the line too
    earlier = TODAY - dt.timedelta(days=3)
    earlier -= dt.timedelta(days=1) if is_month_end(earlier) else dt.timedelta(0)
    with desk_app.app_context(), unit_of_work(session_factory(), "tests") as session:
        values = compute_kpis(session, None, earlier, filters=GSD_1)
        assert store_view(session, values, earlier, GSD_1)
    again = _tiles(_view(desk_app, viewer))["DIG-1"]
    assert [day for day, _ in again["trend_points"]] == [earlier.isoformat(), TODAY.isoformat()]
    page = viewer.get("/kpi?department=GSD&district=1").get_data(as_text=True)
    assert f"first viewed on {earlier.isoformat()}" in page
    assert 'id="kpi-trend-note" hidden' not in page


def _history(app: Flask) -> tuple[list[dt.date], dict[dt.date, dict[str, Any]]]:
    """P1 and P2 at the last three month ends in the audit trail (neither drawn; P1 drawn; P1
    verified), P3 and P4 there all along; the month ends, and what `compute_kpis` gives for
    the combination at each over the records set back to the trail's versions."""
    oldest, middle, last = month_ends_before(TODAY, 3)
    states = {  # parcel → its version in the audit trail before each month end
        oldest: {"1111-001-001": UNDRAWN, "1111-001-002": UNDRAWN},
        middle: {"1111-001-001": {**UNDRAWN, "geom": "drawn"}},
        last: {
            "1111-001-001": {
                "digitization_status": "verified", "verified_by": "second",
                "verified_at": f"{last.isoformat()}T09:00:00+00:00",
            }
        },
    }  # fmt: skip
    for month_end, versions in states.items():
        for parcel_id, changes in versions.items():
            trail = {k: v for k, v in changes.items() if v != "drawn"}
            parcel_version(app, parcel_id, month_end - dt.timedelta(days=5), **trail)
    for other in ("1111-001-003", "1111-001-004"):  # outside the combination, drawn then
        parcel_version(app, other, oldest - dt.timedelta(days=5))
    return [oldest, middle, last], {day: _computed_then(app, day, states) for day in states}


def _assert_back_filled_as_computed_then(
    app: Flask, month_ends: list[dt.date], expected: dict[dt.date, dict[str, Any]]
) -> None:
    rows = [row for row in _combination_rows(app) if row.as_of in month_ends]
    assert {row.kpi_id for row in rows} == set(BACKFILLED_KPIS)
    assert all(row.note.startswith("back-filled from the audit trail") for row in rows)
    for row in rows:
        then = expected[row.as_of][row.kpi_id]
        assert (row.value, row.numerator, row.denominator) == (
            then.value, then.numerator, then.denominator,
        ), (row.as_of, row.kpi_id)  # fmt: skip
    oldest, middle, last = month_ends
    assert [(r.as_of, r.value) for r in rows if r.kpi_id == "DIG-1"] == [
        (oldest, 0), (middle, 50), (last, 50),
    ]  # fmt: skip
    assert [(r.as_of, r.value) for r in rows if r.kpi_id == "DIG-2"][-1] == (last, 50)


def test_the_first_view_back_fills_dig_1_to_3_before_it_equal_to_the_kpi_then(
    desk_app: Flask, viewer: SignedInClient
) -> None:
    month_ends, expected = _history(desk_app)
    first = _tiles(_json(viewer.get(VIEW)))["DIG-1"]  # today's point; the back-fill starts
    assert first["trend_points"][-1] == [TODAY.isoformat(), "50.00"]
    wait_for_backfills(desk_app)
    _assert_back_filled_as_computed_then(desk_app, month_ends, expected)
    oldest = month_ends[0]
    data = _view(desk_app, viewer)
    dig1, utl1 = _tiles(data)["DIG-1"], _tiles(data)["UTL-1"]
    assert dig1["trend_points"][0] == [oldest.isoformat(), "0.00"]
    assert dig1["trend_points"][-4:] == [
        [oldest.isoformat(), "0.00"], [month_ends[1].isoformat(), "50.00"],
        [month_ends[2].isoformat(), "50.00"], [TODAY.isoformat(), "50.00"],
    ]  # fmt: skip
    assert dig1["trend_origin"] == (
        f"From {oldest.isoformat()}: back-filled from the audit trail until the first view "
        f"on {TODAY.isoformat()}."
    )
    assert utl1["trend_points"] == [[TODAY.isoformat(), utl1["value"]]]
    assert utl1["trend_origin"].startswith(
        f"No earlier figures for this combination: first viewed on {TODAY.isoformat()}"
    )
    assert "back-filled from the audit trail from" in data["trend_note"]


def test_kpi_backfill_fills_a_watched_combination_whose_back_fill_was_lost(
    desk_app: Flask,
) -> None:
    month_ends, expected = _history(desk_app)
    with desk_app.app_context(), unit_of_work(session_factory(), "viewer@city.example") as s:
        # a view's point, its back-fill lost (the server restarted)
        assert store_view(s, compute_kpis(s, None, TODAY, filters=GSD_1), TODAY, GSD_1)
    output = _cli(desk_app, "backfill", "--months", "3")
    assert f"combination {KEY}: 3 month ends of DIG-1..DIG-3 back-filled" in output
    _assert_back_filled_as_computed_then(desk_app, month_ends, expected)
    again = _cli(desk_app, "backfill", "--months", "3")
    assert f"combination {KEY}" not in again  # its month ends are taken: nothing to do


def _computed_then(
    app: Flask, month_end: dt.date, states: dict[dt.date, dict[str, dict[str, object]]]
) -> dict[str, Any]:
    """`compute_kpis` over the combination at `month_end`, the live records set back to the
    versions the audit trail holds then (in a transaction rolled back)."""
    current: dict[str, dict[str, object]] = {}
    for day in sorted(states):
        if day <= month_end:
            for parcel_id, changes in states[day].items():
                current[parcel_id] = {**current.get(parcel_id, {}), **changes}
    with app.app_context(), session_factory()() as session:
        for parcel_id, changes in current.items():
            geom = changes.get("geom", "drawn")
            session.execute(
                text(
                    "UPDATE parcels SET digitization_status = :status, verified_by = :by, "
                    "verified_at = CAST(:at AS timestamptz), "
                    "geom = CASE WHEN :drawn THEN geom END WHERE parcel_id = :parcel_id"
                ),
                {
                    "status": changes.get("digitization_status", "verified"),
                    "by": changes.get("verified_by", "second"),
                    "at": changes.get("verified_at", VERIFIED_AT.isoformat()),
                    "drawn": geom == "drawn",
                    "parcel_id": parcel_id,
                },
            )
        values = compute_kpis(session, None, month_end, filters=GSD_1)
        session.rollback()
    return {v.kpi_id: v for v in values if v.breakdown == "city" and v.kpi_id in BACKFILLED_KPIS}


def test_the_month_end_snapshot_keeps_the_combinations_viewed_lately(
    desk_app: Flask, viewer: SignedInClient
) -> None:
    _view(desk_app, viewer)
    forgotten = "council_district=2&asset_type=office"
    with desk_app.app_context(), unit_of_work(session_factory(), "tests") as session:
        long_ago = TODAY - dt.timedelta(days=200)
        session.add(
            AuditEvent(
                actor="viewer@city.example", table_name="kpi_snapshots",
                row_key=long_ago.isoformat(), action="INSERT",
                after={"as_of": long_ago.isoformat(), "rows": 21, "why": VIEWED,
                       "combination": forgotten, "event": VIEW_EVENT},
            )
        )  # fmt: skip
    month_end = month_ends_before(TODAY + dt.timedelta(days=32), 1)[0]  # this month's last day
    output = _cli(desk_app, "snapshot", "--as-of", month_end.isoformat())
    assert f"combination {KEY}: 21 values" in output
    assert forgotten not in output
    kept = {row.as_of for row in _combination_rows(desk_app)}
    assert month_end in kept and TODAY in kept
    engine = _engine_city_rows(desk_app, month_end)
    at_month_end = {
        row.kpi_id: row.value for row in _combination_rows(desk_app) if row.as_of == month_end
    }
    assert at_month_end == {kpi_id: value.value for kpi_id, value in engine.items()}
    rerun = _cli(desk_app, "snapshot", "--as-of", month_end.isoformat())
    assert f"combination {KEY}: exists already" in rerun


def test_city_and_single_dimension_trends_are_what_they_were(
    desk_app: Flask, viewer: SignedInClient
) -> None:
    _view(desk_app, viewer)  # a combination first: it must not pass for the city's snapshot
    page = viewer.get("/kpi").get_data(as_text=True)
    assert "Computed from the records now." in page  # the city's snapshot was still taken
    with desk_app.app_context(), session_factory()() as session:
        city = kpi_trends(session)
        gsd = kpi_trends(session, "department", "GSD")
    assert city["DIG-1"] == [(TODAY, Decimal("75.00"))]  # 3 of 4
    assert gsd["DIG-1"] == [(TODAY, Decimal("66.67"))]  # 2 of 3
    _view(desk_app, viewer, "/kpi/values?department=LAPL&district=1")  # another combination
    one = _json(viewer.get("/kpi/values?department=GSD"))
    assert one["source"] == "snapshot" and one["trend_note"] is None
    assert _tiles(one)["DIG-1"]["trend_points"] == [[TODAY.isoformat(), "66.67"]]
    assert _tiles(one)["DIG-1"]["trend_origin"] is None
    whole = viewer.get("/kpi").get_data(as_text=True)
    assert 'id="kpi-trend-note" hidden' in whole
    with desk_app.app_context(), session_factory()() as session:
        assert kpi_trends(session) == city
        assert kpi_trends(session, "department", "GSD") == gsd
    # the combinations' back-filled month ends do not pass for the city's
    last = month_ends_before(TODAY, 1)[0]
    assert last in {row.as_of for row in _combination_rows(desk_app)}
    assert "back-filled 1 month ends" in _cli(desk_app, "backfill", "--months", "1")
    assert _rows(
        desk_app,
        "SELECT count(*) FROM kpi_snapshots WHERE breakdown = 'city' AND as_of = :d",
        d=last,
    )[0][0] == len(BACKFILLED_KPIS)


def test_a_point_that_cannot_be_stored_is_skipped_and_the_view_still_answers(
    desk_app: Flask, viewer: SignedInClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def read_only(*args: object, **kwargs: object) -> None:
        raise OperationalError("INSERT INTO kpi_snapshots", {}, Exception("read-only"))

    monkeypatch.setattr("app.blueprints.kpis.dashboard.store_snapshot", read_only)
    monkeypatch.setattr("app.blueprints.kpis.dashboard.store_view", read_only)
    data = _json(viewer.get(VIEW))
    assert _tiles(data)["DIG-1"]["value"] == "50.00"
    assert _tiles(data)["DIG-1"]["trend_points"] == []
    assert "No figures are kept for this combination yet" in data["trend_note"]
    assert viewer.get("/kpi").status_code == 200  # the city's first view of the day too
    assert _combination_rows(desk_app) == []
