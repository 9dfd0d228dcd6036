"""Reads on a real streaming replica (`pg_basebackup -R` of a throwaway primary, tests/pg_clusters):
which requests it serves, an editor's own writes read back from the primary, and what happens
when it lags beyond the limit or stops.

Which server answered is shown two ways: `database.reads_from()` of the request, and the data
itself: while the replica's replay is paused, a change made on the primary is missing from what
the replica serves.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker
from werkzeug.test import TestResponse

from app import create_app
from app import database
from registry.db import create_registry_engine
from tests.auth_fixtures import LoginHelper
from tests.auth_fixtures import SignedInClient
from tests.auth_fixtures import bearer
from tests.pg_clusters import ReplicatedDatabase
from tests.sql import query
from tests.tiles import tile_of

# one worker builds the clusters and runs these in order (make test: --dist loadgroup)
pytestmark = pytest.mark.xdist_group("read_replica")

TILE_ZOOM = 15


@pytest.fixture(scope="module")
def sample_on_primary(replicated_database: ReplicatedDatabase) -> ReplicatedDatabase:
    from sample_parcels.load import load_sample

    engine = create_registry_engine(replicated_database.url)
    load_sample(sessionmaker(engine))
    engine.dispose()
    replicated_database.replica_caught_up()
    return replicated_database


def _app(clusters: ReplicatedDatabase, **config: Any) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": clusters.url,
            "DATABASE_READ_URL": clusters.read_url,
            "SECRET_KEY": "test",
            "REGISTRY_REPLICA_RETRY_SECONDS": 0.5,
            **config,
        }
    )


@pytest.fixture(scope="module")
def app(sample_on_primary: ReplicatedDatabase) -> Iterator[Flask]:
    """Reads on the replica while it is at most 30 s behind (the default)."""
    app = _app(sample_on_primary)
    yield app
    database.dispose(app)


@pytest.fixture(scope="module")
def strict_app(sample_on_primary: ReplicatedDatabase) -> Iterator[Flask]:
    """The same databases, but the replica is passed over once it is 1 s behind."""
    app = _app(sample_on_primary, REGISTRY_REPLICA_MAX_LAG_SECONDS=1)
    yield app
    database.dispose(app)


@pytest.fixture(scope="module")
def users(app: Flask) -> dict[str, SignedInClient]:
    helper = LoginHelper()
    return {role: helper.signed_in_client(app, role) for role in ("editor", "finance")}


@pytest.fixture(scope="module")
def a_parcel(sample_on_primary: ReplicatedDatabase) -> dict[str, Any]:
    (row,) = query(
        sample_on_primary.url,
        "SELECT parcel_id, ST_X(c) AS lon, ST_Y(c) AS lat FROM ("
        " SELECT parcel_id, ST_PointOnSurface(geom) AS c FROM parcels"
        " WHERE geom IS NOT NULL AND retired_at IS NULL ORDER BY parcel_id LIMIT 1) AS p",
    )
    return dict(row._mapping)


@pytest.fixture(autouse=True)
def replica_streaming(sample_on_primary: ReplicatedDatabase) -> Iterator[None]:
    """Every test starts and ends with the replica running and replaying."""
    yield
    replica = sample_on_primary.replica
    if not replica.is_running():
        replica.start()
    replica.execute("SELECT pg_wal_replay_resume()")
    sample_on_primary.replica_caught_up()


@contextmanager
def replay_paused(clusters: ReplicatedDatabase) -> Iterator[None]:
    """The replica keeps receiving WAL but applies none of it, so it lags more and more, from
    now on: its last transaction replayed is the one `replica_caught_up` commits."""
    clusters.replica_caught_up()
    clusters.replica.execute("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        clusters.replica.execute("SELECT pg_wal_replay_resume()")


def wait_until(condition: Callable[[], bool], timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout} s: {what}")
        time.sleep(0.1)


def read(client: FlaskClient, path: str, **kwargs: Any) -> tuple[TestResponse, str | None]:
    """GET `path`; the response and where the request read from."""
    with client:
        response = client.get(path, **kwargs)
        return response, database.reads_from()


def search(client: FlaskClient, text: str, **kwargs: Any) -> tuple[set[str], str | None]:
    """The parcel ids the map's search finds for `text`, and where it read from."""
    response, source = read(client, f"/api/parcels?q={text}", **kwargs)
    assert response.status_code == 200, response.get_data(True)
    return {feature["id"] for feature in response.get_json()["features"]}, source


