"""The threads that prepare exports in the background (`registry.exports.jobs`), one pool per app.

Waitress serves requests on its own threads; an export job must outlive the request that asked
for it, so it runs on this pool (`REGISTRY_EXPORT_WORKERS`, default 1: a big workbook is memory-
and CPU-bound, and two at once would only slow both). Each job claims its row before running, so
a job is run once even with several server processes.

The pool stops with the app (`app.database.dispose`): it takes no more work, and waits for the
jobs already given to it, so that none is left `queued` for good (a job never claimed is not
reported abandoned, as one whose worker died while running is).
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from flask import current_app

from app.database import on_dispose
from app.database import session_factory
from registry.exports.jobs import export_folder
from registry.exports.jobs import remove_expired_files
from registry.exports.jobs import run_job

_EXTENSION = "registry_export_runner"
log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    workers = int(os.environ.get("REGISTRY_EXPORT_WORKERS") or 1)
    pool = app.extensions[_EXTENSION] = ThreadPoolExecutor(
        max_workers=max(1, min(workers, 8)), thread_name_prefix="export"
    )
    on_dispose(app, pool.shutdown)


def submit(job_id: int) -> Future[None]:
    """Run job `job_id` on the app's pool (after removing files kept past their time)."""
    factory, folder = session_factory(), export_folder()
    remove_expired_files(factory, folder)
    future: Future[None] = current_app.extensions[_EXTENSION].submit(
        run_job, factory, job_id, folder
    )
    future.add_done_callback(_log_failure)
    return future


def _log_failure(future: Future[None]) -> None:
    error = future.exception()
    if error is not None:
        log.error("export job failed", exc_info=error)
