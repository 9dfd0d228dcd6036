"""LSE-1 (leases expiring soon) and LSE-2 (GASB 87 balances), both directions of lease.

LSE-1 is one set-based query on `registry.leases.rent_sql`'s model of a lease's current terms:
leases in force at the as-of date whose term (after modifications) ends on or after it and
within 12 months of it, plus holdovers (ended before it, still occupied). Like UTL-1, whose
second measure (the parcel count) rides in the note, LSE-1's value, numerator is the count and
its second measure, the annual rent of those leases (the rate at the as-of date), is in the note
with the split between expiring and holdover.

LSE-2 sums the GASB 87 balances of every lease at the period end in SQL, over the schedules the
engine computed and `registry.leases.stored_schedules` keeps (`STORED_BALANCES_CTE` reads them as
`balances_at` does, modifications followed); a lease whose stored schedules are missing or stale
(written around `registry.leases.records`, not yet `leases remeasure`d) is computed with the
engine here instead, so the figures never depend on whether the store is up to date.
Four balances share one KPI, so each breakdown value gets one row per balance kind, named at the
start of the note ("lease liability (lessee)", ...): the breakdown value stays the department,
district or asset type it is everywhere else. Leases terminated by the period end are
derecognized and left out.

Both leave out the leases recorded incomplete (not measured: no rent, no schedule), and the city
rows say how many and which ("not measured, left out: 3 leases (…)"); when no lease is measured
at all, both are empty with that reason.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.kpis.common_sql import DIMS
from registry.kpis.common_sql import FILTER_SQL
from registry.kpis.common_sql import LEASE_DIMS_SQL
from registry.kpis.common_sql import LEASE_JOINS_SQL
from registry.kpis.units import format_kpi_value
from registry.kpis.values import BREAKDOWNS
from registry.kpis.values import KpiValue
from registry.kpis.values import Period
from registry.kpis.values import grouped_rows
from registry.kpis.values import grouping_select
from registry.kpis.values import make_value
from registry.kpis.values import nothing
from registry.leases.accounting import LeaseTermsError
from registry.leases.accounting import balances_at
from registry.leases.queries import UnmeasuredLease
from registry.leases.queries import unmeasured_leases
from registry.leases.queries import unmeasured_note
from registry.leases.records import leases_with_schedules
from registry.leases.rent_sql import CURRENT_TERMS_CTES
from registry.leases.stored_schedules import STORED_BALANCES_CTE
from registry.leases.stored_schedules import stale_lease_ids

EXPIRY_WINDOW_MONTHS = 12
BALANCE_KINDS = (
    ("in", "lease liability (lessee)"),
    ("in", "right-to-use asset, net (lessee)"),
    ("out", "lease receivable (lessor)"),
    ("out", "deferred inflow of resources (lessor)"),
)


def _lse1_sql() -> str:
    select, grouping = grouping_select(DIMS)
    return f"""
    WITH {CURRENT_TERMS_CTES}, facts AS (
        SELECT {LEASE_DIMS_SQL}, (t.ends >= :as_of) AS expiring, a.rent
          FROM {LEASE_JOINS_SQL} JOIN lease_term t ON t.lease_id = l.id
          JOIN annual_rent a ON a.lease_id = l.id
         WHERE t.in_force AND t.measured
           AND t.ends <= :as_of + make_interval(months => {EXPIRY_WINDOW_MONTHS})
    )
    SELECT {select}, count(*) FILTER (WHERE expiring) AS expiring,
           count(*) FILTER (WHERE NOT expiring) AS holdovers, sum(rent) AS rent
      FROM facts WHERE {FILTER_SQL} GROUP BY {grouping}
    """


def lease_kpis(session: Session, period: Period) -> list[KpiValue]:
    """LSE-1 at the as-of date and LSE-2 at the period end, city and each breakdown value."""
    if session.execute(text("SELECT NOT EXISTS (SELECT 1 FROM leases)")).scalar():
        reason = "no leases recorded"
        return [nothing("LSE-1", period, reason), nothing("LSE-2", period, reason)]
    unmeasured = unmeasured_leases(session)
    if not session.execute(text("SELECT EXISTS (SELECT 1 FROM leases WHERE measured)")).scalar():
        reason = f"no lease is measured; {unmeasured_note(unmeasured)}"
        return [nothing("LSE-1", period, reason), nothing("LSE-2", period, reason)]
    out: list[KpiValue] = []
    for row in grouped_rows(session, _lse1_sql(), period):
        count = row["expiring"] + row["holdovers"]
        if row["breakdown"] != "city" and not count:
            continue
        note = (
            f"annual rent {format_kpi_value(row['rent'], '$')}; "
            f"{format_kpi_value(row['expiring'], 'count')} ending within "
            f"{EXPIRY_WINDOW_MONTHS} months, "
            f"{format_kpi_value(row['holdovers'], 'count')} holdovers"
        )
        out.append(
            make_value(
                "LSE-1", period, row, count, count, None, _with_unmeasured(note, row, unmeasured)
            )
        )
    return out + _lse2(session, period, unmeasured)


def _with_unmeasured(note: str, row: Any, unmeasured: list[UnmeasuredLease]) -> str:
    """The city row's note names the leases left out as not measured."""
    if row["breakdown"] != "city" or not unmeasured:
        return note
    return f"{note}; {unmeasured_note(unmeasured)}"


