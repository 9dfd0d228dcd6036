"""No lost updates: of editors who save the same version at the same moment, exactly one wins.

Every request runs in its own thread with its own client, through the whole app and its pool of
real PostgreSQL connections to the test's own database, started together at a barrier.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import sessionmaker

from registry.db import create_registry_engine
from tests.auth_fixtures import SignedInClient
from tests.auth_fixtures import bearer
from tests.parcel_fixtures import LAT
from tests.parcel_fixtures import LON
from tests.parcel_fixtures import SIZE
from tests.parcel_fixtures import add_departments
from tests.parcel_fixtures import create
from tests.parcel_fixtures import editor_tokens
from tests.parcel_fixtures import feature
from tests.parcel_fixtures import history_events
from tests.parcel_fixtures import new_parcel
from tests.parcel_fixtures import patch
from tests.parcel_fixtures import signed_in_editors
from tests.parcel_fixtures import square
from tests.parcel_fixtures import stored

EDITORS = 20
PARCEL = "5555-012-034"


@pytest.fixture
def editor(app: Flask, editor_client: SignedInClient) -> SignedInClient:
    add_departments(app)
    return editor_client


def _race(calls: list[Callable[[], Any]]) -> list[tuple[int, Any]]:
    """Run `calls` at once (each in its own thread); their (status, JSON body), in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> tuple[int, Any]:
        barrier.wait(timeout=10)
        response = call()
        return response.status_code, response.get_json()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _statuses(results: list[tuple[int, Any]]) -> list[int]:
    return sorted(status for status, _ in results)


def test_twenty_editors_patching_the_same_version_one_wins_and_nineteen_get_412(
    app: Flask, editor: SignedInClient
) -> None:
    create(editor, PARCEL)
    events_before = len(history_events(app, PARCEL))
    tokens = editor_tokens(app, EDITORS)
    clients = [app.test_client() for _ in tokens]

    def save(number: int) -> Callable[[], Any]:
        body = {"properties": {"address": f"{number} Main St"}}
        return lambda: clients[number].patch(
            f"/api/parcels/{PARCEL}",
            json=body,
            headers={**bearer(tokens[number][1]), "If-Match": '"v1"'},
        )

    results = _race([save(number) for number in range(EDITORS)])

    assert _statuses(results) == [200] + [412] * (EDITORS - 1)
    (winner,) = [number for number, (status, _) in enumerate(results) if status == 200]
    row = stored(app, PARCEL)
    assert row is not None
    assert (row["address"], row["version"]) == (f"{winner} Main St", 2)
    events = history_events(app, PARCEL)
    assert len(events) == events_before + 1
    assert events[-1]["actor"] == tokens[winner][0]
    for status, problem in results:
        if status == 412:
            assert problem["current_version"] == 2
            assert problem["changed_by"] == tokens[winner][0]
            assert problem["current"]["properties"]["address"] == f"{winner} Main St"


def test_twenty_editors_reshaping_the_same_version_one_shape_is_kept(
    app: Flask, editor: SignedInClient
) -> None:
    """Session-signed-in editors (CSRF header, cookie) this time, and geometry writes, which also
    take the registry's lock on shapes."""
    create(editor, PARCEL)
    events_before = len(history_events(app, PARCEL))
    clients = signed_in_editors(app, EDITORS, "shaper")

    def save(number: int) -> Callable[[], Any]:
        body = {"geometry": square(size=SIZE + (number + 1) * 0.00001)}  # each its own shape
        return lambda: clients[number].patch(
            f"/api/parcels/{PARCEL}", json=body, headers={"If-Match": '"v1"'}
        )

    results = _race([save(number) for number in range(EDITORS)])

    assert _statuses(results) == [200] + [412] * (EDITORS - 1)
    (winner,) = [number for number, (status, _) in enumerate(results) if status == 200]
    row = stored(app, PARCEL)
    assert row is not None and row["version"] == 2
    assert results[winner][1]["geometry"]["coordinates"][0][0][2] == pytest.approx(
        [LON + SIZE + (winner + 1) * 0.00001, LAT + SIZE + (winner + 1) * 0.00001]
    )
    events = history_events(app, PARCEL)
    assert len(events) == events_before + 1
    assert (events[-1]["actor"], events[-1]["changed_fields"]) == (clients[winner].email, ["geom"])


def test_twenty_editors_creating_the_same_parcel_id_one_is_created_the_rest_get_422(
    app: Flask, editor: SignedInClient
) -> None:
    tokens = editor_tokens(app, EDITORS)
    clients = [app.test_client() for _ in tokens]

    def save(number: int) -> Callable[[], Any]:
        body = new_parcel(PARCEL, square(lon=-118.25 + number * 0.002))
        return lambda: clients[number].post(
            "/api/parcels", json=body, headers=bearer(tokens[number][1])
        )

    results = _race([save(number) for number in range(EDITORS)])

    assert _statuses(results) == [201] + [422] * (EDITORS - 1)
    for status, problem in results:
        if status == 422:
            assert [e["field"] for e in problem["errors"]] == ["parcel_id"]
    assert len(history_events(app, PARCEL)) == 1


def test_twenty_editors_drawing_overlapping_parcels_at_once_only_one_is_saved(
    app: Flask, editor: SignedInClient
) -> None:
    """Each shape passes the overlap check alone; the lock on shape writes lets only the first
    one in, and every later one then sees it and is rejected."""
    tokens = editor_tokens(app, EDITORS)
    clients = [app.test_client() for _ in tokens]

    def save(number: int) -> Callable[[], Any]:
        body = new_parcel(f"5555-012-{number:03d}", square(lon=-118.25 + number * 0.00002))
        return lambda: clients[number].post(
            "/api/parcels", json=body, headers=bearer(tokens[number][1])
        )

    results = _race([save(number) for number in range(EDITORS)])

    assert _statuses(results) == [201] + [422] * (EDITORS - 1)
    for status, problem in results:
        if status == 422:
            assert "overlaps" in problem["errors"][0]["message"]
    client: FlaskClient = editor
    assert client.get("/api/parcels").get_json()["numberReturned"] == 1


def test_more_simultaneous_saves_than_pooled_connections_all_get_an_answer(
    app: Flask, editor: SignedInClient
) -> None:
    """A save signed in by cookie reads the user first; were that read connection held while
    the write waits for another, a few saves would take the whole pool and wait for ever."""
    create(editor, PARCEL)
    clients = signed_in_editors(app, 6)
    small_pool = create_registry_engine(
        app.config["DATABASE_URL"], pool_size=2, max_overflow=0, pool_timeout=5
    )
    regular = app.extensions["registry"]
    app.extensions["registry"] = sessionmaker(small_pool, expire_on_commit=False)
    try:
        results = _race(
            [
                functools.partial(patch, client, PARCEL, '"v1"', feature(use=client.email))
                for client in clients
            ]
        )
    finally:
        app.extensions["registry"] = regular
        small_pool.dispose()
    assert _statuses(results) == [200] + [412] * 5
