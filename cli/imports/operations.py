"""`asset-registry import occupancy|costs FILE`: the command-line front of
`registry.imports.operations`, with the options and exit codes of every importer."""

from __future__ import annotations

import click

from cli.imports.common import ImporterArgs
from cli.imports.common import import_options


def _command(kind: str, what: str) -> click.Command:
    """One command per record kind; they differ only in the kind and the help text."""

    @click.command(
        kind,
        help=f"Import {what} from CSV or XLSX, matched by natural key "
        "(all or nothing unless --skip-invalid).",
    )
    @import_options
    @click.pass_context
    def command(ctx: click.Context, importer: ImporterArgs) -> None:
        from registry.imports.operations import import_operations
        from registry.imports.pipeline import ImportOptions

        options = ImportOptions(
            layer=importer.layer,
            mapping=importer.mapping(),
            defaults=importer.default_values(),
            dry_run=importer.dry_run,
            skip_invalid=importer.skip_invalid,
        )
        importer.run(ctx, lambda factory: import_operations(factory, importer.file, kind, options))

    return command


import_occupancy_command = _command(
    "occupancy",
    "occupancy records (building, department, period, headcount, usable sq ft occupied)",
)
import_costs_command = _command(
    "costs", "O&M cost records (parcel and/or building, fiscal year, category, amount)"
)
