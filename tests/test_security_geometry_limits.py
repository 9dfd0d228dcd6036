"""Limits on the size of a shape (issue 15, finding 4): a 1,000,000-corner parcel used to be saved
(26 s), served as a 26 MB page and slow the KPI desk for everyone.

Every path that writes a parcel's shape refuses one over `REGISTRY_MAX_VERTICES` corners (20,000)
or `REGISTRY_MAX_PARTS` polygons (500) with the same words, naming the field (and, in an import,
the feature and its parcel id); a shape at the limits is taken.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from shapely.geometry import MultiPolygon
from shapely.geometry import Polygon
from shapely.geometry import box

from cli.imports.parcels import import_parcels_command
from registry.settings import Settings
from tests.auth_fixtures import SignedInClient
from tests.parcel_fixtures import add_departments
from tests.parcel_fixtures import create
from tests.parcel_fixtures import new_parcel
from tests.parcel_fixtures import square
from tests.parcel_fixtures import state
from tests.sql import execute
from tests.sql import query
from tests.tiles import tile_of

LON, LAT = -118.25, 34.05
LIMIT = Settings().max_vertices
PARTS = Settings().max_parts
PARCEL = "5555-012-034"


def ring(corners: int, lon: float = LON, lat: float = LAT, radius: float = 0.0004) -> list:
    """A closed ring of `corners` positions (the closing one included, as ST_NPoints counts):
    a regular polygon, valid whatever the count."""
    distinct = corners - 1
    points = [
        [
            lon + radius * math.cos(2 * math.pi * k / distinct),
            lat + radius * math.sin(2 * math.pi * k / distinct),
        ]
        for k in range(distinct)
    ]
    return [*points, points[0]]


def polygon(corners: int, **where: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring(corners, **where)]}


def parts(count: int) -> dict[str, Any]:
    """A MultiPolygon of `count` small squares apart from each other (5 corners each)."""
    squares = [
        square(round(LON + (k % 50) * 0.0002, 6), round(LAT + (k // 50) * 0.0002, 6), 0.0001)
        for k in range(count)
    ]
    return {"type": "MultiPolygon", "coordinates": [s["coordinates"] for s in squares]}


@pytest.fixture
def editor(app: Flask, editor_client: SignedInClient) -> SignedInClient:
    add_departments(app)
    return editor_client


def _geometry_message(response: Any) -> str:
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert [error["field"] for error in errors] == ["geometry"]
    return str(errors[0]["message"])


# --- the API (and the map editor, which saves through it) ------------------------------------


def test_a_parcel_over_the_corner_limit_is_refused_by_the_api_naming_the_field(
    app: Flask, editor: SignedInClient
) -> None:
    before = state(app, PARCEL)
    response = editor.post("/api/parcels", json=new_parcel(PARCEL, polygon(LIMIT + 1)))
    message = _geometry_message(response)
    assert message.startswith(f"has {LIMIT + 1:,} corners; the limit is {LIMIT:,}")
    assert response.get_json()["errors"][0]["vertices"] == LIMIT + 1
    assert state(app, PARCEL) == before


def test_a_parcel_at_the_corner_limit_is_saved(editor: SignedInClient) -> None:
    saved = create(editor, PARCEL, polygon(LIMIT))
    assert len(saved["geometry"]["coordinates"][0][0]) == LIMIT  # stored as a MultiPolygon


def test_a_shape_change_over_the_limit_is_refused_and_the_parcel_keeps_its_shape(
    app: Flask, editor: SignedInClient
) -> None:
    create(editor, PARCEL)
    before = state(app, PARCEL)
    response = editor.patch(
        f"/api/parcels/{PARCEL}",
        json={"type": "Feature", "geometry": polygon(LIMIT + 1), "properties": {}},
        headers={"If-Match": '"v1"'},
    )
    assert "corners; the limit is" in _geometry_message(response)
    assert state(app, PARCEL) == before


def test_a_multipolygon_of_too_many_parts_is_refused_and_one_at_the_limit_saved(
    app: Flask, editor: SignedInClient
) -> None:
    response = editor.post("/api/parcels", json=new_parcel(PARCEL, parts(PARTS + 1)))
    assert _geometry_message(response).startswith(
        f"has {PARTS + 1:,} separate parts; the limit is {PARTS:,}"
    )
    saved = create(editor, PARCEL, parts(PARTS))
    assert len(saved["geometry"]["coordinates"]) == PARTS


def test_the_limits_are_settings(app: Flask, editor: SignedInClient) -> None:
    settings = app.config["REGISTRY_SETTINGS"]
    app.config["REGISTRY_SETTINGS"] = dataclasses.replace(settings, max_vertices=100)
    response = editor.post("/api/parcels", json=new_parcel(PARCEL, polygon(101)))
    assert _geometry_message(response).startswith("has 101 corners; the limit is 100")
    assert Settings.from_env({"REGISTRY_MAX_VERTICES": "5000"}).max_vertices == 5000
    assert Settings.from_env({"REGISTRY_MAX_PARTS": "12"}).max_parts == 12
    with pytest.raises(ValueError, match="REGISTRY_MAX_VERTICES"):
        Settings.from_env({"REGISTRY_MAX_VERTICES": "0"})


def test_a_repair_proposal_of_a_shape_over_the_limit_is_refused(editor: SignedInClient) -> None:
    response = editor.post("/api/parcels/repair-proposal", json={"geometry": polygon(LIMIT + 1)})
    assert "corners; the limit is" in _geometry_message(response)


# --- the parcel page ------------------------------------------------------------------------


def test_restoring_a_version_drawn_before_a_lower_limit_is_refused_on_the_page(
    app: Flask, editor: SignedInClient
) -> None:
    """A shape saved before the limit was lowered stays in the history; the page's Restore
    refuses to bring it back and says why."""
    create(editor, PARCEL, polygon(1_200))
    moved = editor.patch(
        f"/api/parcels/{PARCEL}",
        json={"type": "Feature", "geometry": square(), "properties": {}},
        headers={"If-Match": '"v1"'},
    )
    assert moved.status_code == 200
    settings = app.config["REGISTRY_SETTINGS"]
    app.config["REGISTRY_SETTINGS"] = dataclasses.replace(settings, max_vertices=1_000)
    first = editor.get(f"/api/parcels/{PARCEL}/history").get_json()["history"][0]
    response = editor.post(
        f"/parcels/{PARCEL}/restore",
        data={"event_id": first["event_id"], "version": 2, "csrf_token": editor.csrf_token},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Not restored" in page
    assert "has 1,200 corners; the limit is 1,000" in page
    assert editor.get(f"/api/parcels/{PARCEL}").get_json()["properties"]["version"] == 2


# --- imports ---------------------------------------------------------------------------------


def _feature(parcel_id: str, geometry: Any) -> dict[str, Any]:
    return {
        "APN": parcel_id,
        "SITE_ADDR": f"{parcel_id} Main St",
        "DEPT": "GSD",
        "STATUS": "In Use",
        "geometry": geometry,
    }


def _regular(corners: int, lon: float) -> Polygon:
    return Polygon([tuple(position) for position in ring(corners, lon=lon)])


def test_an_import_refuses_a_million_corner_feature_and_loads_the_others(
    database: str, tmp_path: Path
) -> None:
    path = tmp_path / "parcels.gpkg"
    rows = [
        _feature("5555-001-001", box(LON, LAT, LON + 0.0004, LAT + 0.0004)),
        _feature("5555-001-002", _regular(1_000_001, LON + 0.01)),
        _feature(
            "5555-001-003",
            MultiPolygon(
                [
                    box(
                        LON + 0.02 + k * 0.0002, LAT, LON + 0.02 + k * 0.0002 + 0.0001, LAT + 0.0001
                    )
                    for k in range(PARTS + 1)
                ]
            ),
        ),
        _feature("5555-001-004", _regular(LIMIT, LON + 0.03)),
    ]
    gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326").to_file(path)
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        import_parcels_command,
        [str(path), "--skip-invalid", "--report", str(report)],
        catch_exceptions=False,
    )
    assert result.exit_code == 1, result.output  # some features were refused
    assert "parcels: 2 inserted" in result.output
    assert [row[0] for row in query(database, "SELECT parcel_id FROM parcels ORDER BY 1")] == [
        "5555-001-001",
        "5555-001-004",
    ]
    problems = {
        p["record_id"]: p
        for p in json.loads(report.read_text())["problems"]
        if p["severity"] == "error"
    }
    assert set(problems) == {"5555-001-002", "5555-001-003"}
    big = problems["5555-001-002"]
    assert (big["row"], big["field"]) == (2, "geometry")
    assert big["message"].startswith(f"has 1,000,001 corners; the limit is {LIMIT:,}")
    assert problems["5555-001-003"]["message"].startswith(
        f"has {PARTS + 1:,} separate parts; the limit is {PARTS:,}"
    )
    assert "row 2" in result.output and "1,000,001 corners" in result.output


# --- a huge shape stored before the limits: drawn simplified ------------------------------------

HUGE_CORNERS = 50_001


@pytest.fixture
def huge(app: Flask, editor: SignedInClient) -> str:
    """PARCEL with a 50,001-corner circle, as an import before the limits would have kept it
    (written by SQL: no path of the registry takes it any more)."""
    create(editor, PARCEL)
    execute(
        app.config["DATABASE_URL"],
        "UPDATE parcels SET geom = ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), "
        "0.0004, 12500)), version = version + 1 WHERE parcel_id = :id",
        lon=LON,
        lat=LAT,
        id=PARCEL,
    )
    corners = query(
        app.config["DATABASE_URL"],
        "SELECT ST_NPoints(geom) FROM parcels WHERE parcel_id = :id",
        id=PARCEL,
    )[0][0]
    assert corners == HUGE_CORNERS
    return PARCEL


def test_the_public_page_of_a_huge_parcel_draws_it_simplified(app: Flask, huge: str) -> None:
    page = app.test_client().get(f"/parcels/{huge}")
    assert page.status_code == 200
    assert len(page.data) < 100_000  # 2 MB with the shape as stored
    assert 'class="parcel-map shape-map"' in page.get_data(as_text=True)


def test_the_history_on_the_page_draws_a_huge_shape_simplified_and_the_api_keeps_it_exact(
    editor: SignedInClient, huge: str
) -> None:
    page = editor.get(f"/parcels/{huge}")
    assert page.status_code == 200
    assert len(page.data) < 200_000  # the shape as stored, and in its history: 4 MB
    history = editor.get(f"/api/parcels/{huge}/history").get_json()["history"]
    assert len(history[-1]["after"]["geometry"]["coordinates"][0][0]) == HUGE_CORNERS


def test_a_tile_of_a_huge_parcel_stays_small(client: FlaskClient, huge: str) -> None:
    """Tiles were already bounded: ST_AsMVTGeom snaps every shape to the tile's 4096 grid."""
    for zoom in (12, 16):
        x, y = tile_of(LON, LAT, zoom)
        tile = client.get(f"/tiles/parcels/{zoom}/{x}/{y}.mvt")
        assert tile.status_code == 200
        assert 0 < len(tile.data) < 50_000
