"""How long a request's SQL may run and how many requests one user may have running (issue 15,
finding 7: one viewer with 16 parallel `/kpi` requests held every server thread).

- **Statement timeout by request class.** Every request is put in a class by its path and
  method (`request_class`): vector tiles, API reads, pages, writes, reports (KPIs, exports) and
  imports. Each class has its own `statement_timeout` (`REGISTRY_STATEMENT_TIMEOUT_<CLASS>`, in
  seconds, `0` for none), set on each pooled connection the request checks out
  (registry/statement_timeouts.py). A statement cancelled by it answers 503 (app/faults.py).
- **Requests in flight per user.** A signed-in user (by user id) may have
  `REGISTRY_USER_CONCURRENCY` (default 4) requests running, an anonymous client address
  `REGISTRY_ADDRESS_CONCURRENCY` (default 16: one address is often a whole office or library
  behind one router, whose staff sign in at nine together); the next one answers 429 with
  `Retry-After` at once instead of taking another server thread. `/healthz`,
  static files and vector tiles are exempt: a map view asks for a dozen tiles at once, and tiles
  are bounded by their own short timeout. The count is per server process. A browser (asking
  for HTML) gets the refusal as a page of the site; a refused form POST is on it as hidden
  inputs with a "Send it again" button, so what was typed is not lost (a file chosen for an
  upload must be chosen again: its bytes are not echoed back).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import render_template
from flask import request
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from werkzeug.wsgi import ClosingIterator

from app.problems import problem
from app.problems import wants_problem_json
from registry.statement_timeouts import ANY_TIMEOUT
from registry.statement_timeouts import apply_statement_timeouts
from registry.statement_timeouts import want_statement_timeout

#: Seconds a statement of each request class may run, unless a REGISTRY_STATEMENT_TIMEOUT_*
#: setting says otherwise. A dense z12 tile of the 100,000-parcel bench city takes 0.03 s; its
#: whole KPI set 14 s (of which the longest statement ~6 s); an import of 94,000 parcels ~7 s.
DEFAULT_TIMEOUTS = {
    "tile": 5.0,
    "read": 10.0,
    "page": 20.0,
    "write": 30.0,
    "report": 120.0,
    "import": 900.0,
}
DEFAULT_USER_CONCURRENCY = 4
TOO_MANY_TITLE = "Too many requests at once"
RETRY_AFTER_SECONDS = 2
DEFAULT_ADDRESS_CONCURRENCY = 16
#: Paths of reports: the KPI desk and map, every export and download, the milestone page, the
#: calendar feed.
_REPORT_PREFIXES = (
    "/kpi",
    "/portfolio/export",
    "/open/download/",
    "/leases/gasb87",
    "/leases/critical-dates.ics",
    "/milestone",
)
_IMPORT_PREFIXES = (
    "/imports/new",
    "/imports/prepare/",
    "/admin/city/districts",
    "/admin/city/boundary",
    "/admin/city/departments/import",
)
_READ_PREFIXES = ("/api/", "/ogc")
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Requests never counted against a user's limit.
EXEMPT_ENDPOINTS = frozenset({"health.healthz", "static", "tiles.parcel_tile_view"})


def request_class(path: str, method: str) -> str:
    """The class of a request, which decides its statement timeout."""
    if path == "/healthz":
        return "health"
    if path.startswith("/tiles/"):
        return "tile"
    if path.startswith(_IMPORT_PREFIXES) and method in _UNSAFE:
        return "import"
    if path.startswith(_REPORT_PREFIXES) and method not in _UNSAFE:
        return "report"
    if method in _UNSAFE:
        return "write"
    if path.startswith(_READ_PREFIXES):
        return "read"
    return "page"


def statement_timeouts(config: Mapping[str, Any]) -> dict[str, int]:
    """Milliseconds by request class from REGISTRY_STATEMENT_TIMEOUT_<CLASS> (seconds; 0 = no
    limit), read from the app's config (tests) or else the environment."""
    timeouts = {}
    for name, default in DEFAULT_TIMEOUTS.items():
        key = f"REGISTRY_STATEMENT_TIMEOUT_{name.upper()}"
        value = config.get(key, os.environ.get(key))
        seconds = default if value in (None, "") else float(value)
        if seconds < 0:
            raise ValueError(f"{key} must be 0 (no limit) or a number of seconds")
        timeouts[name] = round(seconds * 1000)
    return timeouts


