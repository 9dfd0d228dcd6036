"""DIG-5 and the findings queue read parcel overlaps from the pairs the database keeps
(`parcel_overlaps`, migration 0027), and DIG-6 its verification events from narrow rows kept
beside the audit trail: after any change, whoever folds the changed parcels in and when, what they
read equals a fresh pair search over every parcel and the events' own JSON."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from shapely.geometry import MultiPolygon
from shapely.geometry import box
from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry import database_admin
from registry.db import normalise_database_url
from registry.kpis import KpiFilters
from registry.kpis import Period
from registry.kpis import compute_kpis
from registry.kpis.digitization import digitization_kpis
from registry.kpis.findings_sql import OVERLAP_PAIRS_CTE
from registry.kpis.findings_sql import PARCEL_IDS_UNIQUE_SQL
from registry.kpis.findings_sql import STORED_SHAPES_VALID_SQL
from registry.kpis.milestone_forecast import milestone_forecast_kpis
from registry.milestones.findings import open_findings
from registry.spatial import as_geography
from tests.builders import department
from tests.builders import parcel
from tests.builders import square
from tests.plans import explained

TODAY = dt.date.today()
LON = -118.2

# The pair search DIG-5 made before the pairs were kept: every pair, on the table.
_FRESH_PAIRS = f"""
    SELECT a_id, b_id, area FROM (
        SELECT a.id AS a_id, b.id AS b_id,
               ST_Area({as_geography("ST_Intersection(a.geom, b.geom)")}) AS area
          FROM parcels a JOIN parcels b
            ON a.id < b.id AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)) AS pair
     WHERE area > 0 ORDER BY 1, 2
"""
_READ_PAIRS = f"WITH {OVERLAP_PAIRS_CTE} SELECT a_id, b_id, area FROM overlap_pair ORDER BY 1, 2"
_KEPT_PAIRS = "SELECT low_id, high_id, area FROM parcel_overlaps ORDER BY 1, 2"
_STALE = "SELECT count(*) FROM parcel_overlaps_stale"
# DIG-6's events as it read them before, from the audit trail's JSON.
_EVENTS_FROM_JSON = """
    SELECT e.id, CAST(e.after ->> 'id' AS bigint),
           CASE WHEN e.after ->> 'digitization_status' = 'verified'
                     AND e.after ->> 'verified_at' IS NOT NULL
                THEN CAST(e.after ->> 'verified_at' AS timestamptz) END,
           e.occurred_at
      FROM audit_events e
     WHERE e.table_name = 'parcels' AND e.after IS NOT NULL
       AND (e.action = 'INSERT' OR e.changed_fields && ARRAY['digitization_status', 'verified_at'])
     ORDER BY 1
"""
_EVENTS_KEPT = """
    SELECT event_id, parcel_pk, verified_at, occurred_at FROM parcel_verification_events
     ORDER BY 1
