"""What the city commands share: the actor option, a unit of work, refusals as exit 1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

import click

from registry.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from registry.fields import RecordInvalid

CLI_ACTOR = "cli"

actor_option = click.option(
    "--actor", default=CLI_ACTOR, show_default=True,
    help="Who the audit trail names as the author of the change.")


def refuse(invalid: RecordInvalid) -> NoReturn:
    """Exit 1 with one `error: <field>: <message>` line per problem."""
    for problem in invalid.problems:
        click.echo(f"error: {problem.field}: {problem.message}", err=True)
    click.get_current_context().exit(1)


@contextmanager
def city_session(actor: str = CLI_ACTOR) -> Iterator[Session]:
    """A unit of work on DATABASE_URL naming `actor`: committed when the block ends, rolled
    back (and the command refused, exit 1) when the registry refuses the change."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import sessionmaker

    from registry.db import create_registry_engine, unit_of_work
    from registry.fields import RecordInvalid

    engine = create_registry_engine(Settings.from_env().database_url, pool_size=1)
    try:
        with unit_of_work(sessionmaker(engine), actor=actor) as session:
            yield session
    except RecordInvalid as invalid:
        refuse(invalid)
    except OperationalError as error:
        raise click.ClickException(f"cannot reach the database: {error.orig}") from error
    finally:
        engine.dispose()
