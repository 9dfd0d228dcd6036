"""The parcel table `/parcels`: filter, sort, page, choose columns, select; bulk edit of the
selection by editors (preview, then apply) and export of the selection or the filter.

The filter is `registry.parcels.filters.ParcelFilter`, the one the map's tiles take, so links
between the two keep the same query string. The selection is the filter's `ids`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import render_template
from flask import request
from flask import url_for

from app.auth import actor_name
from app.auth import current_user
from app.auth import editing_roles
from app.auth import exporting_roles
from app.auth import reading_roles
from app.auth import require_role
from app.database import db_session
from app.database import session_factory
from registry.city.departments import department_choices
from registry.db import unit_of_work
from registry.fields import whole_number
from registry.parcels.bulk_edit import BULK_FIELDS
from registry.parcels.bulk_edit import MAX_BULK
from registry.parcels.bulk_edit import BulkEditRefused
from registry.parcels.bulk_edit import apply_bulk_edit
from registry.parcels.bulk_edit import current_versions
from registry.parcels.bulk_edit import preview_bulk_edit
from registry.parcels.filters import MAX_IDS
from registry.parcels.filters import FilterInvalid
from registry.parcels.filters import ParcelFilter
from registry.parcels.table import COLUMNS
from registry.parcels.table import DEFAULT_COLUMNS
from registry.parcels.table import DEFAULT_PAGE_SIZE
from registry.parcels.table import PAGE_SIZES
from registry.parcels.table import SORTS
from registry.parcels.table import TableQuery
from registry.parcels.table import count_matches
from registry.parcels.table import parcel_table_page
from registry.portfolio.export import MEDIA_TYPES
from registry.portfolio.selection_export import SELECTION_FORMATS
from registry.portfolio.selection_export import selection_export
from registry.vocabulary import ASSET_TYPES
from registry.vocabulary import DIGITIZATION_STATUSES
from registry.vocabulary import LEGAL_INTERESTS
from registry.vocabulary import PARCEL_STATUSES
from registry.vocabulary import STATUS_LABELS

bp = Blueprint("parcel_table", __name__)


def _filter() -> ParcelFilter:
    try:
        return ParcelFilter.from_args(request.args)
    except FilterInvalid as invalid:
        abort(400, description=str(invalid))


def _columns() -> list[str]:
    given = request.args.get("cols", "")[:400].split(",") + request.args.getlist("col")[:40]
    wanted = [c for c in dict.fromkeys(given) if c in COLUMNS]
    chosen = wanted or list(DEFAULT_COLUMNS)
    return ["parcel_id", *[c for c in chosen if c != "parcel_id"]]


def _table_query(flt: ParcelFilter) -> TableQuery:
    sort = request.args.get("sort", "parcel_id")
    if sort not in SORTS:
        sort = "parcel_id"
    size = whole_number(request.args.get("size", "")[:4]) or DEFAULT_PAGE_SIZE
    return TableQuery(
        flt,
        sort=sort,
        descending=request.args.get("order") == "desc",
        page_size=size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE,
        after=request.args.get("after", "")[:500] or None,
    )


def _state_args(flt: ParcelFilter, query: TableQuery, columns: list[str]) -> dict[str, Any]:
    """The page's state as query parameters (filter, sort, size, columns): what a link keeps."""
    args: dict[str, Any] = dict(flt.as_args())
    if query.sort != "parcel_id":
        args["sort"] = query.sort
    if query.descending:
        args["order"] = "desc"
    if query.page_size != DEFAULT_PAGE_SIZE:
        args["size"] = str(query.page_size)
    if columns != ["parcel_id", *[c for c in DEFAULT_COLUMNS if c != "parcel_id"]]:
        args["cols"] = ",".join(columns)
    return args


def _sort_links(state: dict[str, Any], query: TableQuery) -> dict[str, tuple[str, str]]:
    """Each sortable column's link (the other order when it is the sort) and its aria-sort."""
    base = {k: v for k, v in state.items() if k not in ("sort", "order")}
    links = {}
    for key in SORTS:
        current = query.sort == key
        args: dict[str, Any] = dict(base)
        if key != "parcel_id":
            args["sort"] = key
        if current and not query.descending:
            args["order"] = "desc"
        state_word = ("descending" if query.descending else "ascending") if current else "none"
        links[key] = (url_for("parcel_table.parcel_table", **args), state_word)
    return links


