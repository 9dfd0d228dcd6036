"""Leases, occupancy and O&M costs for a generated city (after its parcels and buildings).

A generated city is only parcels and buildings; without leases, occupancy and costs half the
KPI set has nothing to compute, so a benchmark of it would time empty families. This module
reads the city back (one query each), runs the shipped sample's generators over it
(`sample_parcels.leases.generate_city_leases`, `sample_parcels.operations
.generate_city_operations`) and loads the result set-based:

- leases are validated one by one with `clean_lease` (the API's rules, so a generated lease
  the rules refuse fails the load loudly) but inserted in multi-row batches, not one
  `create_lease` round trip per lease;
- occupancy and costs go through the shipped sample's single-statement upserts.

Idempotent: the generators are seeded and the city is read in APN order, so a second run
produces the same rows; leases already registered are skipped and identical occupancy and
cost records are left untouched.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import insert
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.leases.records import store_stale_schedules
from registry.leases.validation import clean_lease
from registry.models.leases import Lease
from registry.parcels.bulk_load import UpsertCounts
from sample_parcels.leases import as_api_fields
from sample_parcels.leases import generate_city_leases
from sample_parcels.load_operations import upsert_cost_rows
from sample_parcels.load_operations import upsert_occupancy_rows
from sample_parcels.operations import generate_city_operations

#: One lease per this many parcels, in and out together.
PARCELS_PER_LEASE = 20

_PARCELS_SQL = """
    SELECT p.parcel_id, p.address, p.use, p.legal_interest, p.status, d.code AS department_code
      FROM parcels p LEFT JOIN departments d ON d.id = p.department_id
     ORDER BY p.parcel_id
"""
_BUILDINGS_SQL = """
    SELECT b.building_id, p.parcel_id, b.asset_type, b.gross_sq_ft, b.usable_sq_ft,
           b.replacement_value
      FROM buildings b JOIN parcels p ON p.id = b.parcel_id
     ORDER BY b.building_id
"""


def _city(session: Session) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    parcels = [dict(row._mapping) for row in session.execute(text(_PARCELS_SQL))]
    buildings = [dict(row._mapping) for row in session.execute(text(_BUILDINGS_SQL))]
    return parcels, buildings


def load_city_leases(
    session: Session, parcels: list[dict[str, Any]], buildings: list[dict[str, Any]]
) -> UpsertCounts:
    """About one lease per `PARCELS_PER_LEASE` parcels; those already registered skipped."""
    by_parcel: dict[str, list[str]] = defaultdict(list)
    for building in buildings:
        by_parcel[building["parcel_id"]].append(building["building_id"])
    rows = generate_city_leases(parcels, dict(by_parcel), len(parcels) // PARCELS_PER_LEASE)
    existing = set(session.execute(text("SELECT lease_number FROM leases")).scalars())
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["lease_number"] in existing:
            continue
        values = clean_lease(session, as_api_fields(row))
        groups[tuple(sorted(values))].append(values)  # one executemany per column set
    for group in groups.values():
        session.execute(insert(Lease), group)
    inserted = sum(len(group) for group in groups.values())
    store_stale_schedules(session)  # the bulk insert bypassed create_lease, which stores them
    return UpsertCounts(inserted, 0, len(rows) - inserted)


def load_city_operations(
    session: Session, parcels: list[dict[str, Any]], buildings: list[dict[str, Any]]
) -> tuple[UpsertCounts, UpsertCounts]:
    """Three fiscal years of occupancy and O&M costs: (occupancy counts, cost counts)."""
    occupancy, costs = generate_city_operations(
        {p["parcel_id"]: p for p in parcels},
        [{**b, "replacement_value": b["replacement_value"] or 0} for b in buildings],
    )
    return upsert_occupancy_rows(session, occupancy), upsert_cost_rows(session, costs)


def load_city_extras(session: Session) -> tuple[UpsertCounts, UpsertCounts, UpsertCounts]:
    """(leases, occupancy, costs) for the generated city in the session's database."""
    parcels, buildings = _city(session)
    leases = load_city_leases(session, parcels, buildings)
    occupancy, costs = load_city_operations(session, parcels, buildings)
    return leases, occupancy, costs
