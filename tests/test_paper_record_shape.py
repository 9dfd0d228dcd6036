"""A paper record (no shape) gets its shape in the map editor: the parcel page offers *Draw its
shape* to editors, `/?edit=<id>` opens the editor on the record, and the editor's PATCH saves the
shape to that record and moves it on to digitized (the browser side: test_browser_paper_shape)."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from tests.auth_fixtures import LoginHelper
from tests.auth_fixtures import SignedInClient

PAPER_ID = "5555-012-034"
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
DRAW_BUTTON = re.compile(
    r'<form method="get" action="/" class="draw-shape">\s*'
    rf'<input type="hidden" name="edit" value="{PAPER_ID}">\s*'
    r'<button type="submit" aria-describedby="draw-shape-hint">Draw its shape</button>'
)


def _paper_record(client: SignedInClient, parcel_id: str = PAPER_ID) -> str:
    """A record without a shape, as legacy paper files arrive; its ETag."""
    response = client.post(
        "/api/parcels",
        json={
            "type": "Feature",
            "geometry": None,
            "properties": {
                "parcel_id": parcel_id,
                "address": "200 N Spring St",
                "digitization_status": "paper",
            },
        },
    )
    assert response.status_code == 201, response.get_json()
    return str(response.headers["ETag"])


def test_an_editor_is_offered_draw_its_shape_on_a_paper_record(
    editor_client: SignedInClient,
) -> None:
    _paper_record(editor_client)
    page = editor_client.get(f"/parcels/{PAPER_ID}").get_data(as_text=True)
    assert DRAW_BUTTON.search(page), "a real button in a form that opens the map editor"


def test_viewers_and_visitors_are_not_offered_draw_its_shape(
    app: Flask, editor_client: SignedInClient, auth: LoginHelper, client: FlaskClient
) -> None:
    _paper_record(editor_client)
    viewer = auth.signed_in_client(app, "viewer")
    for reader in (viewer, client):
        page = reader.get(f"/parcels/{PAPER_ID}").get_data(as_text=True)
        assert f"Parcel {PAPER_ID}" in page
        assert "Draw its shape" not in page


def test_a_parcel_with_a_shape_is_not_offered_draw_its_shape(
    editor_client: SignedInClient,
) -> None:
    response = editor_client.post(
        "/api/parcels",
        json={
            "type": "Feature",
            "geometry": SQUARE,
            "properties": {"parcel_id": PAPER_ID},
        },
    )
    assert response.status_code == 201, response.get_json()
    assert "Draw its shape" not in editor_client.get(f"/parcels/{PAPER_ID}").get_data(as_text=True)


def test_the_map_opens_the_editor_on_the_record_named_by_edit(
    app: Flask, editor_client: SignedInClient, auth: LoginHelper
) -> None:
    page = editor_client.get(f"/?edit={PAPER_ID}").get_data(as_text=True)
    assert f'"editParcel": "{PAPER_ID}"' in page
    assert 'id="draw-shape"' in page and ">Draw its shape</button>" in page
    assert '"editParcel": null' in editor_client.get("/").get_data(as_text=True)

    viewer_page = auth.signed_in_client(app, "viewer").get(f"/?edit={PAPER_ID}")
    assert "editParcel" not in viewer_page.get_data(as_text=True)
    assert "draw-shape" not in viewer_page.get_data(as_text=True)


def test_the_editors_patch_gives_the_record_its_shape_and_moves_it_to_digitized(
    editor_client: SignedInClient,
) -> None:
    """What the editor sends when a drawn shape is finished: the same record, not a new one."""
    etag = _paper_record(editor_client)
    response = editor_client.patch(
        f"/api/parcels/{PAPER_ID}",
        headers={"If-Match": etag},
        json={
            "type": "Feature",
            "geometry": {"type": "MultiPolygon", "coordinates": [SQUARE["coordinates"]]},
            "properties": {"digitization_status": "digitized"},
        },
    )
    assert response.status_code == 200, response.get_json()
    feature = response.get_json()
    assert feature["properties"]["digitization_status"] == "digitized"
    assert feature["geometry"]["type"] == "MultiPolygon"
    history = editor_client.get(f"/api/parcels/{PAPER_ID}/history").get_json()["history"]
    assert [entry["action"] for entry in history] == ["INSERT", "UPDATE"]
    listing = editor_client.get("/api/parcels?limit=10").get_json()
    assert [f["id"] for f in listing["features"]] == [PAPER_ID]


def test_a_shape_sent_without_a_status_moves_a_paper_record_on_to_digitized(
    app: Flask, editor_client: SignedInClient
) -> None:
    """Scripts and GIS clients that PATCH only the shape get what the editor gets."""
    etag = _paper_record(editor_client)
    response = editor_client.patch(
        f"/api/parcels/{PAPER_ID}",
        json={"type": "Feature", "geometry": SQUARE, "properties": {}},
        headers={"If-Match": etag},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["properties"]["digitization_status"] == "digitized"
