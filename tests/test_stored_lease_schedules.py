"""The GASB 87 schedules kept in the database (`registry.leases.stored_schedules`) are the
engine's to the cent, after every kind of lease write, and the LSE-2 balances summed from them
in SQL equal the engine's `balances_at` on every lease, whatever the date (stub periods
included)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.kpis.lease_kpis import _add_engine_balances
from registry.kpis.lease_kpis import _balances
from registry.kpis.lease_kpis import lease_kpis
from registry.kpis.values import Period
from registry.leases.accounting import lease_history
from registry.leases.records import add_modification
from registry.leases.records import create_lease
from registry.leases.records import delete_lease
from registry.leases.records import lease_as_dict
from registry.leases.records import lease_schedule_of
from registry.leases.records import store_stale_schedules
from registry.leases.records import update_lease
from registry.leases.rent_sql import _computed_stream_ctes
from registry.leases.stored_schedules import stale_lease_ids
from tests.lease_fixtures import lessor_example
from tests.lease_fixtures import seed_places
from tests.lease_fixtures import worked_example

_ROWS = """
SELECT measurement, period, due_date, payment, interest, principal, balance, recognized,
       carrying, interest_from, recognition_from, recognition_to
  FROM lease_schedule_rows WHERE lease_id = :id ORDER BY measurement, period
"""
_MEASUREMENTS = """
SELECT measurement, direction, commencement_date, in_force_until, paid_through, short_term,
       discount_rate, initial_measurement, opening_recognizable
  FROM lease_measurements WHERE lease_id = :id ORDER BY measurement
