"""When the database is gone, too slow or too busy: a 503 in the user's words, never a 500.

- The database not answering (connection refused, dropped, the server shutting down): pages
  answer an HTML page, the API a problem document, "The registry's database is not answering;
  try again in a minute", with `Retry-After`. Nothing is cached across the outage: the pool
  drops the dead connections (pre-ping, or invalidation on the error), so the first request
  after the database is back is answered as usual.
- A statement cancelled by its request class's timeout (app/request_limits.py): "This took too
  long; narrow the request or try again."
- No pooled connection free within the pool's timeout: "The registry is busy".

Each is logged as one line (what and where), without a traceback: they are conditions of the
system, not bugs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

import psycopg
from flask import Flask
from flask import Response
from flask import render_template
from flask import request
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.problems import problem
from app.problems import wants_problem_json
from app.security import NON_DOCUMENT_HEADERS

log = logging.getLogger(__name__)


class Unavailable:
    """One of the three answers: its title, message and Retry-After seconds."""

    def __init__(self, title: str, detail: str, retry_after: int) -> None:
        self.title, self.detail, self.retry_after = title, detail, retry_after


DATABASE_GONE = Unavailable(
    "Database not answering",
    "The registry's database is not answering; try again in a minute.",
    60,
)
TOO_SLOW = Unavailable(
    "Took too long",
    "This took too long; narrow the request (a smaller area, fewer rows, one period) or try again.",
    5,
)
BUSY = Unavailable("Busy", "The registry is busy; try again in a moment.", 5)


def classify(error: BaseException) -> Unavailable | None:
    """Which unavailability an exception is, or None when it is a bug to report as such."""
    if isinstance(error, PoolTimeout):
        return BUSY
    original = error.orig if isinstance(error, DBAPIError) else error
    if isinstance(original, psycopg.errors.QueryCanceled):
        return TOO_SLOW
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return DATABASE_GONE
    if isinstance(original, psycopg.OperationalError | psycopg.InterfaceError):
        return DATABASE_GONE
    return None


def _answer(error: Exception) -> Response:
    kind = classify(error)
    if kind is None:
        raise error
    reason = str(getattr(error, "orig", None) or error).splitlines()[0] if str(error) else ""
    log.warning("503 %s %s: %s (%s)", request.method, request.path, kind.title, reason)
    if wants_problem_json():
        response = problem(503, kind.title, kind.detail)
    else:
        response = Response(
            render_template("unavailable.html", title=kind.title, detail=kind.detail),
            status=503,
            mimetype="text/html",
        )
    response.headers["Retry-After"] = str(kind.retry_after)
    return response


class FaultMiddleware:
    """The same answers for what fails before Flask (public tiles): plain text, 503."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            return self.wsgi_app(environ, start_response)
        except Exception as error:
            kind = classify(error)
            if kind is None:
                raise
            log.warning("503 %s: %s", environ.get("PATH_INFO"), kind.title)
            body = kind.detail.encode()
            start_response(
                "503 Service Unavailable",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    ("Retry-After", str(kind.retry_after)),
                    ("Cache-Control", "no-store"),
                    *NON_DOCUMENT_HEADERS,
                ],
            )
            return [body]


def init_app(app: Flask) -> None:
    """Call after every WSGI middleware that may reach the database (public tiles)."""
    for kind in (OperationalError, InterfaceError, PoolTimeout, psycopg.Error):
        app.register_error_handler(kind, _answer)
    app.wsgi_app = FaultMiddleware(app.wsgi_app)  # type: ignore[method-assign]
