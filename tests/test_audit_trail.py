from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from registry.db import unit_of_work
from registry.models import AuditEvent
from registry.models import Parcel
from tests.builders import department
from tests.builders import parcel
from tests.builders import square


def _events(session: Session, parcel_id: str) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.table_name == "parcels", AuditEvent.row_key == parcel_id)
            .order_by(AuditEvent.id)
        )
    )


def test_every_write_is_recorded_with_its_actor_and_the_row_before_and_after(
    session_factory: sessionmaker[Session],
) -> None:
    with unit_of_work(session_factory, "ana@lacity.example") as session:
        session.add(parcel(department=department()))
    with unit_of_work(session_factory, "ben@lacity.example") as session:
        stored = session.scalars(select(Parcel)).one()
        stored.address = "201 N Spring St"
    with unit_of_work(session_factory, "cy@lacity.example") as session:
        session.execute(text("DELETE FROM parcels"))

    with session_factory() as session:
        insert, update, delete = _events(session, "5555-012-034")
    assert (insert.action, insert.actor, insert.before) == ("INSERT", "ana@lacity.example", None)
    assert insert.after is not None and insert.after["address"] == "200 N Spring St"
    assert (update.action, update.actor, update.changed_fields) == (
        "UPDATE",
        "ben@lacity.example",
        ["address"],
    )
    assert update.before is not None and update.after is not None
    assert (update.before["address"], update.after["address"]) == (
        "200 N Spring St",
        "201 N Spring St",
    )
    assert (delete.action, delete.actor, delete.after) == ("DELETE", "cy@lacity.example", None)


def test_geometry_is_kept_in_the_history_as_geojson(
    session_factory: sessionmaker[Session],
) -> None:
    with unit_of_work(session_factory, "ana@lacity.example") as session:
        session.add(parcel())
    with session_factory() as session:
        (event,) = _events(session, "5555-012-034")
    assert event.after is not None
    assert event.after["geom"]["type"] == "MultiPolygon"
    assert [-118.25, 34.05] in event.after["geom"]["coordinates"][0][0]
    assert "geom_3857" not in event.after


def test_a_write_that_changes_nothing_adds_no_history_and_keeps_the_version(
    session_factory: sessionmaker[Session],
) -> None:
    with unit_of_work(session_factory, "ana@lacity.example") as session:
        session.add(parcel())
    with unit_of_work(session_factory, "ben@lacity.example") as session:
        session.execute(text("UPDATE parcels SET address = address, status = status"))
    with session_factory() as session:
        assert len(_events(session, "5555-012-034")) == 1
        assert session.scalars(select(Parcel.version)).one() == 1


def test_a_real_change_bumps_the_version(session_factory: sessionmaker[Session]) -> None:
    with unit_of_work(session_factory, "ana@lacity.example") as session:
        session.add(parcel())
    with unit_of_work(session_factory, "ana@lacity.example") as session:
        session.execute(text("UPDATE parcels SET status = 'surplus'"))
    with session_factory() as session:
        assert session.scalars(select(Parcel.version)).one() == 2


def test_writes_outside_the_app_are_attributed_to_the_database_user(
    session_factory: sessionmaker[Session],
) -> None:
    with session_factory() as session, session.begin():
        session.add(parcel())
    with session_factory() as session:
        (event,) = _events(session, "5555-012-034")
        assert event.actor == session.execute(text("SELECT session_user")).scalar()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'mallory'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ],
)
def test_the_audit_trail_is_append_only(
    session_factory: sessionmaker[Session], statement: str
) -> None:
    with unit_of_work(session_factory, "ana@lacity.example") as session:
        session.add(parcel())
    with pytest.raises(DBAPIError, match="append-only"), session_factory() as session:
        session.execute(text(statement))


def test_invalid_geometry_is_refused_by_the_database(
    session_factory: sessionmaker[Session],
) -> None:
    bow_tie = "MULTIPOLYGON(((0 0, 1 1, 1 0, 0 1, 0 0)))"
    with (
        pytest.raises(IntegrityError, match="geom_valid"),
        unit_of_work(session_factory, "ana@lacity.example") as session,
    ):
        session.execute(
            text(
                "INSERT INTO parcels (parcel_id, geom) "
                "VALUES ('5555-012-035', ST_GeomFromText(:wkt, 4326))"
            ),
            {"wkt": bow_tie},
        )


