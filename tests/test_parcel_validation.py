"""Validation with errors a person can act on: 422 problem+json whose `errors` name each field.

All run against one database for the module: refused saves try to change the module's own
parcels (and check that nothing was written); saves that must succeed keep to a `Lot` of their own.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from shapely.geometry import shape

from tests.parcel_fixtures import LAT
from tests.parcel_fixtures import LON
from tests.parcel_fixtures import NEIGHBOUR
from tests.parcel_fixtures import PARCEL
from tests.parcel_fixtures import PROBLEM
from tests.parcel_fixtures import SIZE
from tests.parcel_fixtures import Lot
from tests.parcel_fixtures import TokenClient
from tests.parcel_fixtures import Workspace
from tests.parcel_fixtures import bow_tie
from tests.parcel_fixtures import create
from tests.parcel_fixtures import etag
from tests.parcel_fixtures import feature
from tests.parcel_fixtures import fields
from tests.parcel_fixtures import history_events
from tests.parcel_fixtures import message
from tests.parcel_fixtures import new_parcel
from tests.parcel_fixtures import parcels_workspace  # noqa: F401 (a fixture)
from tests.parcel_fixtures import patch
from tests.parcel_fixtures import scalar
from tests.parcel_fixtures import square
from tests.parcel_fixtures import state
from tests.parcel_fixtures import stored
from tests.parcel_fixtures import workspace_app  # noqa: F401 (a fixture)
from tests.parcel_fixtures import workspace_editor  # noqa: F401 (a fixture)
from tests.parcel_fixtures import workspace_lot  # noqa: F401 (a fixture)

NEW = "5555-012-036"


class Refusals:
    """Send a save that must be refused; check it is a 422 and that nothing was written."""

    def __init__(self, app: Flask, editor: TokenClient) -> None:
        self.app, self.editor = app, editor

    def _refused(self, send: Any) -> Any:
        before = [state(self.app, parcel_id) for parcel_id in (PARCEL, NEIGHBOUR, NEW)]
        response = send()
        assert (response.status_code, response.mimetype) == (422, PROBLEM), response.get_json()
        assert response.get_json()["title"] == "The parcel is not valid"
        assert [state(self.app, parcel_id) for parcel_id in (PARCEL, NEIGHBOUR, NEW)] == before
        return response

    def create(self, body: Any) -> Any:
        return self._refused(lambda: self.editor.post("/api/parcels", json=body))

    def patch(self, body: Any, parcel_id: str = PARCEL) -> Any:
        # the current ETag, so that one wrongly accepted save does not fail every later test
        current = etag(self.editor, parcel_id)
        return self._refused(lambda: patch(self.editor, parcel_id, current, body))


@pytest.fixture
def refused(ws: Workspace) -> Refusals:
    return Refusals(ws.app, ws.editor)


# --- properties -------------------------------------------------------------------------------


def test_an_unknown_field_is_named(refused: Refusals) -> None:
    response = refused.patch(feature(colour="red", address="1 Main St"))
    assert fields(response) == {"colour"}
    assert message(response, "colour") == "is not a parcel field"


@pytest.mark.parametrize("name", ["status", "legal_interest", "asset_type", "digitization_status"])
def test_a_value_outside_a_vocabulary_is_named_with_the_allowed_values(
    refused: Refusals, name: str
) -> None:
    response = refused.patch(feature(**{name: "bogus"}))
    assert fields(response) == {name}
    assert message(response, name).startswith("must be one of: ")
    assert "bogus" not in message(response, name)


def test_required_vocabulary_fields_cannot_be_emptied(refused: Refusals) -> None:
    response = refused.patch(feature(status=None, legal_interest=None, digitization_status=None))
    assert fields(response) == {"status", "legal_interest", "digitization_status"}
    assert message(response, "status") == "is required"


@pytest.mark.parametrize(
    "value",
    [
        "2024-13-01",
        "2024-02-30",
        "01/02/2024",
        "yesterday",
        "20240131",
        "2024-W05-3",
        20240131,
        True,
    ],
)
def test_a_date_must_be_a_calendar_date_written_yyyy_mm_dd(refused: Refusals, value: Any) -> None:
    response = refused.patch(feature(acquisition_date=value))
    assert fields(response) == {"acquisition_date"}
    assert "YYYY-MM-DD" in message(response, "acquisition_date")


def test_a_disposition_before_the_acquisition_is_refused(refused: Refusals) -> None:
    response = refused.patch(feature(acquisition_date="2020-05-01", disposition_date="2019-12-31"))
    assert fields(response) == {"disposition_date"}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (-1, "not be negative"),
        ("-0.01", "not be negative"),
        ("1.005", "two decimals"),
        ("12.5.0", "not an amount"),
        ("abc", "not an amount"),
        ("NaN", "finite"),
        ("Infinity", "finite"),
        (True, "amount"),
        ([1], "amount"),
        ({"usd": 1}, "amount"),
        ("1000000000000.00", "at most 999999999999.99"),
    ],
)
def test_money_must_be_zero_or_more_in_whole_cents(
    refused: Refusals, value: Any, says: str
) -> None:
    response = refused.patch(feature(acquisition_cost=value, disposition_proceeds=value))
    assert fields(response) == {"acquisition_cost", "disposition_proceeds"}
    assert says in message(response, "acquisition_cost")


@pytest.mark.parametrize("value", [0, 16, -3, "3", 2.5, True])
def test_the_council_district_must_be_one_of_the_citys(refused: Refusals, value: Any) -> None:
    response = refused.patch(feature(council_district=value))
    assert fields(response) == {"council_district"}
    assert message(response, "council_district") == "must be a district number from 1 to 15"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("Polise", "Police"), ("GDS", "GSD"), ("Recreation & Parks", "Recreation and Parks")],
)
def test_a_department_typo_gets_a_did_you_mean(refused: Refusals, typed: str, meant: str) -> None:
    response = refused.patch(feature(department_code=typed))
    assert fields(response) == {"department_code"}
    assert f"did you mean {meant!r}?" in message(response, "department_code")


def test_an_unknown_department_is_named_without_a_wild_guess(refused: Refusals) -> None:
    response = refused.patch(feature(department_code="Zzyzx"))
    assert message(response, "department_code") == "no department 'Zzyzx'"


def test_text_has_a_length_limit_and_must_be_text(refused: Refusals) -> None:
    response = refused.patch(feature(address="x" * 301, use=42, overlap_accepted_reason="a\x00"))
    assert fields(response) == {"address", "use", "overlap_accepted_reason"}
    assert "300" in message(response, "address")
    assert "NUL" in message(response, "overlap_accepted_reason")


@pytest.mark.parametrize("value", ["12-34", "5555012034", "5555-012-03a", " ", None, 5555012034])
def test_a_parcel_id_must_have_the_assessors_format(refused: Refusals, value: Any) -> None:
    response = refused.create(new_parcel(value, square(LON + 0.01)))
    assert fields(response) == {"parcel_id"}


def test_a_parcel_id_is_unique(refused: Refusals) -> None:
    created_twice = refused.create(new_parcel(NEIGHBOUR, square(LON + 0.01)))
    renamed_onto_another = refused.patch(feature(parcel_id=NEIGHBOUR))
    for response in (created_twice, renamed_onto_another):
        assert fields(response) == {"parcel_id"}
        assert message(response, "parcel_id") == f"{NEIGHBOUR} is already in the registry"


def test_every_problem_is_reported_at_once(refused: Refusals) -> None:
    body = new_parcel(
        NEW,
        bow_tie(LON + 0.01),
        status="sold",
        acquisition_cost="-5",
        acquisition_date="someday",
        council_district=99,
        colour="red",
        department_code="Polise",
    )
    del body["properties"]["parcel_id"]
    response = refused.create(body)
    assert fields(response) == {
        "parcel_id",
        "status",
        "acquisition_cost",
        "acquisition_date",
        "council_district",
        "colour",
        "department_code",
        "geometry",
    }


# --- shapes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": [LON, LAT]},
        {"type": "LineString", "coordinates": [[LON, LAT], [LON + SIZE, LAT + SIZE]]},
        {"type": "MultiPoint", "coordinates": [[LON, LAT]]},
        {"type": "GeometryCollection", "geometries": [square(LON + 0.01)]},
    ],
)
def test_a_shape_must_be_a_polygon_or_multipolygon(
    refused: Refusals, geometry: dict[str, Any]
) -> None:
    response = refused.patch(feature(geometry))
    assert fields(response) == {"geometry"}
    assert message(response, "geometry") == (
        f"must be a Polygon or MultiPolygon, not {geometry['type']}"
    )


@pytest.mark.parametrize(
    "geometry",
    [
        "POLYGON((0 0, 1 0, 1 1, 0 0))",
        42,
        [],
        {"coordinates": []},
        {"type": "Polygon", "coordinates": "nope"},
        {"type": "Polygon", "coordinates": [[[LON, LAT], [LON + SIZE, LAT]]]},
        {"type": "Polygon", "coordinates": [[["a", "b"], [1, 2], [3, 4], ["a", "b"]]]},
        {"type": "Polygon", "coordinates": []},
    ],
)
def test_malformed_geojson_is_422_not_500(refused: Refusals, geometry: Any) -> None:
    response = refused.patch(feature(geometry))
    assert fields(response) == {"geometry"}


def test_a_self_intersection_is_refused_with_the_geos_reason_and_where_it_is(
    refused: Refusals,
) -> None:
    response = refused.patch(feature(bow_tie(LON + 0.01)))
    (error,) = response.get_json()["errors"]
    assert error["field"] == "geometry"
    assert error["reason"].startswith("Self-intersection")
    assert error["reason"] in error["message"]
    assert error["location"]["type"] == "Point"
    assert error["location"]["coordinates"] == pytest.approx(
        [LON + 0.01 + SIZE / 2, LAT + SIZE / 2]
    )
    assert error["repair_available"] is True


def test_a_hole_outside_its_shell_is_refused_with_the_reason(refused: Refusals) -> None:
    shell = square(LON + 0.01)["coordinates"][0]
    hole = square(LON + 0.02)["coordinates"][0]
    response = refused.patch(feature({"type": "Polygon", "coordinates": [shell, hole]}))
    assert "Hole lies outside shell" in message(response, "geometry")


def test_a_repair_proposal_is_a_valid_multipolygon_and_nothing_is_stored(
    refused: Refusals,
) -> None:
    before = [state(refused.app, parcel_id) for parcel_id in (PARCEL, NEW)]
    response = refused.editor.post(
        "/api/parcels/repair-proposal", json={"geometry": bow_tie(LON + 0.01)}
    )

    assert response.status_code == 200
    proposal = response.get_json()
    repaired = shape(proposal["geometry"])
    assert proposal["geometry"]["type"] == "MultiPolygon"
    assert repaired.is_valid and len(repaired.geoms) == 2  # the two triangles of the bow tie
    assert proposal["usable"] is True
    # each triangle is a quarter of the ~10 240 m² square
    assert proposal["area_sq_m"] == pytest.approx(5120.8, abs=1)
    assert proposal["area_change_sq_m"] == pytest.approx(2560.4, abs=1)
    assert [state(refused.app, parcel_id) for parcel_id in (PARCEL, NEW)] == before


def test_the_repair_proposal_of_a_valid_shape_changes_nothing(refused: Refusals) -> None:
    proposal = refused.editor.post(
        "/api/parcels/repair-proposal", json={"geometry": square(LON + 0.01)}
    ).get_json()
    assert shape(proposal["geometry"]).equals(shape(square(LON + 0.01)))
    assert proposal["area_change_sq_m"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"geometry": "x"},
        {"geometry": {"type": "Polygon"}},
        {"geometry": {"type": "Polygon", "coordinates": "x"}},
    ],
)
def test_a_repair_proposal_of_nothing_readable_is_422(refused: Refusals, body: Any) -> None:
    response = refused.editor.post("/api/parcels/repair-proposal", json=body)
    assert (response.status_code, response.mimetype) == (422, PROBLEM)
    assert fields(response) == {"geometry"}


@pytest.mark.parametrize(
    "geometry",
    [
        square(LAT, LON),  # latitude and longitude swapped
        square(-73.99, 40.75),  # New York
        square(-118.96, LAT, 0.02),
    ],  # straddles the western edge of the extent
)
def test_a_shape_outside_the_citys_extent_is_refused(
    refused: Refusals, geometry: dict[str, Any]
) -> None:
    response = refused.patch(feature(geometry))
    assert "outside the city's extent" in message(response, "geometry")
    assert "(longitude, latitude)" in message(response, "geometry")


def test_a_shape_in_another_crs_is_refused(refused: Refusals) -> None:
    state_plane = {"type": "name", "properties": {"name": "EPSG:2229"}}
    in_feet = {
        "type": "Polygon",
        "coordinates": [
            [[6487000, 1840000], [6487300, 1840000], [6487300, 1840300], [6487000, 1840000]]
        ],
    }
    on_the_geometry = refused.patch(feature({**square(), "crs": state_plane}))
    on_the_feature = refused.patch({**feature(square()), "crs": state_plane})
    in_feet_too = refused.patch({**feature(in_feet), "crs": state_plane})
    for response in (on_the_geometry, on_the_feature, in_feet_too):
        assert message(response, "geometry") == "must be in WGS 84 longitude/latitude (EPSG:4326)"


def test_an_overlap_with_another_parcel_is_refused_naming_it_and_the_area(
    refused: Refusals,
) -> None:
    # half of PARCEL and half of NEIGHBOUR
    response = refused.create(new_parcel(NEW, square(LON + SIZE / 2)))
    (error,) = response.get_json()["errors"]
    assert error["field"] == "geometry"
    assert f"overlaps {PARCEL}, {NEIGHBOUR} by more than 1 m²" in error["message"]
    assert [o["parcel_id"] for o in error["overlaps"]] == [PARCEL, NEIGHBOUR]
    assert error["overlaps"][0]["area_sq_m"] == pytest.approx(5120.8, abs=1)
    moved_onto_the_neighbour = refused.patch(feature(square(LON + SIZE * 0.9)))
    assert [
        o["parcel_id"] for o in moved_onto_the_neighbour.get_json()["errors"][0]["overlaps"]
    ] == [NEIGHBOUR]


# --- saves that must succeed (each on a lot of its own) -------------------------------------


def test_money_is_stored_exactly(app: Flask, editor: TokenClient, lot: Lot) -> None:
    create(
        editor, lot.id(), lot.square(), acquisition_cost="1250000.10", disposition_proceeds="0.3"
    )
    sql = "SELECT {} FROM parcels WHERE parcel_id = :id"
    assert (
        scalar(
            app,
            sql.format("acquisition_cost::text || ' ' || disposition_proceeds::text"),
            id=lot.id(),
        )
        == "1250000.10 0.30"
    )
    response = patch(editor, lot.id(), '"v1"', feature(acquisition_cost="999999999999.99"))
    assert response.get_json()["properties"]["acquisition_cost"] == "999999999999.99"
    assert scalar(app, sql.format("acquisition_cost"), id=lot.id()) == Decimal("999999999999.99")


def test_dates_departments_and_districts_are_stored_typed(
    app: Flask, editor: TokenClient, lot: Lot
) -> None:
    create(
        editor,
        lot.id(),
        lot.square(),
        acquisition_date="2001-02-03",
        department_code="police",
        council_district=15,
    )
    row = stored(app, lot.id())
    assert row is not None
    assert (row["acquisition_date"], row["council_district"]) == ("2001-02-03", 15)
    properties = editor.get(f"/api/parcels/{lot.id()}").get_json()["properties"]
    assert (properties["department_code"], properties["department"]) == ("LAPD", "Police")


def test_touching_neighbours_are_fine(editor: TokenClient, lot: Lot) -> None:
    create(editor, lot.id(0), lot.square())
    create(editor, lot.id(1), lot.square(east=SIZE))  # shares the east edge
    create(editor, lot.id(2), lot.square(north=SIZE))  # shares the north edge
    create(editor, lot.id(3), lot.square(east=SIZE, north=SIZE))  # touches at a corner


def test_an_overlap_under_one_square_metre_is_digitizing_noise(
    editor: TokenClient, lot: Lot
) -> None:
    create(editor, lot.id(0), lot.square())
    # 0.000000005° (0.5 mm) into the first along its 111 m east edge: about 0.05 m²
    create(editor, lot.id(1), lot.square(east=SIZE - 0.000000005))


def test_an_accepted_overlap_is_saved_and_the_history_says_who_accepted_it(
    app: Flask, editor: TokenClient, lot: Lot
) -> None:
    create(editor, lot.id(0), lot.square())
    reason = "Shared driveway easement, recorded 1987-0412345"

    response = editor.post(
        "/api/parcels",
        json=new_parcel(lot.id(1), lot.square(east=SIZE / 2), overlap_accepted_reason=reason),
    )

    assert response.status_code == 201
    assert response.get_json()["properties"]["overlap_accepted_reason"] == reason
    (event,) = history_events(app, lot.id(1))
    assert (event["actor"], event["after"]["overlap_accepted_reason"]) == (
        "editor@city.example",
        reason,
    )
    history = editor.get(f"/api/parcels/{lot.id(1)}/history").get_json()["history"]
    assert {"field": "overlap_accepted_reason", "old": None, "new": reason} in (
        history[0]["changes"]
    )
    assert history[0]["actor"] == "editor@city.example"


def test_an_accepted_overlap_can_be_given_when_reshaping(
    app: Flask, editor: TokenClient, lot: Lot
) -> None:
    create(editor, lot.id(0), lot.square())
    create(editor, lot.id(1), lot.square(east=SIZE))
    refused = patch(editor, lot.id(1), '"v1"', feature(lot.square(east=SIZE / 2)))
    assert refused.status_code == 422
    assert [o["parcel_id"] for o in refused.get_json()["errors"][0]["overlaps"]] == [lot.id(0)]
    accepted = patch(
        editor,
        lot.id(1),
        '"v1"',
        feature(lot.square(east=SIZE / 2), overlap_accepted_reason="Party wall"),
    )
    assert accepted.status_code == 200
    assert history_events(app, lot.id(1))[-1]["changed_fields"] == [
        "geom",
        "overlap_accepted_reason",
    ]


def test_the_acceptance_is_dropped_once_nothing_overlaps(editor: TokenClient, lot: Lot) -> None:
    create(editor, lot.id(0), lot.square())
    create(editor, lot.id(1), lot.square(east=SIZE / 2), overlap_accepted_reason="Party wall")
    response = patch(editor, lot.id(1), '"v1"', feature(lot.square(east=SIZE)))
    assert response.get_json()["properties"]["overlap_accepted_reason"] is None


def test_an_earlier_acceptance_does_not_cover_an_overlap_with_another_parcel(
    app: Flask, editor: TokenClient, lot: Lot
) -> None:
    first, accepted, third = lot.id(0), lot.id(1), lot.id(2)
    create(editor, first, lot.square())
    create(editor, accepted, lot.square(east=SIZE / 2), overlap_accepted_reason="Party wall")
    create(editor, third, lot.square(east=SIZE * 1.5 + 0.0001))  # clear of `accepted`, for now
    before = state(app, accepted)

    # `accepted` grows east into `third`: its acceptance was for `first`, not for this
    west, east = round(lot.lon + SIZE / 2, 9), round(lot.lon + SIZE * 2, 9)
    south, north = lot.lat, round(lot.lat + SIZE, 9)
    grown = {
        "type": "Polygon",
        "coordinates": [
            [[west, south], [east, south], [east, north], [west, north], [west, south]]
        ],
    }
    response = patch(editor, accepted, '"v1"', feature(grown))

    assert response.status_code == 422
    assert [o["parcel_id"] for o in response.get_json()["errors"][0]["overlaps"]] == [first, third]
    assert state(app, accepted) == before
    # reshaping within what was accepted needs no new reason; a new overlap needs one
    smaller = lot.square(east=SIZE / 2, size=SIZE * 0.9)
    assert patch(editor, accepted, '"v1"', feature(smaller)).status_code == 200
    assert (
        patch(
            editor,
            accepted,
            '"v2"',
            feature(grown, overlap_accepted_reason=f"Party wall; shared yard with {third}"),
        ).status_code
        == 200
    )


def test_coordinates_with_an_altitude_are_stored_flat(
    app: Flask, editor: TokenClient, lot: Lot
) -> None:
    ring = [[*corner, 71.5] for corner in lot.square()["coordinates"][0]]
    create(editor, lot.id(), {"type": "Polygon", "coordinates": [ring]})
    assert scalar(app, "SELECT ST_NDims(geom) FROM parcels WHERE parcel_id = :id", id=lot.id()) == 2


def test_wgs84_may_be_named_in_a_crs_member(editor: TokenClient, lot: Lot) -> None:
    for number, name in enumerate(
        ["EPSG:4326", "urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326"]
    ):
        crs = {"type": "name", "properties": {"name": name}}
        body = new_parcel(lot.id(number), {**lot.square(east=number * 0.002), "crs": crs})
        assert editor.post("/api/parcels", json=body).status_code == 201, name
