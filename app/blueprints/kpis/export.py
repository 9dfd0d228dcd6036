"""Finance's exports, for finance and admin only (both include lease rent, a financial):
`GET /kpi/export?format=csv|xlsx|json&period=FY2026[&as_of=YYYY-MM-DD]` (the reform KPI set) and
`GET /portfolio/export?format=xlsx|csv|gpkg|geojson[&as_of=YYYY-MM-DD]` (the portfolio summary),
the same bytes as `asset-registry export kpi` / `export portfolio`."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint
from flask import Response
from flask import abort
from flask import request

from app.auth import exporting_roles
from app.auth import require_role
from app.city import fiscal_year_start_month
from app.database import db_session
from app.database import reads_from_replica
from app.downloads import attachment
from registry.kpis import Period
from registry.kpis import compute_kpis
from registry.kpis.export import KPI_EXPORT_FORMATS
from registry.kpis.export import MEDIA_TYPES
from registry.kpis.export import kpi_export
from registry.portfolio.export import MEDIA_TYPES as PORTFOLIO_MEDIA_TYPES
from registry.portfolio.export import PORTFOLIO_FORMATS
from registry.portfolio.export import portfolio_export

bp = reads_from_replica(Blueprint("kpi_export", __name__))


@bp.get("/kpi/export")
@require_role(*exporting_roles)
def kpi_export_view() -> Response:
    export_format = _format(KPI_EXPORT_FORMATS)
    as_of = _as_of()
    start_month = _start_month()
    period = request.args.get("period") or None
    try:
        label = Period.resolve(period, as_of, start_month).label
    except ValueError:
        abort(400, description="period must be a fiscal year such as FY2026.")
    values = compute_kpis(db_session(), period, as_of, start_month)
    return attachment(
        kpi_export(values, export_format),
        MEDIA_TYPES[export_format],
        f"kpis-{label}-{as_of.isoformat()}.{export_format}",
    )


@bp.get("/portfolio/export")
@require_role(*exporting_roles)
def portfolio_export_view() -> Response:
    export_format = _format(PORTFOLIO_FORMATS)
    as_of = _as_of()
    content = portfolio_export(db_session(), export_format, as_of, _start_month())
    return attachment(
        content,
        PORTFOLIO_MEDIA_TYPES[export_format],
        f"portfolio-{as_of.isoformat()}.{export_format}",
    )


def _format(allowed: tuple[str, ...]) -> str:
    """The `format` asked for (xlsx when none is), one of `allowed`."""
    export_format = request.args.get("format", "xlsx")
    if export_format not in allowed:
        abort(400, description=f"format must be {', '.join(allowed[:-1])} or {allowed[-1]}.")
    return export_format


def _as_of() -> dt.date:
    text = request.args.get("as_of")
    try:
        return dt.date.fromisoformat(text) if text else dt.date.today()
    except ValueError:
        abort(400, description="as_of must be a date (YYYY-MM-DD).")


def _start_month() -> int:
    return fiscal_year_start_month()
