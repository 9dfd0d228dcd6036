"""UTL-1..UTL-5: how well the portfolio is used, at the as-of date.

One query over a `facts` CTE (a row per parcel, per building with its current occupancy, per
lease in force, modifications followed: `registry.leases.rent_sql`), aggregated with GROUPING
SETS, plus the per-building UTL-2 rows the KPI set asks for (breakdown `building`). Utilization
is 150 × headcount ÷ USF: 100 % means 150 usable sq ft per person; an office building under
60 % is flagged (PL 118-272 §2302). An office building with no current occupancy record counts
as 0 % used. UTL-1's value is the share of owned land area with no current use; the count of
such parcels is in its note (and in UTL-4).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from registry.kpis.common_sql import BUILDING_DIMS_SQL
from registry.kpis.common_sql import DIMS
from registry.kpis.common_sql import FILTER_SQL
from registry.kpis.common_sql import LEASE_DIMS_SQL
from registry.kpis.common_sql import LEASE_JOINS_SQL
from registry.kpis.common_sql import OCCUPANCY_CURRENT_SQL
from registry.kpis.common_sql import PARCEL_DIMS_SQL
from registry.kpis.common_sql import PARCEL_IN_REGISTRY_SQL
from registry.kpis.common_sql import PARCEL_OWNED_SQL
from registry.kpis.units import format_kpi_value
from registry.kpis.values import KpiValue
from registry.kpis.values import Period
from registry.kpis.values import grouped_rows
from registry.kpis.values import grouping_select
from registry.kpis.values import make_value
from registry.kpis.values import nothing
from registry.kpis.values import ratio
from registry.leases.rent_sql import LEASE_TERM_CTE

SQ_FT_PER_PERSON = 150
UNDERUSED_BELOW_PCT = 60

_FACTS = f"""
    WITH occupied AS (
        SELECT o.building_id, sum(o.headcount) AS headcount FROM occupancy o
         WHERE {OCCUPANCY_CURRENT_SQL} GROUP BY o.building_id
    ), building AS (
        SELECT b.building_id AS building_key, {BUILDING_DIMS_SQL},
               b.asset_type = 'office' AND coalesce(b.usable_sq_ft, 0) > 0 AS is_office,
               coalesce(b.usable_sq_ft, 0) AS usf, coalesce(o.headcount, 0) AS headcount,
               CASE WHEN {PARCEL_OWNED_SQL} AND p.status = 'in_use'
                    THEN coalesce(b.gross_sq_ft, 0) ELSE 0 END AS owned_gsf_in_use
          FROM buildings b JOIN parcels p ON p.id = b.parcel_id
          LEFT JOIN departments d ON d.id = p.department_id
          LEFT JOIN occupied o ON o.building_id = b.id
         WHERE {PARCEL_IN_REGISTRY_SQL} AND p.status <> 'disposed'
    )
"""
# under 60 %: 150 × headcount ÷ USF × 100 < 60, kept in integers so the flag is exact
_UNDERUSED = f"(is_office AND {SQ_FT_PER_PERSON} * 100 * headcount < {UNDERUSED_BELOW_PCT} * usf)"


def _grouped_sql() -> str:
    select, grouping = grouping_select(DIMS)
    return (
        _FACTS
        + f"""
    , {LEASE_TERM_CTE}, facts AS (
        SELECT dim_department, dim_district, dim_asset_type,
               (p.status = 'no_current_use')::int AS no_use,
               CASE WHEN {PARCEL_OWNED_SQL} AND p.status = 'no_current_use'
                    THEN coalesce(p.land_area_sq_ft, 0) ELSE 0 END AS no_use_area,
               CASE WHEN {PARCEL_OWNED_SQL} THEN coalesce(p.land_area_sq_ft, 0) ELSE 0 END
               AS owned_area,
               0 AS office_usf, 0 AS office_need, 0 AS underused, 0 AS occupied_usf,
               0 AS headcount, 0 AS leased_in, 0 AS owned_gsf_in_use
          FROM (SELECT p.*, {PARCEL_DIMS_SQL} FROM parcels p
                  LEFT JOIN departments d ON d.id = p.department_id
                 WHERE {PARCEL_IN_REGISTRY_SQL}) AS p
        UNION ALL
        SELECT dim_department, dim_district, dim_asset_type, 0, 0, 0,
               CASE WHEN is_office THEN usf ELSE 0 END,
               CASE WHEN is_office THEN {SQ_FT_PER_PERSON} * headcount ELSE 0 END,
               {_UNDERUSED}::int,
               CASE WHEN headcount > 0 THEN usf ELSE 0 END,
               CASE WHEN headcount > 0 AND usf > 0 THEN headcount ELSE 0 END,
               0, owned_gsf_in_use
          FROM building
        UNION ALL
        SELECT {LEASE_DIMS_SQL}, 0, 0, 0, 0, 0, 0, 0, 0, coalesce(l.leased_area_sq_ft, 0), 0
          FROM {LEASE_JOINS_SQL} JOIN lease_term t ON t.lease_id = l.id
         WHERE l.direction = 'in' AND t.in_force
    )
    SELECT {select}, count(*) AS records,
           sum(no_use) AS no_use, sum(no_use_area) AS no_use_area, sum(owned_area) AS owned_area,
           sum(office_usf) AS office_usf, sum(office_need) AS office_need,
           sum(underused) AS underused, sum(occupied_usf) AS occupied_usf,
           sum(headcount) AS headcount, sum(leased_in) AS leased_in,
           sum(owned_gsf_in_use) AS owned_gsf_in_use
      FROM facts WHERE {FILTER_SQL} GROUP BY {grouping}
    """
    )


_PER_BUILDING_SQL = (
    _FACTS
    + f"""
    SELECT 'building' AS breakdown, building_key AS breakdown_value, usf, headcount
      FROM building WHERE is_office AND {FILTER_SQL} ORDER BY building_key
