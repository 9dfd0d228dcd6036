"""The shipped sample as PostGIS sees it, and loading it again."""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from registry.db import create_registry_engine
from sample_parcels.load import load_sample
from tests.sql import scalar


def test_the_sample_has_over_2000_valid_parcels_on_the_map(sample_database_url: str) -> None:
    assert (
        scalar(sample_database_url, "SELECT count(*) FROM parcels WHERE geom IS NOT NULL") >= 2000
    )  # type: ignore[operator]
    assert scalar(sample_database_url, "SELECT bool_and(ST_IsValid(geom)) FROM parcels") is True


def test_no_two_sample_parcels_overlap_by_more_than_a_square_metre(
    sample_database_url: str,
) -> None:
    overlapping = scalar(
        sample_database_url,
        """
        SELECT count(*) FROM parcels a JOIN parcels b
          ON a.id < b.id AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)
         WHERE ST_Area(ST_Intersection(a.geom, b.geom)::geography) > 1
    """,
    )
    assert overlapping == 0


def test_loading_the_sample_again_writes_nothing(sample_database_url: str) -> None:
    before = scalar(sample_database_url, "SELECT count(*) FROM audit_events")
    engine = create_registry_engine(sample_database_url)
    result = load_sample(sessionmaker(engine))
    engine.dispose()
    assert (result.parcels.inserted, result.parcels.updated) == (0, 0)
    assert (result.buildings.inserted, result.buildings.updated) == (0, 0)
    assert scalar(sample_database_url, "SELECT count(*) FROM audit_events") == before


def test_the_loaded_sample_has_planner_statistics_without_autovacuum(
    sample_database_url: str,
) -> None:
    """Without them (a server with autovacuum off) the planner took the audit trail for one row
    and probed parcels by their trigram index: the milestone page took 30 s on the sample."""
    for table in ("parcels", "audit_events", "leases", "lease_schedule_rows"):
        columns_with_statistics = scalar(
            sample_database_url, "SELECT count(*) FROM pg_stats WHERE tablename = :t", t=table
        )
        assert columns_with_statistics, table
