"""The reform KPI dashboard `/kpi`: a tile per KPI of the set, a chart per family, and a
choropleth of one KPI by council district (`/kpi/map`, shown in a frame).

Every number comes from `compute_kpis` and every trend from `kpi_snapshots`; charts are server
made SVG and the map loads Leaflet from the app's static files, so the page works offline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint
from flask import render_template
from flask import request
from flask import url_for
from markupsafe import Markup

from app.assets import map_assets
from app.auth import require_login
from app.charts import line_chart_svg
from app.city import council_districts
from app.city import fiscal_year_start_month
from app.database import db_session
from app.database import reads_from_replica
from app.kpi_links import records_url
from app.security import nonced
from geo.districts import district_areas
from geo.kpi_choropleth import build_kpi_choropleth
from geo.map_builder import render_map_page
from registry.city.departments import department_choices
from registry.fields import whole_number
from registry.fiscal_years import fiscal_year_bounds
from registry.fiscal_years import fiscal_year_of
from registry.kpis import DEFINITIONS_BY_ID
from registry.kpis import KPI_DEFINITIONS
from registry.kpis import KpiValue
from registry.kpis import compute_kpis
from registry.kpis.trends import FAMILIES
from registry.kpis.trends import TrendPoint
from registry.kpis.trends import family_of
from registry.kpis.trends import kpi_trends
from registry.vocabulary import ASSET_TYPES

bp = reads_from_replica(Blueprint("kpi_dashboard", __name__))

FISCAL_YEARS_SHOWN = 4  # the current fiscal year and the three before it
DEFAULT_MAP_KPI = "DIG-2"


@dataclass(frozen=True)
class DashboardFilters:
    """The query string, validated: unknown values are ignored, not errors."""

    fiscal_year: int
    department: str
    district: str
    asset_type: str
    map_kpi: str

    def breakdown(self) -> tuple[str, str | None]:
        """The breakdown row the tiles show. The engine breaks down one dimension at a time,
        so the first filter set wins (department, then district, then asset type)."""
        for name, value in (
            ("department", self.department),
            ("council_district", self.district),
            ("asset_type", self.asset_type),
        ):
            if value:
                return name, value
        return "city", None

    def ignored(self) -> list[str]:
        """Filters that are set but not applied (a second dimension)."""
        labels = (
            ("department", self.department),
            ("council district", self.district),
            ("asset type", self.asset_type),
        )
        return [label for label, value in labels if value][1:]

    def query(self, **changes: str) -> dict[str, str]:
        args = {
            "fy": f"FY{self.fiscal_year}",
            "department": self.department,
            "district": self.district,
            "asset_type": self.asset_type,
            "map_kpi": self.map_kpi,
            **changes,
        }
        return {key: value for key, value in args.items() if value}


def _start_month() -> int:
    return fiscal_year_start_month()


def _fiscal_years(today: dt.date) -> list[int]:
    current = fiscal_year_of(today, _start_month())
    return [current - offset for offset in range(FISCAL_YEARS_SHOWN)]


def _filters(today: dt.date, departments: Sequence[Sequence[str]]) -> DashboardFilters:
    args = request.args
    years = _fiscal_years(today)
    wanted = args.get("fy", "").upper().removeprefix("FY")
    year = whole_number(wanted)
    fiscal_year = year if year in years else years[0]
    codes = {code for code, _ in departments}
    map_kpi = args.get("map_kpi", "")
    return DashboardFilters(
        fiscal_year=fiscal_year,
        department=args.get("department", "") if args.get("department") in codes else "",
        district=args.get("district", "") if args.get("district") in council_districts() else "",
        asset_type=args.get("asset_type", "") if args.get("asset_type") in ASSET_TYPES else "",
        map_kpi=map_kpi if map_kpi in DEFINITIONS_BY_ID else DEFAULT_MAP_KPI,
    )


def _as_of(fiscal_year: int, today: dt.date) -> dt.date:
    """Stock KPIs of a past fiscal year are measured at its last day; of this one, today."""
    return min(today, fiscal_year_bounds(fiscal_year, _start_month())[1])


def _number_format(unit: str) -> Any:
    if unit.startswith("$") and "/" not in unit:
        return lambda value: f"${value:,.0f}"
    return lambda value: f"{value:,.4g}"


def _trend_chart(
    title: str, series: dict[str, list[TrendPoint]], unit: str, width: int, height: int
) -> Markup:
    return line_chart_svg(
        series, title=title, width=width, height=height, y_format=_number_format(unit)
    )


def _tiles(
    values: list[KpiValue],
    breakdown: str,
    breakdown_value: str | None,
    trends: dict[str, list[TrendPoint]],
) -> dict[str, list[dict[str, Any]]]:
    """The tiles of each family, one per KPI of the set (even one the engine has no row for)."""
    shown: dict[str, KpiValue] = {}
    for value in values:
        if (value.breakdown, value.breakdown_value) == (breakdown, breakdown_value):
            shown.setdefault(value.kpi_id, value)
    families: dict[str, list[dict[str, Any]]] = {name: [] for name in FAMILIES.values()}
    for definition in KPI_DEFINITIONS:
        trend = trends.get(definition.id, [])
        families.setdefault(family_of(definition.id), []).append(
            {
                "definition": definition,
                "value": shown.get(definition.id),
                "url": records_url(definition.id, breakdown, breakdown_value),
                "trend": _trend_chart(
                    f"{definition.id} trend", {definition.id: trend}, definition.unit, 300, 110
                )
                if trend
                else None,
            }
        )
    return families


def _family_charts(trends: dict[str, list[TrendPoint]]) -> dict[str, Markup]:
    """Per family, the snapshotted trend of its KPIs that share the family's first unit (so a
    chart never mixes % with $)."""
    charts = {}
    for prefix, family in FAMILIES.items():
        members = [d for d in KPI_DEFINITIONS if d.id.startswith(prefix + "-")]
        unit = next((d.unit for d in members if trends.get(d.id)), members[0].unit)
        series = {d.id: trends.get(d.id, []) for d in members if d.unit == unit}
        charts[family] = _trend_chart(f"{family} KPIs ({unit}) over time", series, unit, 520, 200)
    return charts


@bp.get("/kpi")
@require_login
def dashboard() -> str:
    session, today = db_session(), dt.date.today()
    departments = department_choices(session)
    filters = _filters(today, departments)
    as_of = _as_of(filters.fiscal_year, today)
    values = compute_kpis(session, f"FY{filters.fiscal_year}", as_of, _start_month())
    breakdown, breakdown_value = filters.breakdown()
    trends = kpi_trends(session, breakdown, breakdown_value)
    map_definition = DEFINITIONS_BY_ID[filters.map_kpi]
    by_district = [
        value
        for value in values
        if value.kpi_id == filters.map_kpi and value.breakdown == "council_district"
    ]
    return render_template(
        "kpi_dashboard.html",
        filters=filters,
        as_of=as_of,
        fiscal_years=_fiscal_years(today),
        departments=departments,
        districts=council_districts(),
        asset_types=ASSET_TYPES,
        breakdown=breakdown,
        breakdown_value=breakdown_value,
        families=_tiles(values, breakdown, breakdown_value, trends),
        family_charts=_family_charts(trends),
        definitions=KPI_DEFINITIONS,
        map_definition=map_definition,
        by_district=by_district,
        records_url=records_url,
        map_url=url_for("kpi_dashboard.district_map") + "?" + urlencode(filters.query()),
        # inline (srcdoc), so the KPIs are computed once per page, not again for the frame
        map_document=_choropleth_page(values, filters.map_kpi),
    )


def district_values(values: list[KpiValue], kpi_id: str) -> dict[str, Decimal | None]:
    """Council district → the KPI's value there (None where it has no value)."""
    return {
        value.breakdown_value or "": value.value
        for value in values
        if value.kpi_id == kpi_id and value.breakdown == "council_district"
    }


def _choropleth_page(values: list[KpiValue], kpi_id: str) -> str:
    """The whole Folium document of `kpi_id` by council district."""
    definition = DEFINITIONS_BY_ID[kpi_id]
    kpi_map = build_kpi_choropleth(
        district_areas(db_session()),
        district_values(values, kpi_id),
        title=f"{definition.id} {definition.name}",
        unit=definition.unit,
        assets=map_assets(editing=False),
    )
    return nonced(
        render_map_page(
            kpi_map,
            f"{definition.id} by council district — City Asset Registry",
            head_html=render_template("_kpi_map_head.html"),
        )
    )


@bp.get("/kpi/map")
@require_login
def district_map() -> str:
    """The choropleth alone, as a page of its own (full screen, or to link to)."""
    session, today = db_session(), dt.date.today()
    filters = _filters(today, department_choices(session))
    as_of = _as_of(filters.fiscal_year, today)
    values = compute_kpis(session, f"FY{filters.fiscal_year}", as_of, _start_month())
    return _choropleth_page(values, filters.map_kpi)
