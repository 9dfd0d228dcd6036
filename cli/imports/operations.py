"""`asset-registry import occupancy|costs FILE`: the command-line front of
`registry.imports.operations`, with the options and exit codes of every importer."""

from __future__ import annotations

from pathlib import Path

import click

from cli.imports.common import import_options
from cli.imports.common import parse_pairs
from cli.imports.common import run_import


def _command(kind: str, what: str) -> click.Command:
    """One command per record kind; they differ only in the kind and the help text."""

    @click.command(
        kind,
        help=f"Import {what} from CSV or XLSX, matched by natural key "
        "(all or nothing unless --skip-invalid).",
    )
    @import_options
    @click.pass_context
    def command(
        ctx: click.Context,
        file: Path,
        layer: str | None,
        mappings: tuple[str, ...],
        defaults: tuple[str, ...],
        dry_run: bool,
        skip_invalid: bool,
        report_path: Path | None,
    ) -> None:
        from registry.imports.operations import import_operations
        from registry.imports.pipeline import ImportOptions

        options = ImportOptions(
            layer=layer,
            mapping=parse_pairs("--map", mappings),
            defaults=parse_pairs("--default", defaults),
            dry_run=dry_run,
            skip_invalid=skip_invalid,
        )
        run_import(
            ctx, file, lambda factory: import_operations(factory, file, kind, options), report_path
        )

    return command


import_occupancy_command = _command(
    "occupancy",
    "occupancy records (building, department, period, headcount, usable sq ft occupied)",
)
import_costs_command = _command(
    "costs", "O&M cost records (parcel and/or building, fiscal year, category, amount)"
)
