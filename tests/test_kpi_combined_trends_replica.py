"""A combination viewed on a real streaming replica (tests/pg_clusters): the KPI desk reads the
replica, the combination's point of the day is written on the primary, and the view shows it in
the trend at once, although the replica (its replay paused) has not received it yet."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from app import database
from registry.db import create_registry_engine
from registry.db import unit_of_work
from tests.auth_fixtures import LoginHelper
from tests.builders import department
from tests.builders import parcel
from tests.builders import square
from tests.pg_clusters import ReplicatedDatabase
from tests.sql import query

pytestmark = pytest.mark.xdist_group("read_replica")

CODE = "KPIR"  # a department of this module's own: the replicated database is shared
DISTRICT = 7


@pytest.fixture(scope="module")
def app(replicated_database: ReplicatedDatabase) -> Iterator[Flask]:
    from sqlalchemy.orm import sessionmaker

    engine = create_registry_engine(replicated_database.url)
    with unit_of_work(sessionmaker(engine), "tests") as session:
        owner = department(CODE, "Replica Test Department")
        common = {"legal_interest": "owned", "status": "in_use", "use": "Office"}
        session.add_all(
            [
                parcel(
                    f"7777-{n:03d}-001", department=owner, council_district=DISTRICT,
                    asset_type="office", geometry=square(-118.3 + n / 100) if n else None,
                    **common,
                )
                for n in range(2)
            ]
        )  # fmt: skip
    engine.dispose()
    replicated_database.replica_caught_up()
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": replicated_database.url,
            "DATABASE_READ_URL": replicated_database.read_url,
            "SECRET_KEY": "test",
            "REGISTRY_REPLICA_RETRY_SECONDS": 0.5,
        }
    )
    yield app
    database.dispose(app)


def _read(client: FlaskClient, path: str) -> tuple[dict[str, object], str | None]:
    with client:
        response = client.get(path)
        assert response.status_code == 200, response.get_data(as_text=True)
        return json.loads(response.get_data(as_text=True)), database.reads_from()


def test_a_combination_viewed_on_the_replica_keeps_its_point_on_the_primary(
    app: Flask, replicated_database: ReplicatedDatabase
) -> None:
    viewer = LoginHelper().signed_in_client(app, "viewer", f"kpi-{uuid.uuid4().hex[:8]}@city.ex")
    path = f"/kpi/values?department={CODE}&district={DISTRICT}"
    deadline = time.monotonic() + 20
    while _read(viewer, "/kpi/values?fy=")[1] != database.REPLICA:  # the sign-in replayed
        assert time.monotonic() < deadline, "the viewer's sign-in was never replayed"
        time.sleep(0.1)
    replicated_database.replica_caught_up()
    replicated_database.replica.execute("SELECT pg_wal_replay_pause()")
    try:
        data, source = _read(viewer, path)
    finally:
        replicated_database.replica.execute("SELECT pg_wal_replay_resume()")
    assert source == database.REPLICA
    key = f"department={CODE}&council_district={DISTRICT}"
    stored = query(
        replicated_database.url,
        "SELECT kpi_id, value FROM kpi_snapshots WHERE breakdown = 'combination' "
        "AND breakdown_value = :key AND as_of = CURRENT_DATE",
        key=key,
    )
    assert dict(stored)["DIG-1"] == 50  # one of its two parcels drawn, on the primary
    tiles = {tile["id"]: tile for tile in data["tiles"]}  # type: ignore[attr-defined]
    today = dt.date.today().isoformat()
    assert tiles["DIG-1"]["trend_points"] == [[today, "50.00"]]  # not on the replica yet
    assert f"first viewed on {today}" in tiles["DIG-1"]["trend_origin"]
