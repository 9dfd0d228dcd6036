"""Reading leases: one SELECT for the record, set-based lists with filters and a keyset cursor,
and the leased parcels as GeoJSON points made by PostGIS."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.fields import FieldProblem
from registry.fields import decimal_str
from registry.fields import money_text
from registry.leases.rent_sql import LEASE_TERM_CTE
from registry.leases.validation import LEASE_FIELDS
from registry.search_text import MAX_SEARCH_LENGTH
from registry.search_text import contains_pattern

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100

LEASE_SELECT = """
    SELECT l.id, l.lease_number, l.direction, l.portfolio, l.counterparty,
           p.parcel_id AS parcel_public_id, p.address AS parcel_address,
           b.building_id AS building_public_id, d.code AS department_code,
           d.name AS department_name, l.premises, l.leased_area_sq_ft, l.approval_reference,
           l.source_document, l.commencement_date, l.term_months, l.max_possible_term_months,
           l.end_date, l.options, l.payment_frequency, l.payment_timing, l.payments,
           l.escalation_pct, l.free_periods, l.non_lease_amount, l.discount_rate,
           l.discount_rate_source, l.fair_value, l.residual_value, l.initial_direct_costs,
           l.incentives, l.prepaid_at_commencement, l.useful_life_months, l.fund_type,
           l.market_rent_annual, l.occupied, l.terminated_on, l.notes, l.source_notes,
           CAST(ST_AsGeoJSON(ST_Transform(l.location, 4326), 7) AS jsonb) AS location,
           l.measured, l.missing, l.needs_confirmation, l.version, l.created_at, l.updated_at
      FROM leases l
      LEFT JOIN parcels p ON p.id = l.parcel_id
      LEFT JOIN buildings b ON b.id = l.building_id
      LEFT JOIN departments d ON d.id = l.department_id
"""
_MONEY = frozenset(
    {
        "non_lease_amount",
        "fair_value",
        "residual_value",
        "initial_direct_costs",
        "incentives",
        "prepaid_at_commencement",
        "market_rent_annual",
    }
)
_RATES = frozenset({"escalation_pct", "discount_rate"})
_DATES = frozenset({"commencement_date", "terminated_on", "end_date"})
_COLUMNS = {"parcel_id": "parcel_public_id", "building_id": "building_public_id"}
_DERIVED = ("end_date", "measured", "missing", "needs_confirmation", "version", "id")


def _json_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _MONEY:
        return money_text(value)
    if name in _RATES:
        return decimal_str(value)
    if name in _DATES:
        return value.isoformat()
    if name == "leased_area_sq_ft":
        return float(value)
    return value


def lease_row_to_dict(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A row of `LEASE_SELECT` as the API's JSON, in the order of `LEASE_FIELDS` then the
    derived fields: money and rates as decimal strings, public parcel and building ids;
    `status` is "incomplete" while anything is `missing`, else "complete"."""
    out = {
        name: _json_value(name, row[_COLUMNS.get(name, name)])
        for name in (*LEASE_FIELDS, *_DERIVED)
    }
    out["location"] = _location(out["location"])
    out.update(
        department=row["department_name"],
        parcel_address=row["parcel_address"],
        updated_at=row["updated_at"].isoformat(),
        status="incomplete" if row["missing"] else "complete",
    )
    return out


