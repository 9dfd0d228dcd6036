"""The portfolio summary's tables, each one set-based SQL statement (no per-parcel Python), so the
export of a 100,000-parcel city costs a few scans, not 100,000 round trips.

Every table is read at an as-of date: parcels (and their buildings) in the registry then, O&M
costs of the fiscal year holding that date, occupancy current then, and each lease's annual rent
in force then. The breakdowns (department, council district, asset type) are the KPI engine's
(`registry.kpis.common_sql`), so a summary line and a KPI breakdown mean the same records.

A lease's annual rent, end date and whether it is in force are those of
`registry.leases.rent_sql`, the model the KPIs and the critical dates read too, so recorded
modifications and terminations count the same everywhere: the rate of the payment period
holding the as-of date × payments per year. A summary figure for finance, not the GASB 87
schedule. A lease recorded incomplete (not measured) is listed in the leases sheet with
`measured` false and what it lacks (`missing`), and left out of the summaries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.db import planner_settings
from registry.fiscal_years import fiscal_year_of
from registry.kpis.common_sql import BUILDING_DIMS_SQL
from registry.kpis.common_sql import DIMS
from registry.kpis.common_sql import LEASE_DIMS_SQL
from registry.kpis.common_sql import LEASE_JOINS_SQL
from registry.kpis.common_sql import PARCEL_DIMS_SQL
from registry.kpis.common_sql import PARCEL_IN_REGISTRY_SQL
from registry.kpis.values import grouping_select
from registry.leases.rent_sql import CURRENT_TERMS_CTES
from registry.leases.rent_sql import without_jit
from registry.vocabulary import COST_CATEGORIES

SUMMARY_BREAKDOWNS = ("department", "council_district", "asset_type")


@dataclass(frozen=True)
class Table:
    """A sheet's worth of rows: column names and tuples of database values (Decimals kept)."""

    name: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]


def _params(as_of: dt.date, start_month: int) -> dict[str, Any]:
    return {"as_of": as_of, "fy": fiscal_year_of(as_of, start_month)}


def _table(session: Session, name: str, sql: str, params: dict[str, Any]) -> Table:
    result = session.execute(text(sql), params)
    return Table(name, tuple(result.keys()), [tuple(row) for row in result])


# O&M cost of the fiscal year per parcel: on the parcel itself or on one of its buildings.
_PARCEL_OM_SQL = """
    SELECT coalesce(cb.parcel_id, c.parcel_id) AS parcel_pk, sum(c.amount) AS om_cost
      FROM om_costs c LEFT JOIN buildings cb ON cb.id = c.building_id
     WHERE c.fiscal_year = :fy GROUP BY 1
"""

PARCELS_SQL = f"""
    WITH bs AS (
        SELECT parcel_id, count(*) AS buildings, sum(gross_sq_ft) AS gsf, sum(usable_sq_ft) AS usf
          FROM buildings GROUP BY parcel_id
    ), cs AS ({_PARCEL_OM_SQL})
    SELECT p.parcel_id, p.address, d.code AS department_code, d.name AS department,
           p.council_district, p.asset_type, p.use, p.legal_interest, p.status,
           p.digitization_status, p.land_area_sq_ft, coalesce(bs.buildings, 0) AS buildings,
           bs.gsf AS gross_sq_ft, bs.usf AS usable_sq_ft, cs.om_cost, p.acquisition_date,
           p.acquisition_cost, p.disposition_date, p.disposition_proceeds{{geometry}}
      FROM parcels p LEFT JOIN departments d ON d.id = p.department_id
      LEFT JOIN bs ON bs.parcel_id = p.id LEFT JOIN cs ON cs.parcel_pk = p.id
     WHERE {PARCEL_IN_REGISTRY_SQL}
     ORDER BY p.parcel_id
"""

BUILDINGS_SQL = f"""
    SELECT b.building_id, b.name, p.parcel_id, d.code AS department_code, p.council_district,
           coalesce(b.asset_type, p.asset_type) AS asset_type, b.gross_sq_ft, b.usable_sq_ft,
           b.year_built, b.replacement_value, b.repair_needs, o.headcount,
           o.usable_sq_ft_occupied, c.om_cost
      FROM buildings b JOIN parcels p ON p.id = b.parcel_id
      LEFT JOIN departments d ON d.id = p.department_id
      LEFT JOIN (
          SELECT building_id, sum(headcount) AS headcount,
                 sum(usable_sq_ft_occupied) AS usable_sq_ft_occupied
            FROM occupancy
           WHERE period_start <= :as_of AND (period_end IS NULL OR period_end >= :as_of)
           GROUP BY building_id
      ) o ON o.building_id = b.id
      LEFT JOIN (
          SELECT building_id, sum(amount) AS om_cost FROM om_costs
           WHERE fiscal_year = :fy AND building_id IS NOT NULL GROUP BY building_id
      ) c ON c.building_id = b.id
     WHERE {PARCEL_IN_REGISTRY_SQL}
     ORDER BY b.building_id
"""

# `end_date` as signed, `current_end_date` after modifications; the payment frequency, rent and
# in force at :as_of (the rent only for a lease in force and measured); `measured` and what a
# lease not measured lacks.
LEASES_SQL = f"""
    WITH {CURRENT_TERMS_CTES}
    SELECT l.lease_number, l.direction, l.portfolio, l.counterparty, p.parcel_id,
           coalesce(ld.code, d.code) AS department_code, l.premises, l.leased_area_sq_ft,
           l.commencement_date, l.end_date, t.ends AS current_end_date, l.terminated_on,
           a.payment_frequency, t.in_force, CASE WHEN t.in_force THEN a.rent END AS annual_rent,
           l.measured, array_to_string(l.missing, ', ') AS missing
      FROM {LEASE_JOINS_SQL} JOIN lease_term t ON t.lease_id = l.id
      JOIN annual_rent a ON a.lease_id = l.id
     ORDER BY l.lease_number
"""