"""
)


def utilization_kpis(session: Session, period: Period) -> list[KpiValue]:
    """UTL-1..UTL-5 for the city and each breakdown value, and UTL-2 per office building."""
    rows = grouped_rows(session, _grouped_sql(), period)
    if not rows:
        reason = "no parcels, buildings or leases in the registry"
        return [nothing(k, period, reason) for k in ("UTL-1", "UTL-2", "UTL-3", "UTL-4", "UTL-5")]
    out: list[KpiValue] = []
    for build in (_utl1, _utl2, _utl3, _utl4, _utl5):
        out.extend(value for row in rows if (value := build(period, row)) is not None)
    for building in grouped_rows(session, _PER_BUILDING_SQL, period):
        out.append(
            ratio(
                "UTL-2",
                period,
                building,
                SQ_FT_PER_PERSON * building["headcount"],
                building["usf"],
                "no usable sq ft recorded",
            )
        )
    return out


@dataclass(frozen=True)
class _Ratio:
    """A UTL ratio over the grouped rows: `scale` x `numerator` / the sum of `denominator`
    (columns). A breakdown row is listed when the sum of `shown_by` (default: the denominator)
    is not zero; the city row always is. `note` is formatted with the row's counts, written
    as a tile writes a count."""

    kpi_id: str
    numerator: str
    denominator: tuple[str, ...]
    empty_reason: str
    shown_by: tuple[str, ...] = ()
    note: str | None = None
    scale: int = 100

    def __call__(self, period: Period, row: Any) -> KpiValue | None:
        denominator = sum(row[column] for column in self.denominator)
        shown = sum(row[column] for column in self.shown_by or self.denominator)
        if row["breakdown"] != "city" and not shown:
            return None
        counts = {key: format_kpi_value(value, "count") for key, value in row.items()
                  if isinstance(value, int | Decimal)}  # fmt: skip
        note = self.note.format(**counts) if self.note else None
        return ratio(
            self.kpi_id,
            period,
            row,
            row[self.numerator],
            denominator,
            self.empty_reason,
            scale=self.scale,
            note=note,
        )


_utl1 = _Ratio(
    "UTL-1",
    "no_use_area",
    ("owned_area",),
    "no owned land area recorded",
    shown_by=("owned_area", "no_use"),
    note="{no_use} parcels with no current use",
)
_utl2 = _Ratio(
    "UTL-2",
    "office_need",
    ("office_usf",),
    "no office buildings with usable sq ft",
    note=f"{{underused}} office buildings under {UNDERUSED_BELOW_PCT} %",
)
_utl3 = _Ratio(
    "UTL-3", "occupied_usf", ("headcount",), "no buildings with a current headcount", scale=1
)
_utl5 = _Ratio(
    "UTL-5", "leased_in", ("leased_in", "owned_gsf_in_use"), "no leased-in or owned sq ft in use"
)


def _utl4(period: Period, row: Any) -> KpiValue | None:
    count = Decimal(row["underused"] + row["no_use"])
    return make_value("UTL-4", period, row, count, count, None)
