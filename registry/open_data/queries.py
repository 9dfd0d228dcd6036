"""Set-based reads of the public parcel dataset: the filter every view shares, the table's pages
(keyset paging in any sort order), the filters' choices, one parcel, and the last change.

Every statement starts from `PUBLIC_FROM` and `OpenDataFilter.where()`, so the table, the map's
tiles (`tiles.py`) and the downloads (`downloads.py`) select the same parcels for the same filter.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.errors import NotFound
from registry.fields import FieldProblem
from registry.fields import RecordInvalid
from registry.search_text import escape_like
from registry.settings import STORAGE_SRID
from registry.vocabulary import PARCEL_STATUSES

#: The public view of the parcels: live ones only, with the department's published name.
PUBLIC_FROM = "parcels p LEFT JOIN departments d ON d.id = p.department_id"
LIVE = "p.retired_at IS NULL"

MAX_TEXT = 200  # longest filter value accepted (an address is far shorter)
PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25
MAX_CURSOR = 1_000
MAX_DISTRICT = 99  # parcels.council_district's CHECK

#: Sortable columns of the table and the SQL each sorts by (never NULL, so keyset rows compare).
SORTS: Mapping[str, str] = {
    "parcel_id": "p.parcel_id",
    "address": "COALESCE(p.address, '')",
    "department": "COALESCE(d.name, '')",
    "use": "COALESCE(p.use, '')",
    "status": "p.status",
}


@dataclass(frozen=True)
class OpenDataFilter:
    """What a visitor asked for: `q` is a parcel-id prefix or part of an address (as the map's
    search), the others match exactly (department by its published name, any case)."""

    q: str | None = None
    department: str | None = None
    district: int | None = None
    use: str | None = None
    status: str | None = None

    @property
    def is_empty(self) -> bool:
        return not any((self.q, self.department, self.district, self.use, self.status))

    def where(self) -> tuple[str, dict[str, Any]]:
        """The SQL condition (over `parcels p` and `departments d`) and its bound parameters."""
        conditions: list[str] = [LIVE]
        params: dict[str, Any] = {}
        if self.q:
            conditions.append("(p.parcel_id ILIKE :q_prefix OR p.address ILIKE :q_anywhere)")
            params["q_prefix"] = escape_like(self.q) + "%"
            params["q_anywhere"] = "%" + escape_like(self.q) + "%"
        if self.department:
            conditions.append("lower(d.name) = lower(:department)")
            params["department"] = self.department
        if self.district is not None:
            conditions.append("p.council_district = :district")
            params["district"] = self.district
        if self.use:
            conditions.append("lower(p.use) = lower(:use)")
            params["use"] = self.use
        if self.status:
            conditions.append("p.status = :status")
            params["status"] = self.status
        return " AND ".join(conditions), params

    def as_args(self) -> dict[str, Any]:
        """The filter as query-string arguments (links keep it: pages, sort, downloads, tiles)."""
        values = {
            "q": self.q,
            "department": self.department,
            "district": str(self.district) if self.district is not None else None,
            "use": self.use,
            "status": self.status,
        }
        return {name: value for name, value in values.items() if value}


def parse_filter(args: Mapping[str, str]) -> OpenDataFilter:
    """The filter from a query string; every problem at once (RecordInvalid), in plain words."""
    problems: list[FieldProblem] = []
    values: dict[str, str | None] = {}
    for name, label in (
        ("q", "The search"),
        ("department", "The department"),
        ("use", "The use"),
        ("status", "The status"),
        ("district", "The council district"),
    ):
        value = (args.get(name) or "").strip()
        if len(value) > MAX_TEXT:
            problems.append(FieldProblem(name, f"{label} is longer than {MAX_TEXT} characters."))
            value = ""
        if "\x00" in value:
            problems.append(FieldProblem(name, f"{label} must not contain NUL characters."))
            value = ""
        values[name] = value or None
    if values["status"] and values["status"] not in PARCEL_STATUSES:
        problems.append(
            FieldProblem("status", f"The status must be one of {', '.join(PARCEL_STATUSES)}.")
        )
    district = None
    if values["district"]:
        raw = values["district"]
        if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_DISTRICT:
            district = int(raw)
        else:
            problems.append(
                FieldProblem(
                    "district", f"The council district must be a number 1 to {MAX_DISTRICT}."
                )
            )
    if problems:
        raise RecordInvalid(problems)
    return OpenDataFilter(
        q=values["q"],
        department=values["department"],
        district=district,
        use=values["use"],
        status=values["status"],
    )


@dataclass(frozen=True)
class PublicParcel:
    parcel_id: str
    address: str | None
    department: str | None
    use: str | None
    status: str


@dataclass(frozen=True)
class TableRequest:
    """A page of the table: sorted by `sort` (a key of SORTS), `descending` or not, of `size`
    rows, after the row `after` or before the row `before` (opaque cursors of this module), or
    the `last` page."""

    sort: str = "parcel_id"
    descending: bool = False
    size: int = DEFAULT_PAGE_SIZE
    after: str | None = None
    before: str | None = None
    last: bool = False


def parse_table_request(args: Mapping[str, str]) -> TableRequest:
    problems = []
    sort = args.get("sort") or "parcel_id"
    if sort not in SORTS:
        problems.append(FieldProblem("sort", f"The table sorts by {', '.join(SORTS)}."))
    order = args.get("order") or "asc"
    if order not in ("asc", "desc"):
        problems.append(FieldProblem("order", "The order is asc or desc."))
    size_text = args.get("size") or str(DEFAULT_PAGE_SIZE)
    size = int(size_text) if size_text.isascii() and size_text.isdigit() else -1
    if size not in PAGE_SIZES:
        problems.append(
            FieldProblem("size", f"A page holds {', '.join(map(str, PAGE_SIZES))} parcels.")
        )
    after, before = args.get("after") or None, args.get("before") or None
    for name, cursor in (("after", after), ("before", before)):
        if cursor is not None and (len(cursor) > MAX_CURSOR or _decode_cursor(cursor) is None):
            problems.append(FieldProblem(name, "This page link is damaged: start again."))
    if problems:
        raise RecordInvalid(problems)
    return TableRequest(sort, order == "desc", size, after, before, args.get("last") == "1")


def _encode_cursor(value: str, parcel_id: str) -> str:
    raw = json.dumps([value, parcel_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, parcel_id = json.loads(raw)
    except (ValueError, binascii.Error, TypeError):
        return None
    if not (isinstance(value, str) and isinstance(parcel_id, str)):
        return None
    return value, parcel_id


@dataclass(frozen=True)
class TablePage:
    rows: list[PublicParcel]
    total: int  # parcels matching the filter
    first_cursor: str | None  # `before` for the previous page; None when this is the first
    next_cursor: str | None  # `after` for the next page; None when this is the last


def table_page(session: Session, flt: OpenDataFilter, request: TableRequest) -> TablePage:
    """One page of the public table in the requested order, by keyset (no OFFSET: the last of
    100,000 parcels costs what the first does). The count is one more statement over the filter."""
    where, params = flt.where()
    key = SORTS[request.sort]
    backwards = request.before is not None or request.last
    descending = request.descending != backwards  # a backward page is read in reverse
    cursor = _decode_cursor(request.before or request.after or "") if not request.last else None
    if cursor is not None:
        where += f" AND ({key}, p.parcel_id) {'<' if descending else '>'} (:key_value, :key_id)"
        params.update(key_value=cursor[0], key_id=cursor[1])
    direction = "DESC" if descending else "ASC"
    rows = session.execute(
        text(
            f"SELECT {key} AS sort_value, p.parcel_id, p.address, d.name AS department, p.use, "
            f"p.status FROM {PUBLIC_FROM} WHERE {where} "
            f"ORDER BY {key} {direction}, p.parcel_id {direction} LIMIT :limit"
        ),
        {**params, "limit": request.size + 1},
    ).all()
    more = len(rows) > request.size
    rows = list(rows[: request.size])
    if backwards:
        rows.reverse()
    total_where, total_params = flt.where()
    total = int(
        session.execute(
            text(f"SELECT count(*) FROM {PUBLIC_FROM} WHERE {total_where}"), total_params
        ).scalar_one()
    )
    parcels = [PublicParcel(r.parcel_id, r.address, r.department, r.use, r.status) for r in rows]
    first = _encode_cursor(rows[0].sort_value, rows[0].parcel_id) if rows else None
    last = _encode_cursor(rows[-1].sort_value, rows[-1].parcel_id) if rows else None
    has_previous = more if backwards else request.after is not None
    has_next = (request.before is not None) if backwards and not request.last else more
    if request.last:
        has_next = False
    return TablePage(parcels, total, first if has_previous else None, last if has_next else None)


@dataclass(frozen=True)
class FilterChoices:
    """What the filters offer: values present among the public parcels, with their counts."""

    departments: list[tuple[str, int]]
    uses: list[tuple[str, int]]
    statuses: list[tuple[str, int]]
    districts: list[tuple[int, int]]


MAX_CHOICES = 500


def filter_choices(session: Session, districts: tuple[int, ...]) -> FilterChoices:
    """The filters' choices in one scan of the public parcels (GROUPING SETS); `districts` are
    the city's (every one is offered, with 0 where no public parcel lies)."""
    rows = session.execute(
        text(
            "SELECT d.name AS department, p.use, p.status, p.council_district AS district,"
            " GROUPING(d.name) AS no_department, GROUPING(p.use) AS no_use,"
            " GROUPING(p.status) AS no_status, count(*) AS n"
            f" FROM {PUBLIC_FROM} WHERE {LIVE}"
            " GROUP BY GROUPING SETS ((d.name), (p.use), (p.status), (p.council_district))"
        )
    ).all()
    departments: dict[str, int] = {}
    uses: dict[str, int] = {}
    statuses: dict[str, int] = {}
    district_counts: dict[int, int] = {}
    for row in rows:
        if not row.no_department:
            if row.department is not None:
                departments[row.department] = int(row.n)
        elif not row.no_use:
            if row.use is not None:
                uses[row.use] = int(row.n)
        elif not row.no_status:
            statuses[row.status] = int(row.n)
        elif row.district is not None:
            district_counts[int(row.district)] = int(row.n)
    return FilterChoices(
        departments=sorted(departments.items(), key=lambda i: i[0].lower())[:MAX_CHOICES],
        uses=sorted(uses.items(), key=lambda i: i[0].lower())[:MAX_CHOICES],
        statuses=[(s, statuses.get(s, 0)) for s in PARCEL_STATUSES],
        districts=[
            (d, district_counts.get(d, 0)) for d in sorted(set(districts) | set(district_counts))
        ],
    )


