"""Where each KPI figure on the dashboard links to: the records behind the number.

One place so the dashboard's tiles and district table (and `/kpi/values`' `url`) agree. A link
is one the reader's role can open (walk defect 8: the portfolio and GASB 87 exports are finance's
and admins', and answered 403 to the reform team), and it carries every filter of the figure
the page it opens understands: the parcel table takes department, district and asset type,
the milestone's findings department and district, the lease pages and the verification queue
the department. A figure no readable page lists gets the export when the reader may export and
the export covers the figure (the whole city: the exports take no department, district or asset
type), else no link: no link beats a 403 or a list of other records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import url_for

from registry.kpis.counted_parcels import CountedParcels
from registry.kpis.values import NONE_LABEL
from registry.parcels.filters import MAX_IDS

# Figures over buildings, costs or GASB 87 balances: no page lists their records; the exports do
_PORTFOLIO_EXPORT_KPIS = frozenset({"UTL-2", "UTL-3", "CST-1", "CST-3", "CST-4", "CST-5"})


@dataclass(frozen=True)
class LinkScope:
    """What a figure was computed over, and what its reader may open.

    `counted` (UTL-4 only): the parcels the figure counts, read by
    `registry.kpis.counted_parcels`; without it UTL-4 gets no link."""

    department: str | None = None
    district: str | None = None
    asset_type: str | None = None
    as_of: dt.date | None = None
    fiscal_year: int | None = None
    may_export: bool = False
    counted: CountedParcels | None = None

    def is_whole_city(self) -> bool:
        return not (self.department or self.district or self.asset_type)

    def has_no_label(self) -> bool:
        """A subset of records without the dimension (`NONE_LABEL`): no page filters by that."""
        return NONE_LABEL in (self.department, self.district, self.asset_type)


@dataclass(frozen=True)
class RecordsLink:
    url: str
    label: str | None = None  # what the page lists, where that is not plainly the figure


def _url(endpoint: str, anchor: str = "", **values: Any) -> str:
    args = {key: value for key, value in values.items() if value not in (None, "")}
    return url_for(endpoint, **args) + anchor


def records_link(kpi_id: str, scope: LinkScope) -> RecordsLink | None:
    """The page listing the records `kpi_id`'s figure counts, filtered as the figure; None
    where no page the reader may open lists them."""
    if scope.has_no_label():
        return None
    department, district = scope.department, scope.district
    prefix = kpi_id.split("-", 1)[0]
    by_department = not (district or scope.asset_type)  # what the lease pages filter by
    if kpi_id == "DIG-2":
        return (
            RecordsLink(_url("verification.queue", department=department))
            if by_department
            else None
        )
    if kpi_id == "DIG-4":
        return (
            RecordsLink(_url("leases.lease_list", department=department)) if by_department else None
        )
    if prefix == "DIG":
        if scope.asset_type:  # the findings are filtered by department and district only
            return None
        return RecordsLink(
            _url("milestones.milestone_page", "#findings", department=department, district=district)
        )
    if kpi_id == "UTL-1":
        return RecordsLink(
            _url(
                "parcel_table.parcel_table",
                status="no_current_use",
                department=department,
                district=district,
                asset_type=scope.asset_type,
            )
        )
    if kpi_id == "UTL-4":
        return _underused_link(scope)
    if not by_department and (kpi_id in {"UTL-5", "CST-2", "LSE-1"} or prefix == "REV"):
        return None  # a list of the department's (or the city's) leases would pass for these
    if kpi_id in {"UTL-5", "CST-2"}:
        return RecordsLink(_url("leases.lease_list", direction="in", department=department))
    if prefix == "REV":
        return RecordsLink(_url("leases.lease_list", direction="out", department=department))
    if kpi_id == "LSE-1":
        as_of = scope.as_of.isoformat() if scope.as_of else None
        return RecordsLink(
            _url("lease_reports.critical_dates_page", as_of=as_of, months=12, department=department)
        )
    if not (scope.may_export and scope.is_whole_city()):
        return None
    if kpi_id == "LSE-2":
        return RecordsLink(
            _url("lease_reports.gasb87_export", fy=scope.fiscal_year, format="xlsx"),
            "the GASB 87 workbook of the fiscal year",
        )
    if kpi_id in _PORTFOLIO_EXPORT_KPIS:
        as_of = scope.as_of.isoformat() if scope.as_of else None
        return RecordsLink(
            _url("kpi_export.portfolio_export_view", format="xlsx", as_of=as_of),
            "the portfolio workbook at the as-of date",
        )
    return None


def _underused_link(scope: LinkScope) -> RecordsLink | None:
    """UTL-4's parcels by id: those with no current use and those holding an office building
    under 60 % (the parcel table cannot filter by a building's utilization). The ids carry the
    figure's filters already; department and district ride along to show them (they are the
    parcel's in both kinds), asset type does not (a building's own type may differ from its
    parcel's). Over the table's `MAX_IDS`, no link (a list of part of them would pass for all)."""
    counted = scope.counted
    if counted is None or len(counted.parcel_ids) > MAX_IDS:
        return None
    if not counted.parcel_ids:
        return None
    url = _url(
        "parcel_table.parcel_table",
        ids=",".join(counted.parcel_ids),
        department=scope.department,
        district=scope.district,
    )
    label = None
    if counted.offices_under_60:
        parcels = len(counted.parcel_ids)
        label = (
            f"lists {parcels:,} parcel{'s' if parcels != 1 else ''}: "
            f"{counted.no_current_use:,} with no current use and those holding the "
            f"{counted.offices_under_60:,} office building"
            f"{'s' if counted.offices_under_60 != 1 else ''} under 60 % utilization"
        )
    return RecordsLink(url, label)


def records_url(
    kpi_id: str, breakdown: str = "city", breakdown_value: str | None = None
) -> str | None:
    """`records_link`'s URL for one breakdown row, for a reader who may not export."""
    scope = LinkScope(
        department=breakdown_value if breakdown == "department" else None,
        district=breakdown_value if breakdown == "council_district" else None,
        asset_type=breakdown_value if breakdown == "asset_type" else None,
    )
    link = records_link(kpi_id, scope)
    return link.url if link else None
