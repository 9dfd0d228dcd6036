"""OGC API – Features Part 4 on `/ogc/collections/parcels/items`: create, replace, update, delete
through the parcel API's own validation, ETags, If-Match and audit trail.

Each change made through /ogc is found in the parcel's history (`/api/parcels/<id>/history`)
with the user who made it, as a change made on the map would be.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from owslib.ogcapi.features import Features

from tests.auth_fixtures import LoginHelper
from tests.auth_fixtures import bearer
from tests.conftest import LiveServer
from tests.parcel_fixtures import LON
from tests.parcel_fixtures import PROBLEM
from tests.parcel_fixtures import add_departments
from tests.parcel_fixtures import bow_tie
from tests.parcel_fixtures import fields
from tests.parcel_fixtures import new_parcel
from tests.parcel_fixtures import square
from tests.parcel_fixtures import token_client

ITEMS = "/ogc/collections/parcels/items"
MERGE_PATCH = "application/merge-patch+json"
PARCEL_ID = "5555-012-034"


@pytest.fixture
def editor(app: Flask) -> FlaskClient:
    add_departments(app)
    return token_client(app, "gis.editor@city.example")


def _history(client: FlaskClient, parcel_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/parcels/{parcel_id}/history")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["history"]


def _changed(entry: dict[str, Any]) -> dict[str, Any]:
    return {change["field"]: change["new"] for change in entry["changes"]}


def _create(editor: FlaskClient, **properties: Any) -> Any:
    return editor.post(ITEMS, json=new_parcel(PARCEL_ID, **properties))


def test_a_parcel_created_replaced_updated_and_deleted_through_ogc_shows_each_change_in_its_history(
    editor: FlaskClient,
) -> None:
    created = _create(editor)
    assert created.status_code == 201, created.get_json()
    assert created.headers["Location"].endswith(f"{ITEMS}/{PARCEL_ID}")
    assert created.headers["ETag"] == '"v1"'
    assert created.mimetype == "application/geo+json"

    replacement = new_parcel(PARCEL_ID, square(LON + 0.01), address="1 Replacement Way")
    replacement["properties"].pop("acquisition_cost")  # a replace clears what it leaves out
    replaced = editor.put(f"{ITEMS}/{PARCEL_ID}", json=replacement, headers={"If-Match": '"v1"'})
    assert replaced.status_code == 200, replaced.get_json()
    assert replaced.headers["ETag"] == '"v2"'
    assert replaced.get_json()["properties"]["acquisition_cost"] is None

    patched = editor.patch(
        f"{ITEMS}/{PARCEL_ID}",
        data='{"properties": {"use": "Museum", "address": null}}',
        headers={"If-Match": '"v2"', "Content-Type": MERGE_PATCH},
    )
    assert patched.status_code == 200, patched.get_json()
    properties = patched.get_json()["properties"]
    assert (properties["use"], properties["address"], properties["status"]) == (
        "Museum",
        None,
        "in_use",
    )

    deleted = editor.delete(f"{ITEMS}/{PARCEL_ID}", headers={"If-Match": '"v3"'})
    assert deleted.status_code == 204

    history = _history(editor, PARCEL_ID)
    assert [entry["actor"] for entry in history] == ["gis.editor@city.example"] * 4
    assert [entry["version"] for entry in history] == [1, 2, 3, 4]
    assert _changed(history[0])["parcel_id"] == PARCEL_ID
    assert _changed(history[1])["address"] == "1 Replacement Way"
    assert "acquisition_cost" in _changed(history[1])
    assert "geometry" in _changed(history[1])
    assert _changed(history[2]) == {"use": "Museum", "address": None}
    assert "retired_at" in _changed(history[3])


def test_a_stale_if_match_is_refused_with_412_and_nothing_is_written(editor: FlaskClient) -> None:
    assert _create(editor).status_code == 201
    for method, body in (("put", new_parcel(PARCEL_ID)), ("patch", {"properties": {"use": "X"}})):
        response = editor.open(
            f"{ITEMS}/{PARCEL_ID}", method=method, json=body, headers={"If-Match": '"v7"'}
        )
        assert response.status_code == 412, response.get_json()
        assert response.get_json()["changed_by"] == "gis.editor@city.example"
    assert editor.delete(f"{ITEMS}/{PARCEL_ID}", headers={"If-Match": '"v7"'}).status_code == 412
    assert editor.patch(f"{ITEMS}/{PARCEL_ID}", json={"properties": {}}).status_code == 428
    assert len(_history(editor, PARCEL_ID)) == 1


def test_an_invalid_geometry_is_a_422_problem_naming_the_field(editor: FlaskClient) -> None:
    response = editor.post(ITEMS, json=new_parcel(PARCEL_ID, bow_tie()))
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert fields(response) == {"geometry"}
    assert _create(editor).status_code == 201
    crossed = editor.patch(
        f"{ITEMS}/{PARCEL_ID}", json={"geometry": bow_tie()}, headers={"If-Match": '"v1"'}
    )
    assert crossed.status_code == 422
    assert fields(crossed) == {"geometry"}


def test_a_replace_must_keep_the_id_and_give_every_required_field(editor: FlaskClient) -> None:
    assert _create(editor).status_code == 201
    response = editor.put(
        f"{ITEMS}/{PARCEL_ID}",
        json={"type": "Feature", "properties": {"parcel_id": "5555-012-099"}},
        headers={"If-Match": '"v1"'},
    )
    assert response.status_code == 422
    assert {"parcel_id", "geometry"} <= fields(response)
    partial = editor.put(
        f"{ITEMS}/{PARCEL_ID}",
        json={"type": "Feature", "geometry": square(), "properties": {"use": "Yard"}},
        headers={"If-Match": '"v1"'},
    )
    assert partial.status_code == 422
    assert {"status", "legal_interest", "digitization_status"} <= fields(partial)


def test_a_viewer_token_is_refused_403_and_an_anonymous_caller_401(app: Flask) -> None:
    add_departments(app)
    viewer = LoginHelper().token(app, "viewer@city.example", "viewer")
    anonymous = app.test_client()
    body = new_parcel(PARCEL_ID)
    assert anonymous.post(ITEMS, json=body, headers=bearer(viewer)).status_code == 403
    refused = anonymous.post(ITEMS, json=body, headers={"Accept": "application/json"})
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    for method in ("put", "patch", "delete"):
        response = anonymous.open(
            f"{ITEMS}/{PARCEL_ID}", method=method, json=body, headers={"If-Match": '"v1"'}
        )
        assert response.status_code == 401, method


def test_only_the_parcels_collection_is_writable(editor: FlaskClient) -> None:
    response = editor.post("/ogc/collections/districts/items", json=new_parcel(PARCEL_ID))
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert editor.post("/ogc/collections/nothing/items", json={}).status_code == 404


def test_a_body_of_another_media_type_is_refused_415(editor: FlaskClient) -> None:
    response = editor.post(ITEMS, data="parcel_id=1", content_type="text/plain")
    assert response.status_code == 415
    assert response.mimetype == PROBLEM


def test_owslib_creates_replaces_and_deletes_a_parcel_over_http(editor: FlaskClient) -> None:
    """A real OGC API client (OWSLib's Features) against the app served on a port."""
    app = editor.application
    token = editor.environ_base["HTTP_AUTHORIZATION"]
    with LiveServer(app) as server:
        features = Features(f"{server.url}/ogc", json_="{}")
        # a dict of this instance's own: OWSLib's constructor would update its module default
        features.headers = {**features.headers, "Authorization": token}
        assert features.collection_item_create("parcels", new_parcel(PARCEL_ID))
        assert features.response_headers["ETag"] == '"v1"'
        features.headers["If-Match"] = '"v1"'
        replacement = new_parcel(PARCEL_ID, address="2 Client Street")
        assert features.collection_item_update("parcels", PARCEL_ID, replacement)
        features.headers["If-Match"] = features.response_headers["ETag"]
        assert features.collection_item_delete("parcels", PARCEL_ID)
        features.headers["If-Match"] = '"v1"'
        with pytest.raises(RuntimeError, match="changed by someone else"):
            features.collection_item_delete("parcels", PARCEL_ID)
    history = _history(editor, PARCEL_ID)
    assert [entry["action"] for entry in history] == ["INSERT", "UPDATE", "UPDATE"]
    assert {entry["actor"] for entry in history} == {"gis.editor@city.example"}
    assert _changed(history[1]) == {"address": "2 Client Street"}
