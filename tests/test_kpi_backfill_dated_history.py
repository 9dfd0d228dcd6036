"""`kpi backfill` for a city loaded in one day (walk defect 4): its parcels' audit INSERTs are
all of today, so the trail holds no row of them at any past month end, but their records date
the work (`digitized_at`, `verified_at`, as the milestone's burn-up reads them). The back-fill
fills DIG-1..3 from those dates, stores nothing for a month end it knows no parcel of, and
fills a month end an earlier back-fill stored empty; a measured snapshot is never replaced.

Four parcels, all acquired in 2001 and inserted today: A digitized long before the window and
verified in its sixth month end's month, B digitized in the fourth, C in the ninth, D on paper.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal

from click.testing import CliRunner
from flask import Flask
from sqlalchemy import text

from app.database import session_factory
from cli.main import cli
from registry.db import unit_of_work
from registry.kpis.snapshots import backfill_snapshots
from registry.kpis.snapshots import month_ends_before
from registry.kpis.trends import kpi_trends
from tests.auth_fixtures import SignedInClient
from tests.builders import department
from tests.builders import parcel
from tests.builders import square

TODAY = dt.date.today()
ENDS = month_ends_before(TODAY, 12)
DAY = dt.timedelta(days=1)


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


def _load_city_today(app: Flask) -> None:
    gsd = department("GSD", "General Services")
    common = {
        "department": gsd, "council_district": 1, "asset_type": "office", "use": "Office",
        "legal_interest": "owned", "status": "in_use", "acquisition_date": dt.date(2001, 5, 1),
    }  # fmt: skip
    with app.app_context(), unit_of_work(session_factory(), "sample") as session:
        session.add_all(
            [
                parcel(
                    "2222-001-001", geometry=square(-118.250), digitization_status="verified",
                    digitized_at=_at(ENDS[0] - dt.timedelta(days=400)),
                    verified_at=_at(ENDS[5] - DAY), verified_by="second", **common,
                ),
                parcel(
                    "2222-001-002", geometry=square(-118.240), digitization_status="digitized",
                    digitized_at=_at(ENDS[3] - DAY), **common,
                ),
                parcel(
                    "2222-001-003", geometry=square(-118.230), digitization_status="digitized",
                    digitized_at=_at(ENDS[8] - DAY), **common,
                ),
                parcel("2222-001-004", geometry=None, digitization_status="paper", **common),
            ]
        )  # fmt: skip


def _city_trend(app: Flask, kpi_id: str) -> dict[dt.date, Decimal]:
    with app.app_context(), session_factory()() as session:
        return dict(kpi_trends(session).get(kpi_id, []))


def test_backfill_of_a_city_loaded_today_dates_its_parcels_by_their_recorded_work(
    app: Flask, signed_in: Callable[..., SignedInClient]
) -> None:
    _load_city_today(app)
    env = {"DATABASE_URL": app.config["DATABASE_URL"]}
    result = CliRunner().invoke(cli, ["kpi", "backfill", "--months", "12"], env=env)
    assert result.exit_code == 0, result.output
    assert "back-filled 12 month ends" in result.output
    drawn = _city_trend(app, "DIG-1")
    assert [drawn[end] for end in ENDS] == [Decimal(25)] * 3 + [Decimal(50)] * 5 + [Decimal(75)] * 4
    verified = _city_trend(app, "DIG-2")
    assert [verified[end] for end in ENDS] == [Decimal(0)] * 5 + [Decimal(25)] * 7
    viewer = signed_in("viewer")
    data = json.loads(viewer.get("/kpi/values").get_data(as_text=True))
    points = {tile["id"]: tile["trend_points"] for tile in data["tiles"]}["DIG-1"]
    assert [point for point in points if point[0] < TODAY.isoformat()] == [
        [end.isoformat(), f"{drawn[end]:.2f}"] for end in ENDS
    ]


def test_a_month_end_back_filled_empty_is_filled_by_a_later_back_fill(app: Flask) -> None:
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        session.execute(  # measured then with no value: kept as it was
            text(
                "INSERT INTO kpi_snapshots (as_of, period, kpi_id, breakdown, value, unit, note)"
                " VALUES (:as_of, 'FY', 'DIG-1', 'city', NULL, '%', 'no parcels')"
            ),
            {"as_of": ENDS[-4]},
        )
        empty = backfill_snapshots(session, TODAY, 4)  # no parcel known yet
    assert empty == {end: 3 for end in ENDS[-3:]}  # DIG-1..3's city rows, no value
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        assert backfill_snapshots(session, TODAY, 4) == {}  # empty still: nothing more
    _load_city_today(app)
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        stored = backfill_snapshots(session, TODAY, 4)
    assert stored == {end: 12 for end in ENDS[-3:]}  # DIG-1..3: city, department, district, type
    drawn = _city_trend(app, "DIG-1")
    assert {end: drawn.get(end) for end in ENDS[-4:]} == {
        ENDS[-4]: None, ENDS[-3]: Decimal(75), ENDS[-2]: Decimal(75), ENDS[-1]: Decimal(75)
    }  # fmt: skip
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        assert backfill_snapshots(session, TODAY, 4) == {}
