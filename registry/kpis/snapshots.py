"""KPI snapshots as the dashboard uses them: the values of a stored snapshot read back as
`KpiValue`s (so `/kpi` opens without recomputing the set), a snapshot taken on request and
audited, the fiscal month end a daily timer waits for, and history back-filled from the audit
trail for the KPIs whose past the trail can tell.

Snapshots are append-only (`kpi_snapshots`): a snapshot retaken for a date is a newer row, and
every reader takes the latest taken for each date (`registry.kpis.trends` does the same).
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.kpis.common_sql import DIMS
from registry.kpis.common_sql import PARCEL_DIMS_SQL
from registry.kpis.common_sql import PARCEL_IN_REGISTRY_SQL
from registry.kpis.definitions import DEFAULT_TARGETS
from registry.kpis.definitions import DEFINITIONS_BY_ID
from registry.kpis.digitization import PARCEL_BUILDERS
from registry.kpis.digitization import REQUIRED_FIELD_COUNT
from registry.kpis.values import KpiValue
from registry.kpis.values import Period
from registry.kpis.values import grouped_rows
from registry.kpis.values import grouping_select
from registry.kpis.values import status_of
from registry.models import AuditEvent
from registry.models import KpiSnapshot
from registry.parcels.verification import MISSING_FIELDS_SQL

#: The KPIs `backfill_snapshots` reconstructs, and why only these: their every input is a
#: parcel's own fields, and the audit trail keeps each version of each parcel (geometry
#: included), so the portfolio at a past month end can be read back exactly.
BACKFILLED_KPIS = ("DIG-1", "DIG-2", "DIG-3")
BACKFILL_NOTE = "back-filled from the audit trail"
MAX_BACKFILL_MONTHS = 120

_LATEST_SQL = """
    SELECT DISTINCT ON (kpi_id, breakdown, breakdown_value)
           kpi_id, period, breakdown, breakdown_value, value, unit, numerator, denominator,
           note, taken_at
      FROM kpi_snapshots
     WHERE as_of = :as_of AND (CAST(:period AS text) IS NULL OR period = :period)
     ORDER BY kpi_id, breakdown, breakdown_value, taken_at DESC, id DESC
