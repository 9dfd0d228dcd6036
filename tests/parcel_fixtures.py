"""Helpers for the parcel API tests: GeoJSON builders, departments, and a look at what is stored.

Shapes are small squares in downtown Los Angeles (inside the default city extent); 0.001° is
about 92 m by 111 m there, so overlaps and gaps are far above the 1 m² tolerance.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from app import create_app
from app import database
from app.database import session_factory
from registry import database_admin
from registry.db import unit_of_work
from registry.users.records import create_user
from registry.users.records import issue_token
from tests.auth_fixtures import TEST_PASSWORD
from tests.auth_fixtures import LoginHelper
from tests.auth_fixtures import SignedInClient
from tests.database import clone

LON, LAT, SIZE = -118.25, 34.05, 0.001
DEPARTMENTS = (("GSD", "General Services"), ("RAP", "Recreation and Parks"), ("LAPD", "Police"))
PUBLIC_PROPERTIES = {"parcel_id", "address", "department", "use", "status"}
SETUP_ACTOR = "test-setup"
PARCEL = "5555-012-034"  # a module's parcel that every refused save tries to change
NEIGHBOUR = "5555-012-035"  # east of PARCEL, sharing its edge
PROBLEM = "application/problem+json"


def square(lon: float = LON, lat: float = LAT, size: float = SIZE) -> dict[str, Any]:
    """A GeoJSON Polygon: the square with south-west corner (lon, lat)."""
    east, north = round(lon + size, 9), round(lat + size, 9)  # no float noise: -118.249, not …8999
    ring = [[lon, lat], [east, lat], [east, north], [lon, north], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def bow_tie(lon: float = LON, lat: float = LAT, size: float = SIZE) -> dict[str, Any]:
    """A ring that crosses itself at its centre."""
    east, north = round(lon + size, 9), round(lat + size, 9)
    ring = [[lon, lat], [east, north], [east, lat], [lon, north], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def feature(geometry: Any = None, **properties: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "Feature", "properties": properties}
    if geometry is not None:
        body["geometry"] = geometry
    return body


def new_parcel(parcel_id: str = "5555-012-034", geometry: Any = None, **properties: Any) -> dict:
    """A complete, valid parcel Feature for POST."""
    values: dict[str, Any] = {
        "parcel_id": parcel_id,
        "address": "200 N Spring St",
        "use": "City Hall",
        "status": "in_use",
        "legal_interest": "owned",
        "asset_type": "office",
        "digitization_status": "digitized",
        "department_code": "GSD",
        "council_district": 14,
        "acquisition_date": "1928-04-26",
        "acquisition_cost": "1250000.10",
    }
    values.update(properties)
    return feature(square() if geometry is None else geometry, **values)


def create(
    client: FlaskClient, parcel_id: str = "5555-012-034", geometry: Any = None, **properties: Any
) -> dict[str, Any]:
    """POST a parcel (must succeed) and return the stored Feature."""
    response = client.post("/api/parcels", json=new_parcel(parcel_id, geometry, **properties))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def etag(client: FlaskClient, parcel_id: str) -> str:
    response = client.get(f"/api/parcels/{parcel_id}")
    assert response.status_code == 200, response.get_json()
    return response.headers["ETag"]


def patch(
    client: FlaskClient, parcel_id: str, if_match: str | None, body: Any, **headers: str
) -> Any:
    sent = dict(headers)
    if if_match is not None:
        sent["If-Match"] = if_match
    return client.patch(f"/api/parcels/{parcel_id}", json=body, headers=sent)


def fields(response: Any) -> set[str]:
    """The fields named in a problem document's `errors`."""
    return {error["field"] for error in response.get_json()["errors"]}


def message(response: Any, field: str) -> str:
    return " | ".join(e["message"] for e in response.get_json()["errors"] if e["field"] == field)


# --- what the database holds -------------------------------------------------------------------


def rows(app: Flask, sql: str, **params: Any) -> list[dict[str, Any]]:
    with app.app_context(), session_factory()() as session:
        return [dict(row) for row in session.execute(text(sql), params).mappings()]


def scalar(app: Flask, sql: str, **params: Any) -> Any:
    with app.app_context(), session_factory()() as session:
        return session.execute(text(sql), params).scalar()


def stored(app: Flask, parcel_id: str) -> dict[str, Any] | None:
    """The parcel's row as PostgreSQL holds it (geometry as EWKT), or None."""
    found = rows(
        app,
        "SELECT to_jsonb(p) - 'geom' - 'geom_3857' AS row, ST_AsEWKT(p.geom) AS geom "
        "FROM parcels p WHERE parcel_id = :id",
        id=parcel_id,
    )
    return {**found[0]["row"], "geom": found[0]["geom"]} if found else None


def history_events(app: Flask, parcel_id: str) -> list[dict[str, Any]]:
    return rows(
        app,
        "SELECT id, occurred_at, actor, action, changed_fields, before, after FROM audit_events "
        "WHERE table_name = 'parcels' AND row_key = :id ORDER BY id",
        id=parcel_id,
    )


