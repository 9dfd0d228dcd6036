"""`asset-registry import parcels FILE …`: the command-line front of registry.imports.parcels."""

from __future__ import annotations

from pathlib import Path

import click

from cli.imports.common import ImporterArgs
from cli.imports.common import import_options
from registry.settings import Settings


@click.command("parcels")
@import_options
@click.option("--id-field", help="Column holding the parcel id (same as --map parcel_id=F).")
@click.option("--srs", help="CRS of the file's coordinates when it names none, e.g. EPSG:2229.")
@click.option(
    "--join",
    "join_path",
    type=click.Path(path_type=Path),
    help="A second table of attributes (CSV, XLSX, …) joined to the shapes by --on.",
)
@click.option(
    "--on",
    "join_on",
    help="The id column the shapes and the --join table share "
    "(matched as headers are: MAP_LOT finds Map-Lot), or SHAPES_COLUMN=TABLE_COLUMN.",
)
@click.option("--repair", is_flag=True, help="Repair invalid shapes with ST_MakeValid (reported).")
@click.option("--actor", default="cli", show_default=True, help="Who runs the import (audit).")
@click.pass_context
def import_parcels_command(
    ctx: click.Context,
    importer: ImporterArgs,
    id_field: str | None,
    srs: str | None,
    join_path: Path | None,
    join_on: str | None,
    repair: bool,
    actor: str,
) -> None:
    """Import parcels from GeoPackage, Shapefile (or .zip), GeoJSON, TopoJSON, CSV or XLSX;
    upsert by parcel id. Exit 1 when any feature is refused for an error (nothing written unless
    --skip-invalid); a record that only lacks data is stored, incomplete, with a warning."""
    from registry.imports.parcels import ImportOptions
    from registry.imports.parcels import SourceError
    from registry.imports.parcels import import_parcels

    mapping = importer.mapping()
    if id_field:
        mapping.setdefault("parcel_id", id_field)
    options = ImportOptions(
        layer=importer.layer,
        mapping=mapping,
        defaults=importer.default_values(),
        srs=srs,
        dry_run=importer.dry_run,
        skip_invalid=importer.skip_invalid,
        repair=repair,
        join_path=join_path,
        join_on=join_on,
    )
    importer.run(
        ctx,
        lambda factory: import_parcels(factory, importer.file, options, Settings.from_env(), actor),
        (SourceError,),
    )