"""


def _rows(session: Session | Connection, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(text(sql))]


def _lot(east: float, size: float = 0.001) -> MultiPolygon:
    """A square `east` degrees east of LON (0.0005 apart overlap by half)."""
    return square(LON + east, 34.05, size)


def _dig5(session: Session) -> dict[tuple[str, str | None], Any]:
    return {
        (v.breakdown, v.breakdown_value): v.value
        for v in digitization_kpis(session, Period.resolve(None, TODAY))
        if v.kpi_id == "DIG-5"
    }


def _assert_read_exactly(session: Session) -> None:
    fresh = _rows(session, _FRESH_PAIRS)
    assert _rows(session, _READ_PAIRS) == fresh  # to the last bit of each area
    if not session.execute(text(_STALE)).scalar():
        assert _rows(session, _KEPT_PAIRS) == fresh


def _move(session: Session, parcel_id: str, shape: MultiPolygon | None) -> None:
    session.execute(
        text(
            "UPDATE parcels SET geom = CASE WHEN CAST(:wkt AS text) IS NULL THEN NULL "
            "ELSE ST_Multi(ST_GeomFromText(:wkt, 4326)) END WHERE parcel_id = :id"
        ),
        {"wkt": shape.wkt if shape is not None else None, "id": parcel_id},
    )


@pytest.fixture
def lots(db_session: Session) -> Session:
    """P-1 and P-2 overlap by half a lot; P-3 stands alone; every field else filled."""
    gsd = department("GSD", "General Services")
    common = {
        "department": gsd,
        "council_district": 2,
        "use": "Office",
        "legal_interest": "owned",
        "status": "in_use",
    }
    db_session.add_all(
        [
            parcel("P-1", geometry=_lot(0.0), **common),
            parcel("P-2", geometry=_lot(0.0005), **common),
            parcel("P-3", geometry=_lot(0.01), **common),
        ]
    )
    db_session.flush()
    return db_session


def test_a_statement_that_writes_shapes_folds_its_parcels_in(lots: Session) -> None:
    assert lots.execute(text(_STALE)).scalar() == 0
    assert len(_rows(lots, _KEPT_PAIRS)) == 1
    _assert_read_exactly(lots)
    assert _dig5(lots)[("city", None)] == 2


@pytest.mark.parametrize(
    ("change", "findings"),
    [
        ("move P-3 onto P-2", 4),
        ("move P-2 away", 0),
        ("add P-4 over P-1 and P-2", 6),
        ("retire P-2", 0),
        ("accept P-1's overlap", 0),
        ("delete P-2", 0),
        ("take P-1's shape away", 0),
        ("shrink the overlap under 1 m²", 0),
    ],
)
def test_what_dig5_reads_stays_exact_after_a_change(
    lots: Session, change: str, findings: int
) -> None:
    if change == "move P-3 onto P-2":
        _move(lots, "P-3", _lot(0.0012))
    elif change == "move P-2 away":
        _move(lots, "P-2", _lot(0.02))
    elif change == "add P-4 over P-1 and P-2":
        lots.add(parcel("P-4", geometry=_lot(0.0003, 0.0004), use="Office", council_district=2))
        lots.flush()
    elif change == "retire P-2":
        lots.execute(text("UPDATE parcels SET retired_at = now() WHERE parcel_id = 'P-2'"))
    elif change == "accept P-1's overlap":
        lots.execute(
            text("UPDATE parcels SET overlap_accepted_reason = 'easement' WHERE parcel_id = 'P-1'")
        )
    elif change == "delete P-2":
        lots.execute(text("DELETE FROM parcels WHERE parcel_id = 'P-2'"))
    elif change == "take P-1's shape away":
        _move(lots, "P-1", None)
    else:  # ~5 mm × 111 m: under the tolerance, but an area
        _move(lots, "P-2", _lot(0.001 - 0.00000005))
    _assert_read_exactly(lots)
    assert lots.execute(text(_STALE)).scalar() == 0
    dig5 = _dig5(lots)
    assert dig5[("city", None)] - _missing_fields(lots) == findings
    assert open_findings(lots).total == dig5[("city", None)]


def _missing_fields(session: Session) -> int:
    """Findings other than overlaps: the fields a parcel added bare lacks."""
    return sum(1 for finding in open_findings(session).findings if finding.kind != "overlap")


@pytest.fixture
def folding_elsewhere(shared_engine: Engine) -> Iterator[Connection]:
    """Another transaction holding the fold's lock (to its end): writers meanwhile only list
    their parcels. Ask for it before `lots`, whose writes would take the lock themselves."""
    with shared_engine.connect() as other:
        taken = other.execute(text("SELECT pg_try_advisory_xact_lock(hashtext('parcel_overlaps'))"))
        assert taken.scalar()
        yield other
        other.rollback()


def test_listed_parcels_are_read_exactly_before_anyone_folds_them(
    folding_elsewhere: Connection, lots: Session
) -> None:
    _move(lots, "P-3", _lot(0.0008))
    _move(lots, "P-1", _lot(0.03))
    assert lots.execute(text(_STALE)).scalar() == 3 + 2  # the lots added, then the moves
    kept = _rows(lots, _KEPT_PAIRS)
    _assert_read_exactly(lots)
    assert _rows(lots, _KEPT_PAIRS) == kept  # read, not written
    assert _dig5(lots)[("city", None)] == 2  # P-2 and P-3 now
    assert [f.parcel_id for f in open_findings(lots).findings] == ["P-2", "P-3"]


def test_the_next_writer_folds_in_what_others_left_listed(
    folding_elsewhere: Connection, lots: Session
) -> None:
    _move(lots, "P-3", _lot(0.0008))
    folding_elsewhere.rollback()  # the other transaction ends
    _move(lots, "P-1", _lot(0.03))
    assert lots.execute(text(_STALE)).scalar() == 0
    _assert_read_exactly(lots)


def test_a_read_only_transaction_gets_the_same_kpi_set(
    folding_elsewhere: Connection, lots: Session
) -> None:
    """A replica's reader cannot write: it computes the listed parcels' pairs itself."""
    _move(lots, "P-3", _lot(0.0008))
    writable = compute_kpis(lots, None, TODAY)
    lots.execute(text("SET TRANSACTION READ ONLY"))
    assert compute_kpis(lots, None, TODAY) == writable


def test_a_filtered_request_counts_overlaps_as_the_breakdown_row_does(lots: Session) -> None:
    lots.add(parcel("P-9", geometry=_lot(0.0002), use="Office", council_district=7))
    lots.flush()
    filtered = Period.resolve(None, TODAY, filters=KpiFilters(council_district="7"))
    dig5 = {v.breakdown: v.value for v in digitization_kpis(lots, filtered) if v.kpi_id == "DIG-5"}
    # P-9's 2 overlaps and its missing department
    assert dig5["city"] == _dig5(lots)[("council_district", "7")] == 2 + 1


def test_dig6_reads_the_events_as_their_json_says(lots: Session) -> None:
    stamp = dt.datetime.combine(TODAY - dt.timedelta(days=100), dt.time(9), dt.UTC)
    lots.execute(
        text(
            "UPDATE parcels SET digitization_status = 'verified', verified_by = 'second', "
            "verified_at = :at WHERE parcel_id IN ('P-1', 'P-2')"
        ),
        {"at": stamp},
    )
    lots.execute(text("UPDATE parcels SET use = 'Yard' WHERE parcel_id = 'P-1'"))  # not read
    lots.execute(
        text("UPDATE parcels SET digitization_status = 'attributed' WHERE parcel_id = 'P-2'")
    )
    lots.execute(text("DELETE FROM parcels WHERE parcel_id = 'P-3'"))
    lots.execute(
        text(
            "INSERT INTO milestones (name, target_pct_verified, target_date) "
            "VALUES ('All', 100, :day)"
        ),
        {"day": TODAY + dt.timedelta(days=365)},
    )
    kept = _rows(lots, _EVENTS_KEPT)
    assert kept == _rows(lots, _EVENTS_FROM_JSON)
    assert [event[2] for event in kept].count(stamp) == 2
    city = next(
        v
        for v in milestone_forecast_kpis(lots, Period.resolve(None, TODAY))
        if v.breakdown == "city"
    )
    # both verified before the 8 weeks (dated by verified_at), both withdrawn within them (the
    # edit of P-1 withdraws its verification): a net loss of 2
    assert (city.numerator, city.denominator) == (-2, 56)


def test_the_migration_fills_both_from_the_records_as_they_stand(
    fresh_database_url: str,
) -> None:
    database_admin.downgrade(fresh_database_url, "0026")
    engine = create_engine(normalise_database_url(fresh_database_url))
    try:
        with engine.begin() as connection:
            for index, east in enumerate((0.0, 0.0005, 0.0009, 0.01)):
                shape = MultiPolygon([box(LON + east, 34.05, LON + east + 0.001, 34.051)])
                connection.execute(
                    text(
                        "INSERT INTO parcels (parcel_id, geom, digitization_status) "
                        "VALUES (:id, ST_GeomFromText(:wkt, 4326), 'digitized')"
                    ),
                    {"id": f"M-{index}", "wkt": shape.wkt},
                )
            connection.execute(
                text(
                    "UPDATE parcels SET digitization_status = 'verified', verified_by = 'x', "
                    "verified_at = now() WHERE parcel_id = 'M-1'"
                )
            )
        database_admin.upgrade(fresh_database_url)
        with engine.connect() as connection:
            fresh = _rows(connection, _FRESH_PAIRS)
            assert len(fresh) == 3
            assert _rows(connection, _KEPT_PAIRS) == fresh
            assert _rows(connection, _EVENTS_KEPT) == _rows(connection, _EVENTS_FROM_JSON)
            assert len(_rows(connection, _EVENTS_KEPT)) == 5
    finally:
        engine.dispose()


def test_the_schema_lets_dig5_skip_asking_each_shape_and_id(db_session: Session) -> None:
    """The shortcut is on where it is meant to be: a change of the constraints' wording in a
    later PostgreSQL would silently turn it off, and this would say so."""
    checks = f"SELECT {STORED_SHAPES_VALID_SQL}, {PARCEL_IDS_UNIQUE_SQL}"
    assert tuple(db_session.execute(text(checks)).one()) == (True, True)


def test_without_the_constraints_invalid_shapes_and_shared_ids_are_findings(
    lots: Session,
) -> None:
    lots.execute(text("ALTER TABLE parcels DROP CONSTRAINT ck_parcels_geom_valid"))
    lots.execute(text("ALTER TABLE parcels DROP CONSTRAINT uq_parcels_parcel_id"))
    bow_tie = "MULTIPOLYGON(((-118 34, -117.999 34.001, -117.999 34, -118 34.001, -118 34)))"
    lots.execute(
        text(
            "INSERT INTO parcels (parcel_id, address, use, department_id, geom) "
            "SELECT 'P-3', 'Twice', 'Office', department_id, ST_GeomFromText(:wkt, 4326) "
            "FROM parcels WHERE parcel_id = 'P-1'"
        ),
        {"wkt": bow_tie},
    )
    kinds = sorted(f.kind for f in open_findings(lots).findings)
    assert kinds == ["duplicate parcel id"] * 2 + ["invalid geometry"] + ["overlap"] * 2
    assert _dig5(lots)[("city", None)] == 5


def test_an_update_of_many_parcels_compares_old_and_new_shapes_in_one_pass(
    db_session: Session,
) -> None:
    """The trigger's join of a statement's old and new rows is planned for that statement: the
    connection's first UPDATE of parcels (one row) no longer fixes a nested loop that compared
    n² pairs of shapes in every later UPDATE (100,000 parcels: hours)."""
    db_session.execute(
        text(
            "INSERT INTO parcels (parcel_id, geom) SELECT 'N-' || n, "
            "ST_Multi(ST_MakeEnvelope(-118.2 + n * 0.01, 34.05, -118.2 + n * 0.01 + 0.001, "
            "34.051, 4326)) FROM generate_series(1, 300) AS n"
        )
    )
    db_session.execute(text("UPDATE parcels SET use = 'Yard' WHERE parcel_id = 'N-1'"))
    with explained(db_session) as plans:
        db_session.execute(text("UPDATE parcels SET use = 'Office' WHERE parcel_id LIKE 'N-%'"))
    join = [plan for plan in plans if "JOIN old_rows o ON o.id = n.id" in plan]
    assert join, plans
    assert "Hash Join" in join[0] and "Nested Loop" not in join[0], join[0]