"""


def engine_rows(session: Session, lease_number: str) -> tuple[list[Any], list[Any]]:
    """(measurements, rows) of the lease as the engine computes them from its records now."""
    history = lease_history(lease_schedule_of(session, lease_number))
    measurements, rows = [], []
    for index, schedule in enumerate(history.schedules):
        following = history.modifications[index] if index < len(history.modifications) else None
        measurements.append(
            (
                index,
                schedule.direction,
                schedule.terms.commencement_date,
                following and following.modification_date,
                following and following.paid_through,
                schedule.short_term,
                schedule.discount_rate,
                schedule.initial_measurement,
                schedule.opening_recognizable,
            )
        )
        rows += [
            (
                index,
                row.period,
                row.date,
                row.payment,
                row.interest,
                row.principal,
                row.balance,
                row.recognized,
                row.carrying,
                row.interest_from,
                row.recognition_from,
                row.recognition_to,
            )
            for row in schedule.rows
        ]
    return measurements, rows


def stored_rows(session: Session, lease_number: str) -> tuple[list[Any], list[Any]]:
    lease_id = session.execute(
        text("SELECT id FROM leases WHERE lease_number = :n"), {"n": lease_number}
    ).scalar_one()
    measurements = [tuple(r) for r in session.execute(text(_MEASUREMENTS), {"id": lease_id})]
    rows = [tuple(r) for r in session.execute(text(_ROWS), {"id": lease_id})]
    return measurements, rows


def assert_stored_as_computed(session: Session, lease_number: str) -> None:
    stored = stored_rows(session, lease_number)
    assert stored == engine_rows(session, lease_number)
    assert stored[1], "a measured lease has rows"


def test_every_sample_lease_is_stored_as_the_engine_computes_it(sample_session: Session) -> None:
    numbers = sample_session.execute(
        text("SELECT lease_number FROM leases WHERE measured ORDER BY lease_number")
    ).scalars()
    checked = 0
    for number in numbers:
        assert_stored_as_computed(sample_session, number)
        checked += 1
    assert checked > 10
    assert stale_lease_ids(sample_session) == []


def test_create_update_modify_delete_keep_the_stored_schedules(db_session: Session) -> None:
    seed_places(db_session)
    number = create_lease(db_session, worked_example())
    assert_stored_as_computed(db_session, number)
    version = update_lease(
        db_session, number, 1, {"payments": [{"periods": 36, "amount": "31000.00"}]}
    )
    assert_stored_as_computed(db_session, number)
    assert stored_rows(db_session, number)[1][0][3] == Decimal("31000.00")
    add_modification(db_session, number, "2022-04-01", {"discount_rate": "0.02"})
    add_modification(db_session, number, "2023-04-01", {"term_months": 12})
    measurements, _ = stored_rows(db_session, number)
    assert [m[3] for m in measurements] == [dt.date(2022, 4, 1), dt.date(2023, 4, 1), None]
    assert_stored_as_computed(db_session, number)
    arrears = create_lease(db_session, lessor_example())
    add_modification(db_session, arrears, "2023-07-01", {"discount_rate": "0.04"})
    assert_stored_as_computed(db_session, arrears)
    assert stale_lease_ids(db_session) == []
    delete_lease(db_session, number, lease_as_dict(db_session, number)["version"])
    assert version == 2
    assert db_session.execute(text("SELECT count(*) FROM lease_schedule_rows")).scalar() == len(
        stored_rows(db_session, arrears)[1]
    )


def test_a_lease_written_around_the_records_is_stale_until_remeasured(
    db_session: Session,
) -> None:
    seed_places(db_session)
    number = create_lease(db_session, worked_example())
    db_session.execute(
        text("UPDATE leases SET discount_rate = 0.02 WHERE lease_number = :n"), {"n": number}
    )
    lease_id = db_session.execute(
        text("SELECT id FROM leases WHERE lease_number = :n"), {"n": number}
    ).scalar_one()
    assert stale_lease_ids(db_session) == [lease_id]
    assert store_stale_schedules(db_session) == 1
    assert stale_lease_ids(db_session) == []
    assert_stored_as_computed(db_session, number)


def _as_of_dates() -> list[dt.date]:
    """Over the sample's lease years: each fiscal year's end and first day and the calendar
    year's end, and a mid-month and a late day of one month a year, the months taken in turn
    (each date costs the engine a pass over every lease: 180 dates took 88 s of the suite)."""
    dates = []
    for index, year in enumerate(range(2019, 2031)):
        month = (1, 3, 7, 9, 12)[index % 5]
        dates += [dt.date(year, month, 15), dt.date(year, month, 28)]
        dates += [dt.date(year, 6, 30), dt.date(year, 7, 1), dt.date(year, 12, 31)]
    return dates


def test_lse2_from_stored_rows_equals_the_engine_at_every_date(sample_session: Session) -> None:
    """`_balances` (SQL over stored rows) against `_add_engine_balances` over every lease (the
    engine's `balances_at`, as LSE-2 was computed before), at many dates a stub falls on."""
    ids = list(sample_session.execute(text("SELECT id FROM leases WHERE measured")).scalars())
    compared = 0
    for day in _as_of_dates():
        period = Period("FY", day.year, day - dt.timedelta(days=364), day, day)
        engine: dict[tuple[str, str | None, str], Decimal] = defaultdict(Decimal)
        _add_engine_balances(sample_session, period, ids, engine)
        assert dict(_balances(sample_session, period)) == dict(engine), day
        compared += len(engine)
    assert compared > 1000


def _in_order(values: list[Any]) -> list[Any]:
    """KPI rows in a fixed order: the family's query does not sort its breakdown rows, and the
    plan (which statistics change) decides the order they come in."""
    return sorted(values, key=lambda v: (v.kpi_id, v.breakdown, str(v.breakdown_value), v.note))


def test_lse2_values_are_unchanged_with_stale_leases(sample_session: Session) -> None:
    """The same LSE-2 whether every lease is read from the store or some are stale."""
    period = Period.resolve("FY2026", dt.date(2026, 3, 31))
    stored = lease_kpis(sample_session, period)
    sample_session.execute(text("UPDATE lease_measurements SET lease_version = -1"))
    try:
        assert stale_lease_ids(sample_session)
        assert _in_order(lease_kpis(sample_session, period)) == _in_order(stored)
    finally:
        sample_session.rollback()


def test_every_sample_lease_rent_stream_is_stored_as_expanded(sample_session: Session) -> None:
    """`lease_rent_periods` holds exactly what `rent_sql` expands from the records."""
    columns = "lease_id, frequency, months, period_start, due, rate, rent"
    expanded = sample_session.execute(
        text(
            f"WITH RECURSIVE {_computed_stream_ctes('true')} "
            f"SELECT {columns} FROM computed_rent_period ORDER BY lease_id, period_start, due"
        )
    ).all()
    stored = sample_session.execute(
        text(f"SELECT {columns} FROM lease_rent_periods ORDER BY lease_id, period_start, due")
    ).all()
    assert len(expanded) > 100
    assert stored == expanded
