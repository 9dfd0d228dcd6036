"""The reform KPI desk `/kpi`: a tile per KPI of the set, a chart per family, and a choropleth
of one KPI by council district (`/kpi/map`, shown in a frame); `/kpi/values`, the same selection
as JSON for the page's script; `/kpi/snapshot`, an admin's snapshot; `/kpi/public`, the
read-only page for anyone when the city publishes its KPIs (`REGISTRY_PUBLIC_KPIS`).

The whole city, or one department, council district or asset type, is read from the stored
snapshot of the day (`registry.kpis.snapshots`): the page opens without recomputing the set.
With no snapshot for today yet, the set is computed once and stored, so the next visitor (and
the trend line) has it. A combination of dimensions is computed for that subset alone
(`KpiFilters`); so is "recompute", which shows the records as they stand this minute. The first
view of a day of a combination stores its values as that combination's point of the day, so its
trend grows from the first time anyone looks at it (`registry.kpis.combinations` keeps it at
month ends and back-fills DIG-1..3), and its DIG-1..3 are back-filled from the audit trail right
after, in the background (`backfill_runner`); the page says where each trend starts and why.
A combination whose subset holds no parcel is shown but keeps no trend (nothing stored, no
back-fill), so requests for every possible combination write nothing for the empty ones.

The route may read from a replica: a day's point is written on the primary, and a failure there
is logged and skipped, never shown to the reader (the values are on the page either way).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from app.assets import map_assets
from app.auth import actor_name
from app.auth import current_user
from app.auth import exporting_roles
from app.auth import require_login
from app.auth import require_role
from app.blueprints.kpis.backfill_runner import backfill_later
from app.blueprints.kpis.trend_notes import trend_notes
from app.charts import line_chart_svg
from app.city import council_districts
from app.city import fiscal_year_start_month
from app.database import db_session
from app.database import reads_from_replica
from app.database import session_factory
from app.kpi_links import LinkScope
from app.kpi_links import RecordsLink
from app.kpi_links import records_link
from app.security import nonced
from geo.districts import district_areas
from geo.kpi_choropleth import build_kpi_choropleth
from geo.map_builder import render_map_page
from registry.city.departments import department_choices
from registry.db import unit_of_work
from registry.fields import whole_number
from registry.fiscal_years import fiscal_year_bounds
from registry.fiscal_years import fiscal_year_of
from registry.kpis import DEFINITIONS_BY_ID
from registry.kpis import KPI_DEFINITIONS
from registry.kpis import KpiFilters
from registry.kpis import KpiValue
from registry.kpis import compute_kpis
from registry.kpis.combinations import holds_parcels
from registry.kpis.counted_parcels import UnderusedRecords
from registry.kpis.counted_parcels import underused_records
from registry.kpis.snapshots import COMBINATION
from registry.kpis.snapshots import combination_key
from registry.kpis.snapshots import store_snapshot
from registry.kpis.snapshots import store_view
from registry.kpis.snapshots import stored_snapshot
from registry.kpis.snapshots import take_snapshot
from registry.kpis.trends import FAMILIES
from registry.kpis.trends import SeriesStart
from registry.kpis.trends import TrendPoint
from registry.kpis.trends import family_of
from registry.kpis.trends import kpi_trends
from registry.kpis.trends import series_start
from registry.kpis.units import format_kpi_value
from registry.kpis.units import format_quantity
from registry.kpis.units import unit_kind
from registry.kpis.values import part_name
from registry.parcels.filters import MAX_IDS
from registry.replication import PRIMARY_UNAVAILABLE
from registry.vocabulary import ASSET_TYPES

bp = reads_from_replica(Blueprint("kpi_dashboard", __name__))

FISCAL_YEARS_SHOWN = 4  # the current fiscal year and the three before it
DEFAULT_MAP_KPI = "DIG-2"
CENT = Decimal("0.01")
# Lease-level detail the public page leaves out: per-building rows and the notes, which may
# name a lease or its rent; the KPI values, numerators and denominators are aggregates.
PUBLIC_BREAKDOWNS = ("city", "department", "council_district", "asset_type")


@dataclass(frozen=True)
class DashboardFilters:
    """The query string, validated: unknown values are ignored, not errors."""

    fiscal_year: int
    department: str
    district: str
    asset_type: str
    map_kpi: str
    recompute: bool = False

    def dimensions(self) -> list[tuple[str, str, str]]:
        """The dimensions set: (breakdown name, label, value)."""
        named = (
            ("department", "department", self.department),
            ("council_district", "council district", self.district),
            ("asset_type", "asset type", self.asset_type),
        )
        return [(name, label, value) for name, label, value in named if value]

    def breakdown(self) -> tuple[str, str | None]:
        """The breakdown row the tiles show: the city row of the whole set, of one dimension's
        value, or (two or more dimensions) of the subset computed for them."""
        dims = self.dimensions()
        return (dims[0][0], dims[0][2]) if len(dims) == 1 else ("city", None)

    def kpi_filters(self) -> KpiFilters:
        return KpiFilters(self.department or None, self.district or None, self.asset_type or None)

    def label(self) -> str:
        dims = self.dimensions()
        if not dims:
            return "the whole city"
        return ", ".join(f"{label} {value.replace('_', ' ')}" for _, label, value in dims)

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


@dataclass(frozen=True)
class DeskValues:
    """What the tiles show and where it came from (a stored snapshot, or computed now)."""

    values: list[KpiValue]
    as_of: dt.date
    breakdown: str
    breakdown_value: str | None
    source: str  # "snapshot", "computed" or "none" (public page: a past year not snapshotted)
    taken_at: dt.datetime | None
    # the snapshot rows its trend reads: the tiles' row, or (breakdown "combination", its key)
    series: tuple[str, str | None]
    stored_now: bool = False  # this request stored the series' point of `as_of`

    def is_combination(self) -> bool:
        return self.series[0] == COMBINATION


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
        recompute=args.get("recompute") == "1",
    )


def _as_of(fiscal_year: int, today: dt.date) -> dt.date:
    """Stock KPIs of a past fiscal year are measured at its last day; of this one, today."""
    return min(today, fiscal_year_bounds(fiscal_year, _start_month())[1])


def desk_values(
    filters: DashboardFilters, today: dt.date, allow_compute: bool = True
) -> DeskValues:
    """The values for `filters`: the stored snapshot of the as-of date when there is one (the
    whole city and single dimensions), else computed — and, for today, stored as the day's
    snapshot so the next visit reads it. `allow_compute` False (the public page) computes at
    most once a day: never a combination of dimensions, nor a past year not snapshotted."""
    session = db_session()
    as_of = _as_of(filters.fiscal_year, today)
    period = f"FY{filters.fiscal_year}"
    breakdown, breakdown_value = filters.breakdown()
    combined = len(filters.dimensions()) > 1
    kpi_filters = filters.kpi_filters() if combined else None
    key = combination_key(kpi_filters)
    series = (COMBINATION, key) if key is not None else (breakdown, breakdown_value)
    if not combined and not filters.recompute:
        snapshot = stored_snapshot(session, as_of, period)
        if snapshot is not None:
            return DeskValues(
                snapshot.values, as_of, breakdown, breakdown_value, "snapshot",
                snapshot.taken_at, series,
            )  # fmt: skip
    if combined and not allow_compute:
        abort(404)
    if not allow_compute and as_of != today:
        # a past year with no snapshot: computing it would not be stored, so every anonymous
        # request would recompute the set; the public page shows what was published instead
        return DeskValues([], as_of, breakdown, breakdown_value, "none", None, series)
    values = compute_kpis(session, period, as_of, _start_month(), kpi_filters)
    # a combination is always computed: its first view of the day is its point of the day
    stored = as_of == today and (combined or not filters.recompute)
    # a combination that holds no parcel keeps no trend: a sweep of every one stores nothing
    stored = stored and (kpi_filters is None or holds_parcels(values))
    stored = stored and _store_on_primary(values, as_of, kpi_filters)
    if stored and kpi_filters is not None:
        backfill_later(kpi_filters, as_of, _start_month())  # DIG-1..3 before it, in a moment
    return DeskValues(
        values, as_of, breakdown, breakdown_value, "computed", None, series, stored
    )  # fmt: skip


def _store_on_primary(values: list[KpiValue], as_of: dt.date, filters: KpiFilters | None) -> bool:
    """Store the day's point of the series (`store_snapshot`; a combination's, `store_view`,
    audited as a view) on the primary, whatever this request reads from; True when stored now.
    The primary unreachable or read-only (`PRIMARY_UNAVAILABLE`) is logged and skipped: a view
    never fails because its point could not be kept. Any other error is a bug, and is raised."""
    try:
        with unit_of_work(session_factory(), actor_name()) as primary:
            if filters is None:
                return store_snapshot(primary, values, as_of) is not None
            return store_view(primary, values, as_of, filters) is not None
    except PRIMARY_UNAVAILABLE:
        current_app.logger.warning("KPI snapshot of %s not stored", as_of, exc_info=True)
        return False


def _number_format(unit: str) -> Any:
    return lambda value: format_kpi_value(Decimal(str(value)), unit)


def _trend_chart(
    title: str, series: dict[str, list[TrendPoint]], unit: str, width: int, height: int
) -> Markup:
    return line_chart_svg(
        series, title=title, width=width, height=height, y_format=_number_format(unit)
    )


def tile_data(value: KpiValue | None, definition: Any, link: RecordsLink | None) -> dict[str, Any]:
    """One tile as data: what the template renders and `/kpi/values` sends, formatted once
    (`registry.kpis.units`); the raw value and its unit kind ride along for the script."""
    shown = value is not None and value.value is not None
    return {
        "id": definition.id,
        "name": definition.name,
        "unit": definition.unit,
        "kind": unit_kind(definition.unit),
        "computed": value is not None,
        "value": None if not shown else str(value.value),  # type: ignore[union-attr]
        "formatted": format_kpi_value(value.value, definition.unit) if shown else "no value",  # type: ignore[union-attr]
        "numerator": format_quantity(value.numerator) if value is not None else "",
        "denominator": format_quantity(value.denominator) if value is not None else "",
        "target": format_kpi_value(value.target, definition.unit)
        if value is not None and value.target is not None
        else "",
        "status": value.status if value is not None else None,
        "note": value.note if value is not None else None,
        "url": link.url if link else None,
        "url_label": link.label if link else None,  # what the link lists, when not plain
    }


def _tiles(
    desk: DeskValues,
    trends: dict[str, list[TrendPoint]],
    scope: LinkScope | None,
    origins: dict[str, str] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """The tiles of each family, one per KPI of the set (even one the engine has no row for);
    `scope` None (the public page): no links to records."""
    public = scope is None
    rows: dict[str, list[KpiValue]] = {}
    for value in desk.values:
        if (value.breakdown, value.breakdown_value) == (desk.breakdown, desk.breakdown_value):
            rows.setdefault(value.kpi_id, []).append(value)
    families: dict[str, list[dict[str, Any]]] = {name: [] for name in FAMILIES.values()}
    for definition in KPI_DEFINITIONS:
        trend = trends.get(definition.id, [])
        link = None if scope is None else records_link(definition.id, scope)
        kpi_rows = rows.get(definition.id, [])
        tile = tile_data(kpi_rows[0] if kpi_rows else None, definition, link)
        tile["parts"] = _parts(kpi_rows, definition.unit)
        if public:
            tile["note"] = None
        tile["trend_origin"] = (origins or {}).get(definition.id)
        # as the engine gives values (2 places; the table keeps 4)
        tile["trend_points"] = [
            [day.isoformat(), str(value.quantize(CENT))] for day, value in trend
        ]
        tile["trend"] = (
            _trend_chart(
                f"{definition.id} trend", {definition.id: trend}, definition.unit, 300, 110
            )
            if trend
            else None
        )
        families.setdefault(family_of(definition.id), []).append(tile)
    return families


def _parts(rows: list[KpiValue], unit: str) -> list[dict[str, str | None]]:
    """A KPI with several rows for the selection (LSE-2: its four balances) lists each, named
    (`part_name`): the tile's value is the first, the headline, and the reader sees the rest
    beside it rather than one balance passing for all four. One row: no list."""
    if len(rows) < 2:
        return []
    return [
        {
            "name": part_name(row),
            "value": None if row.value is None else str(row.value),
            "formatted": format_kpi_value(row.value, unit),
        }
        for row in rows
    ]


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


def _trends(desk: DeskValues) -> dict[str, list[TrendPoint]]:
    """The series' trends. A point this request just stored on the primary may not have
    reached the replica it reads from yet: it is added from the values stored."""
    trends = kpi_trends(db_session(), *desk.series)
    if desk.stored_now:
        for value in desk.values:
            if (value.breakdown, value.breakdown_value) != (desk.breakdown, desk.breakdown_value):
                continue
            points = trends.setdefault(value.kpi_id, [])
            if value.value is not None and desk.as_of not in {day for day, _ in points}:
                points.append((desk.as_of, value.value))
                points.sort()
    return {kpi_id: points for kpi_id, points in trends.items() if points}


def _series_start(desk: DeskValues) -> SeriesStart:
    start = series_start(db_session(), *desk.series)
    if desk.stored_now and (start.measured is None or start.measured > desk.as_of):
        return SeriesStart(desk.as_of, start.back_filled)  # stored now, not yet on the replica
    return start


def _context(filters: DashboardFilters, today: dt.date, public: bool = False) -> dict[str, Any]:
    """What the desk and the public page render, and `/kpi/values` sends."""
    desk = desk_values(filters, today, allow_compute=not public)
    trends = _trends(desk)
    notes = None
    if desk.is_combination():
        notes = trend_notes(trends, _series_start(desk), holds_parcels(desk.values))
    return {
        "desk": desk,
        "filters": filters,
        "as_of": desk.as_of,
        "families": _tiles(
            desk,
            trends,
            None if public else _link_scope(filters, desk),
            notes.per_kpi if notes else None,
        ),
        "family_charts": _family_charts(trends),
        "selection": filters.label(),
        "trend_note": notes.selection if notes else None,
    }


def _may_export() -> bool:
    user = current_user()
    return user is not None and user.role in exporting_roles


def _listable(values: Iterable[KpiValue]) -> bool:
    """Whether UTL-4's counted parcels are worth reading for a link: some figure among `values`
    counts from 1 to `MAX_IDS` (its parcels are at most as many). A bigger one (7,156 for the
    whole city at 100,000 parcels) has no link, and reading its parcels on every view of the
    desk cost a fifth of it; nothing counted has nothing to list."""
    return any(
        v.kpi_id == "UTL-4" and v.value is not None and 0 < v.value <= MAX_IDS for v in values
    )


def _link_scope(filters: DashboardFilters, desk: DeskValues) -> LinkScope:
    """What the tiles' figures were computed over (every dimension set, not only the row's:
    walk defect 8), for their links; UTL-4's counted parcels read for it when listable."""
    kpi_filters = filters.kpi_filters()
    shown = [
        v
        for v in desk.values
        if (v.breakdown, v.breakdown_value) == (desk.breakdown, desk.breakdown_value)
    ]
    counted = (
        underused_records(db_session(), desk.as_of, kpi_filters).counted()
        if _listable(shown)
        else None
    )
    return LinkScope(
        department=filters.department or None,
        district=filters.district or None,
        asset_type=filters.asset_type or None,
        as_of=desk.as_of,
        fiscal_year=filters.fiscal_year,
        may_export=_may_export(),
        counted=counted,
    )


