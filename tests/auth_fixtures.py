"""Signing in from tests: users, signed-in clients and bearer tokens (a pytest plugin).

    def test_an_editor_creates_a_parcel(editor_client):
        editor_client.post("/api/parcels", json=feature)   # CSRF header already attached

    def test_a_script_reads(app, auth):
        token = auth.token(app, "script@city.example", "viewer")
        client.get("/api/parcels", headers=bearer(token))

Everything goes through the real /login form and the real token store, against the test's own
PostGIS database, so these fixtures also prove that sign-in works the way the app uses it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.database import session_factory
from registry.db import unit_of_work
from registry.users.records import create_user
from registry.users.records import find_user
from registry.users.records import issue_token

TEST_PASSWORD = "correct horse battery staple"
TEST_ACTOR = "tests"


def make_user(
    app: Flask,
    email: str,
    role: str,
    password: str | None = TEST_PASSWORD,
    display_name: str | None = None,
) -> int:
    """Create a user in `app`'s database (committed) and return its id."""
    with app.app_context(), unit_of_work(session_factory(), TEST_ACTOR) as session:
        return create_user(session, email, role, password, display_name).id


def bearer(token: str) -> dict[str, str]:
    """Headers that authenticate a request with an API token."""
    return {"Authorization": f"Bearer {token}"}


def csrf_token_of(client: FlaskClient) -> str | None:
    """The CSRF token held in `client`'s session cookie, if any."""
    with client.session_transaction() as session:
        token = session.get("csrf_token")
    return str(token) if token else None


class SignedInClient(FlaskClient):
    """A test client signed in through /login that sends `X-CSRF-Token` with every request,
    as the app's pages do, so tests of views need not repeat it. Use a plain `client` to test
    what happens without it."""

    csrf_token: str = ""
    email: str = ""
    role: str = ""


class LoginHelper:
    """Sign clients in the way a browser does: fetch /login, post the form with its CSRF token."""

    def make_user(
        self, app: Flask, email: str, role: str, password: str | None = TEST_PASSWORD
    ) -> int:
        return make_user(app, email, role, password)

    def login(self, client: FlaskClient, email: str, password: str = TEST_PASSWORD) -> str:
        """Sign `client` in and return the CSRF token of its new session."""
        response = self.post_login(client, email, password)
        assert response.status_code == 302, (response.status_code, response.get_data(True))
        token = csrf_token_of(client)
        assert token, "signing in gives the session a CSRF token"
        return token

    def post_login(
        self, client: FlaskClient, email: str, password: str, next_target: str | None = None
    ) -> TestResponse:
        """POST the login form as a browser would (after GET /login); returns the response."""
        client.get("/login")
        form = {"email": email, "password": password, "csrf_token": csrf_token_of(client) or ""}
        if next_target is not None:
            form["next"] = next_target
        return client.post("/login", data=form)

    def logout(self, client: FlaskClient, csrf_token: str) -> None:
        response = client.post("/logout", data={"csrf_token": csrf_token})
        assert response.status_code == 302, response.status_code

    def token(self, app: Flask, email: str, role: str) -> str:
        """A bearer token for a new user (or an existing one with this email)."""
        with app.app_context(), unit_of_work(session_factory(), TEST_ACTOR) as session:
            user = find_user(session, email) or create_user(session, email, role, TEST_PASSWORD)
            return issue_token(session, user)

    def signed_in_client(
        self, app: Flask, role: str, email: str | None = None, password: str = TEST_PASSWORD
    ) -> SignedInClient:
        """A new user with `role` and a client signed in as that user."""
        email = email or f"{role}@city.example"
        make_user(app, email, role, password)
        client = SignedInClient(app, app.response_class, use_cookies=True)
        client.csrf_token = self.login(client, email, password)
        client.environ_base["HTTP_X_CSRF_TOKEN"] = client.csrf_token
        client.email, client.role = email, role
        return client


@pytest.fixture
def auth() -> LoginHelper:
    return LoginHelper()


@pytest.fixture
def signed_in(app: Flask, auth: LoginHelper) -> Callable[..., SignedInClient]:
    """`signed_in("finance")` or `signed_in("editor", "ana@city.example")`: a signed-in client."""
    return lambda role, email=None: auth.signed_in_client(app, role, email)


@pytest.fixture
def viewer_client(app: Flask, auth: LoginHelper) -> SignedInClient:
    return auth.signed_in_client(app, "viewer")


@pytest.fixture
def editor_client(app: Flask, auth: LoginHelper) -> SignedInClient:
    return auth.signed_in_client(app, "editor")


@pytest.fixture
def finance_client(app: Flask, auth: LoginHelper) -> SignedInClient:
    return auth.signed_in_client(app, "finance")


@pytest.fixture
def admin_client(app: Flask, auth: LoginHelper) -> SignedInClient:
    return auth.signed_in_client(app, "admin")