_CATEGORY_SUMS = ", ".join(
    f"coalesce(sum(amount) FILTER (WHERE category = '{category}'), 0) AS {category}"
    for category in COST_CATEGORIES
)
COSTS_SQL = f"""
    SELECT fiscal_year, {_CATEGORY_SUMS}, sum(amount) AS total, count(*) AS records
      FROM om_costs GROUP BY fiscal_year ORDER BY fiscal_year
"""

SUMMARY_COLUMNS = (
    "parcels",
    "land_area_sq_ft",
    "buildings",
    "gross_sq_ft",
    "usable_sq_ft",
    "om_cost",
    "leases_in",
    "lease_cost",
    "leases_out",
    "lease_revenue",
)


def _summary_sql() -> str:
    select, grouping = grouping_select(DIMS)
    zero = {name: "0" for name in SUMMARY_COLUMNS}

    def facts(**values: str) -> str:
        return ", ".join(f"{values.get(name, zero[name])} AS {name}" for name in SUMMARY_COLUMNS)

    sums = ", ".join(f"coalesce(sum({name}), 0) AS {name}" for name in SUMMARY_COLUMNS)
    return f"""
    WITH {CURRENT_TERMS_CTES}, facts AS (
        SELECT {PARCEL_DIMS_SQL}, {facts(parcels="1", land_area_sq_ft="p.land_area_sq_ft")}
          FROM parcels p LEFT JOIN departments d ON d.id = p.department_id
         WHERE {PARCEL_IN_REGISTRY_SQL}
        UNION ALL
        SELECT {BUILDING_DIMS_SQL}, {
        facts(buildings="1", gross_sq_ft="b.gross_sq_ft", usable_sq_ft="b.usable_sq_ft")
    }
          FROM buildings b JOIN parcels p ON p.id = b.parcel_id
          LEFT JOIN departments d ON d.id = p.department_id
         WHERE {PARCEL_IN_REGISTRY_SQL}
        UNION ALL
        SELECT {BUILDING_DIMS_SQL}, {facts(om_cost="c.amount")}
          FROM om_costs c LEFT JOIN buildings b ON b.id = c.building_id
          JOIN parcels p ON p.id = coalesce(b.parcel_id, c.parcel_id)
          LEFT JOIN departments d ON d.id = p.department_id
         WHERE c.fiscal_year = :fy
        UNION ALL
        SELECT {LEASE_DIMS_SQL}, {
        facts(
            leases_in="CASE WHEN l.direction = 'in' THEN 1 ELSE 0 END",
            lease_cost="CASE WHEN l.direction = 'in' THEN a.rent END",
            leases_out="CASE WHEN l.direction = 'out' THEN 1 ELSE 0 END",
            lease_revenue="CASE WHEN l.direction = 'out' THEN a.rent END",
        )
    }
          FROM {LEASE_JOINS_SQL} JOIN lease_term t ON t.lease_id = l.id
          JOIN annual_rent a ON a.lease_id = l.id
         WHERE t.in_force AND t.measured
    )
    SELECT {select}, {sums} FROM facts GROUP BY {grouping}
    ORDER BY breakdown, breakdown_value
    """


def _leases_table(session: Session, params: dict[str, Any]) -> Table:
    """The leases sheet, its joins planned in the order written. Why: once every table has
    statistics (as autovacuum leaves them), the planner joined the 5,000 leases to the rent
    CTE's few-hundred-row estimate by a nested loop over a materialized union (5,000 × 5,000
    rows: 3.0 s of the workbook at 100,000 parcels); in the written order it is 0.3 s."""
    with planner_settings(session, join_collapse_limit="1"):
        return _table(session, "leases", LEASES_SQL, params)


def portfolio_tables(session: Session, as_of: dt.date, start_month: int = 7) -> list[Table]:
    """The XLSX's tables in sheet order: parcels, buildings, leases, costs by fiscal year, then
    one summary per breakdown (each ending with the city's total line)."""
    params = _params(as_of, start_month)
    without_jit(session)
    tables = [
        _table(session, "parcels", PARCELS_SQL.format(geometry=""), params),
        _table(session, "buildings", BUILDINGS_SQL, params),
        _leases_table(session, params),
        _table(session, "costs by fiscal year", COSTS_SQL, params),
    ]
    summary = session.execute(text(_summary_sql()), params).mappings().all()
    total = next(row for row in summary if row["breakdown"] == "city")
    for breakdown in SUMMARY_BREAKDOWNS:
        rows = [
            (row["breakdown_value"], *(row[name] for name in SUMMARY_COLUMNS))
            for row in summary
            if row["breakdown"] == breakdown
        ]
        rows.append(("Total", *(total[name] for name in SUMMARY_COLUMNS)))
        tables.append(
            Table(f"by {breakdown.replace('_', ' ')}", (breakdown, *SUMMARY_COLUMNS), rows)
        )
    return tables


def parcels_table(
    session: Session, as_of: dt.date, start_month: int = 7, geometry: bool = False
) -> Table:
    """The parcels sheet alone (CSV), or with `geometry_wkb` (WGS 84 WKB, for GIS formats:
    PostGIS encodes it, so no geometry object is built per row in Python)."""
    column = ", ST_AsBinary(ST_Transform(p.geom, 4326)) AS geometry_wkb" if geometry else ""
    return _table(
        session, "parcels", PARCELS_SQL.format(geometry=column), _params(as_of, start_month)
    )
