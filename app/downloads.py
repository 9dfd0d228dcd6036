"""What every file download of the app shares: an attachment that is never cached, and the
`fy` argument of the finance exports."""

from __future__ import annotations

import datetime as dt

from flask import Response
from flask import abort

from registry.fiscal_years import fiscal_year_of


def attachment(content: str | bytes, mimetype: str, filename: str) -> Response:
    """`content` as a file to save (not to show), private to the requester."""
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def fiscal_year_arg(value: str | None, start_month: int) -> int:
    """`?fy=2026` or `FY2026`; none: the fiscal year of today; anything else: 400."""
    if not value:
        return fiscal_year_of(dt.date.today(), start_month)
    digits = value.strip().upper().removeprefix("FY")
    if not (
        digits.isascii() and digits.isdigit() and len(digits) == 4 and 1900 < int(digits) < 2200
    ):
        abort(400, description="fy must be a fiscal year such as 2026 or FY2026.")
    return int(digits)
