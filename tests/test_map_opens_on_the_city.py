"""A new city's map opens on the city's own extent before any parcel is in, not on Los Angeles."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from app.database import session_factory
from registry.city.profile import update_city
from registry.db import unit_of_work


def test_an_empty_registry_opens_the_map_on_the_city_profile_extent(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        update_city(session, name="Portland", extent=(-70.35, 43.6, -70.2, 43.72))
    page = client.get("/").get_data(as_text=True)
    assert "[[43.6, -70.35], [43.72, -70.2]]" in page
    assert "-118.67" not in page
