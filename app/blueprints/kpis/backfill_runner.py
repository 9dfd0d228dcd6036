"""A combination's DIG-1..3 back-filled from the audit trail right after its first view of a
day, on a thread of the app's own, so the view answers at once and a later one shows the earlier
month ends (`backfill_snapshots` over the combination: the city's own back-fill).

One thread per app: reading the audit trail is the heavy part (about 0.1 s for a year at 2,400
parcels, some seconds at 100,000), and two at once would only slow both. The work waiting is
bounded: a combination already waiting or running is not queued again, and at most
`MAX_PENDING` wait at once; beyond that a back-fill is skipped (logged), as is one lost to a
restart: the month-end `kpi snapshot` and `kpi backfill` back-fill every watched combination.
The back-fill stores only month ends its combination has no point for, so running it twice, or
in two processes, stores nothing twice.

The thread stops with the app: `app.database.dispose` cancels what waits and joins it, and so
does the interpreter's exit, before Python's own exit handler would run every queued back-fill
(only the one running is finished).
"""

from __future__ import annotations

import atexit
import concurrent.futures
import datetime as dt
import logging
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask
from flask import current_app
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from app.auth import actor_name
from app.database import on_dispose
from app.database import session_factory
from registry.db import unit_of_work
from registry.kpis import KpiFilters
from registry.kpis.snapshots import backfill_snapshots
from registry.kpis.snapshots import combination_key

BACKFILL_MONTHS = 12  # as `kpi backfill`'s default
#: Back-fills waiting or running at once, per app; more are skipped (the month end makes them up).
MAX_PENDING = 16
_EXTENSION = "registry_kpi_backfill"
log = logging.getLogger(__name__)

_open_queues: weakref.WeakSet[BackfillQueue] = weakref.WeakSet()
_queues_lock = threading.Lock()  # making a queue, registering the exit hook
_exit_hook_registered = False


class BackfillQueue:
    """One thread's work, by key: a key waiting or running is not queued twice, and at most
    `MAX_PENDING` keys wait or run. `close` cancels what waits."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kpi-backfill")
        self._lock = threading.Lock()
        self._pending: dict[str, Future[Any]] = {}
        self._closed = False

    def submit(self, key: str, work: Callable[..., Any], *args: Any) -> Future[Any] | None:
        """`work(*args)` on the thread, unless `key` waits or runs already (its future is
        returned) or the queue is full or closed (None: skipped, and a full queue logged)."""
        with self._lock:
            if key in self._pending:
                return self._pending[key]
            if self._closed:
                return None
            if len(self._pending) >= MAX_PENDING:
                log.warning(
                    "KPI back-fill of %s skipped: %d back-fills waiting already; the month-end "
                    "`kpi snapshot` (or `kpi backfill`) back-fills it while it is watched",
                    key,
                    len(self._pending),
                )
                return None
            future = self._pool.submit(work, *args)
            self._pending[key] = future
        future.add_done_callback(lambda done: self._done(key, done))
        return future

    def pending(self) -> list[Future[Any]]:
        with self._lock:
            return list(self._pending.values())

    def close(self, wait: bool) -> None:
        """Cancel what waits; `wait`: until the one running has ended and the thread is gone."""
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def _done(self, key: str, future: Future[Any]) -> None:
        with self._lock:
            if self._pending.get(key) is future:
                del self._pending[key]
        if not future.cancelled() and future.exception() is not None:
            log.warning("a KPI combination's back-fill failed", exc_info=future.exception())


def backfill_later(
    filters: KpiFilters, today: dt.date, fiscal_year_start_month: int
) -> Future[Any] | None:
    """Back-fill the combination `filters` names, on the app's back-fill thread (None when
    skipped: see `BackfillQueue.submit`)."""
    key = combination_key(filters)
    if key is None:
        return None
    return backfill_queue(current_app).submit(
        key, _backfill, session_factory(), actor_name(), today, fiscal_year_start_month, filters
    )


def wait_for_backfills(app: Flask) -> None:
    """Return once every back-fill waiting or running now has ended."""
    queue: BackfillQueue | None = app.extensions.get(_EXTENSION)
    if queue is not None:
        concurrent.futures.wait(queue.pending())


def backfill_queue(app: Flask) -> BackfillQueue:
    """The app's queue, made on first use (its thread starts with the first back-fill)."""
    with _queues_lock:
        queue: BackfillQueue | None = app.extensions.get(_EXTENSION)
        if queue is None:
            queue = app.extensions[_EXTENSION] = BackfillQueue()
            _open_queues.add(queue)
            extensions = app.extensions  # the app's own dict, even through `current_app`
            on_dispose(app, lambda: _dispose(extensions))
            _close_at_exit()
        return queue


def _dispose(extensions: dict[str, Any]) -> None:
    queue: BackfillQueue | None = extensions.pop(_EXTENSION, None)
    if queue is not None:
        queue.close(wait=True)


def _close_at_exit() -> None:
    """Have every queue closed when the interpreter exits, before it joins its threads:
    `concurrent.futures` runs every queued item then, from a hook of `threading`'s
    (`_register_atexit`, CPython's, called in reverse order, so this one first); `atexit`,
    which runs after the join, only where that hook is missing."""
    global _exit_hook_registered
    if not _exit_hook_registered:
        register = getattr(threading, "_register_atexit", atexit.register)
        register(_close_all)
        _exit_hook_registered = True


def _close_all() -> None:
    for queue in list(_open_queues):
        queue.close(wait=False)


def _backfill(
    factory: sessionmaker[Session],
    actor: str,
    today: dt.date,
    fiscal_year_start_month: int,
    filters: KpiFilters,
) -> dict[dt.date, int]:
    with unit_of_work(factory, actor) as session:
        return backfill_snapshots(session, today, BACKFILL_MONTHS, fiscal_year_start_month, filters)
