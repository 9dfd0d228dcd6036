"""The production server: waitress with a fast lane for health checks and a bounded queue.

Waitress hands every request to one pool of threads through one FIFO queue. Under load that
queue makes `/healthz` wait behind every request before it (the finding: 37–45 s while one
viewer's KPI requests held all 8 threads), and waitress logs "Task queue depth is N" for each
request that waits (32,330 lines in 30 s of load). `RegistryDispatcher` changes three things:

- `/healthz` goes to a lane of its own (`FAST_LANE_THREADS` threads), never behind app requests;
- a request arriving while `max_queue` requests already wait for a thread is answered 503 with
  `Retry-After` by that lane, in microseconds, instead of waiting ever longer (a client or a
  balancer can try elsewhere or later); 0 turns it off;
- the queue is reported in one log line a minute at most: how many requests waited, the deepest
  queue, and how many were refused.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from waitress.server import create_server
from waitress.task import ThreadedTaskDispatcher
from waitress.utilities import Error

log = logging.getLogger("asset_registry.server")

HEALTH_PATHS = frozenset({"/healthz"})
FAST_LANE_THREADS = 2
LOG_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class ServerOptions:
    """`asset-registry serve`'s tuning, defaults measured on the bench (README, Serving)."""

    threads: int = 8
    workers: int = 1
    connection_limit: int = 500
    backlog: int = 1024
    channel_timeout: int = 60
    max_queue: int = 400


class ServerBusy(Error):
    code = 503
    reason = "Service Unavailable"

    def to_response(self, ident: str | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
        status, headers, body = super().to_response(ident)
        return status, [*headers, ("Retry-After", "2")], body


class _Lane(ThreadedTaskDispatcher):
    """A plain thread pool that does not log its queue."""

    def add_task(self, task: Any) -> None:
        with self.lock:
            self.queue.append(task)
            self.queue_cv.notify()


class RegistryDispatcher(ThreadedTaskDispatcher):
    def __init__(self, max_queue: int, log_every: float = LOG_EVERY_SECONDS) -> None:
        super().__init__()
        self.max_queue = max_queue
        self.log_every = log_every
        self.fast_lane = _Lane()
        self.fast_lane.set_thread_count(FAST_LANE_THREADS)
        self._waited = self._deepest = self._refused = 0
        self._since = time.monotonic()
        self._report_lock = threading.Lock()

    def add_task(self, task: Any) -> None:
        """`task` is a channel; waitress calls this holding its requests lock, with the request
        to serve first in `channel.requests`."""
        requests = getattr(task, "requests", None)
        request = requests[0] if requests else None
        if request is not None and request.path in HEALTH_PATHS:
            self.fast_lane.add_task(task)
            return
        with self.lock:
            idle = len(self.threads) - self.stop_count - self.active_count
            waiting = len(self.queue) - idle + 1
            refuse = self.max_queue > 0 and waiting > self.max_queue and request is not None
            if not refuse:
                self.queue.append(task)
                self.queue_cv.notify()
        if refuse and request is not None:
            request.error = ServerBusy(
                "The registry is busy; try again in a moment (too many requests waiting)."
            )
            self.fast_lane.add_task(task)
        self._count(waiting, refuse)

    def _count(self, waiting: int, refused: bool) -> None:
        line = None
        with self._report_lock:
            if waiting > 0:
                self._waited += 1
                self._deepest = max(self._deepest, waiting)
            self._refused += refused
            now = time.monotonic()
            if (self._waited or self._refused) and now - self._since >= self.log_every:
                line = (self._waited, self._deepest, self._refused, now - self._since)
                self._waited = self._deepest = self._refused = 0
                self._since = now
        if line:
            log.warning(
                "%d requests waited for a thread (deepest queue %d), %d refused as busy, "
                "in the last %.0f s",
                *line,
            )

    def shutdown(self, cancel_pending: bool = True, timeout: int = 5) -> bool:
        self.fast_lane.shutdown(cancel_pending, timeout)
        return bool(super().shutdown(cancel_pending, timeout))


def make_server(
    app: Any, host: str | None, port: int | None, options: ServerOptions, **extra: Any
) -> Any:
    """A waitress server for `app` (call `.run()`), tuned by `options`; `extra` goes to waitress
    as is (e.g. `trusted_proxy`, or `sockets` already listening instead of host and port)."""
    dispatcher = RegistryDispatcher(options.max_queue)
    dispatcher.set_thread_count(options.threads)
    address = {} if "sockets" in extra else {"host": host, "port": port}
    return create_server(
        app,
        _dispatcher=dispatcher,
        **address,
        threads=options.threads,
        connection_limit=options.connection_limit,
        backlog=options.backlog,
        channel_timeout=options.channel_timeout,
        # poll(), not select(): select() stops at 1,024 file descriptors
        asyncore_use_poll=True,
        ident="asset-registry",
        **extra,
    )


def serve(
    make_app: Callable[[], Any], host: str, port: int, options: ServerOptions, **extra: Any
) -> None:
    """Serve until stopped. With `options.workers` > 1, the listening socket is opened once and
    that many processes (forked, each with its own app, pool and threads) accept from it: the
    app's Python runs under one interpreter lock per process, so one process uses one core at
    most. SIGTERM or SIGINT to this process stops them all."""
    if options.workers <= 1:
        make_server(make_app(), host, port, options, **extra).run()
        return
    listener = socket.create_server((host, port), backlog=options.backlog)
    children = []
    for _ in range(options.workers):
        pid = os.fork()
        if pid == 0:  # a worker: its own app, engines and threads, on the shared socket
            code = 0
            try:
                make_server(make_app(), None, None, options, sockets=[listener], **extra).run()
            except BaseException:
                log.exception("worker stopped")
                code = 1
            os._exit(code)
        children.append(pid)
    listener.close()

    def stop(_signum: int, _frame: Any) -> None:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for pid in children:
        os.waitpid(pid, 0)
