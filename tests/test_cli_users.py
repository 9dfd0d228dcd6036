"""`asset-registry users ...` through click's runner, against a PostGIS database of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from click.testing import Result
from sqlalchemy import Engine
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from cli.main import cli
from registry.db import create_registry_engine
from registry.models import AuditEvent
from registry.models import User
from registry.users.records import authenticate
from registry.users.records import user_for_token

PASSWORD = "a long enough password"


@pytest.fixture
def database_url(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    return fresh_database_url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_registry_engine(database_url)
    yield engine
    engine.dispose()


def _run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["users", *args], input=stdin)


def test_users_add_creates_a_user_who_can_sign_in_with_the_password_from_stdin(
    engine: Engine,
) -> None:
    result = _run(
        "add",
        "Ana@City.example",
        "--role",
        "editor",
        "--display-name",
        "Ana Ruiz",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "ana@city.example" in result.output
    with sessionmaker(engine)() as session:
        user = authenticate(session, "ana@city.example", PASSWORD)
        assert user is not None
        assert (user.role, user.display_name) == ("editor", "Ana Ruiz")
        event = session.scalars(select(AuditEvent).where(AuditEvent.table_name == "users")).one()
        assert event.actor == "cli"


def test_users_add_without_password_stdin_makes_a_token_only_user(engine: Engine) -> None:
    result = _run("add", "robot@city.example", "--role", "viewer")
    assert result.exit_code == 0, result.output
    with sessionmaker(engine)() as session:
        user = session.scalars(select(User)).one()
        assert user.password_hash is None


def test_users_token_prints_a_token_that_authenticates_the_user(engine: Engine) -> None:
    assert _run("add", "script@city.example", "--role", "finance").exit_code == 0
    result = _run("token", "Script@City.example")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("car_")
    with sessionmaker(engine).begin() as session:
        user = user_for_token(session, token)
        assert user is not None and user.email == "script@city.example"


def test_users_revoke_tokens_stops_every_token_of_the_user(engine: Engine) -> None:
    assert _run("add", "script@city.example", "--role", "viewer").exit_code == 0
    tokens = [_run("token", "script@city.example").stdout.strip() for _ in range(2)]
    result = _run("revoke-tokens", "script@city.example")
    assert (result.exit_code, result.stdout.strip()) == (0, "revoked 2 tokens")
    with sessionmaker(engine).begin() as session:
        assert [user_for_token(session, token) for token in tokens] == [None, None]


def test_users_token_for_an_unknown_email_exits_1(database_url: str) -> None:
    result = _run("token", "nobody@city.example")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: email: no active user nobody@city.example"
    assert result.stdout == ""


def test_users_add_with_a_role_that_does_not_exist_is_a_usage_error(database_url: str) -> None:
    result = _run("add", "ana@city.example", "--role", "superuser")
    assert result.exit_code == 2
    assert "superuser" in result.stderr


def test_users_add_with_a_short_password_exits_1_naming_the_field(engine: Engine) -> None:
    result = _run(
        "add", "ana@city.example", "--role", "viewer", "--password-stdin", stdin="short\n"
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: password: must be at least 12 characters"
    with sessionmaker(engine)() as session:
        assert session.scalars(select(User)).all() == []


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-email", "error: email: is not an email address"),
        ("ana@city.example", "error: email: already exists"),
    ],
)
def test_users_add_refuses_a_bad_or_taken_email(
    database_url: str, email: str, message: str
) -> None:
    assert _run("add", "ana@city.example", "--role", "viewer").exit_code == 0
    result = _run("add", email, "--role", "viewer")
    assert (result.exit_code, result.stderr.strip()) == (1, message)