def _district_links(
    filters: DashboardFilters, desk: DeskValues, rows: list[KpiValue]
) -> dict[str, RecordsLink | None]:
    """Council district → the link of the district table's figure. The rows are the subset's
    for a combination (computed for it) and the whole city's otherwise (the snapshot's district
    rows), so a link keeps the desk's other filters only for a combination."""
    combined = len(filters.dimensions()) > 1
    kept = filters if combined else DashboardFilters(filters.fiscal_year, "", "", "", "")
    records: UnderusedRecords | None = None
    if filters.map_kpi == "UTL-4" and _listable(rows):
        records = underused_records(db_session(), desk.as_of, kept.kpi_filters())
    links: dict[str, RecordsLink | None] = {}
    for value in rows:
        district = value.breakdown_value or ""
        scope = LinkScope(
            department=kept.department or None,
            district=district,
            asset_type=kept.asset_type or None,
            as_of=desk.as_of,
            fiscal_year=filters.fiscal_year,
            may_export=_may_export(),
            counted=records.counted(district) if records is not None else None,
        )
        links[district] = records_link(value.kpi_id, scope)
    return links


def _choices(today: dt.date) -> dict[str, Any]:
    return {
        "fiscal_years": _fiscal_years(today),
        "districts": council_districts(),
        "asset_types": ASSET_TYPES,
        "definitions": KPI_DEFINITIONS,
    }


