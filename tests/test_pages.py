from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import database
from registry.vocabulary import STATUS_LABELS
from tests.sql import query


def test_the_map_page_links_only_assets_served_by_the_app(sample_client: FlaskClient) -> None:
    page = sample_client.get("/").get_data(as_text=True)
    linked = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert linked, "the page links its scripts and styles"
    assert all(url.startswith("/static/") for url in linked), linked
    for url in linked:
        with sample_client.get(url) as response:
            assert response.status_code == 200, url


def test_the_map_page_draws_parcels_from_vector_tiles_not_inline_geojson(
    sample_client: FlaskClient,
) -> None:
    page = sample_client.get("/").get_data(as_text=True)
    assert "/tiles/parcels/{z}/{x}/{y}.mvt" in page
    assert "FeatureCollection" not in page
    for label in STATUS_LABELS.values():
        assert label in page  # the legend


def test_the_map_page_stays_small(sample_client: FlaskClient) -> None:
    assert len(sample_client.get("/").data) < 30_000


def _parcel_with_a_building(url: str) -> tuple[str, str, str]:
    (row,) = query(
        url,
        "SELECT p.parcel_id, p.address, b.building_id FROM parcels p"
        " JOIN buildings b ON b.parcel_id = p.id ORDER BY p.parcel_id LIMIT 1",
    )
    return str(row[0]), str(row[1]), str(row[2])


def test_the_parcel_page_shows_staff_the_attributes_and_buildings(
    sample_app: Flask,
    sample_database_url: str,
    auth,  # type: ignore[no-untyped-def]
) -> None:
    parcel_id, address, building = _parcel_with_a_building(sample_database_url)
    reader = auth.signed_in_client(sample_app, "viewer", email="page-reader@city.example")
    page = reader.get(f"/parcels/{parcel_id}").get_data(as_text=True)
    assert parcel_id in page and address in page and building in page
    assert "sq ft" in page


def test_the_parcel_page_shows_the_public_only_what_is_published(
    sample_client: FlaskClient, sample_database_url: str
) -> None:
    parcel_id, address, building = _parcel_with_a_building(sample_database_url)
    page = sample_client.get(f"/parcels/{parcel_id}").get_data(as_text=True)
    assert parcel_id in page and address in page
    assert building not in page and "Acquired" not in page


def test_an_unknown_parcel_is_404(sample_client: FlaskClient) -> None:
    response = sample_client.get("/parcels/0000-000-000")
    assert response.status_code == 404
    assert "0000-000-000" in response.get_data(as_text=True)


def test_healthz_answers_when_the_database_does(sample_client: FlaskClient) -> None:
    response = sample_client.get("/healthz")
    assert (response.status_code, response.json) == (200, {"status": "ok", "database": "ok"})


def test_healthz_is_503_when_the_database_does_not_answer() -> None:
    from app import create_app

    app: Flask = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/nothing?connect_timeout=1",
        }
    )
    assert app.test_client().get("/healthz").status_code == 503
    database.dispose(app)


def test_the_app_refuses_to_start_without_a_secret_key_outside_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app import create_app

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("REGISTRY_DEVELOPMENT", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app()