def tile_address(client: FlaskClient, parcel: dict[str, Any], **kwargs: Any) -> str:
    """The address the parcel's vector tile shows for it."""
    x, y = tile_of(float(parcel["lon"]), float(parcel["lat"]), TILE_ZOOM)
    response = client.get(f"/tiles/parcels/{TILE_ZOOM}/{x}/{y}.mvt", **kwargs)
    assert response.status_code == 200
    features = mapbox_vector_tile.decode(response.data)["parcels"]["features"]
    (found,) = [f for f in features if f["properties"]["parcel_id"] == parcel["parcel_id"]]
    return str(found["properties"]["address"])


def ogc_address(client: FlaskClient, parcel_id: str, **kwargs: Any) -> tuple[str, str | None]:
    """The parcel's address as the OGC API gives it, and where the request read from."""
    response, source = read(client, f"/ogc/collections/parcels/items/{parcel_id}", **kwargs)
    assert response.status_code == 200, response.get_data(True)
    return str(response.get_json()["properties"]["address"]), source


def set_address(client: FlaskClient, parcel_id: str, address: str, **kwargs: Any) -> None:
    """Change the parcel's address through the API, as an editor (or an editor's script)."""
    current = client.get(f"/api/parcels/{parcel_id}", **kwargs)
    response = client.patch(
        f"/api/parcels/{parcel_id}",
        json={"type": "Feature", "properties": {"address": address}},
        headers={"If-Match": current.headers["ETag"], **kwargs.pop("headers", {})},
        **kwargs,
    )
    assert response.status_code == 200, response.get_data(True)


def new_address() -> str:
    return f"{uuid.uuid4().hex[:8]} Replica Way"


def served_by_replica(client: FlaskClient, path: str = "/api/parcels?limit=1") -> bool:
    return read(client, path)[1] == database.REPLICA


def test_tiles_searches_kpis_exports_and_the_ogc_api_are_read_from_the_replica(
    app: Flask, users: dict[str, SignedInClient]
) -> None:
    anonymous, finance = app.test_client(), users["finance"]
    # signing in is a write: finance reads from the primary until the replica has replayed it
    wait_until(lambda: served_by_replica(finance), what="finance's sign-in replayed")
    for client, path in [
        (anonymous, "/api/parcels?limit=5"),
        (anonymous, "/api/parcels?q=Main"),
        (anonymous, "/ogc/collections/parcels/items?limit=5"),
        (finance, "/kpi"),
        (finance, "/kpi/export?format=json"),
        (finance, "/portfolio/export?format=csv"),
        (finance, "/leases/gasb87/export?format=csv"),
    ]:
        response, source = read(client, path)
        assert response.status_code == 200, (path, response.status_code)
        assert source == database.REPLICA, path


def test_the_connections_a_replica_route_reads_on_are_the_standbys(
    app: Flask, a_parcel: dict[str, Any]
) -> None:
    def in_recovery(path: str) -> tuple[bool, bool]:
        """pg_is_in_recovery() on the request's session and on its read engine."""
        with app.test_request_context(path):
            on_session = database.db_session().execute(text("SELECT pg_is_in_recovery()"))
            with database.read_engine().connect() as connection:
                on_engine = connection.execute(text("SELECT pg_is_in_recovery()"))
                return bool(on_session.scalar_one()), bool(on_engine.scalar_one())

    assert in_recovery("/api/parcels?q=Main") == (True, True)
    assert in_recovery("/tiles/parcels/15/5000/12000.mvt") == (True, True)
    assert in_recovery(f"/api/parcels/{a_parcel['parcel_id']}") == (False, False)


