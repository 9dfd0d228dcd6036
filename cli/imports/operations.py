"""`asset-registry import occupancy|costs FILE`: the command-line front of
`registry.imports.operations`, with the options and exit codes of `import leases`."""

from __future__ import annotations

from pathlib import Path

import click

from cli.imports.common import finish_import, parse_pairs
from registry.settings import Settings


def _command(kind: str, what: str) -> click.Command:
    """One command per record kind; they differ only in the kind and the help text."""

    @click.command(kind, help=f"Import {what} from CSV or XLSX, matched by natural key "
                   "(all or nothing unless --skip-invalid).")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--layer", help="Sheet of an XLSX workbook (default: the first).")
    @click.option("--map", "mappings", multiple=True, metavar="TARGET=SOURCE",
                  help="Read field TARGET from column SOURCE; TARGET= ignores a column the "
                  "headers would match. Repeatable.")
    @click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
    @click.option("--skip-invalid", is_flag=True, help="Load the valid rows, report the others.")
    @click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
                  help="Write the full report (every problem) as JSON.")
    @click.pass_context
    def command(ctx: click.Context, file: Path, layer: str | None, mappings: tuple[str, ...],
                dry_run: bool, skip_invalid: bool, report_path: Path | None) -> None:
        from sqlalchemy.exc import OperationalError
        from sqlalchemy.orm import sessionmaker

        from registry.db import create_registry_engine
        from registry.errors import VersionConflict
        from registry.fields import RecordInvalid
        from registry.imports.operations import (
            OperationsImportOptions,
            OperationsImportUsageError,
            import_operations,
        )

        options = OperationsImportOptions(layer=layer, mapping=parse_pairs("--map", mappings),
                                          dry_run=dry_run, skip_invalid=skip_invalid)
        engine = create_registry_engine(Settings.from_env().database_url)
        try:
            report = import_operations(sessionmaker(engine), file, kind, options)
        except OperationsImportUsageError as error:
            raise click.UsageError(str(error)) from error
        except OperationalError as error:
            raise click.ClickException(f"cannot reach the database: {error.orig}") from error
        except (RecordInvalid, VersionConflict) as error:  # a concurrent writer first
            raise click.ClickException(f"{file}: nothing written: {error}") from error
        finally:
            engine.dispose()
        finish_import(ctx, report, report_path)

    return command


import_occupancy_command = _command("occupancy", "occupancy records (building, department, "
                                    "period, headcount, usable sq ft occupied)")
import_costs_command = _command("costs", "O&M cost records (parcel and/or building, fiscal "
                                "year, category, amount)")
