"""Seeing the app run (issue 15, item 6): one log line and the metrics of every request.

`RequestObserver` is the outermost WSGI layer, so it sees every request however it is answered:
by Flask, by `PublicTileMiddleware` before Flask, or `/metrics` itself. For each it
- gives the request an id (the caller's `X-Request-Id` when well formed, else a new one), sent
  back as `X-Request-Id` and carried by every log record made while it is served;
- counts the database rows its statements fetched or changed (`registry.statement_rows`);
- when the last byte is sent (the body's `close()`, which every WSGI server calls), logs one
  line (`asset_registry.request`: id, user, method, route template, status, duration, rows and
  statements, bytes, client address) and records the request in the Prometheus metrics.

Flask tells it the route template and the user through the environ (`ROUTE_KEY`, `USER_KEY`),
set when the request is torn down, which Flask does on errors too.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from typing import Any

from flask import Flask
from flask import g
from flask import request

from app.metrics import METRICS_PATH
from app.metrics import RequestMetrics
from app.metrics import serve_metrics
from app.request_log import REQUEST_LOGGER
from app.request_log import ROUTE_KEY
from app.request_log import USER_KEY
from app.request_log import enter_request
from app.request_log import leave_request
from app.request_log import request_id_for
from app.security import NON_DOCUMENT_HEADERS
from app.security import setting
from registry.statement_rows import RowCount
from registry.statement_rows import start_counting
from registry.statement_rows import stop_counting

log = logging.getLogger(__name__)
request_log = logging.getLogger(REQUEST_LOGGER)

#: The route of a request no rule matched (404, 405): never its path, which anyone can vary.
UNMATCHED = "unmatched"
METRICS_EXTENSION = "registry_metrics"
_MAX_HEADER_IN_LOG = 200

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def init_app(app: Flask) -> None:
    """Call last in `create_app`: the observer must wrap every other middleware."""
    metrics = RequestMetrics(app)
    app.extensions[METRICS_EXTENSION] = metrics
    app.teardown_request(_note_route_and_user)
    token = setting(app, "REGISTRY_METRICS_TOKEN")
    app.wsgi_app = RequestObserver(app.wsgi_app, metrics, str(token) if token else None)  # type: ignore[method-assign]


def _note_route_and_user(_error: BaseException | None) -> None:
    environ = request.environ
    environ[ROUTE_KEY] = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    user = g.get("current_user")
    if user is not None:
        environ[USER_KEY] = (user.id, user.email, "token" if user.via_token else "session")


class RequestObserver:
    """Logs and measures every request (see the module's docstring)."""

    def __init__(self, wsgi_app: WsgiApp, metrics: RequestMetrics, metrics_token: str | None):
        self.wsgi_app = wsgi_app
        self.metrics = metrics
        self.metrics_token = metrics_token

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = request_id_for(environ.get("HTTP_X_REQUEST_ID"))
        environ["HTTP_X_REQUEST_ID"] = request_id  # what the app reads is what is logged
        id_token = enter_request(request_id)
        rows, rows_token = start_counting()
        self.metrics.in_flight.inc()
        sent: dict[str, int] = {}

        def observed_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            sent["status"] = int(status.split(" ", 1)[0])
            return start_response(status, [*headers, ("X-Request-Id", request_id)], exc_info)

        def finish(length: int, broken: bool) -> None:
            try:
                status = sent.get("status", 500)
                self._record(environ, request_id, status, started, rows, length)
                if broken:
                    log.warning("the answer broke off after %d bytes", length)
            finally:
                self.metrics.in_flight.dec()
                stop_counting(rows_token)
                leave_request(id_token)

        try:
            if environ.get("PATH_INFO") == METRICS_PATH:
                environ[ROUTE_KEY] = METRICS_PATH
                body: Iterable[bytes] = serve_metrics(
                    self.metrics, self.metrics_token, environ, observed_start_response
                )
            else:
                body = self.wsgi_app(environ, observed_start_response)
        except Exception:
            log.exception("unhandled error")
            try:
                # exc_info only when headers were given already (PEP 3333: replace or re-raise)
                body = _internal_error(observed_start_response, "status" in sent)
            except Exception:
                finish(0, broken=True)
                raise
        return ObservedBody(body, finish)

    def _record(
        self,
        environ: dict[str, Any],
        request_id: str,
        status: int,
        started: float,
        counted: RowCount,
        length: int,
    ) -> None:
        seconds = time.perf_counter() - started
        route = environ.get(ROUTE_KEY) or UNMATCHED
        method = str(environ.get("REQUEST_METHOD", ""))[:16]
        user_id, email, auth = environ.get(USER_KEY) or (None, "anonymous", None)
        fields: dict[str, Any] = {
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "rows": counted.rows,
            "statements": counted.statements,
            "bytes": length,
            "user": email,
            "user_id": user_id,
            "auth": auth,
            "remote_addr": environ.get("REMOTE_ADDR"),
        }
        forwarded = environ.get("HTTP_X_FORWARDED_FOR")
        if forwarded:
            fields["forwarded_for"] = forwarded[:_MAX_HEADER_IN_LOG]
        request_log.info(
            "%s %s %s %.1f ms %d rows %s",
            method,
            route,
            status,
            seconds * 1000,
            counted.rows,
            email,
            extra={"request": fields, "request_id": request_id},
        )
        self.metrics.observe(route, method, status, seconds, counted.rows)


def _internal_error(start_response: StartResponse, headers_given: bool) -> list[bytes]:
    body = b"Internal Server Error: the error was logged with this answer's X-Request-Id.\n"
    start_response(
        "500 Internal Server Error",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            *NON_DOCUMENT_HEADERS,
        ],
        sys.exc_info() if headers_given else None,
    )
    return [body]


class ObservedBody:
    """The answer's body, passed on unchanged; its `close()` (the last byte sent) ends the
    request's line. Counts the bytes, and notes a body that broke off while streaming."""

    def __init__(self, body: Iterable[bytes], finish: Callable[[int, bool], None]) -> None:
        self.body = body
        self.finish = finish
        self.length = 0
        self.broken = False
        self.finished = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self.body:
                self.length += len(chunk)
                yield chunk
        except Exception:
            self.broken = True
            log.exception("error while sending the answer")
            raise

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            if not self.finished:
                self.finished = True
                self.finish(self.length, self.broken)
