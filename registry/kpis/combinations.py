"""Combinations of dimensions kept at month ends: those someone viewed lately ("watched").

A combination's trend starts the first day someone views it (the desk stores that day's values,
`registry.kpis.snapshots.store_snapshot` with its filters, and audits the view as `VIEWED`).
From then on the month-end snapshot (`asset-registry kpi snapshot`) also stores every
combination viewed in the last `WATCH_DAYS` days, and back-fills their DIG-1..3 from the audit
trail (`backfill_snapshots`, the city's own back-fill, over the combination's subset), so a
watched combination's trend reaches back before its first view where the KPI allows it.
Combinations nobody looks at cost nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from registry.db import unit_of_work
from registry.kpis.engine import compute_kpis
from registry.kpis.snapshots import VIEWED
from registry.kpis.snapshots import backfill_snapshots
from registry.kpis.snapshots import combination_filters
from registry.kpis.snapshots import snapshot_taken
from registry.kpis.snapshots import store_snapshot

#: A combination viewed within this many days is kept at each month end.
WATCH_DAYS = 90


def watched_combinations(session: Session, as_of: dt.date, days: int = WATCH_DAYS) -> list[str]:
    """The keys of the combinations someone viewed in the `days` days up to `as_of` (each view
    that stored a day's point left an audit event, `VIEWED`): those a month end keeps."""
    since = as_of - dt.timedelta(days=days)
    return list(
        session.execute(
            text(
                "SELECT DISTINCT after ->> 'combination' FROM audit_events "
                "WHERE table_name = 'kpi_snapshots' AND row_key BETWEEN :since AND :as_of "
                "AND after ->> 'why' = :why ORDER BY 1"
            ),
            {"since": since.isoformat(), "as_of": as_of.isoformat(), "why": VIEWED},
        )
        .scalars()
        .all()
    )


def snapshot_watched_combinations(
    factory: sessionmaker[Session],
    actor: str,
    as_of: dt.date,
    fiscal_year_start_month: int = 7,
    days: int = WATCH_DAYS,
) -> dict[str, int | None]:
    """Each watched combination's values at `as_of`, stored as its point of that date (the
    month end, for the timer); key → rows stored, None where it had one. One transaction per
    combination, so a view of one waits for that combination's inserts only."""
    with factory() as session:
        keys = watched_combinations(session, as_of, days)
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


def backfill_watched_combinations(
    factory: sessionmaker[Session],
    actor: str,
    today: dt.date,
    months: int,
    fiscal_year_start_month: int = 7,
    days: int = WATCH_DAYS,
) -> dict[str, dict[dt.date, int]]:
    """`backfill_snapshots` of each combination viewed in the `days` days up to `today`, in a
    transaction each; key → month end → rows stored. A combination already back-filled costs
    one query: its month ends are taken."""
    with factory() as session:
        keys = watched_combinations(session, today, days)
    stored: dict[str, dict[dt.date, int]] = {}
    for key in keys:
        with unit_of_work(factory, actor) as session:
            stored[key] = backfill_snapshots(
                session, today, months, fiscal_year_start_month, combination_filters(key)
            )
    return stored
