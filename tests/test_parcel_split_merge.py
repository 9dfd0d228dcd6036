"""Splitting a parcel by a line and merging adjacent parcels (issue 12, item 3): one audited
change each, the lineage kept, the same checks as an edit, nothing written when refused."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.parcel_fixtures import SIZE
from tests.parcel_fixtures import Lot
from tests.parcel_fixtures import TokenClient
from tests.parcel_fixtures import create
from tests.parcel_fixtures import etag
from tests.parcel_fixtures import fields
from tests.parcel_fixtures import message
from tests.parcel_fixtures import parcels_workspace  # noqa: F401 (a fixture)
from tests.parcel_fixtures import rows
from tests.parcel_fixtures import scalar
from tests.parcel_fixtures import state
from tests.parcel_fixtures import workspace_app  # noqa: F401 (a fixture)
from tests.parcel_fixtures import workspace_editor  # noqa: F401 (a fixture)
from tests.parcel_fixtures import workspace_lot  # noqa: F401 (a fixture)


def _north_south_line(lot: Lot, east: float = SIZE / 2) -> dict[str, Any]:
    """A line from south of the lot's square to north of it, `east` degrees in."""
    x = round(lot.lon + east, 9)
    return {
        "type": "LineString",
        "coordinates": [[x, lot.lat - SIZE / 4], [x, lot.lat + SIZE * 1.25]],
    }


def _split(editor: TokenClient, parcel_id: str, line: Any, ids: Any, if_match: str) -> Any:
    return editor.post(
        f"/api/parcels/{parcel_id}/split",
        json={"line": line, "parcel_ids": ids},
        headers={"If-Match": if_match},
    )


def _area(app: Flask, parcel_id: str) -> float:
    return float(
        scalar(
            app, "SELECT ST_Area(geom::geography) FROM parcels WHERE parcel_id = :id", id=parcel_id
        )
    )


def _events(app: Flask, transaction_of: str) -> list[dict[str, Any]]:
    """Every parcel audit event written by the transaction of `transaction_of`'s last event."""
    return rows(
        app,
        "SELECT row_key, action, actor FROM audit_events WHERE table_name = 'parcels' "
        "AND transaction_id = (SELECT transaction_id FROM audit_events "
        "WHERE table_name = 'parcels' AND row_key = :id ORDER BY id DESC LIMIT 1) ORDER BY id",
        id=transaction_of,
    )


def test_a_split_retires_the_parcel_creates_its_pieces_and_keeps_the_lineage(
    app: Flask, editor: TokenClient, lot: Lot
) -> None:
    original = create(editor, lot.id(), lot.square(), acquisition_cost="1000.00")
    whole = _area(app, lot.id())
    west, east = lot.id(1), lot.id(2)
    response = _split(editor, lot.id(), _north_south_line(lot, SIZE / 4), [west, east], '"v1"')
    assert response.status_code == 200, response.get_json()
    assert [f["id"] for f in response.get_json()["features"]] == [west, east]
    assert rows(
        app, "SELECT retired_at IS NOT NULL AS r FROM parcels WHERE parcel_id = :id", id=lot.id()
    )[0]["r"]
    assert abs(_area(app, west) + _area(app, east) - whole) < 0.01
    assert _area(app, west) < _area(app, east)  # a quarter and three quarters, west to east
    costs = {f["id"]: f["properties"]["acquisition_cost"] for f in response.get_json()["features"]}
    assert costs == {west: "250.00", east: "750.00"}  # the cost follows the land
    assert (
        original["properties"]["address"]
        == response.get_json()["features"][0]["properties"]["address"]
    )
    # one audited change: the retirement and both creations in one transaction, by the editor
    events = _events(app, east)
    assert {(e["row_key"], e["action"]) for e in events} == {
        (lot.id(), "UPDATE"),
        (west, "INSERT"),
        (east, "INSERT"),
    }
    assert {e["actor"] for e in events} == {editor.email}
    lineage = rows(
        app,
        "SELECT c.parcel_id AS child, p.parcel_id AS parent, l.operation, l.made_by "
        "FROM parcel_lineage l JOIN parcels c ON c.id = l.child_id "
        "JOIN parcels p ON p.id = l.parent_id ORDER BY c.parcel_id",
    )
    mine = [row for row in lineage if row["parent"] == lot.id()]
    assert mine == [
        {"child": west, "parent": lot.id(), "operation": "split", "made_by": editor.email},
        {"child": east, "parent": lot.id(), "operation": "split", "made_by": editor.email},
    ]