def filter_bounds(
    session: Session, flt: OpenDataFilter
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """((south, west), (north, east)) of the parcels the filter selects, for the map to show
    them; None when none has a shape."""
    where, params = flt.where()
    row = session.execute(
        text(
            "SELECT ST_XMin(b) AS w, ST_YMin(b) AS s, ST_XMax(b) AS e, ST_YMax(b) AS n FROM ("
            f" SELECT ST_Transform(ST_SetSRID(ST_Extent(p.geom)::geometry, {STORAGE_SRID}), 4326)"
            f" AS b FROM {PUBLIC_FROM} WHERE {where} AND p.geom IS NOT NULL) extent"
        ),
        params,
    ).one()
    if row.w is None:
        return None
    return ((row.s, row.w), (row.n, row.e))


@dataclass(frozen=True)
class PublicParcelRecord:
    parcel: PublicParcel
    geometry: dict[str, Any] | None  # GeoJSON, WGS 84


def public_parcel(session: Session, parcel_id: str) -> PublicParcelRecord:
    """A live parcel's public fields and shape; NotFound for an unknown or retired one."""
    row = session.execute(
        text(
            "SELECT p.parcel_id, p.address, d.name AS department, p.use, p.status,"
            " ST_AsGeoJSON(ST_Transform(p.geom, 4326), 7) AS geometry"
            f" FROM {PUBLIC_FROM} WHERE p.parcel_id = :parcel_id AND {LIVE}"
        ),
        {"parcel_id": parcel_id},
    ).one_or_none()
    if row is None:
        raise NotFound("parcel", parcel_id)
    return PublicParcelRecord(
        PublicParcel(row.parcel_id, row.address, row.department, row.use, row.status),
        json.loads(row.geometry) if row.geometry else None,
    )


def public_parcel_count(connection: Connection | Session) -> int:
    return int(
        connection.execute(text(f"SELECT count(*) FROM parcels p WHERE {LIVE}")).scalar_one()
    )


def last_public_change(session: Session) -> dt.datetime | None:
    """When the public dataset last changed, from the audit trail: the newest change to a parcel
    or a department (a renamed department renames it in every row). The newest event's id comes
    from the (table_name, row_key, id) index alone; other tables' events (costs, buildings…) are
    never read."""
    value = session.execute(
        text(
            "SELECT occurred_at FROM audit_events WHERE id = (SELECT max(id) FROM audit_events"
            " WHERE table_name IN ('parcels', 'departments'))"
        )
    ).scalar_one_or_none()
    return value if isinstance(value, dt.datetime) else None
