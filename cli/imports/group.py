"""`asset-registry import ...`: the lists and GIS files a city keeps, into the registry.

Exit codes as for every command: 0 all rows loaded (or a clean dry run), 1 some input was
rejected (nothing written, unless `--skip-invalid`, which loads the good rows and still exits 1
so a script notices), 2 a usage error (no such file, unreadable format, unknown `--map` target).
"""

from __future__ import annotations

import click

from cli.imports.common import ImporterArgs
from cli.imports.common import import_options
from cli.lazy_group import LazyGroup


@click.group(
    "import",
    cls=LazyGroup,
    lazy_subcommands={
        "parcels": "cli.imports.parcels.import_parcels_command",
        "occupancy": "cli.imports.operations.import_occupancy_command",
        "costs": "cli.imports.operations.import_costs_command",
    },
)
def imports() -> None:
    """Import records from files (CSV, XLSX, GeoPackage, Shapefile, GeoJSON)."""


@imports.command("leases")
@import_options
@click.option(
    "--id-field", help="The column holding the lease number (same as --map lease_number=COLUMN)."
)
@click.option(
    "--direction",
    type=click.Choice(["in", "out"]),
    help="in: the city is the lessee; out: the lessor (for rows that do not say).",
)
@click.option(
    "--srs",
    metavar="EPSG:N",
    help="CRS of the points when the file has none "
    "(longitude/latitude columns default to EPSG:4326).",
)
@click.pass_context
def import_leases_command(
    ctx: click.Context,
    importer: ImporterArgs,
    id_field: str | None,
    direction: str | None,
    srs: str | None,
) -> None:
    """Import a lease list, upserting by lease number (all or nothing unless --skip-invalid)."""
    from registry.imports.leases import LeaseImportOptions
    from registry.imports.leases import import_leases

    default_values = importer.default_values()
    if direction is not None:
        if default_values.get("direction", direction) != direction:
            raise click.UsageError("--direction and --default direction= disagree")
        default_values["direction"] = direction
    options = LeaseImportOptions(
        layer=importer.layer, id_field=id_field, mapping=importer.mapping(),
        defaults=default_values, srs=srs, dry_run=importer.dry_run,
        skip_invalid=importer.skip_invalid,
    )  # fmt: skip
    importer.run(ctx, lambda factory: import_leases(factory, importer.file, options))