def test_a_line_that_does_not_cross_the_parcel_is_refused_and_nothing_is_written(
    app: Flask, editor: TokenClient, lot: Lot
) -> None:
    create(editor, lot.id(), lot.square())
    before = state(app, lot.id())
    outside = _north_south_line(lot, SIZE * 3)
    response = _split(editor, lot.id(), outside, [lot.id(1), lot.id(2)], '"v1"')
    assert response.status_code == 422
    assert "does not cut parcel" in message(response, "line")
    half_way = {
        "type": "LineString",
        "coordinates": [
            [lot.lon + SIZE / 2, lot.lat - SIZE],
            [lot.lon + SIZE / 2, lot.lat + SIZE / 2],
        ],
    }
    assert _split(editor, lot.id(), half_way, [lot.id(1), lot.id(2)], '"v1"').status_code == 422
    assert state(app, lot.id()) == before


def test_a_split_needs_one_new_id_per_piece_and_a_readable_line(
    app: Flask, editor: TokenClient, lot: Lot
) -> None:
    create(editor, lot.id(), lot.square())
    before = state(app, lot.id())
    line = _north_south_line(lot)
    three = _split(editor, lot.id(), line, [lot.id(1), lot.id(2), lot.id(3)], '"v1"')
    assert three.status_code == 422
    assert "into 2 pieces" in message(three, "parcel_ids")
    assert fields(_split(editor, lot.id(), line, [lot.id(1), lot.id(1)], '"v1"')) == {"parcel_ids"}
    assert fields(_split(editor, lot.id(), line, [lot.id(), lot.id(1)], '"v1"')) == {"parcel_ids"}
    point = {"type": "Point", "coordinates": [lot.lon, lot.lat]}
    assert fields(_split(editor, lot.id(), point, [lot.id(1), lot.id(2)], '"v1"')) == {"line"}
    assert state(app, lot.id()) == before


def test_a_split_piece_that_fails_an_edits_checks_writes_nothing(
    app: Flask, editor: TokenClient, lot: Lot
) -> None:
    """A new id already taken is a problem of the piece's creation: the retirement is undone."""
    create(editor, lot.id(), lot.square())
    create(editor, lot.id(9), lot.square(east=SIZE * 5))
    before = state(app, lot.id())
    response = _split(editor, lot.id(), _north_south_line(lot), [lot.id(1), lot.id(9)], '"v1"')
    assert response.status_code == 422
    assert "parcel_id" in fields(response)
    assert state(app, lot.id()) == before


def test_a_stale_if_match_is_412_and_writes_nothing(
    app: Flask, editor: TokenClient, lot: Lot
) -> None:
    create(editor, lot.id(), lot.square())
    editor.patch(
        f"/api/parcels/{lot.id()}",
        json={"type": "Feature", "properties": {"use": "Yard"}},
        headers={"If-Match": '"v1"'},
    )
    before = state(app, lot.id())
    response = _split(editor, lot.id(), _north_south_line(lot), [lot.id(1), lot.id(2)], '"v1"')
    assert response.status_code == 412
    assert response.get_json()["current_version"] == 2
    assert state(app, lot.id()) == before
    missing = editor.post(
        f"/api/parcels/{lot.id()}/split",
        json={"line": _north_south_line(lot), "parcel_ids": [lot.id(1), lot.id(2)]},
    )
    assert missing.status_code == 428


def _merge(editor: TokenClient, tags: dict[str, str], keep: str, **extra: Any) -> Any:
    return editor.post(
        "/api/parcels/merge",
        json={"parcels": tags, "keep": keep, **extra},
        headers={"If-Match": tags.get(keep, '"v1"')},
    )


