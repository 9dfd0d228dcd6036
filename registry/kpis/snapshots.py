"""KPI snapshots as the dashboard uses them: the values of a stored snapshot read back as
`KpiValue`s (so `/kpi` opens without recomputing the set), a snapshot taken on request and
audited, the fiscal month end a daily timer waits for, and history back-filled from the audit
trail for the KPIs whose past the trail can tell.

Snapshots are append-only (`kpi_snapshots`): a snapshot retaken for a date is a newer row, and
every reader takes the latest taken for each date (`registry.kpis.trends` does the same).

Two kinds of series share the table. The **city snapshot** holds the city row and every
breakdown row (one dimension at a time) of the whole set. A **combination** of two or three
dimensions (department GSD and district 1) is a subset computed on its own: its rows are that
subset's city rows, stored under `breakdown = 'combination'` and `breakdown_value` its
`combination_key` ("department=GSD&council_district=1"). A combination is kept from the first
day someone views it (`store_snapshot` with its filters), at each month end while it is
watched (`registry.kpis.combinations`), and back-filled
for DIG-1..3 from the audit trail like the city (`backfill_snapshots` with its filters). Each
kind's "is there a snapshot of this date" reads its own rows only, so one never hides the other.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl
from urllib.parse import urlencode

from sqlalchemy import insert
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.kpis.common_sql import DIMS
from registry.kpis.common_sql import FILTER_SQL
from registry.kpis.common_sql import PARCEL_DIMS_SQL
from registry.kpis.common_sql import PARCEL_IN_REGISTRY_SQL
from registry.kpis.definitions import DEFAULT_TARGETS
from registry.kpis.definitions import DEFINITIONS_BY_ID
from registry.kpis.digitization import PARCEL_BUILDERS
from registry.kpis.digitization import REQUIRED_FIELD_COUNT
from registry.kpis.values import KpiFilters
from registry.kpis.values import KpiValue
from registry.kpis.values import Period
from registry.kpis.values import grouped_rows
from registry.kpis.values import grouping_select
from registry.kpis.values import nothing
from registry.kpis.values import status_of
from registry.kpis.work_dates import REACHED_CTE
from registry.models import AuditEvent
from registry.models import KpiSnapshot
from registry.parcels.verification import MISSING_FIELDS_SQL

#: The KPIs `backfill_snapshots` reconstructs, and why only these: their every input is a
#: parcel's own fields, and the audit trail keeps each version of each parcel (geometry
#: included), so the portfolio at a past month end can be read back exactly.
BACKFILLED_KPIS = ("DIG-1", "DIG-2", "DIG-3")
BACKFILL_NOTE = "back-filled from the audit trail"
MAX_BACKFILL_MONTHS = 120

#: The `breakdown` of a combination's rows; `breakdown_value` is its `combination_key`.
COMBINATION = "combination"
#: Why a combination's first view of a day stored its values: the audit event's `why`, for
#: people reading the trail; free to reword.
VIEWED = "first view of the day of a combination"
#: The audit event's `event` when a view stored a combination's point: the stable key that
#: `registry.kpis.combinations.watched_combinations` matches (never the prose of `why`).
VIEW_EVENT = "combination_viewed"
# A combination's dimensions, in the order its key names them (`KpiFilters`' fields).
_COMBINATION_DIMS = ("department", "council_district", "asset_type")

# Every row of the latest snapshot of each (KPI, breakdown value), in the order stored: a KPI
# with several rows per breakdown value (LSE-2, one per balance kind) keeps them all, its
# headline first, as the engine gave them (one row of each, the last stored, was all it kept).
_LATEST_SQL = f"""
    SELECT kpi_id, period, breakdown, breakdown_value, value, unit, numerator, denominator,
           note, taken_at
      FROM (SELECT s.*, max(taken_at) OVER (PARTITION BY kpi_id, breakdown, breakdown_value)
                        AS latest
              FROM kpi_snapshots s
             WHERE as_of = :as_of AND (CAST(:period AS text) IS NULL OR period = :period)
               AND breakdown <> '{COMBINATION}') AS taken
     WHERE taken_at = latest
     ORDER BY kpi_id, breakdown, breakdown_value, id
