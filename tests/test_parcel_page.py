from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.auth_fixtures import SignedInClient

SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [
            [-118.25, 34.05],
            [-118.2495, 34.05],
            [-118.2495, 34.0505],
            [-118.25, 34.0505],
            [-118.25, 34.05],
        ]
    ],
}
MOVED = {
    "type": "Polygon",
    "coordinates": [
        [
            [-118.25, 34.05],
            [-118.2494, 34.05],
            [-118.2494, 34.0506],
            [-118.25, 34.0505],
            [-118.25, 34.05],
        ]
    ],
}


def _create(client: SignedInClient) -> str:
    response = client.post(
        "/api/parcels",
        json={
            "type": "Feature",
            "geometry": SQUARE,
            "properties": {
                "parcel_id": "5555-012-034",
                "address": "200 N Spring St",
                "status": "in_use",
                "acquisition_cost": "1250000.00",
            },
        },
    )
    assert response.status_code == 201, response.get_json()
    return str(response.headers["ETag"])


def test_the_parcel_page_lists_every_change_with_who_and_old_and_new_values(
    editor_client: SignedInClient,
) -> None:
    etag = _create(editor_client)
    response = editor_client.patch(
        "/api/parcels/5555-012-034",
        headers={"If-Match": etag},
        json={"type": "Feature", "geometry": MOVED, "properties": {"address": "201 N Spring St"}},
    )
    assert response.status_code == 200
    page = editor_client.get("/parcels/5555-012-034").get_data(as_text=True)
    assert page.count('class="history-entry"') == 2
    assert "editor@city.example" in page
    assert "200 N Spring St" in page and "201 N Spring St" in page
    assert "grey dashed: before" in page  # the shape change, drawn on a small map
    assert "Restore this version" in page


def test_restoring_an_earlier_version_is_a_new_audited_change(
    editor_client: SignedInClient,
) -> None:
    etag = _create(editor_client)
    editor_client.patch(
        "/api/parcels/5555-012-034",
        headers={"If-Match": etag},
        json={"type": "Feature", "geometry": MOVED, "properties": {"address": "201 N Spring St"}},
    )
    first_event = editor_client.get("/api/parcels/5555-012-034/history").get_json()["history"][0]
    response = editor_client.post(
        "/parcels/5555-012-034/restore",
        data={
            "event_id": first_event["event_id"],
            "version": 2,
            "csrf_token": editor_client.csrf_token,
        },
    )
    assert response.status_code == 302
    restored = editor_client.get("/api/parcels/5555-012-034").get_json()
    assert restored["properties"]["address"] == "200 N Spring St"
    assert restored["properties"]["version"] == 3
    assert restored["geometry"]["coordinates"][0][0][2] == [-118.2495, 34.0505]
    history = editor_client.get("/api/parcels/5555-012-034/history").get_json()["history"]
    assert [entry["action"] for entry in history] == ["INSERT", "UPDATE", "UPDATE"]


def test_a_stale_restore_is_refused_and_changes_nothing(editor_client: SignedInClient) -> None:
    etag = _create(editor_client)
    editor_client.patch(
        "/api/parcels/5555-012-034",
        headers={"If-Match": etag},
        json={"type": "Feature", "properties": {"address": "201 N Spring St"}},
    )
    first_event = editor_client.get("/api/parcels/5555-012-034/history").get_json()["history"][0]
    response = editor_client.post(
        "/parcels/5555-012-034/restore",
        data={
            "event_id": first_event["event_id"],
            "version": 1,
            "csrf_token": editor_client.csrf_token,
        },
        follow_redirects=True,
    )
    assert "Not restored" in response.get_data(as_text=True)
    assert editor_client.get("/api/parcels/5555-012-034").get_json()["properties"]["version"] == 2


def test_a_viewer_reads_the_history_but_cannot_restore(
    app: Flask,
    editor_client: SignedInClient,
    auth,
    client: FlaskClient,  # type: ignore[no-untyped-def]
) -> None:
    _create(editor_client)
    viewer = auth.signed_in_client(app, "viewer")
    page = viewer.get("/parcels/5555-012-034").get_data(as_text=True)
    assert 'class="history-entry"' in page
    assert "Restore this version" not in page
    response = viewer.post(
        "/parcels/5555-012-034/restore",
        data={"event_id": 1, "version": 1, "csrf_token": viewer.csrf_token},
    )
    assert response.status_code == 403


def test_anonymous_visitors_see_only_what_the_city_publishes(
    editor_client: SignedInClient, client: FlaskClient
) -> None:
    _create(editor_client)
    page = client.get("/parcels/5555-012-034").get_data(as_text=True)
    assert "200 N Spring St" in page
    assert "1,250,000.00" not in page and "History" not in page
