"""Sign-in, sessions, API tokens, CSRF and roles, against the real app and PostGIS."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from flask import Blueprint
from flask import Flask
from flask import Response
from flask import jsonify
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from app import create_app
from app import database as app_database
from app.auth import CurrentUser
from app.auth import actor_name
from app.auth import current_user
from app.auth import editing_roles
from app.auth import is_local_path
from app.auth import require_login
from app.auth import require_role
from app.blueprints.auth import FAILED_LOGIN
from registry.db import unit_of_work
from registry.models import ApiToken
from registry.models import AuditEvent
from registry.models import User
from registry.users.records import UserError
from registry.users.records import authenticate
from registry.users.records import create_user
from registry.users.records import issue_token
from registry.users.records import revoke_tokens
from registry.users.records import user_for_token
from tests.auth_fixtures import TEST_PASSWORD
from tests.auth_fixtures import LoginHelper
from tests.auth_fixtures import SignedInClient
from tests.auth_fixtures import bearer
from tests.auth_fixtures import csrf_token_of
from tests.auth_fixtures import make_user

_probe = Blueprint("auth_probe", __name__)


@_probe.get("/api/probe/whoami")
@require_login
def _whoami() -> Response:
    user = current_user()
    assert user is not None
    return jsonify(email=user.email, role=user.role, actor=actor_name(), via_token=user.via_token)


@_probe.post("/api/probe/edits")
@require_role(*editing_roles)
def _edit() -> Response:
    return jsonify(actor=actor_name())


@_probe.get("/probe/page")
@require_login
def _page() -> str:
    return "a page for signed-in users"


@_probe.post("/probe/form")
@require_login
def _form() -> str:
    return "form accepted"


@pytest.fixture
def app(app: Flask) -> Flask:
    """The app with a few test-only views, to exercise the decorators the real views use."""
    app.register_blueprint(_probe)
    return app


def _query(app: Flask, sql: str) -> list[tuple[object, ...]]:
    with app.app_context(), app_database.session_factory()() as session:
        return [tuple(row) for row in session.execute(text(sql))]


# --- signing in -------------------------------------------------------------------------------


def test_signing_in_with_the_right_password_redirects_to_next_and_starts_a_session(
    app: Flask, client: FlaskClient, auth: LoginHelper
) -> None:
    make_user(app, "Ana@City.example", "editor")
    response = auth.post_login(client, "ana@city.example", TEST_PASSWORD, "/parcels/5555?tab=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/parcels/5555?tab=2"
    whoami = client.get("/api/probe/whoami").get_json()
    assert whoami == {
        "email": "ana@city.example",
        "role": "editor",
        "actor": "ana@city.example",
        "via_token": False,
    }


def test_a_wrong_password_and_an_unknown_email_get_the_same_401_answer(
    app: Flask, client: FlaskClient, auth: LoginHelper
) -> None:
    make_user(app, "ana@city.example", "viewer")
    wrong_password = auth.post_login(client, "ana@city.example", "not the password at all")
    unknown_email = auth.post_login(client, "nobody@city.example", TEST_PASSWORD)
    for response in (wrong_password, unknown_email):
        assert response.status_code == 401
        assert FAILED_LOGIN in response.get_data(as_text=True)
    assert client.get("/api/probe/whoami").status_code == 401


def test_the_login_form_itself_requires_the_csrf_token(app: Flask, client: FlaskClient) -> None:
    make_user(app, "ana@city.example", "viewer")
    client.get("/login")
    response = client.post("/login", data={"email": "ana@city.example", "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert client.get("/api/probe/whoami").status_code == 401


def test_the_login_page_renders_a_form_with_a_csrf_token(client: FlaskClient) -> None:
    page = client.get("/login?next=/kpi").get_data(as_text=True)
    token = csrf_token_of(client)
    assert token and f'name="csrf_token" value="{token}"' in page
    assert 'name="next" value="/kpi"' in page


def test_the_session_cookie_is_httponly_and_samesite_lax_and_not_secure_over_http(
    app: Flask, client: FlaskClient, auth: LoginHelper
) -> None:
    make_user(app, "ana@city.example", "viewer")
    response = auth.post_login(client, "ana@city.example", TEST_PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_registry_secure_cookies_makes_the_session_cookie_secure(
    fresh_database_url: str, monkeypatch: pytest.MonkeyPatch, auth: LoginHelper
) -> None:
    monkeypatch.setenv("REGISTRY_SECURE_COOKIES", "true")
    app = create_app({"TESTING": True, "DATABASE_URL": fresh_database_url, "SECRET_KEY": "t"})
    try:
        make_user(app, "ana@city.example", "viewer")
        client = app.test_client()
        client.get("/login", base_url="https://localhost")
        with client.session_transaction(base_url="https://localhost") as session:
            token = session["csrf_token"]
        response = client.post(
            "/login",
            base_url="https://localhost",
            data={"email": "ana@city.example", "password": TEST_PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302
        assert "Secure" in response.headers["Set-Cookie"]
    finally:
        app_database.dispose(app)


def test_signing_in_starts_a_new_session_with_a_new_csrf_token(
    app: Flask, client: FlaskClient, auth: LoginHelper
) -> None:
    make_user(app, "ana@city.example", "viewer")
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        token_before = session["csrf_token"]
    token_after = auth.login(client, "ana@city.example")
    assert token_after != token_before
    with client.session_transaction() as session:
        assert "planted" not in session


@pytest.mark.parametrize(
    "next_target",
    [
        "https://evil.example/login",
        "//evil.example/login",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "evil.example",
        "/ok\r\nLocation: https://evil.example",
    ],
)
def test_sign_in_never_redirects_to_another_site(
    app: Flask, client: FlaskClient, auth: LoginHelper, next_target: str
) -> None:
    make_user(app, "ana@city.example", "viewer")
    response = auth.post_login(client, "ana@city.example", TEST_PASSWORD, next_target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("target", "local"),
    [
        ("/", True),
        ("/parcels/1?x=//y", True),
        ("//evil", False),
        ("/\\evil", False),
        ("https://evil", False),
        ("", False),
        (None, False),
        ("/a\tb", False),
    ],
)
def test_only_paths_on_this_site_count_as_local(target: str | None, local: bool) -> None:
    assert is_local_path(target) is local


# --- signing out ------------------------------------------------------------------------------


def test_signing_out_takes_a_post_with_the_csrf_token_and_ends_the_session(
    viewer_client: SignedInClient, auth: LoginHelper
) -> None:
    viewer_client.environ_base.pop("HTTP_X_CSRF_TOKEN")
    assert viewer_client.post("/logout").status_code == 400
    assert viewer_client.get("/api/probe/whoami").status_code == 200

    auth.logout(viewer_client, viewer_client.csrf_token)
    assert viewer_client.get("/api/probe/whoami").status_code == 401
    with viewer_client.session_transaction() as session:
        assert "session_id" not in session


def test_get_logout_only_shows_a_sign_out_form(viewer_client: SignedInClient) -> None:
    page = viewer_client.get("/logout")
    assert page.status_code == 200
    assert 'action="/logout"' in page.get_data(as_text=True)
    assert viewer_client.get("/api/probe/whoami").status_code == 200


def test_a_deactivated_user_is_signed_out_on_the_next_request(
    app: Flask, viewer_client: SignedInClient
) -> None:
    with app.app_context(), unit_of_work(app_database.session_factory(), "tests") as session:
        session.execute(update(User).values(is_active=False))
    assert viewer_client.get("/api/probe/whoami").status_code == 401


# --- API tokens -------------------------------------------------------------------------------


def test_a_bearer_token_authenticates_and_only_its_hash_is_stored(
    app: Flask, client: FlaskClient, auth: LoginHelper
) -> None:
    token = auth.token(app, "script@city.example", "finance")
    assert token.startswith("car_") and len(token) > 40

    whoami = client.get("/api/probe/whoami", headers=bearer(token)).get_json()
    assert whoami["email"] == "script@city.example" and whoami["via_token"] is True

    stored = _query(app, "SELECT api_tokens::text FROM api_tokens")
    assert len(stored) == 1 and token not in str(stored[0][0])
    assert _query(app, "SELECT token_hash FROM api_tokens") == [
        (hashlib.sha256(token.encode()).hexdigest(),)
    ]


@pytest.mark.parametrize("token", ["car_not-a-token", "not even the shape", ""])
def test_an_unknown_token_gets_401_with_a_bearer_challenge(client: FlaskClient, token: str) -> None:
    response = client.get("/api/probe/whoami", headers=bearer(token))
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_is_refused(app: Flask, client: FlaskClient, auth: LoginHelper) -> None:
    token = auth.token(app, "script@city.example", "viewer")
    with app.app_context(), unit_of_work(app_database.session_factory(), "tests") as session:
        user = session.scalars(select(User)).one()
        assert revoke_tokens(session, user) == 1
    assert client.get("/api/probe/whoami", headers=bearer(token)).status_code == 401


def test_a_bearer_request_needs_no_csrf_token(
    app: Flask, client: FlaskClient, auth: LoginHelper
) -> None:
    token = auth.token(app, "script@city.example", "editor")
    response = client.post("/api/probe/edits", headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json() == {"actor": "script@city.example"}


# --- CSRF -------------------------------------------------------------------------------------


def test_a_signed_in_post_without_the_csrf_token_is_refused_with_400(
    editor_client: SignedInClient,
) -> None:
    editor_client.environ_base.pop("HTTP_X_CSRF_TOKEN")
    response = editor_client.post("/api/probe/edits", json={})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "CSRF token missing or invalid"


def test_a_signed_in_post_with_a_wrong_csrf_token_is_refused(
    editor_client: SignedInClient,
) -> None:
    response = editor_client.post("/api/probe/edits", headers={"X-CSRF-Token": "guess"})
    assert response.status_code == 400


def test_a_signed_in_post_with_the_csrf_header_is_accepted(
    editor_client: SignedInClient,
) -> None:
    response = editor_client.post(
        "/api/probe/edits", json={}, headers={"X-CSRF-Token": editor_client.csrf_token}
    )
    assert response.status_code == 200
    assert response.get_json() == {"actor": "editor@city.example"}


def test_a_form_post_carries_the_csrf_token_in_a_field_and_a_failure_is_a_plain_page(
    viewer_client: SignedInClient,
) -> None:
    viewer_client.environ_base.pop("HTTP_X_CSRF_TOKEN")
    accepted = viewer_client.post("/probe/form", data={"csrf_token": viewer_client.csrf_token})
    assert accepted.status_code == 200
    refused = viewer_client.post("/probe/form", data={"csrf_token": "forged"})
    assert refused.status_code == 400
    assert refused.mimetype == "text/html"


# --- roles ------------------------------------------------------------------------------------


def test_an_anonymous_api_call_gets_401_problem_json(client: FlaskClient) -> None:
    response = client.post("/api/probe/edits", json={})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "Authentication required"


def test_an_anonymous_page_visit_is_sent_to_login_and_back(client: FlaskClient) -> None:
    response = client.get("/probe/page?tab=2")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/probe/page?tab%3D2"


def test_a_viewer_may_not_use_an_editor_route(viewer_client: SignedInClient) -> None:
    response = viewer_client.post("/api/probe/edits", json={})
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("role", "can_edit", "can_export", "is_admin"),
    [
        ("viewer", False, False, False),
        ("editor", True, False, False),
        ("finance", False, True, False),
        ("admin", True, True, True),
    ],
)
def test_what_each_role_may_do(role: str, can_edit: bool, can_export: bool, is_admin: bool) -> None:
    user = CurrentUser(1, "a@city.example", role, None)
    assert (user.can_edit, user.can_export, user.is_admin) == (can_edit, can_export, is_admin)
    assert user.can_read_financials


def test_require_role_refuses_a_role_that_does_not_exist() -> None:
    with pytest.raises(ValueError, match="require_role"):
        require_role("superuser")


# --- the user service -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "role", "password", "field"),
    [
        ("not-an-email", "viewer", TEST_PASSWORD, "email"),
        ("a b@city.example", "viewer", TEST_PASSWORD, "email"),
        ("ana@city.example", "superuser", TEST_PASSWORD, "role"),
        ("ana@city.example", "viewer", "short", "password"),
    ],
)
def test_create_user_names_the_field_it_refuses(
    db_session: Session, email: str, role: str, password: str, field: str
) -> None:
    with pytest.raises(UserError) as refused:
        create_user(db_session, email, role, password)
    assert refused.value.field == field


def test_create_user_refuses_a_second_user_with_the_same_email_in_any_case(
    db_session: Session,
) -> None:
    create_user(db_session, "ana@city.example", "viewer", TEST_PASSWORD)
    with pytest.raises(UserError) as refused:
        create_user(db_session, " ANA@City.Example ", "editor", TEST_PASSWORD)
    assert (refused.value.field, refused.value.message) == ("email", "already exists")


def test_passwords_are_stored_as_scrypt_hashes_and_inactive_users_cannot_sign_in(
    db_session: Session,
) -> None:
    user = create_user(db_session, "Ana@City.example", "viewer", TEST_PASSWORD)
    assert user.email == "ana@city.example"
    assert user.password_hash is not None and user.password_hash.startswith("scrypt:")
    assert authenticate(db_session, "ANA@city.example", TEST_PASSWORD) is user
    user.is_active = False
    assert authenticate(db_session, "ana@city.example", TEST_PASSWORD) is None


def test_a_user_without_a_password_cannot_sign_in(db_session: Session) -> None:
    create_user(db_session, "robot@city.example", "viewer")
    assert authenticate(db_session, "robot@city.example", "") is None


def test_using_a_token_touches_last_used_at_at_most_once_a_minute(db_session: Session) -> None:
    user = create_user(db_session, "script@city.example", "viewer")
    token = issue_token(db_session, user)
    assert user_for_token(db_session, token) is user
    api_token = db_session.scalars(select(ApiToken)).one()
    first_use = api_token.last_used_at
    assert first_use is not None

    assert user_for_token(db_session, token) is user
    assert api_token.last_used_at == first_use

    api_token.last_used_at = first_use - dt.timedelta(minutes=2)
    assert user_for_token(db_session, token) is user
    assert api_token.last_used_at > first_use - dt.timedelta(minutes=1)


def test_users_and_tokens_are_audited_but_not_hashes_or_token_use(
    session_factory: sessionmaker[Session],
) -> None:
    with unit_of_work(session_factory, "admin@city.example") as session:
        user = create_user(session, "ana@city.example", "viewer", TEST_PASSWORD)
        token = issue_token(session, user)
        user_id = user.id
    with unit_of_work(session_factory, "api-token") as session:
        assert user_for_token(session, token) is not None  # touches last_used_at
    with unit_of_work(session_factory, "cli") as session:
        revoke_tokens(session, session.get_one(User, user_id))
    with session_factory() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.table_name, e.action, e.actor, e.changed_fields) for e in events] == [
        ("users", "INSERT", "admin@city.example", None),
        ("api_tokens", "INSERT", "admin@city.example", None),
        ("api_tokens", "UPDATE", "cli", ["revoked_at"]),
    ]
    assert events[0].after is not None and "password_hash" not in events[0].after
    assert events[1].after is not None and "token_hash" not in events[1].after
    assert events[1].after["user_id"] == user_id
