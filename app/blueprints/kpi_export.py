"""`GET /kpi/export?format=csv|xlsx|json&period=FY2026[&as_of=YYYY-MM-DD]`: the reform KPI set
for finance and admin (the same bytes as `asset-registry export kpi`). Not for viewers: the set
includes lease rent and GASB 87 figures, which are financials."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, current_app, request

from app.auth import exporting_roles, require_role
from app.database import db_session
from registry.kpi_export import KPI_EXPORT_FORMATS, MEDIA_TYPES, kpi_export
from registry.kpis import Period, compute_kpis

bp = Blueprint("kpi_export", __name__)


@bp.get("/kpi/export")
@require_role(*exporting_roles)
def kpi_export_view() -> Response:
    export_format = request.args.get("format", "xlsx")
    if export_format not in KPI_EXPORT_FORMATS:
        abort(400, description="format must be csv, xlsx or json.")
    try:
        as_of = dt.date.fromisoformat(request.args["as_of"]) if request.args.get("as_of") \
            else dt.date.today()
    except ValueError:
        abort(400, description="as_of must be a date (YYYY-MM-DD).")
    start_month = int(current_app.config["REGISTRY_SETTINGS"].fiscal_year_start_month)
    period = request.args.get("period") or None
    try:
        label = Period.resolve(period, as_of, start_month).label
    except ValueError:
        abort(400, description="period must be a fiscal year such as FY2026.")
    values = compute_kpis(db_session(), period, as_of, start_month)
    response = Response(kpi_export(values, export_format), mimetype=MEDIA_TYPES[export_format])
    response.headers["Content-Disposition"] = (
        f'attachment; filename="kpis-{label}-{as_of.isoformat()}.{export_format}"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
