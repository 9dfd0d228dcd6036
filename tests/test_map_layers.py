"""The portfolio map's page and its layers' endpoint, through Flask's client: the tools are on
the page, the filter offers the public fields only to the public, the districts layer answers
GeoJSON, and a local base map is allowed by the page's policy."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from geo.map_builder import MAP_MIN_ZOOM
from geo.map_builder import PARCEL_LAYER_MIN_ZOOM
from tests.auth_fixtures import LoginHelper


def _map_options(page: str) -> dict[str, Any]:
    """The options the page hands to RegistryMap.parcelLayer."""
    found = re.search(r"RegistryMap\.parcelLayer\(\s*\w+,\s*(\{.*?\})\s*\);", page, re.S)
    assert found, "the parcel layer's options are not on the page"
    options: dict[str, Any] = json.loads(found.group(1))
    return options


def test_the_map_page_links_its_tools_and_shows_a_message_until_its_scripts_run(
    sample_client: FlaskClient,
) -> None:
    page = sample_client.get("/").get_data(as_text=True)
    assert "/static/js/map_tools.js" in page and "/static/css/map_tools.css" in page
    assert 'id="map-script-failure"' in page and "could not load its scripts" in page
    assert "<noscript>" in page
    assert 'id="print-sheet"' in page


def test_an_anonymous_visitor_may_filter_by_public_fields_only(sample_client: FlaskClient) -> None:
    options = _map_options(sample_client.get("/").get_data(as_text=True))
    names = [field["name"] for field in options["filterFields"]]
    assert names == ["q", "department", "status", "use"]
    assert "leasesUrl" not in options


def test_a_signed_in_user_filters_by_every_field_of_the_parcel_table(
    sample_app: Flask, auth: LoginHelper
) -> None:
    client = auth.signed_in_client(sample_app, "viewer", email="map-tools-viewer@city.example")
    options = _map_options(client.get("/").get_data(as_text=True))
    names = {field["name"] for field in options["filterFields"]}
    assert names == {
        "q", "department", "district", "status", "use", "asset_type", "digitization",
        "verified", "area_min", "area_max",
    }  # fmt: skip
    assert options["tableUrl"] == "/parcels"


def test_the_map_can_zoom_out_past_the_parcel_layer(sample_client: FlaskClient) -> None:
    """Leaflet takes the highest minZoom of the map's layers unless the map has its own: the
    page gives it one below the parcel layer's."""
    options = _map_options(sample_client.get("/").get_data(as_text=True))
    assert options["mapMinZoom"] == MAP_MIN_ZOOM < PARCEL_LAYER_MIN_ZOOM
    assert options["minZoom"] == PARCEL_LAYER_MIN_ZOOM


def test_base_maps_are_none_the_configured_one_and_a_local_one(sample_client: FlaskClient) -> None:
    options = _map_options(sample_client.get("/").get_data(as_text=True))
    ids = [choice["id"] for choice in options["basemaps"]]
    assert ids == ["configured", "local", "none"]


def test_the_districts_layer_is_geojson_of_every_district(sample_client: FlaskClient) -> None:
    response = sample_client.get("/map/districts.geojson")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    collection = response.get_json()
    assert collection["type"] == "FeatureCollection"
    assert collection["features"], "the sample city has districts"
    for feature in collection["features"]:
        assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}
        assert int(feature["properties"]["council_district"]) >= 1


def test_the_districts_layer_of_a_private_map_needs_a_sign_in(
    sample_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import create_app
    from app import database

    monkeypatch.setenv("REGISTRY_PUBLIC_MAP", "false")
    app = create_app({"TESTING": True, "DATABASE_URL": sample_database_url, "SECRET_KEY": "t"})
    try:
        assert app.test_client().get("/map/districts.geojson").status_code == 401
    finally:
        database.dispose(app)


def test_a_local_base_map_is_offered_and_allowed_by_the_content_security_policy(
    sample_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import create_app
    from app import database

    monkeypatch.setenv("REGISTRY_LOCAL_BASEMAP_URL", "https://tiles.city.internal/{z}/{x}/{y}.png")
    app = create_app({"TESTING": True, "DATABASE_URL": sample_database_url, "SECRET_KEY": "t"})
    try:
        response = app.test_client().get("/")
        options = _map_options(response.get_data(as_text=True))
        local = [c for c in options["basemaps"] if c["id"] == "local"]
        assert local[0]["url"] == "https://tiles.city.internal/{z}/{x}/{y}.png"
        assert "https://tiles.city.internal" in response.headers["Content-Security-Policy"]
    finally:
        database.dispose(app)
