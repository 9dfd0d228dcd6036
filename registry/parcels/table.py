"""The parcel table's reads: one page of parcels for a `ParcelFilter`, sorted by any column,
paged by keyset (the last row's sort value and parcel id), so page 1,000 of 100,000 parcels
costs what page 1 does and no row is shown twice or skipped while paging. Plus the count of
matches: exact up to `COUNT_BOUND`, "more than" above it (counting a million rows to print one
number is the slow part of most tables).

Sort values are made NULL-free (`coalesce`) so that the keyset comparison `(key, parcel_id) >
(:key, :id)` is a total order; parcels without a value sort first ascending, last descending.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.parcels.filters import SQ_FT_PER_SQ_M
from registry.parcels.filters import ParcelFilter

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
COUNT_BOUND = 10_000
FROM_SQL = "parcels p LEFT JOIN departments d ON d.id = p.department_id"

# column key -> (heading, SQL of the value shown, SQL of the NULL-free sort key or None)
COLUMNS: dict[str, tuple[str, str, str | None]] = {
    "parcel_id": ("Parcel", "p.parcel_id", "p.parcel_id"),
    "address": ("Address", "p.address", "coalesce(p.address, '')"),
    "department": ("Department", "d.code", "coalesce(d.code, '')"),
    "district": ("District", "p.council_district", "coalesce(p.council_district, 0)"),
    "use": ("Use", "p.use", "coalesce(p.use, '')"),
    "asset_type": ("Asset type", "p.asset_type", "coalesce(p.asset_type, '')"),
    "status": ("Status", "p.status", "p.status"),
    "digitization": ("Digitization", "p.digitization_status", "p.digitization_status"),
    "verified": ("Verified", "p.digitization_status = 'verified'", None),
    "area": (
        "Area (m²)",
        f"round(p.land_area_sq_ft / {SQ_FT_PER_SQ_M})",
        "coalesce(p.land_area_sq_ft, -1)",
    ),
    "legal_interest": ("Legal interest", "p.legal_interest", "p.legal_interest"),
    "acquisition_date": (
        "Acquired",
        "p.acquisition_date",
        "coalesce(p.acquisition_date, '0001-01-01'::date)",
    ),
    "acquisition_cost": (
        "Acquisition cost",
        "p.acquisition_cost",
        "coalesce(p.acquisition_cost, -1)",
    ),
    "updated": ("Last changed", "p.updated_at", "p.updated_at"),
    "version": ("Version", "p.version", None),
}
DEFAULT_COLUMNS = ("parcel_id", "address", "department", "district", "use", "status", "area")
SORTS = tuple(key for key, (_, _, sort) in COLUMNS.items() if sort)


@dataclass(frozen=True)
class TableQuery:
    filter: ParcelFilter
    sort: str = "parcel_id"
    descending: bool = False
    page_size: int = DEFAULT_PAGE_SIZE
    after: str | None = None  # cursor: the last row of the previous page


@dataclass(frozen=True)
class TablePage:
    rows: list[dict[str, Any]]  # every column of COLUMNS, plus parcel_id
    next_cursor: str | None


@dataclass(frozen=True)
class MatchCount:
    count: int
    exact: bool  # False: more than COUNT_BOUND match and `count` is the planner's estimate


def _cursor(sort_value: Any, parcel_id: str) -> str:
    return json.dumps(
        [sort_value if isinstance(sort_value, str | int | float) else str(sort_value), parcel_id]
    )


def _read_cursor(cursor: str) -> tuple[Any, str] | None:
    try:
        value, parcel_id = json.loads(cursor)
    except (ValueError, TypeError):
        return None
    if not isinstance(parcel_id, str) or not isinstance(value, str | int | float):
        return None
    return value, parcel_id


def parcel_table_page(session: Session, query: TableQuery) -> TablePage:
    """One page of the parcels the filter selects, in the query's order (parcel id breaks ties)."""
    where, params = query.filter.where()
    sort_sql = COLUMNS[query.sort][2] or "p.parcel_id"
    direction = "DESC" if query.descending else "ASC"
    conditions = [where]
    cursor = _read_cursor(query.after) if query.after else None
    if cursor is not None:
        value, parcel_id = cursor
        comparison = "<" if query.descending else ">"
        # the cursor's value is bound as text and cast to the key's own type
        conditions.append(
            f"({sort_sql}, p.parcel_id) {comparison} "
            f"(CAST(:after_value AS {_sql_type(query.sort)}), :after_id)"
        )
        params.update(after_value=str(value), after_id=parcel_id)
    shown = ", ".join(f"{expression} AS {key}" for key, (_, expression, _) in COLUMNS.items())
    selected = (
        f"SELECT {shown}, {sort_sql} AS sort_key FROM {FROM_SQL} WHERE {' AND '.join(conditions)}"
    )
    if query.filter.q:
        # A search matches few parcels, but the planner cannot tell how few: it would walk the
        # sort's index hoping to meet 50 matches soon (100,000 parcels, "main": 950 ms). OFFSET 0
        # keeps the search a query of its own (trigram indexes), then its few rows are sorted.
        statement = (
            f"SELECT * FROM ({selected} OFFSET 0) s "
            f"ORDER BY sort_key {direction}, parcel_id {direction} LIMIT :limit"
        )
    else:
        statement = (
            f"{selected} ORDER BY {sort_sql} {direction}, p.parcel_id {direction} LIMIT :limit"
        )
    params["limit"] = query.page_size + 1
    rows = [dict(row) for row in session.execute(text(statement), params).mappings()]
    page = rows[: query.page_size]
    next_cursor = None
    if len(rows) > query.page_size:
        last = page[-1]
        next_cursor = _cursor(last["sort_key"], last["parcel_id"])
    for row in page:
        row.pop("sort_key")
    return TablePage(page, next_cursor)


def _sql_type(sort: str) -> str:
    return {
        "district": "integer",
        "area": "numeric",
        "acquisition_cost": "numeric",
        "acquisition_date": "date",
        "updated": "timestamptz",
    }.get(sort, "text")


def count_matches(session: Session, flt: ParcelFilter) -> MatchCount:
    """How many parcels the filter selects: exact up to COUNT_BOUND; above it the planner's
    estimate (at least COUNT_BOUND + 1), since counting 100,000 rows costs more than the page."""
    where, params = flt.where()
    found = session.execute(
        text(f"SELECT count(*) FROM (SELECT 1 FROM {FROM_SQL} WHERE {where} LIMIT :bound) s"),
        {**params, "bound": COUNT_BOUND + 1},
    ).scalar_one()
    if found > COUNT_BOUND:
        plan = session.execute(
            text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {FROM_SQL} WHERE {where}"), params
        ).scalar_one()
        plan = json.loads(plan) if isinstance(plan, str) else plan
        estimate = int(plan[0]["Plan"]["Plan Rows"])
        return MatchCount(max(estimate, COUNT_BOUND + 1), exact=False)
    return MatchCount(int(found), exact=True)


def matching_ids(session: Session, flt: ParcelFilter, limit: int) -> list[str]:
    """The ids of the parcels the filter selects, in id order, at most `limit`."""
    where, params = flt.where()
    return list(
        session.execute(
            text(
                f"SELECT p.parcel_id FROM {FROM_SQL} WHERE {where} "
                "ORDER BY p.parcel_id LIMIT :limit"
            ),
            {**params, "limit": limit},
        ).scalars()
    )
