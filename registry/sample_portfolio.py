"""Load the sample portfolio (the shipped files, or a generated city of any size)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from registry.bulk_load import UpsertCounts, upsert_buildings, upsert_departments, upsert_parcels
from registry.db import unit_of_work
from registry.sample_city import load_city_extras
from registry.sample_leases import load_sample_leases, upsert_borrowing_rates
from registry.sample_operations import upsert_sample_costs, upsert_sample_occupancy
from sample_parcels.generator import Portfolio, iter_portfolio_chunks, read_shipped_portfolio

SAMPLE_ACTOR = "sample-loader"


@dataclass
class SampleLoadResult:
    parcels: UpsertCounts = field(default_factory=UpsertCounts)
    buildings: UpsertCounts = field(default_factory=UpsertCounts)
    borrowing_rates: UpsertCounts = field(default_factory=UpsertCounts)
    leases: UpsertCounts = field(default_factory=UpsertCounts)
    occupancy: UpsertCounts = field(default_factory=UpsertCounts)
    costs: UpsertCounts = field(default_factory=UpsertCounts)


def _load_chunk(session: Session, chunk: Portfolio, result: SampleLoadResult) -> None:
    upsert_departments(session, chunk.departments)
    result.parcels.add(upsert_parcels(session, chunk.parcels))
    result.buildings.add(upsert_buildings(session, chunk.buildings))


def load_sample(
    factory: sessionmaker[Session], n_parcels: int | None = None, chunk_size: int = 50_000
) -> SampleLoadResult:
    """Load the shipped sample, or a generated city of `n_parcels`, in one transaction.

    Re-running it is safe: identical records are left untouched (no new version, no history).
    The shipped sample also brings its leases and the incremental-borrowing-rate table, then
    three fiscal years of occupancy and O&M costs. A generated city gets the same kinds,
    generated for its own parcels and buildings (`registry.sample_city`): about one lease per
    20 parcels, occupancy of its staffed buildings and three fiscal years of costs, so the
    KPI set and the exports have something to work on at scale.
    """
    chunks = (
        [read_shipped_portfolio()]
        if n_parcels is None
        else iter_portfolio_chunks(n_parcels, chunk_size=chunk_size)
    )
    result = SampleLoadResult()
    with unit_of_work(factory, SAMPLE_ACTOR) as session:
        for chunk in chunks:
            _load_chunk(session, chunk, result)
        if n_parcels is None:
            result.borrowing_rates = upsert_borrowing_rates(session)
            result.leases = load_sample_leases(session)
            result.occupancy = upsert_sample_occupancy(session)
            result.costs = upsert_sample_costs(session)
        else:
            result.borrowing_rates = upsert_borrowing_rates(session)
            result.leases, result.occupancy, result.costs = load_city_extras(session)
    return result
