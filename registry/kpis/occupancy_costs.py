"""CST-2..CST-4: what the city pays to occupy space (rent on leases in, O&M), and its change.

One query: a `facts` CTE with a row per operations / maintenance cost (on a building or a
parcel, leased or owned: all of it is occupancy cost) and per lease in with its rent due (from
`rent_sql`), for the period and the baseline fiscal year side by side, grouped with GROUPING
SETS. Rent "in the period" is what falls due in the fiscal year, the whole year whatever the
as-of date, as the O&M costs are annual figures.

CST-2 is over leases in that record a leased area and have rent due in the period (rent without
an area would inflate the figure). CST-4's baseline is the setting REGISTRY_KPI_BASELINE_FY
(`FY2024` or `2024`), by default the earliest fiscal year with any O&M cost recorded; its value is
100 × (CST-3 of the period − CST-3 of the baseline) ÷ CST-3 of the baseline, with the difference as
numerator and the baseline as denominator.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.db import planner_settings
from registry.fields import whole_number
from registry.fiscal_years import fiscal_year_bounds
from registry.kpis.common_sql import BUILDING_DIMS_SQL
from registry.kpis.common_sql import DIMS
from registry.kpis.common_sql import FILTER_SQL
from registry.kpis.common_sql import LEASE_DIMS_SQL
from registry.kpis.common_sql import LEASE_JOINS_SQL
from registry.kpis.costs import OM_CATEGORIES
from registry.kpis.costs import each_row
from registry.kpis.costs import per_sq_ft
from registry.kpis.units import format_kpi_value
from registry.kpis.values import KpiValue
from registry.kpis.values import Period
from registry.kpis.values import grouped_rows
from registry.kpis.values import grouping_select
from registry.kpis.values import make_value
from registry.kpis.values import nothing
from registry.kpis.values import ratio
from registry.leases.rent_sql import RENT_STREAM_CTES

BASELINE_SETTING = "REGISTRY_KPI_BASELINE_FY"


def _sql() -> str:
    select, grouping = grouping_select(DIMS)
    categories = ", ".join(f"'{category}'" for category in OM_CATEGORIES)
    return f"""
    WITH {RENT_STREAM_CTES}, lease_rent AS (
        SELECT lease_id,
               coalesce(sum(rent) FILTER (WHERE due BETWEEN :start AND :end), 0) AS rent,
               coalesce(sum(rent) FILTER (WHERE due BETWEEN :base_start AND :base_end), 0)
               AS rent_base
          FROM rent_due
         WHERE due BETWEEN :start AND :end OR due BETWEEN :base_start AND :base_end
         GROUP BY lease_id  -- (a lease with nothing due in either year adds only zeros)
    ), facts AS (
        SELECT {BUILDING_DIMS_SQL},
               CASE WHEN c.fiscal_year = :fy THEN c.amount ELSE 0 END AS om,
               CASE WHEN c.fiscal_year = :base_fy THEN c.amount ELSE 0 END AS om_base,
               0 AS rent, 0 AS rent_base, 0 AS area_rent, 0 AS area
          FROM om_costs c LEFT JOIN buildings b ON b.id = c.building_id
          JOIN parcels p ON p.id = coalesce(b.parcel_id, c.parcel_id)
          LEFT JOIN departments d ON d.id = p.department_id
         WHERE c.category IN ({categories}) AND c.fiscal_year IN (:fy, :base_fy)
        UNION ALL
        SELECT {LEASE_DIMS_SQL}, 0, 0, r.rent, r.rent_base,
               CASE WHEN l.leased_area_sq_ft > 0 AND r.rent > 0 THEN r.rent ELSE 0 END,
               CASE WHEN l.leased_area_sq_ft > 0 AND r.rent > 0 THEN l.leased_area_sq_ft
                    ELSE 0 END
          FROM {LEASE_JOINS_SQL} JOIN lease_rent r ON r.lease_id = l.id
         WHERE l.direction = 'in'
    )
    SELECT {select}, sum(om) AS om, sum(om_base) AS om_base, sum(rent) AS rent,
           sum(rent_base) AS rent_base, sum(area_rent) AS area_rent, sum(area) AS area
      FROM facts WHERE {FILTER_SQL} GROUP BY {grouping}
    """


def baseline_fiscal_year(session: Session) -> int | None:
    """REGISTRY_KPI_BASELINE_FY if set, else the earliest fiscal year with O&M costs (None:
    no costs at all). Read at each call, so a changed setting needs no restart."""
    setting = os.environ.get(BASELINE_SETTING, "").strip().upper().removeprefix("FY")
    if setting:
        if whole_number(setting) is None:
            raise ValueError(f"{BASELINE_SETTING} must name a fiscal year such as FY2024")
        return int(setting)
    earliest = session.execute(text("SELECT min(fiscal_year) FROM om_costs")).scalar()
    return None if earliest is None else int(earliest)


def occupancy_cost_kpis(session: Session, period: Period) -> list[KpiValue]:
    """CST-2, CST-3 and CST-4 for the city and each breakdown value."""
    base = baseline_fiscal_year(session)
    base_start, base_end = fiscal_year_bounds(base or period.fiscal_year, period.start.month)
    # Joined by hash: the planner cannot see how many leases have rent (it guesses 200 of
    # 5,000) and joined each lease in to every lease's rent by a nested loop, 7 million
    # comparisons (0.6 s of the KPI set at 100,000 parcels).
    with planner_settings(session, enable_nestloop="off"):
        rows = grouped_rows(
            session,
            _sql(),
            period,
            {"base_fy": base or period.fiscal_year, "base_start": base_start, "base_end": base_end},
        )
    out = [
        *each_row(rows, lambda row: _cst2(period, row)),
        *each_row(rows, lambda row: _cst3(period, row)),
    ]
    if base is None:
        return [*out, nothing("CST-4", period, "no O&M costs recorded: no baseline year")]
    return [*out, *each_row(rows, lambda row: _cst4(period, row, base))]


def _cst2(period: Period, row: Any) -> KpiValue | None:
    reason = f"no rent due on leases in with a leased area in {period.label}"
    return per_sq_ft("CST-2", period, row, "area_rent", "area", reason)


def _cst3(period: Period, row: Any) -> KpiValue | None:
    total = row["om"] + row["rent"]
    if row["breakdown"] != "city" and not total:
        return None
    note = (
        f"operations + maintenance {format_kpi_value(row['om'], '$')}, "
        f"rent paid {format_kpi_value(row['rent'], '$')}"
    )
    if not total:
        return make_value(
            "CST-3",
            period,
            row,
            None,
            0,
            None,
            note,
            empty_reason=f"no O&M costs or rent in {period.label}",
        )
    return make_value("CST-3", period, row, total, total, None, note)


def _cst4(period: Period, row: Any, base: int) -> KpiValue | None:
    base_total = row["om_base"] + row["rent_base"]
    total = row["om"] + row["rent"]
    if row["breakdown"] != "city" and not base_total:
        return None
    note = (
        f"baseline FY{base}; CST-3 {format_kpi_value(total, '$')} "
        f"against {format_kpi_value(base_total, '$')}"
    )
    return ratio(
        "CST-4",
        period,
        row,
        total - base_total,
        base_total,
        f"no O&M costs or rent in the baseline year FY{base}",
        note=note,
    )
