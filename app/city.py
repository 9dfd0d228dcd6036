"""The city profile of the current request, read once per request (`registry.city.profile`)."""

from __future__ import annotations

from flask import current_app
from flask import g

from app.database import db_session
from registry.city.districts import district_numbers
from registry.city.profile import CityProfile
from registry.city.profile import city_profile


def current_city() -> CityProfile:
    """The city profile in force (the database's, with the environment's overrides)."""
    if "city_profile" not in g:
        g.city_profile = city_profile(db_session(), current_app.config["REGISTRY_SETTINGS"])
    profile: CityProfile = g.city_profile
    return profile


def fiscal_year_start_month() -> int:
    return current_city().fiscal_year_start_month


def council_districts() -> tuple[str, ...]:
    """The city's council districts as text (as KPI breakdown values are)."""
    if "council_districts" not in g:
        numbers = district_numbers(db_session(), current_app.config["REGISTRY_SETTINGS"])
        g.council_districts = tuple(str(number) for number in numbers)
    districts: tuple[str, ...] = g.council_districts
    return districts
