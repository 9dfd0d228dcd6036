"""`asset-registry users`: accounts and API tokens from the shell, for the first admin and scripts.

Changes are recorded in the audit trail with the actor `cli`. Passwords are read from stdin,
never from an argument, so they stay out of shell history and `ps`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from typing import NoReturn

import click

from registry.settings import Settings
from registry.vocabulary import USER_ROLES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from registry.models import User

CLI_ACTOR = "cli"


@click.group()
def users() -> None:
    """Who may sign in, with which role, and their API tokens."""


@users.command("add")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(USER_ROLES))
@click.option("--display-name", default=None, help="The name shown in the app and its history.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of stdin. Without it the user has no password "
    "and can use only API tokens.",
)
def users_add(email: str, role: str, display_name: str | None, password_stdin: bool) -> None:
    """Create a user."""
    from registry.users.records import UserError
    from registry.users.records import create_user

    password = _read_password() if password_stdin else None
    with _unit_of_work() as session:
        try:
            email = create_user(session, email, role, password, display_name).email
        except UserError as error:
            _fail(error.field, error.message)
    note = "" if password is not None else " (no password: API tokens only)"
    click.echo(f"added {email} as {role}{note}")


@users.command("token")
@click.argument("email")
def users_token(email: str) -> None:
    """Print a new API token for the user (shown once: only its hash is kept)."""
    from registry.users.records import issue_token

    with _unit_of_work() as session:
        user = _existing_user(session, email)
        token = issue_token(session, user)
    click.echo(token)


@users.command("revoke-tokens")
@click.argument("email")
def users_revoke_tokens(email: str) -> None:
    """Revoke every API token of the user, e.g. after a leak."""
    from registry.users.records import revoke_tokens

    with _unit_of_work() as session:
        count = revoke_tokens(session, _existing_user(session, email))
    click.echo(f"revoked {count} token{'s' if count != 1 else ''}")


@users.command("deactivate")
@click.argument("email")
def users_deactivate(email: str) -> None:
    """End every session and API token of the user and refuse them from now on (kept for the
    history; the audit trail records who deactivated them)."""
    from registry.users.sessions import deactivate_user

    with _unit_of_work() as session:
        user = _existing_user(session, email)
        sessions, tokens = deactivate_user(session, user)
        email = user.email
    click.echo(
        f"deactivated {email}: ended {sessions} session{'s' if sessions != 1 else ''}, "
        f"revoked {tokens} token{'s' if tokens != 1 else ''}"
    )


def _read_password() -> str:
    return sys.stdin.readline().rstrip("\r\n")


def _existing_user(session: Session, email: str) -> User:
    from registry.users.records import find_user
    from registry.users.records import normalise_email

    user = find_user(session, email)
    if user is None or not user.is_active:
        _fail("email", f"no active user {normalise_email(email)}")
    return user


def _fail(field: str, message: str) -> NoReturn:
    """Exit 1 with `error: <field>: <message>`, the CLI's shape for rejected input."""
    click.echo(f"error: {field}: {message}", err=True)
    click.get_current_context().exit(1)


@contextmanager
def _unit_of_work() -> Iterator[Session]:
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import sessionmaker

    from registry.db import create_registry_engine
    from registry.db import unit_of_work

    engine = create_registry_engine(Settings.from_env().database_url)
    try:
        with unit_of_work(sessionmaker(engine), actor=CLI_ACTOR) as session:
            yield session
    except OperationalError as error:
        raise click.ClickException(f"cannot reach the database: {error.orig}") from error
    finally:
        engine.dispose()