@bp.get("/parcels")
@require_role(*reading_roles)
def parcel_table() -> str:
    flt = _filter()
    query = _table_query(flt)
    columns = _columns()
    session = db_session()
    page = parcel_table_page(session, query)
    state = _state_args(flt, query, columns)
    user = current_user()
    return render_template(
        "parcel_table.html",
        page=page,
        matches=count_matches(session, flt),
        flt=flt,
        columns=columns,
        column_labels={key: label for key, (label, _, _) in COLUMNS.items()},
        sort_links=_sort_links(state, query),
        next_url=url_for("parcel_table.parcel_table", **state, after=page.next_cursor)
        if page.next_cursor
        else None,
        first_url=url_for("parcel_table.parcel_table", **state) if query.after else None,
        state=state,
        page_size=query.page_size,
        page_sizes=PAGE_SIZES,
        departments=department_choices(session),
        statuses=PARCEL_STATUSES,
        status_labels=STATUS_LABELS,
        asset_types=ASSET_TYPES,
        digitization_states=DIGITIZATION_STATUSES,
        legal_interests=LEGAL_INTERESTS,
        formats=SELECTION_FORMATS,
        bulk_fields=BULK_FIELDS,
        max_ids=MAX_IDS,
        can_edit=bool(user and user.can_edit),
        can_export=bool(user and user.can_export),
    )


@bp.get("/parcels/selection/export.<export_format>")
@require_role(*exporting_roles)
def export_selection(export_format: str) -> Response:
    """The selection (`ids`) or everything the filter selects, as a file."""
    if export_format not in SELECTION_FORMATS:
        abort(404, description="Export as csv, xlsx, geojson or gpkg.")
    data = selection_export(db_session(), _filter(), export_format)
    response = Response(data, mimetype=MEDIA_TYPES[export_format])
    name = f"parcels-{dt.date.today().isoformat()}.{export_format}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _bulk_values() -> tuple[dict[str, Any], list[str]]:
    """The attributes to set (fields left at "keep" are not touched) and the form's problems."""
    values: dict[str, Any] = {}
    problems = []
    for name, label in BULK_FIELDS.items():
        raw = request.form.get(name, "").strip()[:200]
        if not raw:
            continue
        if name == "council_district":
            number = whole_number(raw)
            if number is None:
                problems.append(f"{label} must be a whole number.")
                continue
            values[name] = number
        else:
            values[name] = raw
    return values, problems


def _selected_ids() -> list[str]:
    ids = [i.strip() for i in request.form.get("ids", "")[: MAX_BULK * 33].split(",")]
    return list(dict.fromkeys(i for i in ids if i))[: MAX_BULK + 1]


@bp.post("/parcels/selection/bulk-edit")
@require_role(*editing_roles)
def bulk_edit() -> tuple[str, int] | str:
    """`action=preview`: what each parcel's chosen fields are and would become; `action=apply`
    (with the versions the preview showed): all of it, or nothing with every reason."""
    settings = current_app.config["REGISTRY_SETTINGS"]
    ids = _selected_ids()
    values, problems = _bulk_values()
    applying = request.form.get("action") == "apply"
    outcomes: list[Any] = []
    if not problems:
        try:
            if applying:
                versions = {
                    parcel_id: whole_number(request.form.get(f"version_{parcel_id}", "")) or 0
                    for parcel_id in ids
                }
                with unit_of_work(session_factory(), actor_name()) as session:
                    outcomes = apply_bulk_edit(session, versions, values, settings)
            else:
                session = db_session()
                versions = current_versions(session, ids)
                outcomes = preview_bulk_edit(session, versions, values, settings)
        except BulkEditRefused as refused:
            problems = refused.problems
    return render_template(
        "parcel_bulk_edit.html",
        ids=ids,
        values=values,
        outcomes=outcomes,
        problems=problems,
        applied=applying and not problems,
        bulk_fields=BULK_FIELDS,
        back_url=url_for("parcel_table.parcel_table", ids=",".join(ids[:MAX_IDS])),
    ), (422 if problems else 200)
