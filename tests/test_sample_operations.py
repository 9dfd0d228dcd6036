"""The sample's occupancy and O&M costs: reproducible, loaded whole, loaded twice without a
trace, and telling the story they are meant to tell."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from registry.db import create_registry_engine
from sample_parcels.load import load_sample
from sample_parcels.operations import COST_COLUMNS
from sample_parcels.operations import COSTS_CSV
from sample_parcels.operations import OCCUPANCY_COLUMNS
from sample_parcels.operations import OCCUPANCY_CSV
from sample_parcels.operations import generate_operations
from tests.sql import scalar


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _as_text(rows: list[dict[str, object]]) -> list[dict[str, str]]:
    return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]


def test_the_shipped_files_are_what_the_seeded_generator_writes() -> None:
    occupancy, costs = generate_operations()
    assert _csv(OCCUPANCY_CSV) == _as_text(occupancy)
    assert _csv(COSTS_CSV) == _as_text(costs)
    assert tuple(occupancy[0]) == OCCUPANCY_COLUMNS and tuple(costs[0]) == COST_COLUMNS
    assert {row["fiscal_year"] for row in costs} == {2024, 2025, 2026}


def test_every_row_is_loaded(sample_database_url: str) -> None:
    assert scalar(sample_database_url, "SELECT count(*) FROM occupancy") == len(_csv(OCCUPANCY_CSV))
    assert scalar(sample_database_url, "SELECT count(*) FROM om_costs") == len(_csv(COSTS_CSV))


def test_loading_again_changes_nothing_and_audits_nothing(sample_database_url: str) -> None:
    before = scalar(sample_database_url, "SELECT count(*) FROM audit_events")
    engine = create_registry_engine(sample_database_url)
    result = load_sample(sessionmaker(engine))
    engine.dispose()
    assert (result.occupancy.inserted, result.occupancy.updated) == (0, 0)
    assert (result.costs.inserted, result.costs.updated) == (0, 0)
    assert result.costs.unchanged == len(_csv(COSTS_CSV))
    assert scalar(sample_database_url, "SELECT count(*) FROM audit_events") == before


def test_costs_fall_where_offices_were_consolidated(sample_database_url: str) -> None:
    falling = scalar(
        sample_database_url,
        """
        SELECT count(*) FROM (
            SELECT building_id FROM om_costs WHERE note LIKE 'consolidated%'
             GROUP BY building_id) AS consolidated
         WHERE (SELECT sum(amount) FILTER (WHERE fiscal_year = 2026)
                     < 0.7 * sum(amount) FILTER (WHERE fiscal_year = 2024)
                  FROM om_costs c WHERE c.building_id = consolidated.building_id
                   AND c.category <> 'capital')
    """,
    )
    assert falling == 5
    city = scalar(
        sample_database_url,
        """
        SELECT sum(amount) FILTER (WHERE fiscal_year = 2026)
               > sum(amount) FILTER (WHERE fiscal_year = 2024)
          FROM om_costs WHERE category <> 'capital' AND note IS NULL""",
    )
    assert city is True  # elsewhere costs rise with inflation


def test_a_few_occupied_office_buildings_are_under_60_percent(sample_database_url: str) -> None:
    under = scalar(
        sample_database_url,
        """
        SELECT count(*) FROM (
            SELECT b.id FROM buildings b JOIN occupancy o ON o.building_id = b.id
             WHERE b.asset_type = 'office' AND o.period_start <= DATE '2026-03-31'
               AND (o.period_end IS NULL OR o.period_end >= DATE '2026-03-31')
             GROUP BY b.id, b.usable_sq_ft
            HAVING 150 * 100 * sum(o.headcount) < 60 * b.usable_sq_ft) AS under
    """,
    )
    assert 5 <= under <= 12  # type: ignore[operator]


def test_a_generated_city_gets_leases_occupancy_and_costs_once(fresh_database_url: str) -> None:
    """A generated city is benchmarked for the whole KPI set, so it must carry leases (about
    one per 20 parcels, both directions, valid under the lease rules), occupancy and three
    fiscal years of costs; loading it again adds nothing and audits nothing."""
    engine = create_registry_engine(fresh_database_url)
    try:
        first = load_sample(sessionmaker(engine), 2_000)
        before = scalar(fresh_database_url, "SELECT count(*) FROM audit_events")
        again = load_sample(sessionmaker(engine), 2_000)
    finally:
        engine.dispose()
    assert 60 <= first.leases.inserted <= 100
    assert scalar(fresh_database_url, "SELECT count(DISTINCT direction) FROM leases") == 2
    assert first.occupancy.inserted > 0 and first.costs.inserted > 0
    assert scalar(
        fresh_database_url,
        "SELECT array_agg(DISTINCT fiscal_year ORDER BY fiscal_year) FROM om_costs",
    ) == [2024, 2025, 2026]
    assert (
        again.leases.inserted,
        again.occupancy.inserted,
        again.occupancy.updated,
        again.costs.inserted,
        again.costs.updated,
    ) == (0, 0, 0, 0, 0)
    assert scalar(fresh_database_url, "SELECT count(*) FROM audit_events") == before
