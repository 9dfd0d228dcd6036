"""Combinations of dimensions kept at month ends: those someone viewed lately ("watched").

A combination's trend starts the first day someone views it (the desk stores that day's values,
`registry.kpis.snapshots.store_view`, and audits the view with the stable key `VIEW_EVENT`).
From then on the month-end snapshot (`asset-registry kpi snapshot`) also stores the combinations
viewed in the last `WATCH_DAYS` days, and back-fills their DIG-1..3 from the audit trail
(`backfill_snapshots`, the city's own back-fill, over the combination's subset), so a watched
combination's trend reaches back before its first view where the KPI allows it.

Each watched combination costs a full `compute_kpis` at every month end, so only the most
viewed `REGISTRY_KPI_WATCHED_COMBINATIONS` (50) are kept, most days viewed first; the others are
counted, and the commands say how many were left out. Combinations nobody looks at cost
nothing; neither does one whose subset holds no parcel (`holds_parcels`: the desk keeps no
trend for it, and so never watches it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from registry.db import unit_of_work
from registry.kpis.engine import compute_kpis
from registry.kpis.snapshots import VIEW_EVENT
from registry.kpis.snapshots import backfill_snapshots
from registry.kpis.snapshots import combination_filters
from registry.kpis.snapshots import snapshot_taken
from registry.kpis.snapshots import store_snapshot
from registry.kpis.values import KpiValue
from registry.settings import DEFAULT_KPI_WATCHED_COMBINATIONS

#: A combination viewed within this many days is kept at each month end.
WATCH_DAYS = 90

# Each combination viewed in the window: the days it was viewed (one event per first view of a
# day), its last; the most viewed `:limit`, and how many there were in all.
_WATCHED_SQL = """
    WITH viewed AS (
        SELECT after ->> 'combination' AS key, count(*) AS days, max(row_key) AS last_view
          FROM audit_events
         WHERE table_name = 'kpi_snapshots' AND row_key BETWEEN :since AND :as_of
           AND after ->> 'event' = :event AND after ->> 'combination' IS NOT NULL
         GROUP BY 1
    )
    SELECT key, count(*) OVER () AS viewed FROM viewed
     ORDER BY days DESC, last_view DESC, key LIMIT :limit
"""


@dataclass(frozen=True)
class WatchedCombinations:
    """The keys a month end keeps (most viewed first), and how many viewed ones it leaves out."""

    keys: list[str]
    left_out: int


def watched_combinations(
    session: Session,
    as_of: dt.date,
    days: int = WATCH_DAYS,
    limit: int = DEFAULT_KPI_WATCHED_COMBINATIONS,
) -> WatchedCombinations:
    """The combinations someone viewed in the `days` days up to `as_of` (each view that stored
    a day's point left an audit event marked `VIEW_EVENT`), the `limit` viewed on most days."""
    since = as_of - dt.timedelta(days=days)
    rows = session.execute(
        text(_WATCHED_SQL),
        {
            "since": since.isoformat(),
            "as_of": as_of.isoformat(),
            "event": VIEW_EVENT,
            "limit": limit,
        },
    ).all()
    viewed = rows[0].viewed if rows else 0
    return WatchedCombinations([row.key for row in rows], viewed - len(rows))


def holds_parcels(values: Sequence[KpiValue]) -> bool:
    """Whether the subset `values` were computed over (`compute_kpis` with filters) holds a
    parcel: DIG-1's city row counts every parcel of the registry in it. A combination that
    holds none keeps no trend, so a sweep of every possible combination stores nothing."""
    return any(
        value.kpi_id == "DIG-1" and value.breakdown == "city" and bool(value.denominator)
        for value in values
    )


def snapshot_combinations(
    factory: sessionmaker[Session],
    actor: str,
    keys: Sequence[str],
    as_of: dt.date,
    fiscal_year_start_month: int = 7,
) -> dict[str, int | None]:
    """Each combination's values at `as_of` (`keys`: the watched ones), stored as its point of
    that date (the month end, for the timer); key → rows stored, None where it had one. One
    transaction per combination, so a view of one waits for that combination's inserts only."""
    stored: dict[str, int | None] = {}
    for key in keys:
        filters = combination_filters(key)
        with unit_of_work(factory, actor) as session:
            if snapshot_taken(session, as_of, key):
                stored[key] = None
                continue
            values = compute_kpis(session, None, as_of, fiscal_year_start_month, filters)
            stored[key] = store_snapshot(session, values, as_of, filters)
    return stored


def backfill_combinations(
    factory: sessionmaker[Session],
    actor: str,
    keys: Sequence[str],
    today: dt.date,
    months: int,
    fiscal_year_start_month: int = 7,
) -> dict[str, dict[dt.date, int]]:
    """`backfill_snapshots` of each combination of `keys` (the watched ones), in a transaction
    each; key → month end → rows stored. A combination already back-filled costs one query:
    its month ends are taken."""
    stored: dict[str, dict[dt.date, int]] = {}
    for key in keys:
        with unit_of_work(factory, actor) as session:
            stored[key] = backfill_snapshots(
                session, today, months, fiscal_year_start_month, combination_filters(key)
            )
    return stored
