"""Totals of the lease list for everything its filters select (not one page): how many leases,
their annual rent, and their GASB 87 balances at an as-of date.

Annual rent comes from the one SQL model of current rent (`rent_sql`), set-based: the rent of the
leases in force at the as-of date, payable (city as lessee) and receivable (city as lessor) apart,
since adding rent paid to rent received means nothing.

The GASB 87 balances (liability and right-to-use asset of the city as lessee, receivable and
deferred inflow as lessor) are the engine's (`balances_at`) on each selected lease's whole
measurement history, computed in Python for the filtered set: the schedules are not kept in the
database, so SQL cannot sum them, and re-deriving the engine's rounding in SQL would make a second
implementation of GASB 87 that could drift from the report's. On the sample (about a hundred
measured leases) that is a few tens of milliseconds; the cost grows with the leases selected, one
schedule each, as the GASB 87 report's does.
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
    balances = {"liability": ZERO, "asset": ZERO, "receivable": ZERO, "inflow": ZERO}
    for _lease, schedule in leases_with_schedules(session, lease_ids=ids) if ids else ():
        position = balances_at(schedule, as_of)
        if position.direction == "in":
            balances["liability"] += position.balance
            balances["asset"] += position.right_of_use_asset_net or ZERO
        else:
            balances["receivable"] += position.balance
            balances["inflow"] += position.deferred_inflow_balance or ZERO
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