@bp.get("/kpi")
@require_login
def dashboard() -> str:
    session, today = db_session(), dt.date.today()
    departments = department_choices(session)
    filters = _filters(today, departments)
    context = _context(filters, today)
    desk: DeskValues = context["desk"]
    by_district = [
        value
        for value in desk.values
        if value.kpi_id == filters.map_kpi and value.breakdown == "council_district"
    ]
    user = current_user()
    return render_template(
        "kpi_dashboard.html",
        **context,
        **_choices(today),
        departments=departments,
        map_definition=DEFINITIONS_BY_ID[filters.map_kpi],
        by_district=by_district,
        district_links=_district_links(filters, desk, by_district),
        may_snapshot=user is not None and user.role == "admin",
        recompute_url=url_for("kpi_dashboard.dashboard")
        + "?"
        + urlencode({**filters.query(), "recompute": "1"}),
        map_url=url_for("kpi_dashboard.district_map") + "?" + urlencode(filters.query()),
        # inline (srcdoc), so the KPIs are computed once per page, not again for the frame
        map_document=_choropleth_page(desk.values, filters.map_kpi),
    )


def _json(context: dict[str, Any]) -> Response:
    desk: DeskValues = context["desk"]
    tiles = [tile for tiles in context["families"].values() for tile in tiles]
    return jsonify(
        {
            "selection": context["selection"],
            "query": context["filters"].query(),
            "fiscal_year": f"FY{context['filters'].fiscal_year}",
            "as_of": desk.as_of.isoformat(),
            "source": desk.source,
            "taken_at": desk.taken_at.isoformat() if desk.taken_at else None,
            # every selection keeps a trend now (a combination from its first view)
            "trends_kept": True,
            "trend_note": context["trend_note"],
            "tiles": [{**tile, "trend": str(tile["trend"] or "")} for tile in tiles],
            "family_charts": {name: str(svg) for name, svg in context["family_charts"].items()},
        }
    )


