"""What the city commands share: the actor option, a unit of work, refusals as exit 1, and the
commands that only hand their arguments to one registry service."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import NoReturn
from typing import TypeVar

import click

from registry.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from registry.fields import RecordInvalid

CLI_ACTOR = "cli"

actor_option = click.option(
    "--actor",
    default=CLI_ACTOR,
    show_default=True,
    help="Who the audit trail names as the author of the change.",
)

polygon_file_argument = click.argument(
    "file", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)

_POLYGON_FILE_OPTIONS = (
    click.option(
        "--srs",
        default=None,
        help="CRS of the file's coordinates (EPSG:N) when the file names none or names it wrongly.",
    ),
    click.option("--layer", default=None, help="Layer of a GeoPackage with several."),
    actor_option,
)

Command = TypeVar("Command", bound=Callable[..., Any])


def polygon_file_options(command: Command) -> Command:
    """`--srs`, `--layer` and `--actor`: what every command reading a polygon file takes after
    its own options."""
    for option in reversed(_POLYGON_FILE_OPTIONS):
        command = option(command)
    return command


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

    from registry.db import create_registry_engine
    from registry.db import unit_of_work
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


def service_command(
    group: click.Group,
    name: str,
    service: str,
    done: str,
    arguments: dict[str, str],
    help: str | None = None,
) -> None:
    """Add the command `name` to `group`: its `arguments` ({parameter: metavar}, in order) go to
    the registry function `service` ("package.module.function", imported only when the command
    runs, as `cli.lazy_group` does) in a unit of work under --actor; then it prints `done`,
    formatted with the arguments."""

    def command(actor: str, **values: str) -> None:
        module, function = service.rsplit(".", 1)
        call = getattr(importlib.import_module(module), function)
        with city_session(actor) as session:
            call(session, *(values[parameter] for parameter in arguments))
        click.echo(done.format(**values))

    command = actor_option(command)
    for parameter, metavar in reversed(arguments.items()):  # click stacks them last first
        command = click.argument(parameter, metavar=metavar)(command)
    group.command(name, help=help)(command)