def state(app: Flask, parcel_id: str) -> tuple[Any, ...]:
    """Everything a failed save must leave alone: the row, its history, the whole audit trail."""
    return (
        stored(app, parcel_id),
        history_events(app, parcel_id),
        scalar(app, "SELECT count(*) FROM audit_events"),
        scalar(app, "SELECT count(*) FROM parcels"),
    )


def add_departments(app: Flask) -> None:
    with app.app_context(), unit_of_work(session_factory(), SETUP_ACTOR) as session:
        for code, name in DEPARTMENTS:
            session.execute(
                text("INSERT INTO departments (code, name) VALUES (:code, :name)"),
                {"code": code, "name": name},
            )


def editor_tokens(app: Flask, count: int, role: str = "editor") -> list[tuple[str, str]]:
    """`count` users of `role` (no password: scripts) with a bearer token each: (email, token)."""
    issued = []
    with app.app_context(), unit_of_work(session_factory(), SETUP_ACTOR) as session:
        for number in range(count):
            user = create_user(session, f"{role}{number}@city.example", role)
            issued.append((user.email, issue_token(session, user)))
    return issued


def signed_in_editors(
    app: Flask, count: int, prefix: str = "editor", role: str = "editor"
) -> list[SignedInClient]:
    """`count` users of `role` (prefix0@city.example, …), each with a client signed in through
    /login (the password hash is made once: scrypt per user would cost more than the test)."""
    emails = [f"{prefix}{number}@city.example" for number in range(count)]
    password_hash = generate_password_hash(TEST_PASSWORD, method="scrypt")
    with app.app_context(), unit_of_work(session_factory(), SETUP_ACTOR) as session:
        for email in emails:
            create_user(session, email, role).password_hash = password_hash

    def sign_in(email: str) -> SignedInClient:
        client = SignedInClient(app, app.response_class, use_cookies=True)
        client.csrf_token = LoginHelper().login(client, email)
        client.environ_base["HTTP_X_CSRF_TOKEN"] = client.csrf_token
        client.email, client.role = email, role
        return client

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(sign_in, emails))


class TokenClient(FlaskClient):
    """A client that authenticates every request with a bearer token (no session, no CSRF)."""

    email: str = ""


def token_client(
    app: Flask, email: str = "editor@city.example", role: str = "editor"
) -> TokenClient:
    with app.app_context(), unit_of_work(session_factory(), SETUP_ACTOR) as session:
        token = issue_token(session, create_user(session, email, role))
    client = TokenClient(app, app.response_class, use_cookies=False)
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    client.email = email
    return client


@dataclass(frozen=True)
class Lot:
    """A test's own parcel ids and patch of ground in a database that a module's tests share.

    Lots are 0.02° (about 2 km) apart, so one test's parcels never touch, overlap, or share a
    zoom-15 tile with another's; their ids start with a prefix of their own (`q=` finds them).
    """

    number: int

    @property
    def lon(self) -> float:
        return round(-118.9 + (self.number % 40) * 0.02, 6)

    @property
    def lat(self) -> float:
        return round(33.7 + (self.number // 40) * 0.02, 6)

    @property
    def prefix(self) -> str:
        return f"{6000 + self.number:04d}-"

    def id(self, number: int = 0) -> str:
        return f"{self.prefix}000-{number:03d}"

    def square(self, east: float = 0.0, north: float = 0.0, size: float = SIZE) -> dict[str, Any]:
        """A square `east` and `north` (degrees) from the lot's south-west corner."""
        return square(round(self.lon + east, 9), round(self.lat + north, 9), size)

    def email(self, name: str) -> str:
        return f"{name}.{self.number}@city.example"


class Workspace:
    """One database for a module: departments, an editor with a token, and a lot per test."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.editor = token_client(app)
        self._lots = 0

    def lot(self) -> Lot:
        self._lots += 1
        return Lot(self._lots)


@contextmanager
def workspace(template_url: str) -> Iterator[Workspace]:
    """A module's database: a fresh clone of the test template, dropped afterwards. Tests that
    write keep to their own `Lot`; cloning a database per test costs more than most tests."""
    url = clone(template_url)
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test"})
    try:
        add_departments(app)
        yield Workspace(app)
    finally:
        database.dispose(app)
        database_admin.drop_database(url)


# --- a module's shared database, for modules that import these fixtures ---------------------
# (imported by their function names; tests ask for them as `ws`, `app`, `editor` and `lot`)


@pytest.fixture(scope="module", name="ws")
def parcels_workspace(template_url: str) -> Iterator[Workspace]:
    """The module's database: PARCEL (at v1, never changed) and NEIGHBOUR, and a lot per test."""
    with workspace(template_url) as shared:
        create(shared.editor, PARCEL)
        create(shared.editor, NEIGHBOUR, square(LON + SIZE))
        yield shared


@pytest.fixture(name="app")
def workspace_app(ws: Workspace) -> Flask:
    return ws.app


@pytest.fixture(name="editor")
def workspace_editor(ws: Workspace) -> TokenClient:
    return ws.editor


@pytest.fixture(name="lot")
def workspace_lot(ws: Workspace) -> Lot:
    return ws.lot()