def test_a_forged_write_mark_is_ignored(app: Flask) -> None:
    """The mark is signed: a made-up one neither breaks a read nor pins it to the primary."""
    from itsdangerous import URLSafeSerializer

    other_key = URLSafeSerializer("not the app's key", salt="registry.last-write")
    for forged in ("garbage", other_key.dumps([2**62, time.time()])):
        client = app.test_client()
        client.set_cookie(database.WRITE_MARK_COOKIE, forged)
        response, source = read(client, "/api/parcels?limit=1")
        assert (response.status_code, source) == (200, database.REPLICA), forged


def test_pages_one_edits_from_are_read_from_the_primary(
    app: Flask, users: dict[str, SignedInClient], a_parcel: dict[str, Any]
) -> None:
    finance = users["finance"]
    wait_until(lambda: served_by_replica(finance), what="finance's sign-in replayed")
    for path in (f"/api/parcels/{a_parcel['parcel_id']}", f"/parcels/{a_parcel['parcel_id']}"):
        response, source = read(finance, path)
        assert response.status_code == 200, path
        assert source == database.PRIMARY, path


def test_an_editor_reads_their_own_write_while_the_replica_is_paused_and_others_read_the_replica(
    app: Flask,
    users: dict[str, SignedInClient],
    sample_on_primary: ReplicatedDatabase,
    a_parcel: dict[str, Any],
) -> None:
    editor, anonymous = users["editor"], app.test_client()
    parcel_id, before = a_parcel["parcel_id"], tile_address(anonymous, a_parcel)
    address = new_address()
    with replay_paused(sample_on_primary):
        set_address(editor, parcel_id, address)

        found, source = search(editor, address)
        assert (found, source) == ({parcel_id}, database.PRIMARY)
        assert tile_address(editor, a_parcel) == address  # the map's refreshed tile shows it
        assert ogc_address(editor, parcel_id) == (address, database.PRIMARY)

        found, source = search(anonymous, address)
        assert (found, source) == (set(), database.REPLICA)  # a moment behind, as expected
        assert tile_address(anonymous, a_parcel) == before
        assert ogc_address(anonymous, parcel_id) == (before, database.REPLICA)

    sample_on_primary.replica_caught_up()
    # once the replica has replayed the write, the editor's reads go back to it
    wait_until(lambda: search(editor, address) == ({parcel_id}, database.REPLICA))
    assert search(anonymous, address) == ({parcel_id}, database.REPLICA)
    assert tile_address(anonymous, a_parcel) == address


def test_a_script_reads_its_own_write_by_its_token_without_cookies(
    app: Flask, sample_on_primary: ReplicatedDatabase, a_parcel: dict[str, Any]
) -> None:
    helper = LoginHelper()
    script = bearer(helper.token(app, "script@city.example", "editor"))
    reader = bearer(helper.token(app, "reader@city.example", "viewer"))
    client = app.test_client(use_cookies=False)
    sample_on_primary.replica_caught_up()
    wait_until(lambda: served_by_replica(client), what="the tokens' creation replayed")
    address = new_address()
    with replay_paused(sample_on_primary):
        set_address(client, a_parcel["parcel_id"], address, headers=script)
        assert search(client, address, headers=script) == ({a_parcel["parcel_id"]}, "primary")
        assert search(client, address, headers=reader) == (set(), database.REPLICA)


