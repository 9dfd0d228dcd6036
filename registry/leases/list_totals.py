"""Totals of the lease list for everything its filters select (not one page): how many leases,
their annual rent, and their GASB 87 balances at an as-of date.

Annual rent comes from the one SQL model of current rent (`rent_sql`), set-based: the rent of the
leases in force at the as-of date, payable (city as lessee) and receivable (city as lessor) apart,
since adding rent paid to rent received means nothing.

The GASB 87 balances (liability and right-to-use asset of the city as lessee, receivable and
deferred inflow as lessor) are the engine's, read from the schedules it stored for each lease
(`stored_schedules.STORED_BALANCES_CTE`, summed in SQL, equal to `balances_at` to the cent); a lease
whose stored schedule is stale or missing (written by a path that does not store them, or read on a
standby) is computed with the engine (`balances_at` on its whole history) instead: never a wrong
figure, only a slower one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.leases.accounting import balances_at
from registry.leases.accounting.money import ZERO
from registry.leases.queries import LeaseQuery
from registry.leases.queries import matching_lease_ids
from registry.leases.records import leases_with_schedules
from registry.leases.rent_sql import CURRENT_TERMS_CTES
from registry.leases.rent_sql import without_jit
from registry.leases.stored_schedules import STORED_BALANCES_CTE
from registry.leases.stored_schedules import stale_lease_ids


@dataclass(frozen=True)
class LeaseListTotals:
    as_of: dt.date
    count: int
    in_force: int
    not_measured: int
    annual_rent_payable: Decimal
    annual_rent_receivable: Decimal
    lease_liability: Decimal
    right_to_use_asset: Decimal
    lease_receivable: Decimal
    deferred_inflow: Decimal


@dataclass(frozen=True)
class CurrentRent:
    """A lease's annual rent at the as-of date (None: not measured), whether it is in force
    then (a lease not in force has no rent to total), and its end after modifications."""

    annual_rent: Decimal | None
    in_force: bool
    ends: dt.date | None


_RENTS = f"""
    WITH {CURRENT_TERMS_CTES}
    SELECT l.id, l.direction, l.measured, a.rent, t.in_force, t.ends
      FROM leases l
      JOIN annual_rent a ON a.lease_id = l.id
      JOIN lease_term t ON t.lease_id = l.id
     WHERE l.id = ANY(:ids)
"""


def current_rents(session: Session, lease_ids: list[int], as_of: dt.date) -> dict[int, CurrentRent]:
    """Each lease's annual rent and whether it is in force at `as_of`, by lease id."""
    if not lease_ids:
        return {}
    without_jit(session)
    rows = session.execute(text(_RENTS), {"ids": lease_ids, "as_of": as_of})
    return {
        row.id: CurrentRent(
            None if row.rent is None else Decimal(row.rent), bool(row.in_force), row.ends
        )
        for row in rows
    }


def list_totals(session: Session, query: LeaseQuery, as_of: dt.date) -> LeaseListTotals:
    """The totals of every lease `query`'s filters select (its paging ignored)."""
    ids = matching_lease_ids(session, query)
    rents = {"in": ZERO, "out": ZERO}
    in_force = not_measured = 0
    if ids:
        without_jit(session)
        for row in session.execute(text(_RENTS), {"ids": ids, "as_of": as_of}):
            not_measured += not row.measured
            if row.in_force:
                in_force += 1
                rents[row.direction] += Decimal(row.rent or 0)
    balances = _balances(session, ids, as_of)
    return LeaseListTotals(
        as_of=as_of,
        count=len(ids),
        in_force=in_force,
        not_measured=not_measured,
        annual_rent_payable=rents["in"],
        annual_rent_receivable=rents["out"],
        lease_liability=balances["liability"],
        right_to_use_asset=balances["asset"],
        lease_receivable=balances["receivable"],
        deferred_inflow=balances["inflow"],
    )


_STORED = f"""
    WITH {STORED_BALANCES_CTE}
    SELECT b.direction, sum(b.balance) AS balance, sum(b.carrying) AS carrying
      FROM stored_balances b
     WHERE b.lease_id = ANY(:ids) AND b.lease_id <> ALL(:stale)
     GROUP BY b.direction
"""


def _balances(session: Session, ids: list[int], as_of: dt.date) -> dict[str, Decimal]:
    """Liability, asset, receivable and deferred inflow of `ids` at `as_of`: the stored
    schedules summed in SQL, the stale leases' computed by the engine."""
    totals = {"liability": ZERO, "asset": ZERO, "receivable": ZERO, "inflow": ZERO}
    if not ids:
        return totals
    stale = sorted(set(stale_lease_ids(session)) & set(ids))
    params = {"ids": ids, "stale": stale, "balances_on": as_of}
    for row in session.execute(text(_STORED), params):
        lessee = row.direction == "in"
        totals["liability" if lessee else "receivable"] += row.balance
        totals["asset" if lessee else "inflow"] += row.carrying
    for _lease, schedule in leases_with_schedules(session, lease_ids=stale) if stale else ():
        position = balances_at(schedule, as_of)
        if position.direction == "in":
            totals["liability"] += position.balance
            totals["asset"] += position.right_of_use_asset_net or ZERO
        else:
            totals["receivable"] += position.balance
            totals["inflow"] += position.deferred_inflow_balance or ZERO
    return totals
