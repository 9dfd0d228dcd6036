"""What a combination of KPI desk filters may cost, however many are requested: a back-fill is
queued once per combination and at most `MAX_PENDING` wait (the rest skipped, logged); a
combination that holds no parcel stores nothing; the back-fill thread ends with its app and
with the interpreter, which runs no queued back-fill on its way out; a month end keeps only
the most viewed combinations (`REGISTRY_KPI_WATCHED_COMBINATIONS`) and says how many it left
out, found by the view's stable event key, not its wording; a back-filled month end is
remembered even when the subset held nothing; and only an unavailable primary is passed over
when a view stores its point.

The portfolio of tests/kpi_fixtures.py: GSD owns P1, P2 (district 1, office) and P3 (district
2, office); LAPL owns P4 (district 1, library). LAPL holds nothing in district 2.
"""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import InternalError
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from app.blueprints.kpis import backfill_runner
from app.blueprints.kpis.backfill_runner import backfill_later
from app.blueprints.kpis.backfill_runner import wait_for_backfills
from app.database import dispose
from app.database import session_factory
from cli.main import cli
from registry.db import unit_of_work
from registry.kpis import KpiFilters
from registry.kpis import KpiValue
from registry.kpis import Period
from registry.kpis import compute_kpis
from registry.kpis import snapshots
from registry.kpis.combinations import watched_combinations
from registry.kpis.snapshots import VIEW_EVENT
from registry.kpis.snapshots import backfill_snapshots
from registry.kpis.snapshots import month_ends_before
from registry.kpis.snapshots import store_view
from registry.models import AuditEvent
from tests.auth_fixtures import SignedInClient

TODAY = dt.date.today()
GSD_1 = KpiFilters(department="GSD", council_district="1")
EMPTY = KpiFilters(department="LAPL", council_district="2")  # no parcel of LAPL there
VIEWS = [  # combinations that hold parcels
    "/kpi/values?department=GSD&district=1",
    "/kpi/values?department=GSD&district=2",
    "/kpi/values?department=GSD&asset_type=office",
    "/kpi/values?department=LAPL&district=1",
]


class BlockedBackfills:
    """The app's back-fills, each held until `release`, listed as they start."""

    def __init__(self) -> None:
        self.started: list[KpiFilters] = []
        self.go = threading.Event()

    def __call__(self, *args: Any) -> dict[dt.date, int]:
        self.started.append(args[-1])
        self.go.wait(timeout=10)
        return {}

    def release(self, app: Flask) -> None:
        self.go.set()
        wait_for_backfills(app)


