"""Optimistic locking over HTTP: `ETag: "v<version>"` out, `If-Match` in.

A write without `If-Match` is refused (428) rather than allowed to overwrite someone's change
unseen; an `If-Match` that is not one of our ETags is a failed precondition (412).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import request

from app.problems import ProblemError


def etag_for(version: int) -> str:
    return f'"v{version}"'


def expected_version(what: str = "record") -> int:
    """The version named by the request's `If-Match`."""
    header = request.headers.get("If-Match")
    if not header:
        raise ProblemError(
            428, "Precondition required",
            f"Send If-Match with the ETag of the {what} version you edited, so that nobody's "
            "change is overwritten unseen.",
        )
    match = re.fullmatch(r'\s*(?:W/)?"v(\d+)"\s*', header)
    if not match:
        raise ProblemError(412, "Precondition failed",
                           f"If-Match {header} is not an ETag of this API.")
    return int(match.group(1))


def version_conflict_problem(
    what: str, current_version: int, changed_by: str | None, changed_at: dt.datetime | None,
    current: Any,
) -> ProblemError:
    """412 saying who saved which version when, with the current record to re-apply onto."""
    when = f" at {changed_at.isoformat()}" if changed_at else ""
    return ProblemError(
        412, f"The {what} was changed by someone else",
        f"{changed_by or 'Someone'} saved version {current_version}{when}; review the current "
        "version and apply your change again.",
        current_version=current_version,
        changed_by=changed_by,
        changed_at=changed_at.isoformat() if changed_at else None,
        current=current,
        etag=etag_for(current_version),
    )
