"""A combination's DIG-1..3 back-filled from the audit trail right after its first view of a
day, on a thread of the app's own, so the view answers at once and a later one shows the earlier
month ends (`backfill_snapshots` over the combination: the city's own back-fill).

One thread per app: reading the audit trail is the heavy part (about 0.1 s for a year at 2,400
parcels, some seconds at 100,000), and two at once would only slow both. A back-fill lost to a
restart is made up by the month-end `kpi snapshot`, which back-fills every watched combination;
the back-fill stores only month ends its combination has no point for, so running it twice, or
in two processes, stores nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from flask import current_app
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from app.auth import actor_name
from app.database import session_factory
from registry.db import unit_of_work
from registry.kpis import KpiFilters
from registry.kpis.snapshots import backfill_snapshots

BACKFILL_MONTHS = 12  # as `kpi backfill`'s default
_EXTENSION = "registry_kpi_backfill"
log = logging.getLogger(__name__)


def backfill_later(
    filters: KpiFilters, today: dt.date, fiscal_year_start_month: int
) -> Future[dict[dt.date, int]]:
    """Back-fill the combination `filters` names, on the app's back-fill thread."""
    future = _pool(current_app).submit(
        _backfill, session_factory(), actor_name(), today, fiscal_year_start_month, filters
    )
    future.add_done_callback(_log_failure)
    return future


def wait_for_backfills(app: Flask) -> None:
    """Return once every back-fill submitted so far has ended (one thread: they run in order)."""
    _pool(app).submit(lambda: None).result()


def _pool(app: Flask) -> ThreadPoolExecutor:
    pool = app.extensions.get(_EXTENSION)
    if pool is None:  # threads start on the first submit: a pool set aside costs nothing
        pool = app.extensions.setdefault(
            _EXTENSION, ThreadPoolExecutor(max_workers=1, thread_name_prefix="kpi-backfill")
        )
    return pool


def _backfill(
    factory: sessionmaker[Session],
    actor: str,
    today: dt.date,
    fiscal_year_start_month: int,
    filters: KpiFilters,
) -> dict[dt.date, int]:
    with unit_of_work(factory, actor) as session:
        return backfill_snapshots(session, today, BACKFILL_MONTHS, fiscal_year_start_month, filters)


def _log_failure(future: Future[dict[dt.date, int]]) -> None:
    error = future.exception()
    if error is not None:
        log.warning("a KPI combination's back-fill failed", exc_info=error)
