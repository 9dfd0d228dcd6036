"""`compute_kpis`: every implemented KPI family for a period and as-of date, in one ordered list
(KPI set order, then city, department, council district, asset type, building).

The families run on `REGISTRY_KPI_CONNECTIONS` connections at once (default 2), each in a
read-only transaction that imports the caller's snapshot (`pg_export_snapshot`, as pg_dump's
parallel jobs do): every family sees the same committed data, as one connection would, while
PostgreSQL, which runs a statement on one core, works on several families together (the set of a
100,000-parcel city is seven families of 0.2–0.6 s each). A caller whose transaction has written
(others cannot see its writes) or is inside a savepoint (PostgreSQL exports no snapshot there),
whose session is bound to a connection rather than an engine, that runs in autocommit or at
SERIALIZABLE (reads on other connections would escape its conflict checks), or whose pool has
fewer than two connections to spare, gets the families computed one after the other on its own
connection: the same values.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine
from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from registry.fields import whole_number
from registry.kpis.costs import cost_kpis
from registry.kpis.definitions import KPI_DEFINITIONS
from registry.kpis.digitization import digitization_kpis
from registry.kpis.lease_kpis import lease_kpis
from registry.kpis.milestone_forecast import milestone_forecast_kpis
from registry.kpis.occupancy_costs import occupancy_cost_kpis
from registry.kpis.revenue import revenue_kpis
from registry.kpis.utilization import utilization_kpis
from registry.kpis.values import BREAKDOWNS
from registry.kpis.values import KpiFilters
from registry.kpis.values import KpiValue
from registry.kpis.values import Period
from registry.leases.rent_sql import without_jit
from registry.settings import Settings

FAMILIES = (
    digitization_kpis,
    milestone_forecast_kpis,
    utilization_kpis,
    cost_kpis,
    occupancy_cost_kpis,
    revenue_kpis,
    lease_kpis,
)
#: The families, the slowest first (measured at 100,000 parcels), so that the last one to start
#: on a free connection is a short one.
_SLOWEST_FIRST = (
    utilization_kpis,
    lease_kpis,
    occupancy_cost_kpis,
    milestone_forecast_kpis,
    digitization_kpis,
    revenue_kpis,
    cost_kpis,
)
assert set(_SLOWEST_FIRST) == set(FAMILIES)
_KPI_ORDER = {definition.id: index for index, definition in enumerate(KPI_DEFINITIONS)}
_BREAKDOWN_ORDER = {name: index for index, name in enumerate((*BREAKDOWNS, "building"))}


def _sort_key(value: KpiValue) -> tuple[int, int, int, str]:
    text = value.breakdown_value or ""
    # council districts are numbers: 2 before 10
    number = whole_number(text) or 0
    return (_KPI_ORDER[value.kpi_id], _BREAKDOWN_ORDER[value.breakdown], number, text)


def compute_kpis(
    session: Session,
    period: str | None,
    as_of: date,
    fiscal_year_start_month: int = 7,
    filters: KpiFilters | None = None,
) -> list[KpiValue]:
    """The KPI values of fiscal year `period` (e.g. "FY2026"; default: the fiscal year holding
    `as_of`), stock KPIs measured at `as_of`, over the subset `filters` selects (default: the
    whole portfolio; then the city row is the subset's). Read-only: nothing is written."""
    resolved = Period.resolve(period, as_of, fiscal_year_start_month, filters)
    without_jit(session)
    connections = Settings.from_env().kpi_connections
    bind = session.get_bind()
    if isinstance(bind, Engine):
        connections = min(connections, _spare_connections(bind))
    snapshot = _shared_snapshot(session) if connections > 1 else None
    if snapshot is None:
        values = [value for family in FAMILIES for value in family(session, resolved)]
    else:
        values = _in_snapshot(bind, snapshot, resolved, connections)
    return sorted(values, key=_sort_key)


def _spare_connections(engine: Engine) -> int:
    """How many more connections `engine`'s pool hands out now without waiting. Why: a caller
    holds its own connection while its families take theirs; callers that took every connection
    would leave their families waiting for the pool's timeout. A family's connection goes back
    after each family, so families never wait on each other."""
    pool = engine.pool
    max_overflow = getattr(pool, "_max_overflow", None)
    if not isinstance(pool, QueuePool) or max_overflow is None or max_overflow < 0:
        return len(FAMILIES)  # a new connection each time, or no bound
    return int(pool.size() + max_overflow - pool.checkedout())


#: The caller's settings the families' SQL follows (date casts of timestamps follow TimeZone),
#: given to each connection that computes them.
_CALLER_SETTINGS = ("TimeZone", "DateStyle", "IntervalStyle", "search_path")


@dataclass(frozen=True)
class _Shared:
    """What the families' connections take from the caller: its snapshot and its settings."""

    snapshot: str
    settings: dict[str, str]


def _shared_snapshot(session: Session) -> _Shared | None:
    """The snapshot of the session's transaction, exported for other connections to import,
    with the caller's settings; None when they could not see what the session sees (see the
    module's docstring) or PostgreSQL exports no snapshot (inside a savepoint)."""
    if not isinstance(session.get_bind(), Engine) or session.in_nested_transaction():
        return None
    level = session.connection().get_isolation_level()
    if level == "AUTOCOMMIT":
        return None  # no transaction would keep the exported snapshot
    if level == "SERIALIZABLE":
        return None  # reads on other connections would escape its conflict checks
    session.flush()
    # one round trip: the snapshot only if this transaction has written nothing, and the settings
    snapshot, values = session.execute(
        text(
            "SELECT CASE WHEN pg_current_xact_id_if_assigned() IS NULL "
            "THEN pg_export_snapshot() END, "
            "ARRAY[" + ", ".join(f"current_setting('{name}')" for name in _CALLER_SETTINGS) + "]"
        )
    ).one()
    if snapshot is None:
        return None
    settings = dict(zip(_CALLER_SETTINGS, (str(value) for value in values), strict=True))
    return _Shared(str(snapshot), settings)


def _in_snapshot(bind: object, shared: _Shared, period: Period, connections: int) -> list[KpiValue]:
    """Every family's values, each computed on a connection of `bind`'s pool in the caller's
    snapshot. Each task runs in a copy of the caller's context, so the caller's statement
    timeout (`registry.statement_timeouts`) holds on the connections it checks out. The first
    family that fails stops those not yet started, as on one connection."""
    assert isinstance(bind, Engine)
    failed = threading.Event()

    def compute(family: Callable[[Session, Period], list[KpiValue]]) -> list[KpiValue]:
        if failed.is_set():
            return []  # the caller gets the failure from the family that failed
        try:
            return _family_in_snapshot(bind, shared, family, period)
        except BaseException:
            failed.set()
            raise

    workers = min(connections, len(_SLOWEST_FIRST))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kpi_family") as pool:
        futures = [
            pool.submit(contextvars.copy_context().run, compute, family)
            for family in _SLOWEST_FIRST
        ]
        return [value for future in futures for value in future.result()]


def _family_in_snapshot(
    engine: Engine,
    shared: _Shared,
    family: Callable[[Session, Period], list[KpiValue]],
    period: Period,
) -> list[KpiValue]:
    snapshot = shared.snapshot
    if not all(character in "0123456789ABCDEF-" for character in snapshot.upper()):
        raise ValueError(f"not a snapshot id: {snapshot!r}")  # inlined below: SET takes no binds
    with engine.connect() as connection:
        connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with connection.begin():
            connection.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
            for name, value in shared.settings.items():
                connection.execute(
                    text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value}
                )
            with Session(bind=connection) as session:
                without_jit(session)
                return list(family(session, period))
