"""DIG-6: when DIG-2 (records verified) reaches the latest milestone's target at the recent pace.

The milestone is the one with the latest target date. The pace is how many parcels became verified
over the 8 weeks up to the as-of date, read from the audit trail (set-based, one query with GROUPING
SETS): a parcel's state on a day is that of the version *recorded last* among its audited versions
dated on or before it, where a version that is verified is dated by the `verified_at` it carries (a
verification keyed in later still counts from when it was done) and any other version (a new parcel,
a verification withdrawn) by when it was recorded. Recorded last, not dated last: a verification
keyed in today with last year's date is the parcel's state now, although a version recorded before
it (the record as first entered, unverified) carries a later date. Only the audit events that create
a parcel or change `digitization_status` / `verified_at` are read, from the narrow rows the
database keeps of them (`parcel_verification_events`, migration 0027: the parcel, the event's id
and time, the `verified_at` of a verified version), not from the events' JSON.

This is the one DIG-6 rule: the /milestone page (`registry.milestones.progress`) takes its pace
(`verified_gain`) and its forecast (`forecast_at_pace`) from here too, for the milestone the
admin picks, so the page and the KPI set cannot disagree. The pace is the net change in DIG-2's
numerator, so a verification revoked within the 8 weeks does not count (DIG-2 no longer counts
that parcel either).

Per breakdown value: target count = target % × parcels in the registry at the as-of date,
rounded up; the forecast is the as-of date + (target count − verified) ÷ parcels verified per
day, rounded up to a whole day. The value is the days ahead (+) or behind (−) the milestone's
target date; the forecast date is in the note; numerator / denominator are the parcels verified
in the 8 weeks and the 56 days they took (the pace). A target already met is forecast on the
as-of date; no verification in the 8 weeks leaves the value empty, saying there is no pace.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.kpis.common_sql import DIMS
from registry.kpis.common_sql import FILTER_SQL
from registry.kpis.common_sql import PARCEL_DIMS_SQL
from registry.kpis.common_sql import PARCEL_IN_REGISTRY_SQL
from registry.kpis.values import KpiValue
from registry.kpis.values import Period
from registry.kpis.values import grouped_rows
from registry.kpis.values import grouping_select
from registry.kpis.values import make_value
from registry.kpis.values import nothing

PACE_WEEKS = 8
PACE_DAYS = 7 * PACE_WEEKS  # the last 8 weeks

_MILESTONE_SQL = """
    SELECT name, target_pct_verified, target_date FROM milestones
     ORDER BY target_date DESC, id DESC LIMIT 1
