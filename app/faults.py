"""When the database is gone, too slow or too busy: a 503 in the user's words, never a 500.

- The database not answering (connection refused, dropped, the server shutting down): pages
  answer an HTML page, the API a problem document, "The registry's database is not answering;
  try again in a minute", with `Retry-After`. Nothing is cached across the outage: the pool
  drops the dead connections (pre-ping, or invalidation on the error), so the first request
  after the database is back is answered as usual.
- A statement cancelled by its request class's timeout (app/request_limits.py): "This took too
  long; narrow the request or try again."
- No pooled connection free within the pool's timeout: "The registry is busy".

Which exception means which is registry/unavailable.py's to say. Each is logged as one line
(what and where), without a traceback: they are conditions of the system, not bugs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from flask import Flask
from flask import Response
from flask import render_template
from flask import request

from app.problems import problem
from app.problems import wants_problem_json
from app.security import NON_DOCUMENT_HEADERS
from registry.unavailable import DATABASE_ERRORS
from registry.unavailable import reason
from registry.unavailable import unavailability

log = logging.getLogger(__name__)


def _answer(error: Exception) -> Response:
    kind = unavailability(error)
    if kind is None:
        raise error
    log.warning("503 %s %s: %s (%s)", request.method, request.path, kind.title, reason(error))
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
            kind = unavailability(error)
            if kind is None:
                raise
            log.warning("503 %s: %s (%s)", environ.get("PATH_INFO"), kind.title, reason(error))
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
    for kind in DATABASE_ERRORS:
        app.register_error_handler(kind, _answer)
    app.wsgi_app = FaultMiddleware(app.wsgi_app)  # type: ignore[method-assign]
