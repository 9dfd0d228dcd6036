"""The KPI set computed on several connections at once (`REGISTRY_KPI_CONNECTIONS`,
registry.kpis.engine) is the set one connection computes: every family reads the caller's
snapshot, a caller that wrote is computed on its own connection (others could not see its
writes), and the caller's statement timeout holds on every connection."""

from __future__ import annotations

import datetime as dt
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
from registry.kpis import engine as kpi_engine
from registry.statement_timeouts import apply_statement_timeouts
from registry.statement_timeouts import want_statement_timeout
from tests.builders import department
from tests.builders import parcel
from tests.builders import square

TODAY = dt.date.today()


@pytest.fixture
def city(fresh_database_url: str) -> Iterator[Engine]:
    """A committed portfolio of three parcels (two drawn), on an engine of its own."""
    engine = create_registry_engine(fresh_database_url, pool_size=2)
    gsd = department("GSD", "General Services")
    with unit_of_work(sessionmaker(engine), "test") as session:
        session.add_all(
            [
                parcel("C-1", department=gsd, council_district=1, geometry=square(-118.25)),
                parcel("C-2", department=gsd, council_district=2, geometry=square(-118.24)),
                parcel("C-3", department=gsd, council_district=2, geometry=None),
            ]
        )
    yield engine
    engine.dispose()


def _families_run_apart(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The families computed on a connection of their own, by name, as they run."""
    seen: list[str] = []
    original = kpi_engine._family_in_snapshot

    def spy(engine: Engine, snapshot: Any, family: Any, period: Any) -> list[KpiValue]:
        seen.append(family.__name__)
        return original(engine, snapshot, family, period)

    monkeypatch.setattr(kpi_engine, "_family_in_snapshot", spy)
    return seen


def _set(engine: Engine, connections: int, monkeypatch: pytest.MonkeyPatch) -> list[KpiValue]:
    monkeypatch.setenv("REGISTRY_KPI_CONNECTIONS", str(connections))
    with sessionmaker(engine)() as session:
        return compute_kpis(session, None, TODAY)


def _dig1_city(values: list[KpiValue]) -> Any:
    return next(v for v in values if v.kpi_id == "DIG-1" and v.breakdown == "city").numerator


def test_several_connections_compute_the_set_one_connection_does(
    city: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = _set(city, 1, monkeypatch)
    seen = _families_run_apart(monkeypatch)
    together = _set(city, 3, monkeypatch)
    assert sorted(seen) == sorted(family.__name__ for family in kpi_engine.FAMILIES)
    assert together == alone and len(alone) > 20


def test_every_family_reads_the_callers_snapshot(
    city: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A parcel committed by someone else after the caller's snapshot was taken is counted by
    no family (each would see it in a snapshot of its own)."""
    monkeypatch.setenv("REGISTRY_KPI_CONNECTIONS", "2")
    seen = _families_run_apart(monkeypatch)
    with sessionmaker(city)() as session:
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        before = session.execute(text("SELECT count(*) FROM parcels")).scalar_one()
        with unit_of_work(sessionmaker(city), "someone else") as other:
            other.add(parcel("C-4", council_district=1, geometry=square(-118.23)))
        values = compute_kpis(session, None, TODAY)
    assert seen, "the families ran on other connections"
    assert before == 3
    assert _dig1_city(values) == 2  # drawn parcels in the snapshot: C-1, C-2 (not C-4)
    assert _dig1_city(_set(city, 2, monkeypatch)) == 3  # a new snapshot sees C-4


def test_a_caller_that_wrote_gets_its_own_writes_counted(
    city: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REGISTRY_KPI_CONNECTIONS", "2")
    seen = _families_run_apart(monkeypatch)
    with sessionmaker(city)() as session:
        session.add(parcel("C-5", council_district=1, geometry=square(-118.22)))  # not flushed
        values = compute_kpis(session, None, TODAY)
        session.rollback()
    assert seen == [], "computed on the caller's connection"
    assert _dig1_city(values) == 3


def test_the_callers_statement_timeout_holds_on_every_connection(
    city: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_statement_timeouts(city)
    monkeypatch.setenv("REGISTRY_KPI_CONNECTIONS", "2")
    timeouts: list[str] = []
    original = kpi_engine._family_in_snapshot

    def reading_the_timeout(
        engine: Engine, snapshot: Any, family: Any, period: Any
    ) -> list[KpiValue]:
        with engine.connect() as connection:
            timeouts.append(str(connection.execute(text("SHOW statement_timeout")).scalar()))
        return original(engine, snapshot, family, period)

    monkeypatch.setattr(kpi_engine, "_family_in_snapshot", reading_the_timeout)
    want_statement_timeout(54_321)
    try:
        with sessionmaker(city)() as session:
            compute_kpis(session, None, TODAY)
    finally:
        want_statement_timeout(None)
    assert timeouts and set(timeouts) == {"54321ms"}


def test_a_pool_with_no_spare_connection_computes_on_the_callers_own(
    city: Engine, fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A caller holding the pool's last connection does not wait for the pool's timeout: its
    families run one after another on its own connection."""
    monkeypatch.setenv("REGISTRY_KPI_CONNECTIONS", "2")
    seen = _families_run_apart(monkeypatch)
    small = create_registry_engine(fresh_database_url, pool_size=1, max_overflow=0, pool_timeout=5)
    try:
        with sessionmaker(small)() as session:
            values = compute_kpis(session, None, TODAY)
    finally:
        small.dispose()
    assert seen == []
    assert _dig1_city(values) == 2


def test_a_serializable_caller_computes_on_its_own_connection(
    city: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads made on other connections would escape a SERIALIZABLE transaction's conflict
    checks: its families run on its own connection."""
    monkeypatch.setenv("REGISTRY_KPI_CONNECTIONS", "2")
    seen = _families_run_apart(monkeypatch)
    with sessionmaker(city)() as session:
        session.connection(execution_options={"isolation_level": "SERIALIZABLE"})
        values = compute_kpis(session, None, TODAY)
    assert seen == []
    assert _dig1_city(values) == 2
