"""Lease reports: the critical-dates page (HTML, CSV, iCalendar feed) and the GASB 87 export.

Every signed-in role reads critical dates; only finance and admin export the GASB 87 report.
Calendar apps cannot send an `Authorization` header, so the feed alone also takes the API token
as `?token=` (the same tokens as bearer auth). Lease financials are never public.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint
from flask import Response
from flask import abort
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.wrappers import Response as BaseResponse

from app.auth import CurrentUser
from app.auth import bearer_unauthorized
from app.auth import current_user
from app.auth import exporting_roles
from app.auth import reading_roles
from app.auth import require_role
from app.city import fiscal_year_start_month
from app.database import db_session
from app.database import reads_from_replica
from app.database import session_factory
from app.downloads import attachment
from app.downloads import fiscal_year_arg
from registry.city.departments import department_choices
from registry.db import unit_of_work
from registry.fields import whole_number
from registry.fiscal_years import fiscal_year_of
from registry.leases.calendar import critical_dates_ics
from registry.leases.critical_dates import DEFAULT_WINDOW_MONTHS
from registry.leases.critical_dates import KIND_LABELS
from registry.leases.critical_dates import MAX_WINDOW_MONTHS
from registry.leases.critical_dates import CriticalDate
from registry.leases.critical_dates import critical_dates
from registry.leases.critical_dates import critical_dates_csv
from registry.leases.gasb87.columns import gasb87_csv
from registry.leases.gasb87.report import gasb87_report
from registry.leases.gasb87.workbook import gasb87_workbook
from registry.users.records import user_for_token
from registry.vocabulary import LEASE_DIRECTIONS

bp = Blueprint("lease_reports", __name__)

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# checking a token only touches its last_used_at, which the audit trail does not keep
_FEED_ACTOR = "calendar-feed"


@dataclass(frozen=True)
class _Filters:
    as_of: dt.date
    months: int
    direction: str | None
    department: str | None

    def query_args(self, *, with_as_of: bool = True) -> dict[str, str]:
        """The filters as query-string arguments (what a link must carry to reproduce them)."""
        args = {
            "as_of": self.as_of.isoformat(),
            "months": str(self.months),
            "direction": self.direction,
            "department": self.department,
        }
        if not with_as_of:
            del args["as_of"]
        return {name: value for name, value in args.items() if value is not None}


def _filters() -> _Filters:
    """The page's, the CSV's and the feed's filters from the query string (400 when bad)."""
    args = request.args
    try:
        as_of = dt.date.fromisoformat(args["as_of"]) if args.get("as_of") else dt.date.today()
    except ValueError:
        abort(400, description="as_of must be a date (YYYY-MM-DD).")
    months = whole_number(args.get("months") or str(DEFAULT_WINDOW_MONTHS))
    if months is None or not 1 <= months <= MAX_WINDOW_MONTHS:
        abort(400, description=f"months must be a whole number from 1 to {MAX_WINDOW_MONTHS}.")
    direction = args.get("direction") or None
    if direction is not None and direction not in LEASE_DIRECTIONS:
        abort(400, description="direction must be 'in' or 'out'.")
    department = (args.get("department") or "").strip() or None
    return _Filters(as_of, months, direction, department)


def _items(filters: _Filters) -> list[CriticalDate]:
    return critical_dates(
        db_session(),
        filters.as_of,
        filters.months,
        direction=filters.direction,
        department=filters.department,
    )


@bp.get("/leases/critical-dates")
@require_role(*reading_roles)
def critical_dates_page() -> str | Response:
    filters = _filters()
    items = _items(filters)
    if request.args.get("format") == "csv":
        return attachment(
            critical_dates_csv(items), "text/csv", f"lease-critical-dates-{filters.as_of}.csv"
        )
    user = current_user()
    return render_template(
        "critical_dates.html",
        items=items,
        filters=filters,
        kind_labels=KIND_LABELS,
        departments=department_choices(db_session()),
        max_months=MAX_WINDOW_MONTHS,
        # the feed follows today, so it carries every filter but the as-of date
        feed_url=_with_query(
            url_for(".critical_dates_feed", _external=True), filters.query_args(with_as_of=False)
        ),
        csv_url=_with_query(
            url_for(".critical_dates_page"), {**filters.query_args(), "format": "csv"}
        ),
        can_export=bool(user and user.can_export),
        fiscal_year=fiscal_year_of(filters.as_of, _start_month()),
    )


def _with_query(url: str, args: dict[str, str]) -> str:
    return f"{url}?{urlencode(args)}" if args else url


@bp.get("/leases/critical-dates.ics")
def critical_dates_feed() -> BaseResponse:
    """The feed from today on (`as_of` may move it), for the signed-in user or `?token=`."""
    user = current_user()
    if user is None:
        token = request.args.get("token", "")
        user = _token_user(token) if token else None
        if user is None:
            return _feed_unauthorized(invalid_token=bool(token))
    if user.role not in reading_roles:
        abort(403)
    items = _items(_filters())
    response = Response(critical_dates_ics(items, _lease_url), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="lease-critical-dates.ics"'
    response.headers["Cache-Control"] = "private, no-store"  # the URL may carry a credential
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _token_user(token: str) -> CurrentUser | None:
    with unit_of_work(session_factory(), actor=_FEED_ACTOR) as session:
        user = user_for_token(session, token)
        return CurrentUser.from_user(user, via_token=True) if user is not None else None


def _feed_unauthorized(invalid_token: bool) -> Response:
    return bearer_unauthorized(
        invalid_token, "Subscribe with ?token=<API token> (asset-registry users token EMAIL)."
    )


def _lease_url(item: CriticalDate) -> str:
    """The lease's page as an absolute URL (calendar apps have no base URL)."""
    return url_for("leases.lease_page", lease_number=item.lease_number, _external=True)


@bp.get("/leases/gasb87/export")
@require_role(*exporting_roles)
@reads_from_replica
def gasb87_export() -> Response:
    """`?fy=2026` (or FY2026; default: the current fiscal year) and `format=xlsx|csv`."""
    start_month = _start_month()
    fiscal_year = fiscal_year_arg(request.args.get("fy"), start_month)
    export_format = request.args.get("format", "xlsx")
    if export_format not in ("xlsx", "csv"):
        abort(400, description="format must be xlsx or csv.")
    report = gasb87_report(db_session(), fiscal_year, start_month)
    name = f"gasb87-FY{fiscal_year}.{export_format}"
    if export_format == "csv":
        return attachment(gasb87_csv(report), "text/csv", name)
    return attachment(gasb87_workbook(report), XLSX_MEDIA_TYPE, name)


def _start_month() -> int:
    return fiscal_year_start_month()
