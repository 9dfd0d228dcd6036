"""REV-1..REV-3: what the portfolio earns, and the leases out that earn (next to) nothing.

One query: a `facts` CTE with a row per lease out (its rent due in the fiscal year, from
`rent_sql`, and whether it is nominal) and per parcel disposed of in the fiscal year, grouped with
GROUPING SETS. Flows (REV-1, REV-3) cover the whole fiscal year, as the cost KPIs do.

REV-2 counts the leases out in force at the as-of date (modifications followed, holdovers
included: `registry.leases.rent_sql`) whose annual rent (the rate then) is at or below
REGISTRY_NOMINAL_RENT (default 1.00 a year), or, where the market rent is known, below
REGISTRY_BELOW_MARKET_SHARE of it (default 0.5); its denominator is every lease out in force,
so the share can be read off the row. A lease recorded incomplete (not measured) has no rent in
the model and counts in neither.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from registry.kpis.common_sql import DIMS
from registry.kpis.common_sql import FILTER_SQL
from registry.kpis.common_sql import LEASE_DIMS_SQL
from registry.kpis.common_sql import LEASE_JOINS_SQL
from registry.kpis.common_sql import PARCEL_DIMS_SQL
from registry.kpis.units import format_kpi_value
from registry.kpis.values import KpiValue
from registry.kpis.values import Period
from registry.kpis.values import grouped_rows
from registry.kpis.values import grouping_select
from registry.kpis.values import make_value
from registry.leases.rent_sql import CURRENT_TERMS_CTES

NOMINAL_RENT_SETTING = "REGISTRY_NOMINAL_RENT"
BELOW_MARKET_SETTING = "REGISTRY_BELOW_MARKET_SHARE"


def _sql() -> str:
    select, grouping = grouping_select(DIMS)
    return f"""
    WITH {CURRENT_TERMS_CTES}, lease_rent AS (
        SELECT lease_id, sum(rent) AS rent FROM rent_due
         WHERE due BETWEEN :start AND :end GROUP BY lease_id
    ), facts AS (
        SELECT {LEASE_DIMS_SQL}, coalesce(r.rent, 0) AS rent,
               (t.in_force AND t.measured)::int AS in_force,
               (t.in_force AND (a.rent <= :nominal
                OR (l.market_rent_annual > 0 AND a.rent < :share * l.market_rent_annual)))::int
               AS nominal,
               0 AS disposed, 0 AS proceeds
          FROM {LEASE_JOINS_SQL} LEFT JOIN lease_rent r ON r.lease_id = l.id
          JOIN annual_rent a ON a.lease_id = l.id JOIN lease_term t ON t.lease_id = l.id
         WHERE l.direction = 'out'
        UNION ALL
        SELECT {PARCEL_DIMS_SQL}, 0, 0, 0, 1, coalesce(p.disposition_proceeds, 0)
          FROM parcels p LEFT JOIN departments d ON d.id = p.department_id
         WHERE p.disposition_date BETWEEN :start AND :end
    )
    SELECT {select}, sum(rent) AS rent, sum(in_force) AS in_force, sum(nominal) AS nominal,
           sum(disposed) AS disposed, sum(proceeds) AS proceeds, count(*) AS records
      FROM facts WHERE {FILTER_SQL} GROUP BY {grouping}
    """


def _setting(name: str, default: str) -> Decimal:
    raw = os.environ.get(name, "").strip() or default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"{name} must be a number, not {raw!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"{name} must be a number ≥ 0, not {raw!r}")
    return value


def revenue_kpis(session: Session, period: Period) -> list[KpiValue]:
    """REV-1, REV-2 and REV-3 for the city and each breakdown value."""
    nominal = _setting(NOMINAL_RENT_SETTING, "1")
    share = _setting(BELOW_MARKET_SETTING, "0.5")
    rows = grouped_rows(session, _sql(), period, {"nominal": nominal, "share": share})
    out = _money_rows("REV-1", period, rows, "rent", "in_force", "rent", "rent due on leases out")
    out += [
        _rev2(period, row, nominal, share)
        for row in rows
        if row["breakdown"] == "city" or row["in_force"]
    ]
    out += _money_rows(
        "REV-3",
        period,
        rows,
        "proceeds",
        "disposed",
        "disposed",
        "parcels disposed of",
        lambda row: (
            f"{format_kpi_value(row['disposed'], 'count')} parcels disposed of"
            if row["disposed"]
            else None
        ),
    )
    return out


def _money_rows(
    kpi_id: str,
    period: Period,
    rows: list[Any],
    amount: str,
    records: str,
    shown_if: str,
    what: str,
    note: Callable[[Any], str | None] = lambda row: None,
) -> list[KpiValue]:
    """`_money_or_empty` of the column `amount` for the city and each breakdown value whose
    `shown_if` column is not zero; empty as "no <what> in <period>"."""
    return [
        _money_or_empty(
            kpi_id,
            period,
            row,
            row[amount],
            row[records],
            f"no {what} in {period.label}",
            note(row),
        )
        for row in rows
        if row["breakdown"] == "city" or row[shown_if]
    ]


def _money_or_empty(
    kpi_id: str,
    period: Period,
    row: Any,
    amount: Any,
    records: Any,
    reason: str,
    note: str | None = None,
) -> KpiValue:
    """An amount of money as value and numerator; empty with `reason` when nothing stands
    behind it (a zero the records produced, such as rent-free leases, stays 0)."""
    if not amount and not records:
        return make_value(kpi_id, period, row, None, None, None, note, empty_reason=reason)
    return make_value(kpi_id, period, row, amount, amount, None, note)


def _rev2(period: Period, row: Any, nominal: Decimal, share: Decimal) -> KpiValue:
    note = f"at or below {nominal:.2f} a year, or below {share} of market rent"
    if not row["in_force"]:
        return make_value(
            "REV-2", period, row, None, 0, 0, note, empty_reason="no leases out in force"
        )
    return make_value("REV-2", period, row, row["nominal"], row["nominal"], row["in_force"], note)
