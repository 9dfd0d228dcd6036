"""Request bodies for the JSON APIs that carry money: numbers with fractions are kept exact."""

from __future__ import annotations

from typing import Any

from flask import request

from app.problems import ProblemError
from registry.fields import loads_json


def json_object_body() -> dict[str, Any]:
    """The request's JSON object, numbers with fractions kept exact (and refused where money
    goes); anything else is a 400."""
    try:
        body = loads_json(request.get_data(as_text=True) or "null")
    except ValueError as error:
        raise ProblemError(400, "Bad request", f"The body is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise ProblemError(400, "Bad request", "The body must be a JSON object.")
    return body
