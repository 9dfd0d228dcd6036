"""RFC 9457 problem details: every API error leaves through here, so clients see one shape.

`errors` lists `{field, message}` pairs so a form can show each message next to its field.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask import Response
from flask import json
from flask import request
from werkzeug.exceptions import HTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(dict[str, str]):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(field=field, message=message)


def problem(
    status: int,
    title: str,
    detail: str = "",
    errors: Iterable[Mapping[str, Any]] = (),
    **extra: Any,
) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body["errors"] = [dict(error) for error in errors]
    body.update(extra)
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)


class ProblemError(Exception):
    """Raise from a view to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        errors: Iterable[Mapping[str, Any]] = (),
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail
        self.errors, self.extra = list(errors), extra

    def response(self) -> Response:
        return problem(self.status, self.title, self.detail, self.errors, **self.extra)


def wants_problem_json() -> bool:
    """The API's callers, and GIS clients of `/ogc` (which send no `Accept` or a JSON one; a
    browser there, preferring HTML, gets the HTML error page)."""
    if request.path.startswith("/ogc"):
        accept = request.accept_mimetypes
        return request.args.get("f") != "html" and not (
            accept.quality("text/html") > accept.quality("application/json")
        )
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def init_app(app: Flask) -> None:
    app.register_error_handler(ProblemError, lambda error: error.response())

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if wants_problem_json():
            return problem(error.code or 500, error.name, error.description or "")
        return error
