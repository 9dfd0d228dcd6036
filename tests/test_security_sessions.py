"""Sessions that the server can end, deactivation, sign-in throttling and password rules (issue 15,
findings 2, 5 and 9), against the real app and PostGIS."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from app import create_app
from app import database as app_database
from app.blueprints.auth import LOGIN_CLOCK
from cli.main import cli
from registry.users.passwords import password_problem
from registry.users.records import UserError
from registry.users.records import create_user
from registry.users.throttle import ThrottlePolicy
from tests.auth_fixtures import TEST_PASSWORD
from tests.auth_fixtures import LoginHelper
from tests.auth_fixtures import SignedInClient
from tests.auth_fixtures import bearer
from tests.auth_fixtures import make_user

WHOAMI = "/leases"  # any page for signed-in users only: 200 signed in, 302 to /login otherwise
ATTACKER = "203.0.113.9"
OWNER = "198.51.100.7"


def _signed_in(client: FlaskClient) -> bool:
    response = client.get(WHOAMI)
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def _copy_of(app: Flask, client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of `client`'s session cookie (a stolen cookie)."""
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie(cookie.key, cookie.value)
    return thief


def _execute(app: Flask, sql: str, **params: object) -> list[tuple[object, ...]]:
    with app.app_context(), app_database.session_factory().begin() as session:
        result = session.connection().execute(text(sql), params)
        return [tuple(row) for row in result] if result.returns_rows else []


# --- sessions the server ends -----------------------------------------------------------------


def test_a_copied_cookie_stops_working_after_sign_out(
    app: Flask, viewer_client: SignedInClient, auth: LoginHelper
) -> None:
    thief = _copy_of(app, viewer_client)
    assert _signed_in(thief)
    auth.logout(viewer_client, viewer_client.csrf_token)
    assert not _signed_in(viewer_client)
    assert not _signed_in(thief)
    assert _execute(app, "SELECT ended_reason FROM user_sessions") == [("signed out",)]


def test_the_cookie_holds_only_a_session_id_whose_hash_is_stored(
    app: Flask, viewer_client: SignedInClient
) -> None:
    with viewer_client.session_transaction() as cookie:
        session_id = cookie["session_id"]
        assert "user_id" not in cookie
    stored = _execute(app, "SELECT session_hash, user_agent FROM user_sessions")
    assert len(stored) == 1 and session_id not in str(stored[0])


def test_sign_out_everywhere_ends_every_session_and_token_of_the_user(
    app: Flask, viewer_client: SignedInClient, auth: LoginHelper, client: FlaskClient
) -> None:
    laptop = app.test_client()
    auth.login(laptop, viewer_client.email)
    token = auth.token(app, viewer_client.email, "viewer")
    other = auth.signed_in_client(app, "editor")
    assert _signed_in(laptop)
    assert client.get("/api/parcels", headers=bearer(token)).status_code == 200

    response = viewer_client.post("/logout/everywhere")
    assert response.status_code == 302
    assert not _signed_in(viewer_client)
    assert not _signed_in(laptop)
    assert client.get("/api/parcels", headers=bearer(token)).status_code == 401
    assert _signed_in(other), "other users keep their sessions"


def test_sign_out_everywhere_takes_the_csrf_token(viewer_client: SignedInClient) -> None:
    viewer_client.environ_base.pop("HTTP_X_CSRF_TOKEN")
    assert viewer_client.post("/logout/everywhere").status_code == 400
    assert _signed_in(viewer_client)


def test_users_deactivate_ends_sessions_and_tokens_and_refuses_new_ones(
    app: Flask,
    fresh_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    viewer_client: SignedInClient,
    auth: LoginHelper,
    client: FlaskClient,
) -> None:
    thief = _copy_of(app, viewer_client)
    token = auth.token(app, viewer_client.email, "viewer")
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)

    result = CliRunner().invoke(cli, ["users", "deactivate", "VIEWER@city.example"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "deactivated viewer@city.example: ended 1 session, revoked 1 token"
    )
    assert not _signed_in(viewer_client) and not _signed_in(thief)
    assert client.get("/api/parcels", headers=bearer(token)).status_code == 401
    assert auth.post_login(client, viewer_client.email, TEST_PASSWORD).status_code == 401
    assert _execute(app, "SELECT is_active, deactivated_at IS NOT NULL FROM users") == [
        (False, True)
    ]
    again = CliRunner().invoke(cli, ["users", "deactivate", "viewer@city.example"])
    assert again.exit_code == 1
    assert again.stderr.strip() == "error: email: no active user viewer@city.example"


@pytest.fixture
def short_session_app(fresh_database_url: str) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": fresh_database_url,
            "SECRET_KEY": "test",
            "REGISTRY_SESSION_IDLE_MINUTES": 5,
            "REGISTRY_SESSION_MAX_HOURS": 1,
        }
    )
    yield app
    app_database.dispose(app)