def test_beyond_the_lag_limit_reads_go_to_the_primary(
    app: Flask,
    strict_app: Flask,
    users: dict[str, SignedInClient],
    sample_on_primary: ReplicatedDatabase,
    a_parcel: dict[str, Any],
) -> None:
    lenient, strict = app.test_client(), strict_app.test_client()
    address = new_address()
    with replay_paused(sample_on_primary):
        set_address(users["editor"], a_parcel["parcel_id"], address)
        with strict_app.app_context():
            wait_until(lambda: (database.replica_lag_seconds() or 0) > 1, what="1 s behind")
            lag = database.replica_lag_seconds()
        assert lag is not None and lag > 1
        assert search(strict, address) == ({a_parcel["parcel_id"]}, database.PRIMARY)
        assert tile_address(strict, a_parcel) == address
        # within the 30 s of the other app, the replica still answers, with its older data
        assert search(lenient, address) == (set(), database.REPLICA)


def test_a_stopped_replica_sends_reads_to_the_primary_until_it_is_back(
    app: Flask,
    users: dict[str, SignedInClient],
    sample_on_primary: ReplicatedDatabase,
    a_parcel: dict[str, Any],
) -> None:
    anonymous, finance = app.test_client(), users["finance"]
    assert served_by_replica(anonymous)
    sample_on_primary.replica.stop()

    found, source = search(anonymous, str(a_parcel["parcel_id"]))
    assert (found, source) == ({a_parcel["parcel_id"]}, database.PRIMARY)
    assert tile_address(anonymous, a_parcel)
    response, source = read(finance, "/kpi/export?format=json")
    assert (response.status_code, source) == (200, database.PRIMARY)
    with app.app_context():
        assert database.replica_lag_seconds() is None

    sample_on_primary.replica.start()
    wait_until(lambda: served_by_replica(anonymous), what="reads back on the replica")
    with app.app_context():
        lag = database.replica_lag_seconds()
    assert lag is not None and 0 <= lag <= 30


def test_without_a_read_url_every_read_goes_to_the_primary(
    sample_on_primary: ReplicatedDatabase,
) -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": sample_on_primary.url,
            "DATABASE_READ_URL": None,
            "SECRET_KEY": "test",
        }
    )
    try:
        _found, source = search(app.test_client(), "Main")
        assert source == database.PRIMARY
        with app.app_context():
            assert database.replica_lag_seconds() is None
    finally:
        database.dispose(app)


def test_a_command_line_export_reads_the_replica_once_it_has_replayed_every_commit(
    users: dict[str, SignedInClient],
    sample_on_primary: ReplicatedDatabase,
    a_parcel: dict[str, Any],
    tmp_path: Path,
) -> None:
    """A script has no write mark: the export reads the replica only when it has replayed all
    that was committed before the export began, so the file is as current as the primary's."""
    from click.testing import CliRunner

    from cli.main import cli

    env = {"DATABASE_URL": sample_on_primary.url, "DATABASE_READ_URL": sample_on_primary.read_url}

    def export() -> str:
        target = tmp_path / f"{uuid.uuid4().hex}.csv"
        args = ["export", "portfolio", "-f", "csv", "-o", str(target)]
        result = CliRunner().invoke(cli, args, env=env)
        assert result.exit_code == 0, result.output
        return target.read_text()

    def parcel_scans_on_the_replica() -> int:
        return int(
            sample_on_primary.replica.execute(
                "SELECT seq_scan + coalesce(idx_scan, 0) FROM pg_stat_user_tables"
                " WHERE relname = 'parcels'",
                database=sample_on_primary.database,
            )
        )

    address = new_address()
    with replay_paused(sample_on_primary):
        set_address(users["editor"], a_parcel["parcel_id"], address)
        scans = parcel_scans_on_the_replica()
        assert address in export()  # from the primary: the replica has not replayed the edit
        time.sleep(0.5)
        assert parcel_scans_on_the_replica() == scans

    scans = parcel_scans_on_the_replica()
    assert address in export()
    wait_until(lambda: parcel_scans_on_the_replica() > scans, 5, "the export's scans counted")
