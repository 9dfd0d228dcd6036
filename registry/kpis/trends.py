"""KPI trend lines read from the append-only `kpi_snapshots`, for the dashboard's charts.

A snapshot may be retaken for the same as-of date (a correction is a newer row, never an
update), so each point of a trend is the latest snapshot taken for that date. A combination of
dimensions is a series of its own (`breakdown = 'combination'`, see `registry.kpis.snapshots`),
read the same way; `series_start` says where its figures start and which were back-filled.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.kpis.snapshots import BACKFILL_NOTE

TrendPoint = tuple[dt.date, Decimal]

# The latest snapshot of each date, and of a KPI with several rows per breakdown value (LSE-2)
# its headline: the first row the engine gave, which the snapshot stored first (`id`).
_TRENDS_SQL = """
    SELECT DISTINCT ON (kpi_id, as_of) kpi_id, as_of, value
      FROM kpi_snapshots
     WHERE breakdown = :breakdown AND breakdown_value IS NOT DISTINCT FROM :breakdown_value
     ORDER BY kpi_id, as_of, taken_at DESC, id
"""

_SERIES_START_SQL = """
    SELECT min(as_of) FILTER (WHERE note IS NULL OR note NOT LIKE :back_filled) AS measured,
           min(as_of) FILTER (WHERE note LIKE :back_filled) AS back_filled
      FROM kpi_snapshots
     WHERE breakdown = :breakdown AND breakdown_value IS NOT DISTINCT FROM :breakdown_value
"""


@dataclass(frozen=True)
class SeriesStart:
    """Where a series' figures start: the first date measured when it was taken (for a
    combination, the day someone first viewed it: month ends keep only combinations viewed
    before), and the first date back-filled from the audit trail (DIG-1..3 only); None when
    there is none."""

    measured: dt.date | None
    back_filled: dt.date | None


# KPI id prefix → the dashboard's family, in the order the KPI set lists them.
FAMILIES = {
    "DIG": "Digitization", "UTL": "Utilization", "CST": "Cost", "REV": "Revenue",
    "LSE": "Leases",
}  # fmt: skip


def family_of(kpi_id: str) -> str:
    """The family a KPI belongs to, named by its id's prefix (`CST-3` → Cost)."""
    return FAMILIES.get(kpi_id.split("-", 1)[0], "Other")


def kpi_trends(
    session: Session, breakdown: str = "city", breakdown_value: str | None = None
) -> dict[str, list[TrendPoint]]:
    """Each KPI's snapshotted values for one breakdown row, oldest first. Snapshots with an
    empty value (no data then) are left out of the line rather than drawn as 0."""
    rows = session.execute(
        text(_TRENDS_SQL), {"breakdown": breakdown, "breakdown_value": breakdown_value}
    )
    trends: dict[str, list[TrendPoint]] = defaultdict(list)
    for kpi_id, as_of, value in rows:
        if value is not None:
            trends[kpi_id].append((as_of, value))
    return dict(trends)


def series_start(session: Session, breakdown: str, breakdown_value: str | None) -> SeriesStart:
    """Where the series of one breakdown row starts (see `SeriesStart`)."""
    row = session.execute(
        text(_SERIES_START_SQL),
        {
            "breakdown": breakdown,
            "breakdown_value": breakdown_value,
            "back_filled": BACKFILL_NOTE + "%",
        },
    ).one()
    return SeriesStart(row.measured, row.back_filled)