def test_a_session_idle_longer_than_the_idle_timeout_is_signed_out(
    short_session_app: Flask, auth: LoginHelper
) -> None:
    app = short_session_app
    client = auth.signed_in_client(app, "viewer")
    assert _execute(app, "SELECT idle_timeout_minutes FROM user_sessions") == [(5,)]

    _execute(app, "UPDATE user_sessions SET last_seen_at = now() - interval '4 minutes'")
    assert _signed_in(client), "4 minutes idle is within the 5"
    seen = _execute(app, "SELECT now() - last_seen_at < interval '1 minute' FROM user_sessions")
    assert seen == [(True,)], "using the session keeps it alive"

    _execute(app, "UPDATE user_sessions SET last_seen_at = now() - interval '6 minutes'")
    assert not _signed_in(client)


def test_a_session_ends_at_its_maximum_age_even_when_in_use(
    short_session_app: Flask, auth: LoginHelper
) -> None:
    app = short_session_app
    client = auth.signed_in_client(app, "viewer")
    lifetime = _execute(app, "SELECT expires_at - created_at FROM user_sessions")
    assert lifetime == [(dt.timedelta(hours=1),)]
    assert app.permanent_session_lifetime == dt.timedelta(hours=1)

    _execute(app, "UPDATE user_sessions SET expires_at = now() - interval '1 second'")
    assert not _signed_in(client)


def test_an_old_style_cookie_naming_a_user_signs_nobody_in(app: Flask, client: FlaskClient) -> None:
    user_id = make_user(app, "ana@city.example", "admin")
    with client.session_transaction() as cookie:
        cookie["user_id"] = user_id
    assert not _signed_in(client)


# --- throttling -------------------------------------------------------------------------------


@pytest.fixture
def frozen_clock(app: Flask) -> list[dt.datetime]:
    now = [dt.datetime(2026, 12, 3, 6, 0, tzinfo=dt.UTC)]
    app.extensions[LOGIN_CLOCK] = lambda: now[0]
    return now


def _client_at(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_fifty_anonymous_failures_do_not_stop_the_admin_signing_in_from_their_address(
    app: Flask, auth: LoginHelper, frozen_clock: list[dt.datetime]
) -> None:
    make_user(app, "admin@city.example", "admin")
    attacker = _client_at(app, ATTACKER)
    statuses = [
        auth.post_login(attacker, "admin@city.example", f"guess number {n}").status_code
        for n in range(50)
    ]
    assert statuses[:4] == [401] * 4
    assert statuses[4:] == [429] * 46, "the attacker is slowed after a few tries"

    owner = _client_at(app, OWNER)
    assert auth.post_login(owner, "admin@city.example", TEST_PASSWORD).status_code == 302
    assert _signed_in(owner)


def test_the_attackers_wait_doubles_with_each_failure_and_is_told_by_retry_after(
    app: Flask, auth: LoginHelper, frozen_clock: list[dt.datetime]
) -> None:
    make_user(app, "admin@city.example", "admin")
    attacker = _client_at(app, ATTACKER)
    for _ in range(4):
        assert auth.post_login(attacker, "admin@city.example", "a wrong guess").status_code == 401
    waits = []
    for _ in range(5):
        refused = auth.post_login(attacker, "admin@city.example", TEST_PASSWORD)
        assert refused.status_code == 429, "even the right password waits its turn"
        assert "Too many failed sign-in attempts" in refused.get_data(as_text=True)
        wait = int(refused.headers["Retry-After"])
        waits.append(wait)
        frozen_clock[0] += dt.timedelta(seconds=wait)
        assert auth.post_login(attacker, "admin@city.example", "a wrong guess").status_code == 401
    assert waits == [1, 2, 4, 8, 16]


def test_a_success_clears_the_count_of_that_address_only(
    app: Flask, auth: LoginHelper, frozen_clock: list[dt.datetime]
) -> None:
    make_user(app, "ana@city.example", "viewer")
    attacker, owner = _client_at(app, ATTACKER), _client_at(app, OWNER)
    for client in (attacker, owner):
        for _ in range(3):
            assert auth.post_login(client, "ana@city.example", "typo typo typo").status_code == 401
    assert auth.post_login(owner, "ana@city.example", TEST_PASSWORD).status_code == 302
    assert _execute(app, "SELECT client_address, failures FROM login_throttles") == [(ATTACKER, 3)]


def test_the_throttle_forgets_failures_after_a_day(
    app: Flask, auth: LoginHelper, frozen_clock: list[dt.datetime]
) -> None:
    make_user(app, "ana@city.example", "viewer")
    attacker = _client_at(app, ATTACKER)
    for _ in range(10):
        auth.post_login(attacker, "ana@city.example", "a wrong guess")
    frozen_clock[0] += dt.timedelta(days=1, seconds=1)
    assert auth.post_login(attacker, "ana@city.example", "a wrong guess").status_code == 401
    assert _execute(app, "SELECT failures FROM login_throttles") == [(1,)]


def test_the_delay_grows_exponentially_to_a_cap() -> None:
    policy = ThrottlePolicy()
    delays = [policy.delay_after(n).total_seconds() for n in range(1, 16)]
    assert delays[:3] == [0, 0, 0]
    assert delays[3:8] == [1, 2, 4, 8, 16]
    assert max(delays) == 15 * 60 and policy.delay_after(10_000).total_seconds() == 15 * 60


# --- passwords --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("aaaaaaaaaaaa", "must not be one character repeated"),
        ("abcabcabcabc", "must not be a few characters repeated"),
        ("password1234", "is too common"),
        ("Iloveyou2024!", "is too common"),
        ("qwertyuiop123", "is too common"),
        ("ana.ruiz@city.example", "must not be your email address"),
        ("ANA.RUIZ1234", None),
        ("short", "must be at least 12 characters"),
        (TEST_PASSWORD, None),
    ],
)
def test_password_rules(password: str, message: str | None) -> None:
    problem = password_problem(password, "ana.ruiz@city.example")
    if message is None:
        assert problem is None
    else:
        assert problem is not None and problem.startswith(message)


