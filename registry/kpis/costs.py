"""CST-1 and CST-5: what owned buildings cost to run, and their condition.

One query over owned buildings (GROUPING SETS as the other families). CST-1 takes the fiscal
year's operations + maintenance costs recorded on each owned building over the GSF of the owned
buildings that have such costs, so a building nobody reported costs for does not dilute the
figure; costs recorded on a parcel rather than a building are left out of CST-1 (they have no
floor area) and belong to CST-3. CST-5 is over owned buildings with a replacement value.

CST-2..CST-4 (rent paid and the change against a baseline year) are in `occupancy_costs`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from registry.kpis.common_sql import BUILDING_DIMS_SQL
from registry.kpis.common_sql import DIMS
from registry.kpis.common_sql import FILTER_SQL
from registry.kpis.common_sql import PARCEL_IN_REGISTRY_SQL
from registry.kpis.common_sql import PARCEL_OWNED_SQL
from registry.kpis.values import KpiValue
from registry.kpis.values import Period
from registry.kpis.values import grouped_rows
from registry.kpis.values import grouping_select
from registry.kpis.values import make_value
from registry.kpis.values import nothing
from registry.kpis.values import ratio

OM_CATEGORIES = ("operations", "maintenance")


def _sql() -> str:
    select, grouping = grouping_select(DIMS)
    categories = ", ".join(f"'{category}'" for category in OM_CATEGORIES)
    return f"""
    WITH om AS (
        SELECT c.building_id, sum(c.amount) AS amount FROM om_costs c
         WHERE c.fiscal_year = :fy AND c.category IN ({categories})
           AND c.building_id IS NOT NULL
         GROUP BY c.building_id
    ), facts AS (
        SELECT {BUILDING_DIMS_SQL},
               coalesce(om.amount, 0) AS om_cost,
               CASE WHEN om.building_id IS NOT NULL THEN coalesce(b.gross_sq_ft, 0) ELSE 0 END
               AS om_gsf,
               CASE WHEN b.replacement_value > 0 THEN coalesce(b.repair_needs, 0) ELSE 0 END
               AS repair_needs,
               CASE WHEN b.replacement_value > 0 THEN b.replacement_value ELSE 0 END
               AS replacement_value
          FROM buildings b JOIN parcels p ON p.id = b.parcel_id
          LEFT JOIN departments d ON d.id = p.department_id
          LEFT JOIN om ON om.building_id = b.id
         WHERE {PARCEL_IN_REGISTRY_SQL} AND {PARCEL_OWNED_SQL}
    )
    SELECT {select}, sum(om_cost) AS om_cost, sum(om_gsf) AS om_gsf,
           sum(repair_needs) AS repair_needs, sum(replacement_value) AS replacement_value
      FROM facts WHERE {FILTER_SQL} GROUP BY {grouping}
    """


def cost_kpis(session: Session, period: Period) -> list[KpiValue]:
    """CST-1 and CST-5 for the city and each breakdown value."""
    rows = grouped_rows(session, _sql(), period)
    if not rows:
        reason = "no owned buildings in the registry"
        return [nothing("CST-1", period, reason), nothing("CST-5", period, reason)]
    return [
        *each_row(rows, lambda row: _cst1(period, row)),
        *each_row(rows, lambda row: _cst5(period, row)),
    ]


def each_row(rows: list[Any], kpi: Callable[[Any], KpiValue | None]) -> list[KpiValue]:
    """`kpi` of each row, those that are not None (a breakdown value with nothing to show)."""
    return [value for row in rows if (value := kpi(row)) is not None]


def per_sq_ft(
    kpi_id: str, period: Period, row: Any, amount: str, area: str, empty_reason: str
) -> KpiValue | None:
    """The column `amount` per sq ft of the column `area`: for the city always, for a
    breakdown value only when it has such an area."""
    if row["breakdown"] != "city" and not row[area]:
        return None
    return ratio(kpi_id, period, row, row[amount], row[area], empty_reason, scale=1)


def _cst1(period: Period, row: Any) -> KpiValue | None:
    reason = f"no operations or maintenance costs on owned buildings in {period.label}"
    return per_sq_ft("CST-1", period, row, "om_cost", "om_gsf", reason)


def _cst5(period: Period, row: Any) -> KpiValue | None:
    replacement = row["replacement_value"]
    if not replacement:
        if row["breakdown"] != "city":
            return None
        return make_value(
            "CST-5",
            period,
            row,
            None,
            row["repair_needs"],
            replacement,
            empty_reason="no owned buildings with a replacement value",
        )
    value = 100 * (1 - row["repair_needs"] / replacement)
    return make_value("CST-5", period, row, value, row["repair_needs"], replacement)