"""
# The rows of one series: the city snapshot's (`:key` NULL) or one combination's.
_SERIES_SQL = f"""(CASE WHEN CAST(:key AS text) IS NULL THEN breakdown <> '{COMBINATION}'
     ELSE breakdown = '{COMBINATION}' AND breakdown_value = CAST(:key AS text) END)"""


def combination_key(filters: KpiFilters | None) -> str | None:
    """The key a combination's rows are stored under ("department=GSD&council_district=1",
    dimensions in a fixed order, values URL-encoded so that any code reads back exactly);
    None for no filters or one dimension, whose trends are rows of the city snapshot."""
    if filters is None:
        return None
    pairs = [(name, getattr(filters, name)) for name in _COMBINATION_DIMS if getattr(filters, name)]
    return urlencode(pairs) if len(pairs) > 1 else None


def combination_filters(key: str) -> KpiFilters:
    """The filters `combination_key` made `key` from."""
    named = dict(parse_qsl(key, keep_blank_values=False))
    return KpiFilters(**{name: named.get(name) for name in _COMBINATION_DIMS})


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
    _audit(session, as_of, len(rows), why)
    return len(rows)


def _audit(
    session: Session,
    as_of: dt.date,
    rows: int,
    why: str,
    key: str | None = None,
    event: str | None = None,
) -> None:
    """The audit event of a snapshot written by hand or by a view (`row_key` the date, which
    `watched_combinations` reads by range); `combination` names a combination's series, and
    `event` (`VIEW_EVENT`) marks a view for the code that reads the trail."""
    actor = session.execute(text("SELECT current_setting('registry.actor', true)")).scalar()
    after: dict[str, Any] = {"as_of": as_of.isoformat(), "rows": rows, "why": why}
    if key is not None:
        after["combination"] = key
    if event is not None:
        after["event"] = event
    session.add(
        AuditEvent(
            actor=actor or "unknown",
            table_name="kpi_snapshots",
            row_key=as_of.isoformat(),
            action="INSERT",
            after=after,
        )
    )
    session.flush()


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
    """DIG-1..3's sums over the parcels as they stood at `:as_of`. A parcel the audit trail
    holds a version of by then is that version (its last written on or before the day), read
    back into a parcels row; the trail keeps a geometry as GeoJSON, so it is left out of the
    row and counted on its own.

    A parcel the trail holds no row of by then (a city loaded in one day: `sample load`, an
    import) is placed there by what its record knows, the dated history the milestone's
    burn-up reads (`work_dates.REACHED_CTE`, one implementation): it counts when it was
    acquired or digitized by then, with its shape from the day it reached digitized and
    verified from the day it reached verified. Its other fields are as recorded now: the
    registry keeps no date for them."""
    select, grouping = grouping_select(DIMS)
    return f"""
    WITH version AS (
        SELECT DISTINCT ON (e.row_key) e.row_key, e.action, e.after
          FROM audit_events e
         WHERE e.table_name = 'parcels' AND CAST(e.occurred_at AS date) <= :as_of
         ORDER BY e.row_key, e.occurred_at DESC, e.id DESC
    ), {REACHED_CTE}, dated AS (
        SELECT p.*, CAST(r.digitized_at AS date) <= :as_of AS digitized_then,
               CAST(r.verified_at AS date) <= :as_of AS verified_then
          FROM parcels p JOIN reached r ON r.parcel_id = p.parcel_id
         WHERE NOT EXISTS (SELECT 1 FROM version v WHERE v.row_key = p.parcel_id)
           AND (p.acquisition_date <= :as_of OR CAST(r.digitized_at AS date) <= :as_of)
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
        UNION ALL
        SELECT {PARCEL_DIMS_SQL},
               (p.geom IS NOT NULL AND coalesce(p.digitized_then, false))::int,
               coalesce(p.verified_then, false)::int,
               {REQUIRED_FIELD_COUNT} - cardinality({MISSING_FIELDS_SQL})
               + (p.geom IS NOT NULL AND coalesce(p.digitized_then, false))::int
          FROM dated p LEFT JOIN departments d ON d.id = p.department_id
    )
    SELECT {select}, count(*) AS parcels, sum(with_geometry) AS with_geometry,
           sum(verified) AS verified, sum(fields_filled) AS fields_filled
      FROM facts WHERE {FILTER_SQL} GROUP BY {grouping}
    """


def parcel_kpis_then(session: Session, period: Period) -> list[KpiValue]:
    """DIG-1..3 at `period.as_of` as the audit trail tells them (see `BACKFILLED_KPIS`), over
    the subset `period.filters` selects (the city row is the subset's, as in `compute_kpis`)."""
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


def as_combination(values: Sequence[KpiValue], key: str) -> list[KpiValue]:
    """A subset's values as its combination's rows: the subset's city rows, relabelled. The
    breakdowns inside the subset are not kept: the desk shows the subset as a whole."""
    return [
        replace(value, breakdown=COMBINATION, breakdown_value=key)
        for value in values
        if value.breakdown == "city"
    ]


def _series_rows(
    values: Sequence[KpiValue], as_of: dt.date, key: str | None
) -> list[dict[str, Any]]:
    return _rows(values if key is None else as_combination(values, key), as_of)


def _lock(session: Session, key: str | None) -> None:
    """Serialize check-then-insert on one series (the city's, or one combination's), until the
    transaction ends: two combinations, or a combination and the city, never wait on each other."""
    if key is None:
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('kpi_snapshots'))"))
    else:
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('kpi_snapshots'), hashtext(:key))"),
            {"key": key},
        )


def _dates_taken(session: Session, key: str | None) -> dict[dt.date, bool]:
    """The dates the series holds rows of → whether they hold a figure. A date whose rows are
    only back-filled ones without a value ("no parcels") holds none: a later back-fill may
    fill it with newer rows, while a snapshot measured then is never replaced."""
    sql = f"""SELECT as_of, bool_or(value IS NOT NULL OR note NOT LIKE :back_filled
                                    OR note IS NULL) AS filled
                FROM kpi_snapshots WHERE {_SERIES_SQL} GROUP BY as_of"""
    params = {"key": key, "back_filled": BACKFILL_NOTE + "%"}
    return {as_of: filled for as_of, filled in session.execute(text(sql), params)}


