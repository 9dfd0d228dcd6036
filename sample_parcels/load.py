"""Load the sample portfolio (the shipped files, or a generated city of any size)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from registry.database_admin import analyze
from registry.db import unit_of_work
from registry.parcels.bulk_load import UpsertCounts
from registry.parcels.bulk_load import upsert_buildings
from registry.parcels.bulk_load import upsert_departments
from registry.parcels.bulk_load import upsert_parcels
from sample_parcels.generator import Portfolio
from sample_parcels.generator import iter_portfolio_chunks
from sample_parcels.generator import read_shipped_portfolio
from sample_parcels.load_city import load_city_extras
from sample_parcels.load_leases import load_sample_leases
from sample_parcels.load_leases import upsert_borrowing_rates
from sample_parcels.load_operations import upsert_sample_costs
from sample_parcels.load_operations import upsert_sample_occupancy

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


# The sample's records were digitized over two years from October 2024, and its "verified" ones
# verified by a records clerk over the year before the registry went live, each at least a week
# after its digitization: the milestone's burn-up draws the programme as it happened. The dates
# are spread by parcel id, so reloading gives the same ones.
_SAMPLE_VERIFIER = "records.verifier@lacity.example"
_SAMPLE_MILESTONES = (
    ("Half of the portfolio verified", "50", "2026-12-31"),
    ("Whole portfolio verified", "100", "2027-06-30"),
)


def _record_sample_verifications(session: Session) -> None:
    session.execute(
        text(
            "UPDATE parcels SET verified_by = :verifier, verified_at = timestamptz "
            "'2025-10-01 09:00+00' + (abs(hashtext(parcel_id)) % 400) * interval '1 day' "
            "WHERE digitization_status = 'verified' AND verified_by IS NULL"
        ),
        {"verifier": _SAMPLE_VERIFIER},
    )
    # only records this load digitized (the database stamped them now): reloading changes none
    session.execute(
        text(
            "UPDATE parcels SET digitized_at = least("
            "timestamptz '2024-10-01 09:00+00' "
            "+ (abs(hashtext(parcel_id || '/digitized')) % 700) * interval '1 day', "
            "coalesce(verified_at - interval '7 days', 'infinity')) "
            "WHERE digitized_at = now()"
        )
    )


def _add_sample_milestones(session: Session) -> None:
    for name, target, due in _SAMPLE_MILESTONES:
        session.execute(
            text(
                "INSERT INTO milestones (name, target_pct_verified, target_date) "
                "VALUES (:name, CAST(:target AS numeric), CAST(:due AS date)) "
                "ON CONFLICT (name) DO NOTHING"
            ),
            {"name": name, "target": target, "due": due},
        )


def load_sample(
    factory: sessionmaker[Session], n_parcels: int | None = None, chunk_size: int = 50_000
) -> SampleLoadResult:
    """Load the shipped sample, or a generated city of `n_parcels`, in one transaction.

    Re-running it is safe: identical records are left untouched (no new version, no history).
    The shipped sample also brings its leases and the incremental-borrowing-rate table, then
    three fiscal years of occupancy and O&M costs. A generated city gets the same kinds,
    generated for its own parcels and buildings (`sample_parcels.load_city`): about one lease per
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
        _record_sample_verifications(session)
        _add_sample_milestones(session)
        if n_parcels is None:
            result.borrowing_rates = upsert_borrowing_rates(session)
            result.leases = load_sample_leases(session)
            result.occupancy = upsert_sample_occupancy(session)
            result.costs = upsert_sample_costs(session)
        else:
            result.borrowing_rates = upsert_borrowing_rates(session)
            result.leases, result.occupancy, result.costs = load_city_extras(session)
    analyze_loaded_tables(factory)
    return result


def analyze_loaded_tables(factory: sessionmaker[Session]) -> None:
    """Give the planner statistics of what was just loaded (`database_admin.analyze` says why)."""
    with factory() as session:
        analyze(session)
        session.commit()
