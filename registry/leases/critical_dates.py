"""Lease critical dates: terms ending soon, option notice deadlines and holdovers.

One set-based query finds every date (no per-lease Python), so the page, the CSV and the
iCalendar feed all list exactly the same items. A lease's end, annual rent and whether it is in
force come from `registry.leases.rent_sql`, the model the KPIs and the portfolio export read, so
recorded modifications and terminations count here as they do there.

- The term ends on the earlier of the current end date (after any recorded modification of
  `term_months`) and `terminated_on`.
- An extension option's notice deadline is that end date less its `notice_months`; a termination
  option's is its first possible end (`months` into the term, `registry.leases.options`) less its
  `notice_months`. Options without a notice period have no deadline; options with the same
  deadline on one lease make one item, so its calendar UID stays unique. A terminated lease has
  no option deadlines.
- A holdover is a lease in force at the as-of date past its end (so still `occupied`), whatever
  the window: LSE-1's holdovers.
- A rent step is the first day of a payment period whose rate differs from the period before it
  (an escalation, a scheduled step, a recorded payment change), from the same rent stream as the
  KPIs. The end of free rent is not one: free periods abate the rent, they do not change its rate.

`annual_rent` is the lease's annual rent at the as-of date (`ANNUAL_RENT_CTE`: the gross
payment of the period holding it, non-lease component included as billed, times payments per
year), the same figure on every item of the lease. It is a guide for the asset manager, not the
GASB 87 schedule.
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
from registry.leases.rent_sql import CURRENT_TERMS_CTES
from registry.leases.rent_sql import without_jit

EXPIRING = "expiring"
OPTION_NOTICE = "option_notice"
HOLDOVER = "holdover"
RENT_STEP = "rent_step"
KIND_LABELS = {
    EXPIRING: "Term ends",
    OPTION_NOTICE: "Option notice due",
    HOLDOVER: "Holdover",
    RENT_STEP: "Rent changes",
}
DEFAULT_WINDOW_MONTHS = 12
MAX_WINDOW_MONTHS = 120

_CRITICAL_DATES_SQL = text(f"""
WITH {CURRENT_TERMS_CTES},
base AS (
    SELECT l.id AS lease_id, l.lease_number, l.counterparty, l.direction, l.commencement_date,
           l.options, l.terminated_on, l.updated_at, t.ends AS end_date, t.in_force,
           LEAST(t.ends, l.terminated_on) AS effective_end, a.rent AS annual_rent,
           p.parcel_id, d.code AS department_code, d.name AS department_name
    FROM leases l
    JOIN lease_term t ON t.lease_id = l.id
    JOIN annual_rent a ON a.lease_id = l.id
    LEFT JOIN parcels p ON p.id = l.parcel_id
    LEFT JOIN departments d ON d.id = l.department_id
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
rent_steps AS (
    SELECT r.lease_id, r.period_start AS due_date,
           'Rent changes from ' || to_char(r.previous_rate, 'FM999,999,999,990.00') || ' to '
           || to_char(r.rate, 'FM999,999,999,990.00')
           || CASE r.months WHEN 12 THEN ' a year' WHEN 3 THEN ' a quarter' ELSE ' a month' END
           AS detail
    FROM (
        SELECT lease_id, period_start, months, rate,
               lag(rate) OVER (PARTITION BY lease_id ORDER BY period_start) AS previous_rate
        FROM rent_period
    ) r
    WHERE r.previous_rate IS NOT NULL AND r.rate <> r.previous_rate
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
    WHERE b.in_force AND b.end_date < w.first_day
    UNION ALL
    SELECT b.*, 'rent_step', r.due_date, r.detail
    FROM base b
    JOIN rent_steps r USING (lease_id)
    CROSS JOIN window_bounds w
    WHERE r.due_date BETWEEN w.first_day AND w.last_day
      AND (b.effective_end IS NULL OR r.due_date <= b.effective_end)
)
SELECT i.lease_id, i.lease_number, i.counterparty, i.direction, i.parcel_id, i.department_code,
       i.department_name, i.kind, i.due_date, i.due_date - CAST(:as_of AS date) AS days,
       i.annual_rent, i.detail, i.updated_at
FROM items i
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
    lease_id: int = 0  # the lease's row, for records kept about the item (notices)

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
    without_jit(session)
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
            lease_id=row.lease_id,
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