def snapshot_taken(session: Session, as_of: dt.date, key: str | None) -> bool:
    """Whether the series (the city snapshot's, `key` None, or a combination's) has `as_of`."""
    sql = f"SELECT 1 FROM kpi_snapshots WHERE as_of = :as_of AND {_SERIES_SQL} LIMIT 1"
    return session.execute(text(sql), {"as_of": as_of, "key": key}).first() is not None


def backfill_snapshots(
    session: Session,
    today: dt.date,
    months: int,
    fiscal_year_start_month: int = 7,
    filters: KpiFilters | None = None,
) -> dict[dt.date, int]:
    """Snapshot rows of DIG-1..3 at each of the last `months` month ends that has no figure
    yet, reconstructed from the audit trail and the parcels' dated work
    (`parcel_kpis_then`); month end → rows stored (dates skipped are not listed). A date
    already snapshotted keeps what was measured then. With `filters` naming a combination, the
    same for that combination's series (its own dates, its subset's rows); one dimension's
    history is part of the city snapshot's, so such `filters` are ignored.

    A month end the registry knows no parcel of gets empty rows ("no parcels"), which tell
    the desk the back-fill ran; they do not stand for history: each later back-fill reads that
    month end again and, once the records place parcels there, appends its figures (readers
    take the latest rows of a date; rows are never rewritten). An empty month end read empty
    again stores nothing more.

    The month ends are read back before the series is locked, so a view storing its point
    waits only for the inserts, not for the audit trail's reading."""
    months = max(0, min(months, MAX_BACKFILL_MONTHS))
    key = combination_key(filters)
    taken = _dates_taken(session, key)
    computed: dict[dt.date, list[dict[str, Any]]] = {}
    for month_end in month_ends_before(today, months):
        if taken.get(month_end):
            continue
        period = Period.resolve(
            None, month_end, fiscal_year_start_month, filters if key is not None else None
        )
        rows = _series_rows(parcel_kpis_then(session, period), month_end, key)
        if not any(row["value"] is not None for row in rows):
            if month_end in taken:
                continue  # empty before, empty still
            rows = rows or _series_rows(_nothing_then(period), month_end, key)
        computed[month_end] = rows
    _lock(session, key)
    taken = _dates_taken(session, key)
    stored: dict[dt.date, int] = {}
    for month_end, rows in computed.items():
        filled = any(row["value"] is not None for row in rows)
        if month_end not in taken or (filled and not taken[month_end]):
            session.execute(insert(KpiSnapshot), rows)
            stored[month_end] = len(rows)
    return stored


def _nothing_then(period: Period) -> list[KpiValue]:
    """DIG-1..3's empty city rows, stored where the trail gave no row at all for a month end,
    so the desk can tell a back-fill that found nothing from one still running (the engine's
    city row is always there today; this keeps the promise if it is not)."""
    return [
        replace(value, note=_with_note(value.note))
        for value in (nothing(kpi_id, period, "no parcels") for kpi_id in BACKFILLED_KPIS)
    ]


def store_snapshot(
    session: Session,
    values: Sequence[KpiValue],
    as_of: dt.date,
    filters: KpiFilters | None = None,
    why: str | None = None,
    event: str | None = None,
) -> int | None:
    """Append `values` (taken at `as_of`) to kpi_snapshots; the number of rows stored, or None
    when a snapshot for that as-of date exists already. With `filters` naming a combination,
    `values` are `compute_kpis` over that subset and are stored as the combination's rows (see
    the module's docstring), skipped when the combination has its own for that date.

    A second snapshot of one date is skipped rather than added, so a trend line has one point per
    date and a re-run (a retried cron job, a second view the same day) is harmless; rows are never
    rewritten (the table's trigger refuses it anyway). A transaction-scoped advisory lock on the
    series makes the check-then-insert safe against two runs at once. `why`, when given, is
    recorded in the audit trail with the rows stored (and `event`, a key for code to match,
    see `store_view`). The caller commits.
    """
    key = combination_key(filters)
    _lock(session, key)
    if snapshot_taken(session, as_of, key):
        return None
    rows = _series_rows(values, as_of, key)
    if rows:
        session.execute(insert(KpiSnapshot), rows)
    if why is not None:
        _audit(session, as_of, len(rows), why, key, event)
    return len(rows)


def store_view(
    session: Session, values: Sequence[KpiValue], as_of: dt.date, filters: KpiFilters
) -> int | None:
    """A combination's first view of a day: its values stored as its point of `as_of`
    (`store_snapshot`) and the view audited, `why` VIEWED for people and `event` VIEW_EVENT
    for `watched_combinations`; None when the combination has its point of that day."""
    return store_snapshot(session, values, as_of, filters, VIEWED, VIEW_EVENT)
