"""The replica monitor's circuit breaker, against a real (closed) port: a replica that does not
answer is asked again once per retry period, however many requests come meanwhile."""

from __future__ import annotations

from sqlalchemy import event

from registry.db import create_registry_engine
from registry.replication import ReplicaMonitor
from tests.database import server_url
from tests.pg_clusters import free_port


def test_a_dead_replica_costs_one_connection_attempt_per_retry_period_not_one_per_request() -> None:
    engine = create_registry_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing_listens_here"
    )
    attempts: list[int] = []
    event.listen(engine, "do_connect", lambda *args: attempts.append(1))
    now = [1000.0]
    monitor = ReplicaMonitor([engine], max_lag_seconds=30, retry_seconds=5, clock=lambda: now[0])
    try:
        for _ in range(50):  # a burst of requests while the replica is down
            assert not monitor.usable()
            now[0] += 0.05
        assert len(attempts) == 1
        now[0] += 5
        assert not monitor.usable()
        assert len(attempts) == 2
    finally:
        engine.dispose()


def test_a_read_database_that_is_not_a_standby_is_not_used() -> None:
    """Pointed at a primary (a promoted replica, say, whose writes the real primary never sees),
    the monitor refuses it rather than serve reads that may be a world apart."""
    engine = create_registry_engine(server_url())
    try:
        monitor = ReplicaMonitor([engine], max_lag_seconds=30)
        assert not monitor.usable()
        assert not monitor.state().reachable
    finally:
        engine.dispose()