def _location(point: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """PostGIS's GeoJSON point, without the `crs` member it may add."""
    return None if point is None else {"type": "Point", "coordinates": list(point["coordinates"])}


# The lists read a lease's current end (after modifications) from the one model of rent, end
# date and in-force, as the KPIs, the portfolio and critical dates do.
_WITH_TERM = f"WITH {LEASE_TERM_CTE}"


@dataclass(frozen=True)
class LeaseQuery:
    """Filters of the lease list; `expiring_days` keeps leases ending within that many days
    of `today` (not terminated), for the critical-dates view."""

    direction: str | None = None
    portfolio: str | None = None
    department: str | None = None  # code or name
    parcel_id: str | None = None  # public parcel id
    expiring_days: int | None = None
    today: dt.date | None = None
    limit: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None  # the last lease_number of the previous page
    search: str | None = None  # part of the lease number, counterparty or premises
    sort: str = "lease"  # a key of `LEASE_SORTS`
    descending: bool = False
    offset: int = 0  # pages of a sort other than the lease number's (bounded: MAX_OFFSET)

    @property
    def keyset(self) -> bool:
        """Whether the list pages by `cursor` (ascending lease numbers), not by `offset`."""
        return self.sort == "lease" and not self.descending


#: The list's sort keys and their SQL (NULLs last either way; ties in lease-number order).
LEASE_SORTS: Mapping[str, str] = {
    "lease": "l.lease_number",
    "direction": "l.direction",
    "portfolio": "l.portfolio",
    "counterparty": "lower(l.counterparty)",
    "department": "d.code",
    "premises": "lower(l.premises)",
    "commencement": "l.commencement_date",
    "ends": "t.ends",
}
#: The deepest page a sorted list reaches by OFFSET: far more leases than any city keeps.
MAX_OFFSET = 100_000
#: The ways a list is ordered (`order`): ascending unless "desc".
LIST_ORDERS = ("asc", "desc")


@dataclass(frozen=True)
class LeaseListOrder:
    """What a lease list searches for (`q`) and how it sorts (`sort`, `order`)."""

    search: str | None = None
    sort: str = "lease"
    descending: bool = False


def lease_list_order(args: Mapping[str, str]) -> tuple[LeaseListOrder, list[FieldProblem]]:
    """`q`, `sort` and `order` of the lease list (the page's and the API's, one reading).

    Each value at fault is named in the problems and replaced by what the list does without
    it: a search too long is cut to `MAX_SEARCH_LENGTH`, an unknown sort is the lease
    number's, an unknown order ascending. The page shows that (it ignores the problems); the API
    refuses the request with them."""
    problems = []
    search = (args.get("q") or "").strip()
    if len(search) > MAX_SEARCH_LENGTH:
        problems.append(FieldProblem("q", f"must be at most {MAX_SEARCH_LENGTH} characters"))
        search = search[:MAX_SEARCH_LENGTH]
    sort = args.get("sort") or "lease"
    if sort not in LEASE_SORTS:
        problems.append(FieldProblem("sort", f"must be one of: {', '.join(LEASE_SORTS)}"))
        sort = "lease"
    order = args.get("order") or "asc"
    if order not in LIST_ORDERS:
        problems.append(FieldProblem("order", "must be asc or desc"))
    return LeaseListOrder(search or None, sort, order == "desc"), problems


@dataclass(frozen=True)
class LeasePage:
    leases: list[dict[str, Any]]
    next_cursor: str | None


def _where(query: LeaseQuery) -> tuple[str, dict[str, Any]]:
    clauses, params = ["true"], {}
    for name in ("direction", "portfolio"):
        value = getattr(query, name)
        if value:
            clauses.append(f"l.{name} = :{name}")
            params[name] = value
    if query.department:
        clauses.append("(lower(d.code) = lower(:department) OR lower(d.name) = lower(:department))")
        params["department"] = query.department.strip()
    if query.parcel_id:
        clauses.append("p.parcel_id = :parcel_id")
        params["parcel_id"] = query.parcel_id
    if query.search and query.search.strip():
        clauses.append(
            "(l.lease_number ILIKE :search OR l.counterparty ILIKE :search"
            " OR l.premises ILIKE :search)"
        )
        params["search"] = contains_pattern(query.search)
    today = query.today or dt.date.today()
    params["as_of"] = today  # the current end comes from the one model (rent_sql.LEASE_TERM_CTE)
    if query.expiring_days is not None:
        clauses.append(
            "l.terminated_on IS NULL AND l.id IN ("
            "SELECT lease_id FROM lease_term WHERE ends BETWEEN :today AND :until)"
        )
        params.update(today=today, until=today + dt.timedelta(days=query.expiring_days))
    return " AND ".join(clauses), params


def _order_by(query: LeaseQuery) -> str:
    way = "DESC" if query.descending else "ASC"
    column = LEASE_SORTS.get(query.sort, LEASE_SORTS["lease"])
    return f"{column} {way} NULLS LAST, l.lease_number {way}"


def list_leases(session: Session, query: LeaseQuery) -> LeasePage:
    """One page in lease-number order (or `sort`); in lease-number order the next page starts
    after `next_cursor` (a keyset), in another order at `offset` (at most `MAX_OFFSET`)."""
    where, params = _where(query)
    if query.cursor and query.keyset:
        where += " AND l.lease_number > :cursor"
        params["cursor"] = query.cursor
    rows = (
        session.execute(
            text(
                f"{_WITH_TERM} {LEASE_SELECT} LEFT JOIN lease_term t ON t.lease_id = l.id "
                f"WHERE {where} ORDER BY {_order_by(query)} LIMIT :limit OFFSET :offset"
            ),
            {**params, "limit": query.limit + 1, "offset": min(max(query.offset, 0), MAX_OFFSET)},
        )
        .mappings()
        .all()
    )
    leases = [lease_row_to_dict(row) for row in rows[: query.limit]]
    more = len(rows) > query.limit
    return LeasePage(leases, leases[-1]["lease_number"] if more else None)


def matching_lease_ids(session: Session, query: LeaseQuery) -> list[int]:
    """The ids of every lease the filters select (not one page): what the list's totals sum."""
    where, params = _where(query)
    return [
        int(lease_id)
        for lease_id in session.execute(
            text(
                f"{_WITH_TERM} SELECT l.id FROM leases l LEFT JOIN parcels p ON p.id = "
                f"l.parcel_id LEFT JOIN departments d ON d.id = l.department_id WHERE {where}"
            ),
            params,
        ).scalars()
    ]


def leased_parcels_geojson(session: Session, query: LeaseQuery) -> str:
    """One point per leased parcel (`ST_PointOnSurface`, inside even an L-shaped parcel) with
    its leases' numbers, directions and counterparties: a FeatureCollection made by PostGIS."""
    where, params = _where(query)
    return str(session.execute(text(_geojson_sql(where)), params).scalar_one())


def _geojson_sql(where: str) -> str:
    return f"""
        WITH {LEASE_TERM_CTE}, matched AS (
            SELECT p.parcel_id AS public_id, p.address, p.geom AS parcel_geom,
                   l.lease_number, l.direction, l.counterparty, t.ends AS end_date
              FROM leases l JOIN parcels p ON p.id = l.parcel_id
              JOIN lease_term t ON t.lease_id = l.id
              LEFT JOIN departments d ON d.id = l.department_id
             WHERE p.geom IS NOT NULL AND {where}
        ), features AS (
            SELECT json_build_object(
                'type', 'Feature', 'id', public_id,
                'geometry',
                ST_AsGeoJSON(ST_Transform(ST_PointOnSurface(parcel_geom), 4326), 7)::json,
                'properties', json_build_object(
                    'parcel_id', public_id, 'address', address, 'lease_count', count(*),
                    'leases', json_agg(json_build_object(
                        'lease_number', lease_number, 'direction', direction,
                        'counterparty', counterparty, 'end_date', end_date)
                        ORDER BY lease_number))) AS feature
              FROM matched GROUP BY public_id, address, parcel_geom
        )
        SELECT json_build_object('type', 'FeatureCollection',
                                 'features', coalesce(json_agg(feature), '[]'::json))::text
          FROM features
    """


def leases_on_parcel(session: Session, parcel_id: str) -> list[dict[str, Any]]:
    """The leases of one parcel (public id), for the parcel page."""
    rows = (
        session.execute(
            text(f"{LEASE_SELECT} WHERE p.parcel_id = :parcel_id ORDER BY l.lease_number"),
            {"parcel_id": parcel_id},
        )
        .mappings()
        .all()
    )
    return [lease_row_to_dict(row) for row in rows]


@dataclass(frozen=True)
class UnmeasuredLease:
    """A lease recorded without every term GASB 87 needs (`missing`), which every measurement
    leaves out and names."""

    lease_number: str
    counterparty: str | None
    direction: str
    portfolio: str
    fund_type: str
    department_code: str | None
    commencement_date: dt.date | None
    end_date: dt.date | None
    missing: tuple[str, ...]


def first_commencement(session: Session) -> dt.date | None:
    """The earliest commencement of any lease: the first fiscal year a GASB 87 report or a
    journal can hold figures for (a city's oldest ground lease may be fifty years old)."""
    value = session.execute(text("SELECT min(commencement_date) FROM leases")).scalar()
    return value if isinstance(value, dt.date) else None


def unmeasured_leases(
    session: Session,
    *,
    direction: str | None = None,
    fund_type: str | None = None,
    during: tuple[dt.date, dt.date] | None = None,
) -> list[UnmeasuredLease]:
    """The leases not measured, in lease-number order (of one direction / fund type; `during`:
    those not known to lie wholly before or after that period, as a report of it would hold
    them had they been measured)."""
    where, params = ["NOT l.measured"], dict[str, Any]()
    for name, value in (("direction", direction), ("fund_type", fund_type)):
        if value is not None:
            where.append(f"l.{name} = :{name}")
            params[name] = value
    if during is not None:
        where.append(
            "(l.commencement_date IS NULL OR l.commencement_date <= :last_day) AND "
            "(l.end_date IS NULL OR l.end_date >= :first_day)"
        )
        params.update(first_day=during[0], last_day=during[1])
    rows = session.execute(
        text(
            "SELECT l.lease_number, l.counterparty, l.direction, l.portfolio, l.fund_type, "
            "d.code AS department_code, l.commencement_date, l.end_date, l.missing "
            "FROM leases l LEFT JOIN departments d ON d.id = l.department_id "
            f"WHERE {' AND '.join(where)} ORDER BY l.lease_number"
        ),
        params,
    )
    return [
        UnmeasuredLease(
            row.lease_number,
            row.counterparty,
            row.direction,
            row.portfolio,
            row.fund_type,
            row.department_code,
            row.commencement_date,
            row.end_date,
            tuple(row.missing),
        )
        for row in rows
    ]


def unmeasured_note(leases: list[UnmeasuredLease], shown: int = 10) -> str:
    """ "not measured, left out: 3 leases (L-1, L-2, L-7)", the first `shown` named; "" for
    none."""
    if not leases:
        return ""
    numbers = [lease.lease_number for lease in leases[:shown]]
    more = ", …" if len(leases) > shown else ""
    noun = "lease" if len(leases) == 1 else "leases"
    return f"not measured, left out: {len(leases)} {noun} ({', '.join(numbers)}{more})"
