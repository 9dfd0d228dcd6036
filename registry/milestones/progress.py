"""Progress towards a digitization milestone: the burn-up, the recent pace and DIG-6.

The burn-up is read from the audit trail, set-based: for each parcel in the registry, the
first audited moment its record reached `digitized` (or beyond) and `verified`, each dated by
the `digitized_at` / `verified_at` the version carries when it does (work keyed in later counts
from when it was done; `registry.kpis.work_dates`, which the KPI back-fill reads too), counted
per week and summed. "Reaching" counts a parcel once even if a later edit revoked its
verification, so the lines never fall; the current level is DIG-2 from the KPI engine.

DIG-6 (the forecast date, and days ahead (+) or behind (−) the milestone's date) is not computed
here: the pace and the forecast come from `registry.kpis.milestone_forecast`, the KPI set's one
rule (the net gain in verified parcels over the last 8 weeks, so a revoked verification does not
count), applied to whichever milestone the page shows. The burn-up's "reached" lines are a
history chart, not the pace.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.kpis.milestone_forecast import PACE_WEEKS
from registry.kpis.milestone_forecast import MilestoneForecast
from registry.kpis.milestone_forecast import forecast_at_pace
from registry.kpis.milestone_forecast import verified_gain
from registry.kpis.values import Period
from registry.kpis.work_dates import REACHED_CTE

__all__ = ["PACE_WEEKS", "BurnUpWeek", "MilestoneForecast", "burn_up", "forecast", "verified_pace"]

_BURN_UP_SQL = f"""
    WITH {REACHED_CTE}, events AS (
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


@dataclass(frozen=True)
class BurnUpWeek:
    """Parcels that had reached each state by the end of the week starting `week` (Monday)."""

    week: dt.date
    digitized: int
    verified: int


def burn_up(session: Session, as_of: dt.date) -> list[BurnUpWeek]:
    """Cumulative parcels digitized and verified, week by week up to `as_of` (no gaps)."""
    rows = session.execute(text(_BURN_UP_SQL), {"as_of": as_of})
    return [BurnUpWeek(week, int(digitized), int(verified)) for week, digitized, verified in rows]


def verified_pace(session: Session, as_of: dt.date) -> Decimal:
    """Net parcels verified per week over the `PACE_WEEKS` weeks up to `as_of` (DIG-6's pace;
    the window is the KPI set's, not a parameter)."""
    return Decimal(verified_gain(session, Period.resolve(None, as_of))) / PACE_WEEKS


def forecast(
    target_pct: Decimal,
    target_date: dt.date,
    verified: int,
    parcels: int,
    pace_per_week: Decimal,
    as_of: dt.date,
) -> MilestoneForecast:
    """When `verified` of `parcels` reaches `target_pct` at `pace_per_week` (DIG-6, by the KPI
    set's rule in `forecast_at_pace`)."""
    return forecast_at_pace(
        target_pct, target_date, verified, parcels, Decimal(pace_per_week) * PACE_WEEKS, as_of
    )
