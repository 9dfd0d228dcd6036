"""Progress towards a digitization milestone: the burn-up, the recent pace and DIG-6.

The burn-up is read from the audit trail, set-based: for each parcel in the registry, the
first audited moment its record reached `digitized` (or beyond) and `verified` (dated by the
`verified_at` the version carries, when it does: a verification keyed in later counts from
when it was done), counted per week and summed. "Reaching" counts a parcel once even if a
later edit revoked its verification, so the lines never fall; the current level is DIG-2
from the KPI engine.

DIG-6 (the forecast date) is computed here while `registry.kpis` has no DIG-6 of its own: the
date DIG-2 reaches the milestone's target if verification goes on at the pace of the last
8 weeks, and how many days before (+) or after (−) the milestone's date that is.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

PACE_WEEKS = 8
DIGITIZED_OR_BEYOND = ("digitized", "attributed", "verified")

_REACHED_CTE = f"""
    reached AS (
        SELECT a.row_key AS parcel_id,
               min(a.occurred_at) FILTER (WHERE a.after->>'digitization_status'
                   IN ({", ".join(f"'{status}'" for status in DIGITIZED_OR_BEYOND)}))
                   AS digitized_at,
               min(coalesce(CAST(a.after->>'verified_at' AS timestamptz), a.occurred_at))
                   FILTER (WHERE a.after->>'digitization_status' = 'verified') AS verified_at
          FROM audit_events a JOIN parcels p ON p.parcel_id = a.row_key
         WHERE a.table_name = 'parcels' AND a.action IN ('INSERT', 'UPDATE')
           AND (p.retired_at IS NULL OR CAST(p.retired_at AS date) > :as_of)
         GROUP BY a.row_key
    )"""

_BURN_UP_SQL = f"""
    WITH {_REACHED_CTE}, events AS (
        SELECT CAST(date_trunc('week', digitized_at) AS date) AS week, 1 AS digitized,
               0 AS verified
          FROM reached WHERE CAST(digitized_at AS date) <= :as_of
        UNION ALL
        SELECT CAST(date_trunc('week', verified_at) AS date), 0, 1
          FROM reached WHERE CAST(verified_at AS date) <= :as_of
    ), weeks AS (
        SELECT CAST(generate_series(min(week), CAST(date_trunc('week', CAST(:as_of AS date))
                                                    AS date), interval '1 week') AS date)
               AS week
          FROM events
    )
    SELECT weeks.week,
           sum(coalesce(sum(events.digitized), 0)) OVER (ORDER BY weeks.week) AS digitized,
           sum(coalesce(sum(events.verified), 0)) OVER (ORDER BY weeks.week) AS verified
      FROM weeks LEFT JOIN events ON events.week = weeks.week
     GROUP BY weeks.week ORDER BY weeks.week
"""

_PACE_SQL = f"""
    WITH {_REACHED_CTE}
    SELECT count(*) FROM reached
     WHERE CAST(verified_at AS date) > CAST(:as_of AS date) - :days
       AND CAST(verified_at AS date) <= :as_of
"""


@dataclass(frozen=True)
class BurnUpWeek:
    """Parcels that had reached each state by the end of the week starting `week` (Monday)."""

    week: dt.date
    digitized: int
    verified: int


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


def burn_up(session: Session, as_of: dt.date) -> list[BurnUpWeek]:
    """Cumulative parcels digitized and verified, week by week up to `as_of` (no gaps)."""
    rows = session.execute(text(_BURN_UP_SQL), {"as_of": as_of})
    return [BurnUpWeek(week, int(digitized), int(verified)) for week, digitized, verified in rows]


def verified_pace(session: Session, as_of: dt.date, weeks: int = PACE_WEEKS) -> Decimal:
    """Parcels reaching `verified` per week over the `weeks` weeks up to `as_of`."""
    count = session.execute(text(_PACE_SQL), {"as_of": as_of, "days": 7 * weeks}).scalar_one()
    return Decimal(count) / weeks


def forecast(
    target_pct: Decimal, target_date: dt.date, verified: int, parcels: int,
    pace_per_week: Decimal, as_of: dt.date,
) -> MilestoneForecast:
    """When `verified` of `parcels` reaches `target_pct` at `pace_per_week` (DIG-6)."""
    target = math.ceil(target_pct * parcels / 100)
    if parcels == 0:
        return MilestoneForecast(0, 0, pace_per_week, None, None, "no parcels in the registry")
    remaining = target - verified
    if remaining <= 0:
        return MilestoneForecast(target, verified, pace_per_week, as_of,
                                 (target_date - as_of).days, "target already reached")
    if pace_per_week <= 0:
        return MilestoneForecast(target, verified, pace_per_week, None, None,
                                 f"no parcels verified in the last {PACE_WEEKS} weeks")
    days = math.ceil(remaining * 7 / pace_per_week)
    forecast_date = as_of + dt.timedelta(days=days)
    return MilestoneForecast(target, verified, pace_per_week, forecast_date,
                             (target_date - forecast_date).days)