def test_create_user_refuses_a_repeated_character_and_a_common_password(
    db_session: Session,
) -> None:
    for password in ("aaaaaaaaaaaa", "password1234"):
        with pytest.raises(UserError) as refused:
            create_user(db_session, "ana@city.example", "viewer", password)
        assert refused.value.field == "password"


def test_users_add_says_why_a_common_password_is_refused(
    fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    result = CliRunner().invoke(
        cli,
        ["users", "add", "ana@city.example", "--role", "admin", "--password-stdin"],
        input="aaaaaaaaaaaa\n",
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: password: must not be one character repeated"


# --- the admin page ---------------------------------------------------------------------------


def test_the_users_page_lists_sessions_and_an_admin_can_end_one(
    app: Flask, admin_client: SignedInClient, auth: LoginHelper
) -> None:
    make_user(app, "ana@city.example", "editor")
    ana = app.test_client()
    ana.environ_base["HTTP_USER_AGENT"] = "Firefox on Ana's laptop"
    auth.login(ana, "ana@city.example")
    auth.token(app, "ana@city.example", "editor")

    page = admin_client.get("/admin/users")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "ana@city.example" in html and "Firefox on Ana&#39;s laptop" in html
    assert "No live API token" not in html.split("ana@city.example", 1)[1].split("<section", 1)[0]

    [(user_id, session_id)] = _execute(
        app, "SELECT user_id, id FROM user_sessions WHERE user_agent LIKE 'Firefox%'"
    )
    end_url = f"/admin/users/{user_id}/sessions/{session_id}/end"
    assert f'action="{end_url}"' in html
    assert admin_client.post(end_url).status_code == 302
    assert not _signed_in(ana)
    assert _signed_in(admin_client)
    assert "Firefox on Ana" not in admin_client.get("/admin/users").get_data(as_text=True)


def test_an_admin_revokes_a_token_and_deactivates_a_user_from_the_page(
    app: Flask, admin_client: SignedInClient, auth: LoginHelper, client: FlaskClient
) -> None:
    token = auth.token(app, "script@city.example", "viewer")
    [(user_id, token_id)] = _execute(app, "SELECT user_id, id FROM api_tokens")
    assert admin_client.post(f"/admin/users/{user_id}/tokens/{token_id}/revoke").status_code == 302
    assert client.get("/api/parcels", headers=bearer(token)).status_code == 401

    editor = auth.signed_in_client(app, "editor")
    deactivate = f"/admin/users/{_id_of(app, editor.email)}/deactivate"
    assert admin_client.post(deactivate).status_code == 302
    assert not _signed_in(editor)
    audit = _execute(
        app, "SELECT actor FROM audit_events WHERE table_name = 'users' AND action = 'UPDATE'"
    )
    assert audit == [("admin@city.example",)]


def test_an_admin_cannot_deactivate_themself(app: Flask, admin_client: SignedInClient) -> None:
    admin_client.post(f"/admin/users/{_id_of(app, admin_client.email)}/deactivate")
    assert _signed_in(admin_client)


def _id_of(app: Flask, email: str) -> int:
    [(user_id,)] = _execute(app, "SELECT id FROM users WHERE email = :email", email=email)
    assert isinstance(user_id, int)
    return user_id


def test_the_users_page_and_its_buttons_are_for_admins_only(
    app: Flask, editor_client: SignedInClient, client: FlaskClient
) -> None:
    user_id = _id_of(app, editor_client.email)
    assert editor_client.get("/admin/users").status_code == 403
    assert editor_client.post(f"/admin/users/{user_id}/deactivate").status_code == 403
    assert editor_client.post(f"/admin/users/{user_id}/sign-out-everywhere").status_code == 403
    assert client.get("/admin/users").status_code == 302
    assert _signed_in(editor_client)


def test_an_admin_page_post_without_the_csrf_token_is_refused(
    app: Flask, admin_client: SignedInClient, auth: LoginHelper
) -> None:
    editor = auth.signed_in_client(app, "editor")
    admin_client.environ_base.pop("HTTP_X_CSRF_TOKEN")
    response = admin_client.post(f"/admin/users/{_id_of(app, editor.email)}/deactivate")
    assert response.status_code == 400
    assert _signed_in(editor)
