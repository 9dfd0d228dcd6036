"""Shape writes wait only for writes they could overlap (issue 15, finding 4: an editor's small
edit waited 18 s behind a huge save elsewhere in the city, one lock for all shape writes).

No timing: the first writer saves a shape and keeps its transaction open; the second runs
through the whole app in a thread, and the test watches PostgreSQL until either the second has
answered or it is waiting for an advisory lock (pg_locks, this test's database only). Whether a
writer waits is then a fact about locks, not about how fast the machine is.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from flask import Flask
from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.database import session_factory
from registry.db import unit_of_work
from registry.imports.parcels import ImportOptions
from registry.imports.parcels import import_parcels
from registry.parcels.records import ParcelChange
from registry.parcels.records import update_parcel
from registry.parcels.shape_locks import MAX_CELLS
from registry.parcels.shape_locks import Box
from registry.parcels.shape_locks import lock_plan
from registry.parcels.shape_locks import lock_whole_city
from tests.auth_fixtures import bearer
from tests.parcel_fixtures import LAT
from tests.parcel_fixtures import LON
from tests.parcel_fixtures import add_departments
from tests.parcel_fixtures import editor_tokens
from tests.parcel_fixtures import new_parcel
from tests.parcel_fixtures import rows
from tests.parcel_fixtures import square
from tests.parcel_fixtures import token_client

HERE = "5555-012-034"
FAR = "5555-012-099"  # 0.1° (about 9 km) east of HERE
NEAR = "5555-012-035"
_WAITING = text(
    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
    "WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()"
)


@pytest.fixture
def city(app: Flask) -> Flask:
    """Two parcels 9 km apart, at version 1."""
    add_departments(app)
    editor = token_client(app, "setup@city.example")
    for parcel_id, lon in ((HERE, LON), (FAR, LON + 0.1)):
        created = editor.post("/api/parcels", json=new_parcel(parcel_id, square(lon=lon)))
        assert created.status_code == 201, created.get_json()
    return app


@contextmanager
def held_open(app: Flask) -> Iterator[Session]:
    """A writer's transaction, committed when the block ends (its locks held until then)."""
    with app.app_context(), unit_of_work(session_factory(), "first@city.example") as session:
        yield session


def reshape(app: Flask, session: Session, parcel_id: str, geometry: dict[str, Any]) -> None:
    settings = app.config["REGISTRY_SETTINGS"]
    update_parcel(session, parcel_id, 1, ParcelChange({}, geometry), settings)


def outcome(app: Flask, second: Future[Any]) -> str:
    """'answered' once the second writer has its answer, 'waiting' once it waits for a lock."""
    with app.app_context(), session_factory()() as watcher:
        for _ in range(3000):  # a guard against a hang, never reached by a passing test
            if second.done():
                return "answered"
            if watcher.execute(_WAITING).scalar_one():
                return "waiting"
            watcher.rollback()  # a fresh snapshot of pg_locks each time
            time.sleep(0.02)
    raise AssertionError("the second writer neither answered nor waited")


@pytest.fixture
def second_editor(city: Flask) -> Iterator[Callable[..., Future[Any]]]:
    """`send(method, path, json)`: the request of another editor, in a thread of its own."""
    ((_, token),) = editor_tokens(city, 1)
    pool = ThreadPoolExecutor(1)
    client = city.test_client()

    def send(method: str, path: str, body: Any, **headers: str) -> Future[Any]:
        return pool.submit(
            client.open, path, method=method, json=body, headers={**bearer(token), **headers}
        )

    yield send
    pool.shutdown(wait=True)


def test_two_editors_reshaping_parcels_far_apart_do_not_wait_on_each_other(
    city: Flask, second_editor: Callable[..., Future[Any]]
) -> None:
    with held_open(city) as first:
        reshape(city, first, HERE, square(size=0.0012))
        second = second_editor(
            "PATCH",
            f"/api/parcels/{FAR}",
            {"geometry": square(LON + 0.1, size=0.0012)},
            **{"If-Match": '"v1"'},
        )
        seen = outcome(city, second)
    assert seen == "answered"  # while the first edit was still open
    assert second.result().status_code == 200, second.result().get_json()


