"""What every `asset-registry import …` command shares: the options every importer takes
(`--layer`, `--map`, `--default`, `--dry-run`, `--skip-invalid`, `--report`), how NAME=VALUE
options are read, and the run itself: database, usage errors (exit 2), the summary, the JSON
report with every problem, and exit 1 when any row was refused."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar
from typing import cast

import click

from registry.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
    from sqlalchemy.orm import sessionmaker

    from registry.imports.report import ImportReport

Command = TypeVar("Command", bound=Callable[..., Any])

_SHARED_OPTIONS = (
    click.argument("file", type=click.Path(dir_okay=False, path_type=Path)),
    click.option(
        "--layer", help="Sheet of an XLSX workbook or layer of a GeoPackage (default: the first)."
    ),
    click.option(
        "--map",
        "mappings",
        multiple=True,
        metavar="TARGET=SOURCE",
        help="Read field TARGET from column SOURCE, or compose it from several: "
        "TARGET='{COL_A} {COL_B}'; TARGET= ignores a column the headers would match. "
        "Repeatable.",
    ),
    click.option(
        "--default",
        "defaults",
        multiple=True,
        metavar="FIELD=VALUE",
        help="Value for FIELD where the file has no column or a blank cell. Repeatable.",
    ),
    click.option("--dry-run", is_flag=True, help="Validate and report; write nothing."),
    click.option("--skip-invalid", is_flag=True, help="Load the valid rows, report the others."),
    click.option(
        "--report",
        "report_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the full report (every problem) as JSON.",
    ),
)


@dataclass(frozen=True)
class ImporterArgs:
    """What the options every importer takes were given; a command gets them as `importer`."""

    file: Path
    layer: str | None
    mappings: tuple[str, ...]
    defaults: tuple[str, ...]
    dry_run: bool
    skip_invalid: bool
    report_path: Path | None

    def mapping(self) -> dict[str, str]:
        """`--map` as a dict (a malformed one is a usage error)."""
        return parse_pairs("--map", self.mappings)

    def default_values(self) -> dict[str, str]:
        """`--default` as a dict (a malformed one is a usage error)."""
        return parse_pairs("--default", self.defaults)

    def run(
        self,
        ctx: click.Context,
        start: Callable[[sessionmaker[Session]], ImportReport],
        usage_errors: tuple[type[Exception], ...] = (),
    ) -> None:
        """`run_import` of this file, with the `--report` asked for."""
        run_import(ctx, self.file, start, self.report_path, usage_errors)


_SHARED_NAMES = tuple(shared.name for shared in fields(ImporterArgs))


def import_options(command: Command) -> Command:
    """Add the options every importer takes (FILE first); the command gets what they were given
    as one keyword, `importer` (an ImporterArgs), beside its own options."""

    @functools.wraps(command)
    def with_importer_args(*args: Any, **kwargs: Any) -> Any:
        shared = {name: kwargs.pop(name) for name in _SHARED_NAMES}
        return command(*args, importer=ImporterArgs(**shared), **kwargs)

    decorated: Callable[..., Any] = with_importer_args
    for option in reversed(_SHARED_OPTIONS):
        decorated = option(decorated)
    return cast(Command, decorated)


def parse_pairs(option: str, given: tuple[str, ...]) -> dict[str, str]:
    """`--map TARGET=SOURCE`-style options as a dict; a malformed one is a usage error."""
    pairs: dict[str, str] = {}
    for item in given:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise click.UsageError(f"{option} {item}: expected {option} NAME=VALUE")
        pairs[name.strip()] = value.strip()
    return pairs


def run_import(
    ctx: click.Context,
    file: Path,
    start: Callable[[sessionmaker[Session]], ImportReport],
    report_path: Path | None,
    usage_errors: tuple[type[Exception], ...] = (),
) -> None:
    """Run `start` against the registry, write the JSON report if asked (streamed from the
    batch, every problem), then print its summary, and exit 1 when any row was refused."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import sessionmaker

    from registry.db import create_registry_engine
    from registry.errors import VersionConflict
    from registry.fields import RecordInvalid
    from registry.imports.batches import stored_problems
    from registry.imports.columns import ImportUsageError

    usage: tuple[type[Exception], ...] = (ImportUsageError, *usage_errors)
    engine = create_registry_engine(Settings.from_env().database_url)
    try:
        factory = sessionmaker(engine)
        try:
            report = start(factory)
        except usage as error:
            raise click.UsageError(str(error)) from error
        except OperationalError as error:
            raise click.ClickException(f"cannot reach the database: {error.orig}") from error
        except (RecordInvalid, VersionConflict) as error:  # a concurrent writer came first
            raise click.ClickException(f"{file}: nothing written: {error}") from error
        if report_path is not None and report.batch_id is not None:
            with factory() as session:
                report.write_json(report_path, stored_problems(session, report.batch_id))
    finally:
        engine.dispose()
    lines = report.summary_lines()
    if report_path is not None and report.batch_id is not None:
        lines.append(f"report: {report_path}")
    _print(lines)
    ctx.exit(report.exit_code)


def _print(lines: list[str]) -> None:
    """Print the summary; a reader that stops early (`| head -1`) loses the rest, nothing else:
    the import is done and its report written before the first line."""
    try:
        for line in lines:
            click.echo(line)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit; point it at nowhere so that cannot fail too
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