"""


@dataclass(frozen=True)
class StoredSnapshot:
    """The values of the latest snapshot of one date, and when it was taken."""

    as_of: dt.date
    taken_at: dt.datetime
    values: list[KpiValue]


def stored_snapshot(
    session: Session, as_of: dt.date, period_label: str | None = None
) -> StoredSnapshot | None:
    """The snapshot of `as_of` (for fiscal year `period_label`, when given), each row as it
    was last taken; None unless it holds the city row of every KPI of the set (the engine
    always gives one): back-filled dates (DIG-1..3 only) and partial rows are not a snapshot
    to show, so the set is computed rather than shown with most of it missing."""
    rows = session.execute(text(_LATEST_SQL), {"as_of": as_of, "period": period_label}).all()
    if not {row.kpi_id for row in rows if row.breakdown == "city"} >= DEFINITIONS_BY_ID.keys():
        return None
    values = [_value(row, as_of) for row in rows if row.kpi_id in DEFINITIONS_BY_ID]
    return StoredSnapshot(as_of, max(row.taken_at for row in rows), values)


def _cents(value: Decimal | None) -> Decimal | None:
    """A stored value (4 places in the table) as the engine gives it (2, `make_value`)."""
    return None if value is None else value.quantize(Decimal("0.01"))


def _value(row: Any, as_of: dt.date) -> KpiValue:
    definition = DEFINITIONS_BY_ID[row.kpi_id]
    value = _cents(row.value)
    target = DEFAULT_TARGETS.get(row.kpi_id)
    if row.kpi_id == "DIG-6":
        target = target if value is None else Decimal(0)
    return KpiValue(
        kpi_id=row.kpi_id,
        kpi_name=definition.name,
        period=row.period or "",
        as_of=as_of,
        breakdown=row.breakdown,
        breakdown_value=row.breakdown_value,
        value=value,
        unit=row.unit,
        numerator=row.numerator,
        denominator=row.denominator,
        target=target,
        status=status_of(row.kpi_id, value, target),
        note=row.note,
    )


def _rows(values: Sequence[KpiValue], as_of: dt.date) -> list[dict[str, Any]]:
    return [
        {
            "as_of": as_of,
            "period": value.period,
            "kpi_id": value.kpi_id,
            "breakdown": value.breakdown,
            "breakdown_value": value.breakdown_value,
            "value": value.value,
            "numerator": value.numerator,
            "denominator": value.denominator,
            "unit": value.unit,
            "note": value.note,
        }
        for value in values
    ]


def take_snapshot(session: Session, values: Sequence[KpiValue], as_of: dt.date, why: str) -> int:
    """Append `values` as the snapshot of `as_of` even when one exists (a retaken snapshot is
    the newer row, see the module's docstring), and record in the audit trail who took it and
    why: `kpi_snapshots` has no row trigger (it is append-only), so the event is written here,
    in the caller's transaction, under the session's actor."""
    rows = _rows(values, as_of)
    if rows:
        session.execute(insert(KpiSnapshot), rows)
    actor = session.execute(text("SELECT current_setting('registry.actor', true)")).scalar()
    session.add(
        AuditEvent(
            actor=actor or "unknown",
            table_name="kpi_snapshots",
            row_key=as_of.isoformat(),
            action="INSERT",
            after={"as_of": as_of.isoformat(), "rows": len(rows), "why": why},
        )
    )
    session.flush()
    return len(rows)


def is_month_end(day: dt.date) -> bool:
    """The last day of a calendar month. Fiscal months are calendar months (the fiscal year
    only moves where the year starts), so a fiscal month end is a calendar month end."""
    return day.day == calendar.monthrange(day.year, day.month)[1]


def month_ends_before(day: dt.date, months: int) -> list[dt.date]:
    """The last `months` month ends before `day`, oldest first."""
    ends: list[dt.date] = []
    cursor = day.replace(day=1) - dt.timedelta(days=1)
    for _ in range(months):
        ends.append(cursor)
        cursor = cursor.replace(day=1) - dt.timedelta(days=1)
    return ends[::-1]


def _parcels_then_sql() -> str:
    """DIG-1..3's sums over the parcels as the audit trail says they stood at `:as_of`: each
    parcel's last version written on or before that day, read back into a parcels row. The
    trail keeps a geometry as GeoJSON, so it is left out of the row and counted on its own."""
    select, grouping = grouping_select(DIMS)
    return f"""
    WITH version AS (
        SELECT DISTINCT ON (e.row_key) e.action, e.after
          FROM audit_events e
         WHERE e.table_name = 'parcels' AND CAST(e.occurred_at AS date) <= :as_of
         ORDER BY e.row_key, e.occurred_at DESC, e.id DESC
    ), facts AS (
        SELECT {PARCEL_DIMS_SQL},
               (jsonb_typeof(v.after -> 'geom') = 'object')::int AS with_geometry,
               (p.digitization_status = 'verified' AND p.verified_at IS NOT NULL
                AND CAST(p.verified_at AS date) <= :as_of)::int AS verified,
               {REQUIRED_FIELD_COUNT} - cardinality({MISSING_FIELDS_SQL})
               + (jsonb_typeof(v.after -> 'geom') = 'object')::int AS fields_filled
          FROM version v
          CROSS JOIN LATERAL jsonb_populate_record(NULL::parcels, v.after - 'geom') AS p
          LEFT JOIN departments d ON d.id = p.department_id
         WHERE v.action <> 'DELETE' AND v.after IS NOT NULL AND {PARCEL_IN_REGISTRY_SQL}
    )
    SELECT {select}, count(*) AS parcels, sum(with_geometry) AS with_geometry,
           sum(verified) AS verified, sum(fields_filled) AS fields_filled
      FROM facts GROUP BY {grouping}
    """


def parcel_kpis_then(session: Session, period: Period) -> list[KpiValue]:
    """DIG-1..3 at `period.as_of` as the audit trail tells them (see `BACKFILLED_KPIS`)."""
    rows = grouped_rows(session, _parcels_then_sql(), period)
    out: list[KpiValue] = []
    for build in PARCEL_BUILDERS:
        for row in rows:
            value = build(period, row)
            if value is not None:
                out.append(replace(value, note=_with_note(value.note)))
    return out


def _with_note(note: str | None) -> str:
    return BACKFILL_NOTE if not note else f"{BACKFILL_NOTE}; {note}"


def backfill_snapshots(
    session: Session, today: dt.date, months: int, fiscal_year_start_month: int = 7
) -> dict[dt.date, int]:
    """Snapshot rows of DIG-1..3 at each of the last `months` month ends that has no snapshot
    yet, reconstructed from the audit trail; month end → rows stored (dates skipped are not
    listed). A date already snapshotted keeps what was measured then."""
    months = max(0, min(months, MAX_BACKFILL_MONTHS))
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('kpi_snapshots'))"))
    taken = set(session.execute(text("SELECT DISTINCT as_of FROM kpi_snapshots")).scalars().all())
    stored: dict[dt.date, int] = {}
    for month_end in month_ends_before(today, months):
        if month_end in taken:
            continue
        period = Period.resolve(None, month_end, fiscal_year_start_month)
        rows = _rows(parcel_kpis_then(session, period), month_end)
        if rows:
            session.execute(insert(KpiSnapshot), rows)
            stored[month_end] = len(rows)
    return stored


def store_snapshot(session: Session, values: Sequence[KpiValue], as_of: dt.date) -> int | None:
    """Append `values` (taken at `as_of`) to kpi_snapshots; the number of rows stored, or None
    when a snapshot for that as-of date exists already.

    A second snapshot of one date is skipped rather than added, so a trend line has one point per
    date and a re-run (a retried cron job) is harmless; rows are never rewritten (the table's
    trigger refuses it anyway). A transaction-scoped advisory lock makes the check-then-insert
    safe against two runs at once. The caller commits.
    """
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('kpi_snapshots'))"))
    taken = session.execute(
        text("SELECT 1 FROM kpi_snapshots WHERE as_of = :as_of LIMIT 1"), {"as_of": as_of}
    ).first()
    if taken is not None:
        return None
    rows = _rows(values, as_of)
    if rows:
        session.execute(insert(KpiSnapshot), rows)
    return len(rows)