def test_land_area_is_derived_from_the_geometry(session_factory: sessionmaker[Session]) -> None:
    with unit_of_work(session_factory, "ana@lacity.example") as session:
        session.add(parcel())
    with session_factory() as session:
        area = session.scalars(select(Parcel.land_area_sq_ft)).one()
    # 0.001° × 0.001° at 34.05° N ≈ 92.3 m × 111.0 m ≈ 10,240 m² ≈ 110,200 sq ft
    assert 109_000 < area < 111_500


def test_one_statement_over_many_rows_records_each_row_that_changed(
    session_factory: sessionmaker[Session],
) -> None:
    with unit_of_work(session_factory, "ana@lacity.example") as session:
        session.add_all(
            [
                parcel(
                    f"5555-012-{n:03d}",
                    geometry=square(lat=34.05 + n * 0.002),
                    address=f"{n} Main St",
                )
                for n in range(1, 7)
            ]
        )
    with unit_of_work(session_factory, "ben@lacity.example") as session:
        # rows 1–3 get a new address, rows 4–6 are written back unchanged
        session.execute(
            text(
                "UPDATE parcels SET address = CASE WHEN parcel_id <= '5555-012-003' "
                "THEN address || ' (rear)' ELSE address END"
            )
        )
        session.execute(
            text("DELETE FROM parcels WHERE parcel_id IN ('5555-012-005', '5555-012-006')")
        )
    with session_factory() as session:
        rows = session.execute(
            text(
                "SELECT row_key, action, actor, changed_fields, before ->> 'address' AS old, "
                "after ->> 'address' AS new FROM audit_events WHERE table_name = 'parcels' "
                "ORDER BY id"
            )
        ).all()
    assert [(r.row_key, r.action) for r in rows] == (
        [(f"5555-012-{n:03d}", "INSERT") for n in range(1, 7)]
        + [(f"5555-012-{n:03d}", "UPDATE") for n in range(1, 4)]
        + [("5555-012-005", "DELETE"), ("5555-012-006", "DELETE")]
    )
    updates = [r for r in rows if r.action == "UPDATE"]
    assert all(r.changed_fields == ["address"] and r.actor == "ben@lacity.example" for r in updates)
    assert [(r.old, r.new) for r in updates] == [
        (f"{n} Main St", f"{n} Main St (rear)") for n in range(1, 4)
    ]


def test_a_moved_shape_is_a_change_of_geom_alone(session_factory: sessionmaker[Session]) -> None:
    with unit_of_work(session_factory, "ana@lacity.example") as session:
        session.add(parcel())
    with unit_of_work(session_factory, "ben@lacity.example") as session:
        session.execute(text("UPDATE parcels SET geom = ST_Translate(geom, 0.0001, 0)"))
    with session_factory() as session:
        _, moved = _events(session, "5555-012-034")
    assert moved.changed_fields == ["geom"]
    assert moved.before is not None and moved.after is not None
    assert moved.before["geom"] != moved.after["geom"]
    assert moved.after["geom"]["type"] == "MultiPolygon"


def test_a_table_wider_than_one_json_call_keeps_every_column(
    session_factory: sessionmaker[Session],
) -> None:
    """jsonb_build_object takes at most 100 arguments: the trail joins several calls."""
    columns = ", ".join(f"c{n} integer DEFAULT {n}" for n in range(70))
    with unit_of_work(session_factory, "ana@lacity.example") as session:
        session.execute(text(f"CREATE TABLE wide_things (id integer PRIMARY KEY, {columns})"))
        session.execute(
            text(
                "CREATE TRIGGER wide_things_audit_insert AFTER INSERT ON wide_things "
                "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                "EXECUTE FUNCTION registry_audit_statement('id', '', 'c69')"
            )
        )
        session.execute(text("INSERT INTO wide_things (id) VALUES (1)"))
        after = session.execute(
            text("SELECT after FROM audit_events WHERE table_name = 'wide_things'")
        ).scalar_one()
    assert after == {"id": 1, **{f"c{n}": n for n in range(69)}}
