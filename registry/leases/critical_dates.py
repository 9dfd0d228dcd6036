"""Lease critical dates: terms ending soon, option notice deadlines and holdovers.

One set-based query finds every date (no per-lease Python), so the page, the CSV and the
iCalendar feed all list exactly the same items.

- The term ends on the earlier of the current end date (after any recorded modification of
  `term_months`, as `lease_records` computes it) and `terminated_on`.
- An extension option's notice deadline is that end date less its `notice_months`; a termination
  option's is its first possible end (`months` into the term, `registry.leases.options`) less its
  `notice_months`. Options without a notice period have no deadline; options with the same
  deadline on one lease make one item, so its calendar UID stays unique. A terminated lease has
  no option deadlines.
- A holdover is a lease past its end, still `occupied` and not terminated, whatever the window.

`annual_rent` is computed in the same SQL (not by the engine) from the lease row's payment steps,
yearly escalation and free periods, by the rules of the engine's payment stream
(`lease_accounting.payment_stream`): the gross payment (non-lease component included, as billed)
of the payment period containing the date, times payments per year. It is a guide for the asset
manager, not the schedule: payments changed by a recorded modification are not applied, and a
period starting on a clamped month end (a lease from the 31st) may be counted a day late.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.cells import spreadsheet_safe

EXPIRING = "expiring"
OPTION_NOTICE = "option_notice"
HOLDOVER = "holdover"
KIND_LABELS = {EXPIRING: "Term ends", OPTION_NOTICE: "Option notice due", HOLDOVER: "Holdover"}
DEFAULT_WINDOW_MONTHS = 12
MAX_WINDOW_MONTHS = 120

_CRITICAL_DATES_SQL = text("""
WITH base AS (
    SELECT l.lease_number, l.counterparty, l.direction, l.commencement_date, l.term_months,
           l.payment_frequency, l.payments, l.escalation_pct, l.free_periods, l.options,
           l.occupied, l.terminated_on, l.updated_at,
           coalesce(modified.end_date, l.end_date) AS end_date,
           LEAST(coalesce(modified.end_date, l.end_date), l.terminated_on) AS effective_end,
           p.parcel_id, d.code AS department_code, d.name AS department_name,
           CASE l.payment_frequency WHEN 'monthly' THEN 1 WHEN 'quarterly' THEN 3 ELSE 12 END
               AS months_per_period
    FROM leases l
    LEFT JOIN parcels p ON p.id = l.parcel_id
    LEFT JOIN departments d ON d.id = l.department_id
    LEFT JOIN LATERAL (
        SELECT (m.effective_date
                + make_interval(months => (m.terms ->> 'term_months')::int))::date - 1 AS end_date
        FROM lease_modifications m
        WHERE m.lease_id = l.id AND m.terms -> 'term_months' IS NOT NULL
        ORDER BY m.effective_date DESC, m.id DESC
        LIMIT 1
    ) modified ON true
    WHERE (CAST(:direction AS text) IS NULL OR l.direction = :direction)
      AND (CAST(:department AS text) IS NULL
           OR lower(d.code) = lower(:department) OR lower(d.name) = lower(:department))
),
window_bounds AS (
    SELECT CAST(:as_of AS date) AS first_day,
           (CAST(:as_of AS date) + make_interval(months => CAST(:months AS int)))::date AS last_day
),
options AS (
    SELECT b.lease_number, opt.position, opt.value ->> 'kind' AS kind,
           (opt.value ->> 'notice_months')::numeric::int AS notice_months,
           CASE WHEN opt.value ->> 'kind' = 'termination'
                     AND jsonb_typeof(opt.value -> 'months') = 'number'
                THEN (b.commencement_date
                      + make_interval(months => (opt.value ->> 'months')::numeric::int))::date - 1
                ELSE b.end_date
           END AS ends_on,
           opt.value ->> 'holder' AS holder, opt.value ->> 'months' AS months
    FROM base b
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE jsonb_typeof(b.options) WHEN 'array' THEN b.options ELSE '[]' END
    ) WITH ORDINALITY AS opt(value, position)
    WHERE b.terminated_on IS NULL
      AND jsonb_typeof(opt.value) = 'object'
      AND jsonb_typeof(opt.value -> 'notice_months') = 'number'
),
notices AS (
    SELECT o.lease_number, (o.ends_on - make_interval(months => o.notice_months))::date AS due_date,
           string_agg(
               concat_ws(' ',
                   initcap(coalesce(o.kind, 'unspecified')) || ' option',
                   CASE WHEN o.kind = 'termination' THEN 'from month ' || o.months
                        WHEN o.months IS NOT NULL THEN 'for ' || o.months || ' months' END,
                   CASE WHEN o.holder IS NOT NULL THEN 'held by ' || o.holder END)
               || ': notice ' || o.notice_months || ' months before ' || o.ends_on,
               '; ' ORDER BY o.position) AS detail
    FROM options o
    GROUP BY 1, 2
),
items AS (
    SELECT b.*, 'expiring' AS kind, b.effective_end AS due_date, NULL::text AS detail
    FROM base b, window_bounds w
    WHERE b.effective_end BETWEEN w.first_day AND w.last_day
    UNION ALL
    SELECT b.*, 'option_notice', n.due_date, n.detail
    FROM base b
    JOIN notices n USING (lease_number)
    CROSS JOIN window_bounds w
    WHERE n.due_date BETWEEN w.first_day AND w.last_day
    UNION ALL
    SELECT b.*, 'holdover', b.effective_end, NULL
    FROM base b, window_bounds w
    WHERE b.terminated_on IS NULL AND b.occupied AND b.effective_end < w.first_day
)
SELECT i.lease_number, i.counterparty, i.direction, i.parcel_id, i.department_code,
       i.department_name, i.kind, i.due_date, i.due_date - CAST(:as_of AS date) AS days,
       rent.annual_rent, i.detail, i.updated_at