@pytest.fixture
def blocked(desk_app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[BlockedBackfills]:
    backfills = BlockedBackfills()
    monkeypatch.setattr(backfill_runner, "_backfill", backfills)
    yield backfills
    backfills.release(desk_app)


def _rows(app: Flask, sql: str, **params: object) -> list[Any]:
    with app.app_context(), session_factory()() as session:
        return list(session.execute(text(sql), params).all())


def _cli(app: Flask, *args: str, **env: str) -> str:
    result = CliRunner().invoke(
        cli, ["kpi", *args], env={"DATABASE_URL": app.config["DATABASE_URL"], **env}
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_a_combination_waiting_or_running_is_not_queued_twice(
    desk_app: Flask, viewer: SignedInClient, blocked: BlockedBackfills
) -> None:
    with desk_app.test_request_context():
        running = backfill_later(GSD_1, TODAY, 7)
        waiting = backfill_later(KpiFilters(department="GSD", asset_type="office"), TODAY, 7)
        assert backfill_later(GSD_1, TODAY, 7) is running
        assert backfill_later(KpiFilters("GSD", None, "office"), TODAY, 7) is waiting
    blocked.release(desk_app)
    assert len(blocked.started) == 2


def test_back_fills_beyond_the_cap_are_skipped_and_logged(
    desk_app: Flask,
    viewer: SignedInClient,
    blocked: BlockedBackfills,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(backfill_runner, "MAX_PENDING", 2)
    with caplog.at_level(logging.WARNING, logger=backfill_runner.__name__):
        for path in VIEWS:  # each a combination's first view of the day
            assert viewer.get(path).status_code == 200
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skipped) == 2
    assert "department=LAPL&council_district=1" in skipped[-1]
    assert "the month-end `kpi snapshot` (or `kpi backfill`)" in skipped[-1]
    blocked.release(desk_app)
    assert len(blocked.started) == 2
    # the points of the day are stored all the same: the month end back-fills the rest
    stored = _rows(desk_app, "SELECT DISTINCT breakdown_value FROM kpi_snapshots "
                   "WHERE breakdown = 'combination' AND as_of = :d", d=TODAY)  # fmt: skip
    assert len(stored) == len(VIEWS)


def test_a_combination_holding_no_parcel_keeps_no_trend(
    desk_app: Flask, viewer: SignedInClient, blocked: BlockedBackfills
) -> None:
    response = viewer.get("/kpi/values?department=LAPL&district=2")
    assert response.status_code == 200
    assert "it holds no parcels" in response.get_json()["trend_note"]
    assert _rows(desk_app, "SELECT * FROM kpi_snapshots WHERE breakdown = 'combination'") == []
    assert _rows(desk_app, "SELECT * FROM audit_events WHERE table_name = 'kpi_snapshots'") == []
    assert blocked.started == []


def _backfill_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("kpi-backfill")]


def test_an_apps_back_fill_thread_ends_with_the_app(
    desk_app: Flask, viewer: SignedInClient
) -> None:
    before = _backfill_threads()
    assert viewer.get(VIEWS[0]).status_code == 200
    wait_for_backfills(desk_app)
    assert len(_backfill_threads()) == len(before) + 1  # idle, until the app is disposed
    dispose(desk_app)
    assert _backfill_threads() == before


EXIT_SCRIPT = """
import sys, time
from flask import Flask
from app.blueprints.kpis.backfill_runner import backfill_queue

def work(n):
    if n == 0:
        time.sleep(0.5)
    with open(sys.argv[1], "a") as out:
        out.write(f"{n}\\n")

queue = backfill_queue(Flask("exit"))
for n in range(4):
    queue.submit(f"combination {n}", work, n)
"""


def test_exit_runs_no_queued_back_fill_only_the_running_one_ends(tmp_path: Path) -> None:
    ran = tmp_path / "ran.txt"
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", EXIT_SCRIPT, str(ran)], cwd=root, check=True, timeout=60)
    assert ran.read_text().split() == ["0"]


def _viewed(app: Flask, key: str, days_ago: list[int], why: str = "first view") -> None:
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        for ago in days_ago:
            day = (TODAY - dt.timedelta(days=ago)).isoformat()
            session.add(
                AuditEvent(
                    actor="viewer@city.example", table_name="kpi_snapshots", row_key=day,
                    action="INSERT",
                    after={"as_of": day, "rows": 21, "why": why, "combination": key,
                           "event": VIEW_EVENT},
                )
            )  # fmt: skip


def test_the_month_end_keeps_only_the_most_viewed_combinations_and_says_how_many_it_left_out(
    desk_app: Flask,
) -> None:
    _viewed(desk_app, "department=GSD&council_district=1", [1, 2, 3])
    _viewed(desk_app, "department=GSD&council_district=2", [1, 2])
    _viewed(desk_app, "department=LAPL&council_district=1", [1])
    env = {"REGISTRY_KPI_WATCHED_COMBINATIONS": "2"}
    month_end = month_ends_before(TODAY + dt.timedelta(days=32), 1)[0]
    output = _cli(desk_app, "snapshot", "--as-of", month_end.isoformat(), **env)
    assert "combination department=GSD&council_district=1: 21 values" in output
    assert "combination department=GSD&council_district=2: 21 values" in output
    assert "department=LAPL" not in output
    assert "1 more combinations viewed in the last 90 days left out" in output
    assert "REGISTRY_KPI_WATCHED_COMBINATIONS" in output
    backfill = _cli(desk_app, "backfill", "--months", "1", **env)
    assert "1 more combinations viewed in the last 90 days left out" in backfill
    assert "left out" not in _cli(desk_app, "backfill", "--months", "1")  # 50 by default


def test_watched_combinations_are_found_by_the_views_event_not_its_wording(
    desk_app: Flask,
) -> None:
    _viewed(desk_app, "department=GSD&council_district=1", [1], why="reworded, some day")
    with desk_app.app_context(), session_factory()() as session:
        watched = watched_combinations(session, TODAY)
    assert (watched.keys, watched.left_out) == (["department=GSD&council_district=1"], 0)


def test_a_view_stored_through_store_view_is_watched(desk_app: Flask) -> None:
    with desk_app.app_context(), unit_of_work(session_factory(), "viewer") as session:
        assert store_view(session, compute_kpis(session, None, TODAY, filters=GSD_1), TODAY, GSD_1)
    with desk_app.app_context(), session_factory()() as session:
        assert watched_combinations(session, TODAY).keys == ["department=GSD&council_district=1"]


@pytest.fixture
def trail_reads(monkeypatch: pytest.MonkeyPatch) -> list[dt.date]:
    """The month ends whose DIG-1..3 the back-fill reads from the audit trail."""
    read: list[dt.date] = []
    then = snapshots.parcel_kpis_then

    def counted(session: Session, period: Period) -> list[KpiValue]:
        read.append(period.as_of)
        return then(session, period)

    monkeypatch.setattr(snapshots, "parcel_kpis_then", counted)
    return read


def _backfill_twice(app: Flask, filters: KpiFilters, read: list[dt.date]) -> dict[dt.date, int]:
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        stored = backfill_snapshots(session, TODAY, 3, filters=filters)
    assert read == month_ends_before(TODAY, 3)
    read.clear()
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        assert backfill_snapshots(session, TODAY, 3, filters=filters) == {}
    assert read == month_ends_before(TODAY, 3)  # read again (records may place parcels there)
    return stored


def test_a_month_end_back_filled_for_an_empty_combination_stores_its_empty_rows_once(
    desk_app: Flask, trail_reads: list[dt.date]
) -> None:
    stored = _backfill_twice(desk_app, EMPTY, trail_reads)
    assert stored == {day: 3 for day in month_ends_before(TODAY, 3)}  # DIG-1..3, no value
    values = _rows(desk_app, "SELECT DISTINCT value, note FROM kpi_snapshots "
                   "WHERE breakdown = 'combination'")  # fmt: skip
    assert values == [(None, "back-filled from the audit trail; no parcels")]


def test_a_month_end_the_trail_gives_no_row_for_is_marked_read_all_the_same(
    desk_app: Flask, trail_reads: list[dt.date], monkeypatch: pytest.MonkeyPatch
) -> None:
    def nothing_then(session: Session, period: Period) -> list[KpiValue]:
        trail_reads.append(period.as_of)
        return []

    monkeypatch.setattr(snapshots, "parcel_kpis_then", nothing_then)
    stored = _backfill_twice(desk_app, EMPTY, trail_reads)
    assert stored == {day: 3 for day in month_ends_before(TODAY, 3)}


def test_a_view_whose_point_is_refused_by_a_read_only_primary_still_answers(
    desk_app: Flask, viewer: SignedInClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def read_only(*args: object, **kwargs: object) -> None:
        raise InternalError("INSERT INTO kpi_snapshots", {}, Exception("read-only transaction"))

    monkeypatch.setattr("app.blueprints.kpis.dashboard.store_view", read_only)
    assert viewer.get(VIEWS[0]).status_code == 200


def test_a_bug_storing_a_views_point_is_raised_not_hidden(
    desk_app: Flask, viewer: SignedInClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def wrong(*args: object, **kwargs: object) -> None:
        raise ProgrammingError("INSERT INTO kpi_snapshot", {}, Exception("no such table"))

    monkeypatch.setattr("app.blueprints.kpis.dashboard.store_view", wrong)
    assert viewer.get(VIEWS[0]).status_code == 500  # logged as an unhandled error