def test_a_merge_gives_the_union_to_the_kept_parcel_and_retires_the_others(
    app: Flask, editor: TokenClient, lot: Lot
) -> None:
    create(editor, lot.id(1), lot.square(), acquisition_cost="100.00", use="Yard")
    create(editor, lot.id(2), lot.square(east=SIZE), acquisition_cost="50.50", use="Garage")
    whole = _area(app, lot.id(1)) + _area(app, lot.id(2))
    response = _merge(editor, {lot.id(1): '"v1"', lot.id(2): '"v1"'}, keep=lot.id(1))
    assert response.status_code == 200, response.get_json()
    merged = response.get_json()["features"][0]
    assert merged["id"] == lot.id(1)
    assert merged["properties"]["use"] == "Yard"  # the kept parcel's record
    assert merged["properties"]["acquisition_cost"] == "150.50"
    assert merged["properties"]["version"] == 2
    assert abs(_area(app, lot.id(1)) - whole) < 0.01
    assert scalar(
        app, "SELECT retired_at IS NOT NULL FROM parcels WHERE parcel_id = :id", id=lot.id(2)
    )
    events = _events(app, lot.id(1))
    assert {(e["row_key"], e["action"]) for e in events} == {
        (lot.id(1), "UPDATE"),
        (lot.id(2), "UPDATE"),
    }
    page = editor.get(f"/api/parcels/{lot.id(1)}/history")
    assert page.status_code == 200
    lineage = rows(
        app,
        "SELECT c.parcel_id AS child, p.parcel_id AS parent, l.operation FROM parcel_lineage l "
        "JOIN parcels c ON c.id = l.child_id JOIN parcels p ON p.id = l.parent_id "
        "WHERE c.parcel_id = :id",
        id=lot.id(1),
    )
    assert lineage == [{"child": lot.id(1), "parent": lot.id(2), "operation": "merge"}]


def test_a_merge_into_a_new_id_retires_every_parcel_merged(
    app: Flask, editor: TokenClient, lot: Lot
) -> None:
    create(editor, lot.id(1), lot.square())
    create(editor, lot.id(2), lot.square(north=SIZE))
    response = _merge(
        editor, {lot.id(1): '"v1"', lot.id(2): '"v1"'}, keep=lot.id(2), parcel_id=lot.id(3)
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["features"][0]["id"] == lot.id(3)
    assert (
        scalar(
            app,
            "SELECT count(*) FROM parcels WHERE parcel_id = ANY(:ids) AND retired_at IS NOT NULL",
            ids=[lot.id(1), lot.id(2)],
        )
        == 2
    )
    assert (
        scalar(
            app,
            "SELECT count(*) FROM parcel_lineage l JOIN parcels c ON c.id = l.child_id "
            "WHERE c.parcel_id = :id",
            id=lot.id(3),
        )
        == 2
    )


def test_parcels_that_do_not_touch_are_not_merged(
    app: Flask, editor: TokenClient, lot: Lot
) -> None:
    create(editor, lot.id(1), lot.square())
    create(editor, lot.id(2), lot.square(east=SIZE * 3))
    before = (state(app, lot.id(1)), state(app, lot.id(2)))
    response = _merge(editor, {lot.id(1): '"v1"', lot.id(2): '"v1"'}, keep=lot.id(1))
    assert response.status_code == 422
    assert "do not all touch" in message(response, "parcels")
    assert (state(app, lot.id(1)), state(app, lot.id(2))) == before


def test_a_merge_with_a_stale_etag_is_412_and_writes_nothing(
    app: Flask, editor: TokenClient, lot: Lot
) -> None:
    create(editor, lot.id(1), lot.square())
    create(editor, lot.id(2), lot.square(east=SIZE))
    editor.patch(
        f"/api/parcels/{lot.id(2)}",
        json={"type": "Feature", "properties": {"use": "Yard"}},
        headers={"If-Match": '"v1"'},
    )
    before = (state(app, lot.id(1)), state(app, lot.id(2)))
    response = _merge(editor, {lot.id(1): '"v1"', lot.id(2): '"v1"'}, keep=lot.id(1))
    assert response.status_code == 412
    assert (state(app, lot.id(1)), state(app, lot.id(2))) == before
    assert etag(editor, lot.id(2)) == '"v2"'
    assert fields(_merge(editor, {lot.id(1): '"v1"'}, keep=lot.id(1))) == {"parcels"}
    assert fields(_merge(editor, {lot.id(1): '"v1"', lot.id(2): "x"}, keep=lot.id(1))) == {
        "parcels"
    }