@bp.get("/kpi/values")
@require_login
def values_json() -> Response:
    """The desk's tiles and charts for the query string's selection, for the page's script
    (`static/js/kpi_desk.js`): filtering updates the page in place."""
    today = dt.date.today()
    filters = _filters(today, department_choices(db_session()))
    return _json(_context(filters, today))


@bp.post("/kpi/snapshot")
@require_role("admin")
def snapshot_now() -> BaseResponse:
    """Take the KPI set's snapshot now (an admin's button): computed from the records as they
    stand, appended as today's latest snapshot, audited under the admin's name."""
    today = dt.date.today()
    with unit_of_work(session_factory(), actor_name()) as session:
        period = f"FY{fiscal_year_of(today, _start_month())}"
        values = compute_kpis(session, period, today, _start_month())
        stored = take_snapshot(session, values, today, "taken from the KPI desk")
    flash(f"KPI snapshot as of {today.isoformat()} taken: {stored:,} values stored.")
    return redirect(url_for("kpi_dashboard.dashboard"))


def _only_when_published() -> None:
    if not current_app.config["REGISTRY_SETTINGS"].public_kpis:
        abort(404)


@bp.get("/kpi/public")
def public_page() -> str:
    """The KPI set for anyone, read-only, when the city publishes it: the whole city or one
    department, district or asset type, from the day's snapshot. No records links, no notes,
    no per-building rows: the aggregates the KPI set defines, nothing about a single lease."""
    _only_when_published()
    session, today = db_session(), dt.date.today()
    departments = department_choices(session)
    filters = _public_filters(today, departments)
    return render_template(
        "kpi_public.html",
        **_context(filters, today, public=True),
        **_choices(today),
        departments=departments,
    )


