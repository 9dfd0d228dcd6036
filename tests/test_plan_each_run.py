"""Every statement the registry's engines run is planned for its own parameters, also once
psycopg has prepared it on the server (from its 5th run on a connection): PostgreSQL would
otherwise switch to a generic plan made without the values, which for the KPI set's optional
filters took 50 s instead of 2.2 s from the 11th computation on a connection."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.db import create_registry_engine
from tests.plans import explained


def test_a_statement_run_many_times_is_planned_for_its_values(sample_database_url: str) -> None:
    engine = create_registry_engine(sample_database_url, pool_size=1)
    try:
        with Session(engine) as session:
            statement = text("SELECT count(*) FROM parcels WHERE status = :status")
            with explained(session) as plans:
                for _ in range(12):  # prepared from the 5th, generic from the 11th at the latest
                    session.execute(statement, {"status": "in_use"})
            runs = [plan for plan in plans if "WHERE status = $1" in plan]
            assert len(runs) == 12
            assert all("'in_use'" in plan for plan in runs), runs[-1]
    finally:
        engine.dispose()