"""


def _sql(dims: dict[str, str] | None = None) -> str:
    """Parcels, verified now and verified at the pace start, per breakdown (`dims`; the
    KPI engine's by default, none for the city alone)."""
    dims = DIMS if dims is None else dims
    if dims:
        select, grouping = grouping_select(dims)
    else:
        select, grouping = "'city' AS breakdown, NULL AS breakdown_value", "GROUPING SETS (())"
    return f"""
    WITH version AS (
        SELECT parcel_pk, event_id, verified_at IS NOT NULL AS verified,
               CAST(coalesce(verified_at, occurred_at) AS date) AS dated
          FROM parcel_verification_events
    ), state AS MATERIALIZED (  -- once, not per parcel of a filtered selection
        -- the latest event's flag by date: max(id × 2 + flag) is the latest id with its flag
        -- in the low bit, a hash aggregate where ordered array_aggs sorted every event
        SELECT parcel_pk,
               max(event_id * 2 + verified::int) FILTER (WHERE dated <= :as_of) % 2 = 1 AS now,
               max(event_id * 2 + verified::int) FILTER (WHERE dated <= :pace_start) % 2 = 1
               AS before
          FROM version GROUP BY parcel_pk
    ), facts AS (
        SELECT {PARCEL_DIMS_SQL}, coalesce(s.now, false)::int AS verified_now,
               coalesce(s.before, false)::int AS verified_before
          FROM parcels p LEFT JOIN state s ON s.parcel_pk = p.id
          LEFT JOIN departments d ON d.id = p.department_id
         WHERE {PARCEL_IN_REGISTRY_SQL}
    )
    SELECT {select}, count(*) AS parcels, sum(verified_now) AS verified_now,
           sum(verified_before) AS verified_before
      FROM facts WHERE {FILTER_SQL} GROUP BY {grouping}
    """


@dataclass(frozen=True)
class MilestoneForecast:
    """DIG-6 for one milestone. `forecast_date` is None when it cannot be forecast (`reason`
    says why); `days_ahead` is positive when the target is reached before its date."""

    target_parcels: int
    verified_parcels: int
    pace_per_week: Decimal
    forecast_date: dt.date | None
    days_ahead: int | None
    reason: str | None = None


def forecast_at_pace(
    target_pct: Decimal,
    target_date: dt.date,
    verified: int,
    parcels: int,
    gained: Decimal,
    as_of: dt.date,
) -> MilestoneForecast:
    """When `verified` of `parcels` reaches `target_pct` if `gained` more parcels are verified
    every `PACE_DAYS` days, as the KPI set defines DIG-6; a partial day takes the whole day."""
    pace = Decimal(gained) / PACE_WEEKS
    if parcels == 0:
        return MilestoneForecast(0, 0, pace, None, None, "no parcels in the registry")
    target = math.ceil(Decimal(target_pct) * parcels / 100)
    remaining = target - verified
    if remaining <= 0:
        return MilestoneForecast(
            target, verified, pace, as_of, (target_date - as_of).days, "target already reached"
        )
    if gained <= 0:
        reason = (
            f"verified parcels fell by {-gained:,} in the {PACE_DAYS} days to {as_of} "
            "(verifications withdrawn faster than made): not reached at this pace"
            if gained < 0
            else f"no parcels verified in the {PACE_DAYS} days to {as_of}: no pace"
        )
        return MilestoneForecast(target, verified, pace, None, None, reason)
    forecast = as_of + dt.timedelta(days=math.ceil(remaining * PACE_DAYS / Decimal(gained)))
    return MilestoneForecast(target, verified, pace, forecast, (target_date - forecast).days)


def verified_gain(session: Session, period: Period) -> int:
    """Net parcels that became verified in the `PACE_DAYS` days to the as-of date, city-wide
    (the /milestone page's pace, by the same rule as the KPI)."""
    pace_start = period.as_of - dt.timedelta(days=PACE_DAYS)
    row = grouped_rows(session, _sql({}), period, {"pace_start": pace_start})[0]
    return int(row["verified_now"]) - int(row["verified_before"])


def milestone_forecast_kpis(session: Session, period: Period) -> list[KpiValue]:
    """DIG-6 for the city and each breakdown value with parcels."""
    milestone = session.execute(text(_MILESTONE_SQL)).one_or_none()
    if milestone is None:
        return [nothing("DIG-6", period, "no digitization milestone set")]
    pace_start = period.as_of - dt.timedelta(days=PACE_DAYS)
    rows = grouped_rows(session, _sql(), period, {"pace_start": pace_start})
    return [
        _dig6(period, row, milestone)
        for row in rows
        if row["breakdown"] == "city" or row["parcels"]
    ]


def _dig6(period: Period, row: Any, milestone: Any) -> KpiValue:
    target = milestone.target_pct_verified
    goal = f"milestone {milestone.name!r}: {target} % verified by {milestone.target_date}"
    if not row["parcels"]:
        return make_value(
            "DIG-6",
            period,
            row,
            None,
            None,
            None,
            goal,
            target=Decimal(0),
            empty_reason="no parcels",
        )
    gained = row["verified_now"] - row["verified_before"]
    outlook = forecast_at_pace(
        Decimal(target),
        milestone.target_date,
        row["verified_now"],
        row["parcels"],
        Decimal(gained),
        period.as_of,
    )
    if outlook.forecast_date is None:
        return make_value(
            "DIG-6",
            period,
            row,
            None,
            gained,
            PACE_DAYS,
            goal,
            target=Decimal(0),
            empty_reason=outlook.reason,
        )
    note = f"forecast {outlook.forecast_date.isoformat()}; {goal}"
    return make_value(
        "DIG-6", period, row, outlook.days_ahead, gained, PACE_DAYS, note, target=Decimal(0)
    )
