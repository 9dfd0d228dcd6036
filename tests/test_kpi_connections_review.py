"""Callers for whom the KPI set computed on several connections (registry.kpis.engine) must still
be the set their own connection computes: one inside a savepoint (PostgreSQL exports no
snapshot from a subtransaction) and one whose transaction set the time zone the families' date
casts follow (the other connections keep the server's); and a failing family must stop the
families still queued, as it stops them on one connection."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from registry.db import create_registry_engine
from registry.db import unit_of_work
from registry.kpis import KpiValue
from registry.kpis import compute_kpis
from tests.builders import department
from tests.builders import parcel
from tests.builders import square

AS_OF = dt.date(2026, 6, 30)
#: Noon UTC on the as-of date: already the next day at UTC+14.
VERIFIED_AT = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def city(fresh_database_url: str) -> Iterator[Engine]:
    """Two drawn parcels, one verified at noon UTC on the as-of date, on an engine of its own
    with connections to spare."""
    engine = create_registry_engine(fresh_database_url, pool_size=4)
    gsd = department("GSD", "General Services")
    with unit_of_work(sessionmaker(engine), "test") as session:
        session.add_all(
            [
                parcel(
                    "R-1",
                    department=gsd,
                    council_district=1,
                    geometry=square(-118.25),
                    digitization_status="verified",
                    verified_at=VERIFIED_AT,
                ),
                parcel("R-2", department=gsd, council_district=2, geometry=square(-118.24)),
            ]
        )
    yield engine
    engine.dispose()


def _dig2_city(values: list[KpiValue]) -> Any:
    return next(v for v in values if v.kpi_id == "DIG-2" and v.breakdown == "city").numerator


def test_a_caller_inside_a_savepoint_gets_the_set_and_keeps_its_transaction(
    city: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One connection computes the set inside a SAVEPOINT; so must two, and the caller's
    transaction must stay usable afterwards (pg_export_snapshot refuses a subtransaction)."""
    monkeypatch.setenv("REGISTRY_KPI_CONNECTIONS", "1")
    with sessionmaker(city)() as session, session.begin_nested():
        alone = compute_kpis(session, None, AS_OF)
    monkeypatch.setenv("REGISTRY_KPI_CONNECTIONS", "2")
    with sessionmaker(city)() as session:
        with session.begin_nested():
            together = compute_kpis(session, None, AS_OF)
        assert session.execute(text("SELECT 1")).scalar_one() == 1
    assert together == alone


def test_a_caller_with_its_own_time_zone_gets_the_set_its_connection_computes(
    city: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DIG-2 dates `verified_at` in the session's time zone: at UTC+14 the parcel verified at
    noon UTC was verified the day after the as-of date, so one connection does not count it;
    the families on other connections must not count it either."""

    def in_kiritimati(connections: int) -> list[KpiValue]:
        monkeypatch.setenv("REGISTRY_KPI_CONNECTIONS", str(connections))
        with sessionmaker(city)() as session:
            session.execute(text("SET LOCAL TIME ZONE 'Pacific/Kiritimati'"))
            return compute_kpis(session, None, AS_OF)

    alone = in_kiritimati(1)
    assert _dig2_city(alone) == 0
    assert _dig2_city(in_kiritimati(2)) == _dig2_city(alone)


def test_a_family_that_fails_stops_the_families_not_yet_started(
    city: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One connection stops at the first family that fails (a statement timeout, a lost
    connection); the other connections must not go on to compute every family still queued
    before the caller hears of it (a request past its timeout would hold two connections for
    the whole set). Here the first family fails at once: at most the one family already running
    on the second connection, or one it takes up as the failure happens, may still start."""
    from registry.kpis import engine as kpi_engine

    def failing_family(session: Any, period: Any) -> list[KpiValue]:
        raise RuntimeError("canceling statement due to statement timeout")

    started: list[tuple[str, float]] = []
    failed_at: list[float] = []
    original = kpi_engine._family_in_snapshot

    def counting(engine: Engine, snapshot: Any, family: Any, period: Any) -> list[KpiValue]:
        started.append((family.__name__, time.monotonic()))
        try:
            return original(engine, snapshot, family, period)
        except RuntimeError:
            failed_at.append(time.monotonic())
            raise

    monkeypatch.setenv("REGISTRY_KPI_CONNECTIONS", "2")
    monkeypatch.setattr(
        kpi_engine, "_SLOWEST_FIRST", (failing_family, *kpi_engine._SLOWEST_FIRST[1:])
    )
    monkeypatch.setattr(kpi_engine, "_family_in_snapshot", counting)
    with sessionmaker(city)() as session, pytest.raises(RuntimeError, match="statement timeout"):
        compute_kpis(session, None, AS_OF)
    # after the failure, at most the one family the other connection had just taken up starts
    after = [name for name, at in started if at > failed_at[0]]
    assert len(after) <= 1, (started, failed_at)