FROM items i
LEFT JOIN LATERAL (
    SELECT CASE WHEN k.idx < i.free_periods THEN 0
                ELSE round(s.amount * power(1 + i.escalation_pct / 100,
                                            (k.idx * i.months_per_period) / 12), 2)
           END * (12 / i.months_per_period) AS annual_rent
    FROM (
        SELECT LEAST(GREATEST(
                   (date_part('year', age(i.due_date, i.commencement_date)) * 12
                    + date_part('month', age(i.due_date, i.commencement_date)))::int
                   / i.months_per_period, 0),
               i.term_months / i.months_per_period - 1) AS idx
    ) k
    JOIN LATERAL (
        SELECT (step.value ->> 'amount')::numeric AS amount,
               sum((step.value ->> 'periods')::int) OVER (ORDER BY step.position) AS through
        FROM jsonb_array_elements(i.payments) WITH ORDINALITY AS step(value, position)
    ) s ON s.through > k.idx
    ORDER BY s.through
    LIMIT 1
) rent ON true
ORDER BY i.due_date, i.lease_number, i.kind
""")


@dataclass(frozen=True)
class CriticalDate:
    """One date an asset manager must act on; `days_from_as_of` is negative once passed."""

    lease_number: str
    counterparty: str
    direction: str
    parcel_id: str | None
    department_code: str | None
    department_name: str | None
    kind: str
    date: dt.date
    days_from_as_of: int
    annual_rent: Decimal | None
    detail: str | None
    updated_at: dt.datetime

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def uid(self) -> str:
        """Stable across feed refreshes and as-of dates, so calendars update, not duplicate."""
        return f"{self.lease_number}-{self.kind}-{self.date.isoformat()}@asset-registry"


def critical_dates(
    session: Session,
    as_of: dt.date,
    months: int = DEFAULT_WINDOW_MONTHS,
    *,
    direction: str | None = None,
    department: str | None = None,
) -> list[CriticalDate]:
    """Critical dates from `as_of` to `months` months after it (both days included), plus
    every holdover, in date order. `department` matches a department code or name, any case."""
    if not 1 <= months <= MAX_WINDOW_MONTHS:
        raise ValueError(f"months must be from 1 to {MAX_WINDOW_MONTHS}")
    rows = session.execute(
        _CRITICAL_DATES_SQL,
        {"as_of": as_of, "months": months, "direction": direction, "department": department},
    )
    return [
        CriticalDate(
            lease_number=row.lease_number,
            counterparty=row.counterparty,
            direction=row.direction,
            parcel_id=row.parcel_id,
            department_code=row.department_code,
            department_name=row.department_name,
            kind=row.kind,
            date=row.due_date,
            days_from_as_of=row.days,
            annual_rent=None if row.annual_rent is None else Decimal(row.annual_rent),
            detail=row.detail,
            updated_at=row.updated_at,
        )
        for row in rows
    ]


CSV_COLUMNS = (
    "lease_number", "counterparty", "direction", "parcel_id", "department", "department_name",
    "kind", "date", "days_from_as_of", "annual_rent", "detail",
)  # fmt: skip


def critical_dates_csv(items: Iterable[CriticalDate]) -> str:
    """RFC 4180 CSV (CRLF), money as two-place decimal strings. Text that a spreadsheet would
    run as a formula (a counterparty typed as "=HYPERLINK(…)") is prefixed with a quote."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for item in items:
        writer.writerow([
            spreadsheet_safe(item.lease_number), spreadsheet_safe(item.counterparty),
            item.direction, item.parcel_id or "", spreadsheet_safe(item.department_code or ""),
            spreadsheet_safe(item.department_name or ""), item.kind, item.date.isoformat(),
            item.days_from_as_of, "" if item.annual_rent is None else f"{item.annual_rent:.2f}",
            spreadsheet_safe(item.detail or ""),
        ])  # fmt: skip
    return buffer.getvalue()
