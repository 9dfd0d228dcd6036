"""Messages and history in the words of the parcel form (issue 12, item 3): "Acquisition cost",
"Overlap reason", "restored from 2026-11-25 14:02 by …", never `acquisition_cost` or a change id.
"""

from __future__ import annotations

import re

from tests.auth_fixtures import SignedInClient
from tests.test_parcel_page import MOVED
from tests.test_parcel_page import _create

NEIGHBOUR = {
    "type": "Polygon",
    "coordinates": [
        [
            [-118.2497, 34.05],
            [-118.2490, 34.05],
            [-118.2490, 34.0505],
            [-118.2497, 34.0505],
            [-118.2497, 34.05],
        ]
    ],
}


def test_a_restore_says_when_and_by_whom_the_version_restored_was_made(
    editor_client: SignedInClient,
) -> None:
    etag = _create(editor_client)
    editor_client.patch(
        "/api/parcels/5555-012-034",
        headers={"If-Match": etag},
        json={"type": "Feature", "geometry": MOVED, "properties": {"acquisition_cost": "9.00"}},
    )
    first_event = editor_client.get("/api/parcels/5555-012-034/history").get_json()["history"][0]
    response = editor_client.post(
        "/parcels/5555-012-034/restore",
        data={
            "event_id": first_event["event_id"],
            "version": 2,
            "csrf_token": editor_client.csrf_token,
        },
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    made = first_event["occurred_at"][:16].replace("T", " ")
    assert f"Restored from {made} by editor@city.example" in page
    assert "of change" not in page
    history = page[page.index('id="history"') :]
    assert "Acquisition cost" in history
    assert not re.search(r">\s*acquisition_cost\s*<", history)


def test_an_overlap_is_explained_with_the_forms_overlap_reason(
    editor_client: SignedInClient,
) -> None:
    _create(editor_client)
    response = editor_client.post(
        "/api/parcels",
        json={
            "type": "Feature",
            "geometry": NEIGHBOUR,
            "properties": {"parcel_id": "5555-012-035", "status": "in_use"},
        },
    )
    assert response.status_code == 422
    (message,) = [e["message"] for e in response.get_json()["errors"] if e["field"] == "geometry"]
    assert "Overlap reason" in message
    assert "overlap_accepted_reason" not in message