@bp.get("/kpi/public/values")
def public_values_json() -> Response:
    """`/kpi/public` as JSON (one dimension at a time, from the snapshot)."""
    _only_when_published()
    today = dt.date.today()
    filters = _public_filters(today, department_choices(db_session()))
    return _json(_context(filters, today, public=True))


_PUBLIC_DIMENSIONS = (
    ("department", "department", "department"),
    ("district", "district", "council district"),
    ("asset_type", "asset_type", "asset type"),
)


def _public_filters(today: dt.date, departments: Sequence[Sequence[str]]) -> DashboardFilters:
    """The public page's selection, the page and its JSON alike: a 404 that says why for a
    value the registry does not know (the page would otherwise show the whole city as if it
    were that department), for a combination of dimensions (a computation per anonymous
    request) and for `recompute`."""
    filters = _filters(today, departments)
    for arg, field, label in _PUBLIC_DIMENSIONS:
        asked = request.args.get(arg, "")
        if asked and getattr(filters, field) != asked:
            abort(404, description=f"The registry has no {label} {asked!r}.")
    if len(filters.dimensions()) > 1:
        abort(
            404,
            description="The public KPI page shows one department, council district or asset "
            "type at a time, not a combination.",
        )
    if filters.recompute:
        abort(404, description="The public KPI page shows the day's snapshot only.")
    return filters


def district_values(values: list[KpiValue], kpi_id: str) -> dict[str, Decimal | None]:
    """Council district → the KPI's value there (None where it has no value); of a KPI with
    several rows per district (LSE-2), its headline, the first (`part_name`)."""
    shown: dict[str, Decimal | None] = {}
    for value in values:
        if value.kpi_id == kpi_id and value.breakdown == "council_district":
            shown.setdefault(value.breakdown_value or "", value.value)  # the headline row
    return shown


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
    today = dt.date.today()
    filters = _filters(today, department_choices(db_session()))
    return _choropleth_page(desk_values(filters, today).values, filters.map_kpi)


@bp.app_template_filter("kpi_value")
def kpi_value_filter(value: Decimal | None, unit: str) -> str:
    """`{{ value|kpi_value(unit) }}`: a KPI value as `registry.kpis.units` formats it."""
    return format_kpi_value(value, unit)


@bp.app_template_filter("kpi_quantity")
def kpi_quantity_filter(value: Decimal | None) -> str:
    """`{{ value|kpi_quantity }}`: a numerator, denominator or target."""
    return format_quantity(value)
