"""A parcel's history (from the audit trail) and restoring an earlier version as a new edit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from shapely.geometry import shape

from tests.parcel_fixtures import SIZE
from tests.parcel_fixtures import Lot
from tests.parcel_fixtures import TokenClient
from tests.parcel_fixtures import Workspace
from tests.parcel_fixtures import create
from tests.parcel_fixtures import feature
from tests.parcel_fixtures import fields
from tests.parcel_fixtures import new_parcel
from tests.parcel_fixtures import patch
from tests.parcel_fixtures import scalar
from tests.parcel_fixtures import state
from tests.parcel_fixtures import token_client
from tests.parcel_fixtures import workspace

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def ws(template_url: str) -> Iterator[Workspace]:
    with workspace(template_url) as shared:
        yield shared


@pytest.fixture(scope="module")
def people(ws: Workspace) -> dict[str, TokenClient]:
    return {name: token_client(ws.app, f"{name}@city.example") for name in ("ana", "ben")}


@pytest.fixture
def app(ws: Workspace) -> Flask:
    return ws.app


@pytest.fixture
def ana(people: dict[str, TokenClient]) -> TokenClient:
    return people["ana"]


@pytest.fixture
def ben(people: dict[str, TokenClient]) -> TokenClient:
    return people["ben"]


@pytest.fixture
def lot(ws: Workspace) -> Lot:
    return ws.lot()


def _history(client: TokenClient, parcel_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/parcels/{parcel_id}/history")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["parcel_id"] == parcel_id
    return body["history"]


def _changes(entry: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {change["field"]: (change["old"], change["new"]) for change in entry["changes"]}


def _restore(client: TokenClient, parcel_id: str, event_id: int, if_match: str | None) -> Any:
    headers = {"If-Match": if_match} if if_match else {}
    return client.post(f"/api/parcels/{parcel_id}/history/{event_id}/restore", headers=headers)


def test_the_history_lists_every_change_who_when_which_fields_and_the_shapes(
    ana: TokenClient, ben: TokenClient, lot: Lot
) -> None:
    parcel = lot.id()
    create(ana, parcel, lot.square())
    patch(
        ben,
        parcel,
        '"v1"',
        feature(address="1 Main St", acquisition_cost="99.95", department_code="LAPD"),
    )
    patch(ana, parcel, '"v2"', feature(lot.square(size=SIZE / 2)))
    ben.delete(f"/api/parcels/{parcel}", headers={"If-Match": '"v3"'})

    created, edited, reshaped, retired = entries = _history(ana, parcel)

    assert [e["action"] for e in entries] == ["INSERT", "UPDATE", "UPDATE", "UPDATE"]
    assert [e["actor"] for e in entries] == [
        "ana@city.example",
        "ben@city.example",
        "ana@city.example",
        "ben@city.example",
    ]
    assert [e["version"] for e in entries] == [1, 2, 3, 4]
    times = [dt.datetime.fromisoformat(e["occurred_at"]) for e in entries]
    assert times == sorted(times) and all(t.tzinfo for t in times)

    assert _changes(created)["address"] == (None, "200 N Spring St")
    assert _changes(created)["geometry"] == (None, "changed")
    assert created["before"]["geometry"] is None
    assert shape(created["after"]["geometry"]).equals(shape(lot.square()))

    assert _changes(edited) == {
        "address": ("200 N Spring St", "1 Main St"),
        "acquisition_cost": ("1250000.10", "99.95"),
        "department_code": ("GSD", "LAPD"),
    }
    assert edited["before"]["geometry"] == edited["after"]["geometry"]

    assert _changes(reshaped) == {"geometry": ("changed", "changed")}
    assert shape(reshaped["before"]["geometry"]).equals(shape(lot.square()))
    assert shape(reshaped["after"]["geometry"]).equals(shape(lot.square(size=SIZE / 2)))

    (retired_change,) = retired["changes"]
    assert (retired_change["field"], retired_change["old"]) == ("retired_at", None)
    assert dt.datetime.fromisoformat(retired_change["new"])


def test_a_viewer_reads_the_history(app: Flask, ana: TokenClient, lot: Lot) -> None:
    create(ana, lot.id(), lot.square())
    viewer = token_client(app, lot.email("viewer"), "viewer")
    assert [e["action"] for e in _history(viewer, lot.id())] == ["INSERT"]


def test_the_history_follows_the_parcel_across_a_change_of_its_id(
    ana: TokenClient, lot: Lot
) -> None:
    old_id, new_id = lot.id(0), lot.id(99)
    create(ana, old_id, lot.square())
    patch(ana, old_id, '"v1"', feature(address="1 Main St"))
    patch(ana, old_id, '"v2"', feature(parcel_id=new_id))
    create(ana, old_id, lot.square(east=0.005))  # a new parcel takes the old id

    renamed = _history(ana, new_id)
    newcomer = _history(ana, old_id)

    assert [e["version"] for e in renamed] == [1, 2, 3]
    assert _changes(renamed[2]) == {"parcel_id": (old_id, new_id)}
    assert [e["action"] for e in newcomer] == ["INSERT"]
    restored = _restore(ana, new_id, renamed[0]["event_id"], '"v3"')
    assert restored.status_code == 200
    assert restored.get_json()["properties"]["address"] == "200 N Spring St"
    assert restored.get_json()["id"] == new_id


def test_restoring_an_earlier_version_is_a_new_audited_change_bringing_back_values_and_shape(
    app: Flask, ana: TokenClient, ben: TokenClient, lot: Lot
) -> None:
    parcel = lot.id()
    original = create(ana, parcel, lot.square())
    patch(
        ben,
        parcel,
        '"v1"',
        feature(
            lot.square(size=SIZE / 2),
            address="1 Main St",
            status="surplus",
            acquisition_cost="5.00",
            council_district=None,
            department_code="RAP",
        ),
    )
    first = _history(ben, parcel)[0]

    response = _restore(ben, parcel, first["event_id"], '"v2"')

    assert response.status_code == 200
    assert response.headers["ETag"] == '"v3"'
    restored = response.get_json()
    assert restored["geometry"] == original["geometry"]
    ignore = {"version", "updated_at"}
    assert {k: v for k, v in restored["properties"].items() if k not in ignore} == {
        k: v for k, v in original["properties"].items() if k not in ignore
    }
    assert (
        scalar(app, "SELECT acquisition_cost::text FROM parcels WHERE parcel_id = :id", id=parcel)
        == "1250000.10"
    )
    history = _history(ben, parcel)
    assert len(history) == 3
    assert (history[-1]["action"], history[-1]["actor"], history[-1]["version"]) == (
        "UPDATE",
        "ben@city.example",
        3,
    )
    assert _changes(history[-1]) == {
        "address": ("1 Main St", "200 N Spring St"),
        "status": ("surplus", "in_use"),
        "acquisition_cost": ("5.00", "1250000.10"),
        "council_district": (None, 14),
        "department_code": ("RAP", "GSD"),
        "geometry": ("changed", "changed"),
    }


def test_restoring_a_version_from_before_retirement_brings_the_parcel_back(
    ana: TokenClient, lot: Lot
) -> None:
    create(ana, lot.id(), lot.square())
    ana.delete(f"/api/parcels/{lot.id()}", headers={"If-Match": '"v1"'})
    response = _restore(ana, lot.id(), _history(ana, lot.id())[0]["event_id"], '"v2"')
    assert response.get_json()["properties"]["retired_at"] is None
    listed = ana.get(f"/api/parcels?q={lot.prefix}").get_json()["features"]
    assert [f["id"] for f in listed] == [lot.id()]


def test_restoring_a_version_without_a_shape_removes_the_shape(ana: TokenClient, lot: Lot) -> None:
    body = new_parcel(lot.id(), digitization_status="paper")
    del body["geometry"]
    assert ana.post("/api/parcels", json=body).status_code == 201
    patch(ana, lot.id(), '"v1"', feature(lot.square(), digitization_status="digitized"))
    response = _restore(ana, lot.id(), _history(ana, lot.id())[0]["event_id"], '"v2"')
    assert response.get_json()["geometry"] is None
    assert response.get_json()["properties"]["digitization_status"] == "paper"


def test_a_stale_restore_is_412_and_writes_nothing(
    app: Flask, ana: TokenClient, ben: TokenClient, lot: Lot
) -> None:
    parcel = lot.id()
    create(ana, parcel, lot.square())
    patch(ana, parcel, '"v1"', feature(address="1 Main St"))
    first = _history(ana, parcel)[0]
    patch(ben, parcel, '"v2"', feature(address="2 Main St"))
    before = state(app, parcel)

    response = _restore(ana, parcel, first["event_id"], '"v2"')

    assert (response.status_code, response.mimetype) == (412, PROBLEM)
    problem = response.get_json()
    assert (problem["current_version"], problem["changed_by"]) == (3, "ben@city.example")
    assert problem["current"]["properties"]["address"] == "2 Main St"
    assert state(app, parcel) == before


def test_a_restore_without_if_match_is_428_and_writes_nothing(
    app: Flask, ana: TokenClient, lot: Lot
) -> None:
    create(ana, lot.id(), lot.square())
    before = state(app, lot.id())
    response = _restore(ana, lot.id(), _history(ana, lot.id())[0]["event_id"], None)
    assert (response.status_code, response.mimetype) == (428, PROBLEM)
    assert state(app, lot.id()) == before


def test_restoring_a_change_of_another_parcel_or_none_is_404(
    app: Flask, ana: TokenClient, lot: Lot
) -> None:
    create(ana, lot.id(0), lot.square())
    create(ana, lot.id(1), lot.square(east=0.005))
    others = _history(ana, lot.id(1))[0]["event_id"]
    before = state(app, lot.id(0))
    for event_id in (others, 999_999):
        response = _restore(ana, lot.id(0), event_id, '"v1"')
        assert (response.status_code, response.mimetype) == (404, PROBLEM)
    assert state(app, lot.id(0)) == before


def test_a_restore_is_validated_like_any_edit(app: Flask, ana: TokenClient, lot: Lot) -> None:
    """The old shape now overlaps a parcel drawn since: refused, with the overlap named."""
    create(ana, lot.id(0), lot.square())
    patch(ana, lot.id(0), '"v1"', feature(lot.square(size=SIZE / 2)))
    create(ana, lot.id(1), lot.square(east=SIZE / 2, size=SIZE / 2))
    before = state(app, lot.id(0))

    response = _restore(ana, lot.id(0), _history(ana, lot.id(0))[0]["event_id"], '"v2"')

    assert (response.status_code, response.mimetype) == (422, PROBLEM)
    assert fields(response) == {"geometry"}
    assert lot.id(1) in response.get_json()["errors"][0]["message"]
    assert state(app, lot.id(0)) == before


def test_a_restore_is_one_change_even_when_it_also_brings_a_retired_parcel_back(
    ana: TokenClient, lot: Lot
) -> None:
    create(ana, lot.id(), lot.square())
    patch(ana, lot.id(), '"v1"', feature(address="1 Main St"))
    ana.delete(f"/api/parcels/{lot.id()}", headers={"If-Match": '"v2"'})
    first = _history(ana, lot.id())[0]

    response = _restore(ana, lot.id(), first["event_id"], '"v3"')

    assert response.headers["ETag"] == '"v4"'
    history = _history(ana, lot.id())
    assert len(history) == 4
    assert set(_changes(history[-1])) == {"address", "retired_at"}
