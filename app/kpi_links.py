"""Where each KPI figure on the dashboard links to: the records behind the number.

One place so the dashboard's tiles, family charts and district table agree. Pages that other
pieces of the programme provide (the portfolio export) are linked by endpoint when the app has
it and by their documented path otherwise, so the dashboard never breaks on a missing page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import url_for
from werkzeug.routing import BuildError

PORTFOLIO_EXPORT_PATH = "/portfolio/export"


def _url(endpoint: str, fallback: str | None = None, **values: Any) -> str:
    args = {key: value for key, value in values.items() if value not in (None, "")}
    try:
        return url_for(endpoint, **args)
    except BuildError:
        if fallback is None:
            raise
        return fallback + (f"?{urlencode(args)}" if args else "")


def records_url(kpi_id: str, breakdown: str = "city", breakdown_value: str | None = None) -> str:
    """The page listing the records a KPI value counts, narrowed to the breakdown row where
    that page can filter by it (leases and the verification queue by department, the
    milestone's findings by department and district, parcels by department)."""
    department = breakdown_value if breakdown == "department" else None
    district = breakdown_value if breakdown == "council_district" else None
    prefix = kpi_id.split("-", 1)[0]
    if kpi_id == "DIG-2":
        return _url("verification.queue", department=department)
    if kpi_id == "DIG-4":
        return _url("leases.lease_list", department=department)
    if prefix == "DIG":
        url = _url(
            "milestones.milestone_page", "/milestone", department=department, district=district
        )
        return url + "#findings"
    if kpi_id in {"UTL-1", "UTL-4"}:
        return _url(
            "parcel_table.parcel_table",
            status="no_current_use",
            department=department,
            district=district,
        )
    if kpi_id in {"UTL-5", "CST-2"}:
        return _url("leases.lease_list", direction="in", department=department)
    if prefix == "REV":
        return _url("leases.lease_list", direction="out", department=department)
    if kpi_id == "LSE-1":
        return _url("lease_reports.critical_dates_page")
    if kpi_id == "LSE-2":
        return _url("lease_reports.gasb87_export")
    return _url("kpi_export.portfolio_export_view", PORTFOLIO_EXPORT_PATH)