def test_two_shapes_that_could_overlap_are_saved_one_after_the_other_never_both(
    city: Flask, second_editor: Callable[..., Future[Any]]
) -> None:
    """Each shape passes the overlap check alone: the second must wait for the first to
    commit, then see it and be refused."""
    with held_open(city) as first:
        reshape(city, first, HERE, square(size=0.002))  # grows over where NEAR will be drawn
        second = second_editor(
            "POST", "/api/parcels", new_parcel(NEAR, square(LON + 0.0015, LAT + 0.0015))
        )
        seen = outcome(city, second)
    assert seen == "waiting"
    response = second.result()
    assert response.status_code == 422, response.get_json()
    assert f"overlaps {HERE}" in response.get_json()["errors"][0]["message"]
    assert rows(city, "SELECT parcel_id FROM parcels WHERE parcel_id = :id", id=NEAR) == []


def test_a_single_edit_waits_while_an_import_holds_the_city(
    city: Flask, second_editor: Callable[..., Future[Any]]
) -> None:
    """What an import takes from its checks to its commit: every shape write waits, however
    far away."""
    with held_open(city) as importing:
        lock_whole_city(importing)
        second = second_editor(
            "PATCH",
            f"/api/parcels/{FAR}",
            {"geometry": square(LON + 0.1, size=0.0012)},
            **{"If-Match": '"v1"'},
        )
        seen = outcome(city, second)
    assert seen == "waiting"
    assert second.result().status_code == 200


def test_an_import_waits_for_a_single_edit_under_way_and_refuses_what_overlaps_it(
    city: Flask, tmp_path: Path
) -> None:
    path = tmp_path / "parcels.gpkg"
    overlapping = box(LON + 0.0015, LAT + 0.0015, LON + 0.0025, LAT + 0.0025)
    gpd.GeoDataFrame(
        [{"APN": NEAR, "SITE_ADDR": "1 Main St", "DEPT": "GSD", "geometry": overlapping}],
        geometry="geometry",
        crs="EPSG:4326",
    ).to_file(path)
    settings = city.config["REGISTRY_SETTINGS"]
    with ThreadPoolExecutor(1) as pool:
        with held_open(city) as first:
            reshape(city, first, HERE, square(size=0.002))
            with city.app_context():
                factory = session_factory()
                running = pool.submit(
                    import_parcels, factory, path, ImportOptions(skip_invalid=True), settings, "t"
                )
                seen = outcome(city, running)
        report = running.result()
    assert seen == "waiting"
    (problem,) = [p for p in report.problems if p.severity == "error"]
    assert f"overlaps parcel {HERE} in the registry" in problem.message
    assert rows(city, "SELECT parcel_id FROM parcels WHERE parcel_id = :id", id=NEAR) == []


# --- the plan of locks, for boxes of every size ---------------------------------------------


def _conflict(a: list[tuple[int, int, bool]], b: list[tuple[int, int, bool]]) -> bool:
    """Whether two writers with these plans wait for each other: a key both take, one of
    them exclusively."""
    modes = {(level, cell): shared for level, cell, shared in a}
    return any(
        (level, cell) in modes and not (shared and modes[(level, cell)])
        for level, cell, shared in b
    )


def _random_box(rng: random.Random) -> Box:
    span = rng.choice([0.0005, 0.005, 0.03, 0.2, 1.0])  # a lot, a block, a park, a district, more
    west, south = rng.uniform(-118.7, -118.1), rng.uniform(33.8, 34.3)
    return Box(west, south, west + rng.uniform(0, span), south + rng.uniform(0, span))


def _meet(a: Box, b: Box) -> bool:
    return a.xmin <= b.xmax and b.xmin <= a.xmax and a.ymin <= b.ymax and b.ymin <= a.ymax


def test_any_two_writes_whose_boxes_meet_wait_for_each_other_whatever_their_size() -> None:
    rng = random.Random(15)
    pairs = [(_random_box(rng), _random_box(rng)) for _ in range(20_000)]
    meeting = [(a, b) for a, b in pairs if _meet(a, b)]
    assert len(meeting) > 500
    for a, b in meeting:
        assert _conflict(lock_plan(a), lock_plan(b)), (a, b)
    for a, _ in pairs:
        assert len(lock_plan(a)) <= 1 + 2 * MAX_CELLS


def test_small_writes_far_apart_share_no_lock() -> None:
    here = Box(LON, LAT, LON + 0.001, LAT + 0.001)
    for east in (0.02, 0.1, 0.5):
        there = Box(LON + east, LAT, LON + east + 0.001, LAT + 0.001)
        assert not _conflict(lock_plan(here), lock_plan(there))
    park = Box(LON + 0.3, LAT, LON + 0.35, LAT + 0.05)  # coarse cells, exclusively
    assert not _conflict(lock_plan(here), lock_plan(park))
    assert lock_plan(None) == lock_plan(Box(-120, 33, -117, 35))  # the whole city, exclusively
