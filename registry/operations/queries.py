"""Reading occupancy and O&M cost records: the lists with their filters, set-based, and the
SELECTs and renderings that the one-record reads in `records` share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.fields import money_text
from registry.fiscal_years import fiscal_year_bounds

OCCUPANCY_SELECT = """
SELECT o.id, b.building_id, p.parcel_id, d.code AS department_code, d.name AS department,
       o.period_start, o.period_end, o.headcount, o.usable_sq_ft_occupied, b.name AS building_name,
       b.usable_sq_ft AS building_usable_sq_ft, o.version, o.created_at, o.updated_at
  FROM occupancy o JOIN buildings b ON b.id = o.building_id JOIN parcels p ON p.id = b.parcel_id
  JOIN departments d ON d.id = o.department_id
"""
COST_SELECT = """
SELECT c.id, p.parcel_id, b.building_id, c.fiscal_year, c.category, c.amount, c.note,
       c.version, c.created_at, c.updated_at
  FROM om_costs c LEFT JOIN buildings b ON b.id = c.building_id
  JOIN parcels p ON p.id = coalesce(c.parcel_id, b.parcel_id)
"""


def occupancy_dict(row: Mapping[Any, Any]) -> dict[str, Any]:
    record = dict(row)
    for name in ("period_start", "period_end", "created_at", "updated_at"):
        record[name] = record[name].isoformat() if record[name] is not None else None
    return record


def cost_dict(row: Mapping[Any, Any]) -> dict[str, Any]:
    record = dict(row)
    record["amount"] = money_text(record["amount"])
    for name in ("created_at", "updated_at"):
        record[name] = record[name].isoformat()
    return record


@dataclass(frozen=True)
class OperationsQuery:
    """Filters of the lists (public ids); an occupancy matches a fiscal year it overlaps."""

    parcel_id: str | None = None
    building_id: str | None = None
    fiscal_year: int | None = None
    fiscal_year_start_month: int = 7
    limit: int = 1000


def _place_filters(query: OperationsQuery) -> tuple[list[str], dict[str, Any]]:
    """The WHERE terms and parameters of the parcel and building filters, shared by both lists."""
    where, params = ["true"], dict[str, Any](limit=query.limit)
    if query.parcel_id:
        where.append("p.parcel_id = :parcel")
        params["parcel"] = query.parcel_id
    if query.building_id:
        where.append("b.building_id = :building")
        params["building"] = query.building_id
    return where, params


def list_occupancy(session: Session, query: OperationsQuery) -> list[dict[str, Any]]:
    """Occupancy records matching every filter, by building, start date and department."""
    where, params = _place_filters(query)
    if query.fiscal_year is not None:
        params["fy_start"], params["fy_end"] = fiscal_year_bounds(
            query.fiscal_year, query.fiscal_year_start_month
        )
        where.append("o.period_start <= :fy_end AND coalesce(o.period_end, :fy_end) >= :fy_start")
    rows = session.execute(
        text(
            f"{OCCUPANCY_SELECT} WHERE {' AND '.join(where)} "
            "ORDER BY b.building_id, o.period_start, d.code, o.id LIMIT :limit"
        ),
        params,
    ).mappings()
    return [occupancy_dict(row) for row in rows]


def list_costs(session: Session, query: OperationsQuery) -> list[dict[str, Any]]:
    """O&M cost records matching every filter, newest fiscal year first."""
    where, params = _place_filters(query)
    if query.fiscal_year is not None:
        where.append("c.fiscal_year = :fy")
        params["fy"] = query.fiscal_year
    rows = session.execute(
        text(
            f"{COST_SELECT} WHERE {' AND '.join(where)} "
            "ORDER BY c.fiscal_year DESC, b.building_id NULLS FIRST, c.category, c.id LIMIT :limit"
        ),
        params,
    ).mappings()
    return [cost_dict(row) for row in rows]