def _engines(app: Flask) -> Iterable[Engine]:
    for value in app.extensions.values():
        if isinstance(value, Engine):
            yield value
        elif isinstance(value, sessionmaker) and isinstance(value.kw.get("bind"), Engine):
            yield value.kw["bind"]
        elif callable(getattr(value, "engines", None)):  # the read replica's (app.database)
            yield from value.engines()


class StatementTimeoutMiddleware:
    """Outermost WSGI layer: the request's class decides the statement timeout of every
    connection it checks out, in Flask or before it (public tiles)."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], timeouts: dict[str, int]):
        self.wsgi_app, self.timeouts = wsgi_app, timeouts

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        kind = request_class(environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET"))
        environ["registry.request_class"] = kind
        # the health check's one-row query runs under any: a SET would cost it two round trips
        want_statement_timeout(ANY_TIMEOUT if kind == "health" else self.timeouts[kind] or None)
        try:
            result = self.wsgi_app(environ, start_response)
        except BaseException:
            want_statement_timeout(None)
            raise
        # a streamed body may still query: the timeout ends when the body is closed
        return ClosingIterator(result, [_end_of_request])


def _end_of_request() -> None:
    want_statement_timeout(None)


class InFlight:
    """Requests running per key (a user id or a client address), under one lock."""

    def __init__(self, limit: int, address_limit: int = DEFAULT_ADDRESS_CONCURRENCY) -> None:
        self.limit = limit
        self.address_limit = address_limit
        self._running: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def limit_of(self, key: tuple[str, str]) -> int:
        return self.address_limit if key[0] == "address" else self.limit

    def enter(self, key: tuple[str, str]) -> bool:
        with self._lock:
            if self._running[key] >= self.limit_of(key):
                return False
            self._running[key] += 1
            return True

    def leave(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._running[key] -= 1
            if self._running[key] <= 0:
                del self._running[key]


def _who() -> tuple[str, str]:
    user = g.get("current_user")
    if user is not None:
        return ("user", str(user.id))
    return ("address", request.remote_addr or "unknown")


def _enter() -> Response | None:
    if request.endpoint in EXEMPT_ENDPOINTS or request.endpoint is None:
        return None
    in_flight: InFlight = current_app.extensions["registry_in_flight"]
    key = _who()
    if in_flight.enter(key):
        g.in_flight_key = key
        return None
    detail = (
        f"You already have {in_flight.limit_of(key)} requests running; wait for one to finish, "
        "then try again."
    )
    if wants_problem_json():
        response = problem(429, TOO_MANY_TITLE, detail)
    elif request.accept_mimetypes.accept_html:
        response = Response(_refusal_page(detail), status=429, mimetype="text/html")
    else:
        response = Response(detail, status=429, mimetype="text/plain")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _refusal_page(detail: str) -> str:
    """The 429 as a page; a refused urlencoded form comes back as hidden inputs to send again
    (multipart bodies are not read: an upload may be large and its file cannot be echoed). A
    form with a password (the sign-in) is not: the password would be in the page's source."""
    resend = None
    if request.method in _UNSAFE and request.mimetype == "application/x-www-form-urlencoded":
        resend = list(request.form.items(multi=True))
        if any("password" in name.lower() for name, _value in resend):
            resend = None
    return render_template(
        "too_many_requests.html",
        title=TOO_MANY_TITLE,
        detail=detail,
        resend=resend,
        retry_after=RETRY_AFTER_SECONDS,
    )


def _leave(_exc: BaseException | None) -> None:
    key = g.pop("in_flight_key", None)
    if key is not None:
        current_app.extensions["registry_in_flight"].leave(key)


def init_app(app: Flask) -> None:
    """Call after `auth.init_app` (the limit needs the signed-in user) and after every WSGI
    middleware (the timeout layer goes outermost)."""
    timeouts = statement_timeouts(app.config)
    for engine in _engines(app):
        apply_statement_timeouts(engine)
    limit = _limit(app, "REGISTRY_USER_CONCURRENCY", DEFAULT_USER_CONCURRENCY)
    address_limit = _limit(app, "REGISTRY_ADDRESS_CONCURRENCY", DEFAULT_ADDRESS_CONCURRENCY)
    app.extensions["registry_in_flight"] = InFlight(limit, address_limit)
    app.before_request(_enter)
    app.teardown_request(_leave)
    app.wsgi_app = StatementTimeoutMiddleware(app.wsgi_app, timeouts)  # type: ignore[method-assign]


def _limit(app: Flask, name: str, default: int) -> int:
    value = app.config.get(name, os.environ.get(name))
    limit = default if value in (None, "") else int(value)
    if limit < 1:
        raise ValueError(f"{name} must be 1 or more")
    return limit
