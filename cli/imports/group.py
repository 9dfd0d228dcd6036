"""`asset-registry import ...`: the lists and GIS files a city keeps, into the registry.

Exit codes as for every command: 0 all rows loaded (or a clean dry run), 1 some input was
rejected (nothing written, unless `--skip-invalid`, which loads the good rows and still exits 1
so a script notices), 2 a usage error (no such file, unreadable format, unknown `--map` target).
"""

from __future__ import annotations

from pathlib import Path

import click

from cli.imports.common import finish_import, parse_pairs
from cli.lazy_group import LazyGroup
from registry.settings import Settings


@click.group("import", cls=LazyGroup, lazy_subcommands={
    "parcels": "cli.imports.parcels.import_parcels_command",
    "occupancy": "cli.imports.operations.import_occupancy_command",
    "costs": "cli.imports.operations.import_costs_command",
})
def imports() -> None:
    """Import records from files (CSV, XLSX, GeoPackage, Shapefile, GeoJSON)."""


@imports.command("leases")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--layer", help="Sheet of an XLSX workbook or layer of a GeoPackage (default: "
              "the first).")
@click.option("--id-field", help="The column holding the lease number (same as "
              "--map lease_number=COLUMN).")
@click.option("--map", "mappings", multiple=True, metavar="TARGET=SOURCE",
              help="Read lease field TARGET from column SOURCE; TARGET= ignores a column the "
              "headers would match. Repeatable.")
@click.option("--default", "defaults", multiple=True, metavar="FIELD=VALUE",
              help="Value for FIELD where the file has no column or a blank cell, e.g. "
              "payment_timing=advance. Repeatable.")
@click.option("--direction", type=click.Choice(["in", "out"]),
              help="in: the city is the lessee; out: the lessor (for rows that do not say).")
@click.option("--srs", metavar="EPSG:N", help="CRS of the points when the file has none "
              "(longitude/latitude columns default to EPSG:4326).")
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@click.option("--skip-invalid", is_flag=True, help="Load the valid rows, report the others.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the full report (every problem) as JSON.")
@click.pass_context
def import_leases_command(
    ctx: click.Context, file: Path, layer: str | None, id_field: str | None,
    mappings: tuple[str, ...], defaults: tuple[str, ...], direction: str | None,
    srs: str | None, dry_run: bool, skip_invalid: bool, report_path: Path | None,
) -> None:
    """Import a lease list, upserting by lease number (all or nothing unless --skip-invalid)."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import sessionmaker

    from registry.db import create_registry_engine
    from registry.errors import VersionConflict
    from registry.fields import RecordInvalid
    from registry.imports.leases import LeaseImportOptions, LeaseImportUsageError, import_leases

    default_values = parse_pairs("--default", defaults)
    if direction is not None:
        if default_values.get("direction", direction) != direction:
            raise click.UsageError("--direction and --default direction= disagree")
        default_values["direction"] = direction
    options = LeaseImportOptions(
        layer=layer, id_field=id_field, mapping=parse_pairs("--map", mappings),
        defaults=default_values, srs=srs, dry_run=dry_run, skip_invalid=skip_invalid,
    )  # fmt: skip
    engine = create_registry_engine(Settings.from_env().database_url)
    try:
        report = import_leases(sessionmaker(engine), file, options)
    except LeaseImportUsageError as error:
        raise click.UsageError(str(error)) from error
    except OperationalError as error:
        raise click.ClickException(f"cannot reach the database: {error.orig}") from error
    except (RecordInvalid, VersionConflict) as error:  # a concurrent writer came first
        raise click.ClickException(f"{file}: nothing written: {error}") from error
    finally:
        engine.dispose()
    finish_import(ctx, report, report_path)