_DIMS_OF_LEASES = f"""
    SELECT * FROM (SELECT l.id, {LEASE_DIMS_SQL} FROM {LEASE_JOINS_SQL}
                    WHERE l.terminated_on IS NULL OR l.terminated_on > :end) AS lease_dims
     WHERE {FILTER_SQL}
"""


def _lse2(session: Session, period: Period, unmeasured: list[UnmeasuredLease]) -> list[KpiValue]:
    """Empty with the reason when a recorded lease cannot be scheduled (one that bypassed the
    lease rules): a partial total would understate the balances without saying so. A lease
    recorded incomplete is no such lease: it is left out and named."""
    try:
        totals = _balances(session, period)
    except LeaseTermsError as error:
        return [nothing("LSE-2", period, f"a lease's terms cannot be measured: {error}")]
    if not totals:
        return [nothing("LSE-2", period, f"no leases in force at {period.end.isoformat()}")]
    keys = sorted(
        {(breakdown, value) for breakdown, value, _ in totals},
        key=lambda key: (BREAKDOWNS.index(key[0]), key[1] or ""),
    )
    return [
        make_value(
            "LSE-2",
            period,
            {"breakdown": breakdown, "breakdown_value": value},
            totals[(breakdown, value, kind)],
            totals[(breakdown, value, kind)],
            None,
            note=_with_unmeasured(
                f"{kind} at {period.end.isoformat()}", {"breakdown": breakdown}, unmeasured
            ),
        )
        for breakdown, value in keys
        for _, kind in BALANCE_KINDS
        if (breakdown, value, kind) in totals
    ]


def _stored_sql() -> str:
    select, grouping = grouping_select(DIMS)
    return f"""
    WITH {STORED_BALANCES_CTE}, facts AS (
        SELECT {LEASE_DIMS_SQL}, b.direction, b.balance, b.carrying
          FROM {LEASE_JOINS_SQL} JOIN stored_balances b ON b.lease_id = l.id
         WHERE (l.terminated_on IS NULL OR l.terminated_on > :end) AND l.measured
           AND l.id <> ALL(:stale)
    )
    SELECT {select},
           count(*) FILTER (WHERE direction = 'in') AS lessee_leases,
           sum(balance) FILTER (WHERE direction = 'in') AS liability,
           sum(carrying) FILTER (WHERE direction = 'in') AS asset,
           count(*) FILTER (WHERE direction = 'out') AS lessor_leases,
           sum(balance) FILTER (WHERE direction = 'out') AS receivable,
           sum(carrying) FILTER (WHERE direction = 'out') AS deferred_inflow
      FROM facts WHERE {FILTER_SQL} GROUP BY {grouping}
    """


Totals = dict[tuple[str, str | None, str], Decimal]


def _balances(session: Session, period: Period) -> Totals:
    """Each balance kind summed per (breakdown, value), for the breakdown values holding a
    lease of its direction: the stored schedules in SQL, the stale leases' with the engine."""
    stale = stale_lease_ids(session)
    totals: Totals = defaultdict(Decimal)
    params = {"balances_on": period.end, "stale": stale}
    for row in grouped_rows(session, _stored_sql(), period, params):
        key = (row["breakdown"], row["breakdown_value"])
        if row["lessee_leases"]:
            totals[(*key, BALANCE_KINDS[0][1])] += row["liability"]
            totals[(*key, BALANCE_KINDS[1][1])] += row["asset"]
        if row["lessor_leases"]:
            totals[(*key, BALANCE_KINDS[2][1])] += row["receivable"]
            totals[(*key, BALANCE_KINDS[3][1])] += row["deferred_inflow"]
    if stale:
        _add_engine_balances(session, period, stale, totals)
    return totals


def _add_engine_balances(
    session: Session, period: Period, lease_ids: list[int], totals: Totals
) -> None:
    """The balances of `lease_ids` from the engine (`balances_at` on each schedule), added."""
    dims = {row.id: row for row in session.execute(text(_DIMS_OF_LEASES), period.params())}
    for lease, schedule in leases_with_schedules(session, lease_ids=lease_ids):
        if lease["id"] not in dims or lease["commencement_date"] > period.end.isoformat():
            continue
        balances = balances_at(schedule, period.end)
        if balances.direction == "in":
            amounts = {
                BALANCE_KINDS[0][1]: balances.balance,
                BALANCE_KINDS[1][1]: balances.right_of_use_asset_net or Decimal(0),
            }
        else:
            amounts = {
                BALANCE_KINDS[2][1]: balances.balance,
                BALANCE_KINDS[3][1]: balances.deferred_inflow_balance or Decimal(0),
            }
        for breakdown, value in _breakdown_values(dims[lease["id"]]):
            for kind, amount in amounts.items():
                totals[(breakdown, value, kind)] += amount


def _breakdown_values(row: Any) -> list[tuple[str, str | None]]:
    """The city and this lease's department, district and asset type."""
    return [("city", None)] + [(name, getattr(row, DIMS[name])) for name in BREAKDOWNS[1:]]
