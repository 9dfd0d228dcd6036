"""`asset-registry import parcels FILE …`: the command-line front of registry.imports.parcels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from registry.settings import Settings

if TYPE_CHECKING:
    from registry.imports.parcels import ImportResult

SHOWN_PROBLEMS = 20


def _problem_line(source: str, problem: dict[str, Any]) -> str:
    where = f"row {problem['row_number']}" if problem["row_number"] is not None else "file"
    record = f" parcel {problem['record_id']}" if problem["record_id"] else ""
    label = "" if problem["severity"] == "error" else f" [{problem['severity']}]"
    return f"{source}:{where}{record} field {problem['field']}{label}: {problem['message']}"


def print_summary(source: str, result: ImportResult) -> None:
    counts = ", ".join(f"{key} {value:,}" for key, value in result.counts.items())
    click.echo(f"import #{result.batch_id}: {result.outcome}; {counts}")
    errors = [p for p in result.problems if p["severity"] != "repaired"]
    for problem in result.problems[:SHOWN_PROBLEMS]:
        click.echo(_problem_line(source, problem), err=problem["severity"] == "error")
    if len(result.problems) > SHOWN_PROBLEMS:
        click.echo(f"… and {len(result.problems) - SHOWN_PROBLEMS:,} more (see --report)", err=True)
    if result.rejected:
        click.echo(f"nothing was written: {len(errors):,} problems; fix them, or load the valid "
                   "rows with --skip-invalid", err=True)


def write_report(path: Path, source: str, result: ImportResult) -> None:
    report = {"batch_id": result.batch_id, "source": source, "outcome": result.outcome,
              "counts": result.counts, "mapping": result.mapping, "problems": result.problems}
    path.write_text(json.dumps(report, indent=2, default=str))


@click.command("parcels")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--layer", help="Layer (GeoPackage) or sheet (XLSX) to read.")
@click.option("--id-field", help="Column holding the parcel id (same as --map parcel_id=F).")
@click.option("--map", "mappings", multiple=True, metavar="TARGET=SOURCE",
              help="Read parcel field TARGET from column SOURCE; repeatable.")
@click.option("--srs", help="CRS of the file's coordinates when it names none, e.g. EPSG:2229.")
@click.option("--join", "join_path", type=click.Path(path_type=Path),
              help="A second table of attributes (CSV, XLSX, …) joined to the shapes by --on.")
@click.option("--on", "join_on", help="The id column the shapes and the --join table share.")
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option("--skip-invalid", is_flag=True, help="Load the valid features, report the rest.")
@click.option("--repair", is_flag=True, help="Repair invalid shapes with ST_MakeValid (reported).")
@click.option("--report", "report_path", type=click.Path(path_type=Path),
              help="Write the full report as JSON.")
@click.option("--actor", default="cli", show_default=True, help="Who runs the import (audit).")
def import_parcels_command(file: Path, layer: str | None, id_field: str | None,
                           mappings: tuple[str, ...], srs: str | None, join_path: Path | None,
                           join_on: str | None, dry_run: bool,
                           skip_invalid: bool, repair: bool, report_path: Path | None,
                           actor: str) -> None:
    """Import parcels from GeoPackage, Shapefile (or .zip), GeoJSON, TopoJSON, CSV or XLSX;
    upsert by parcel id. Exit 1 when the input is rejected (nothing written)."""
    from sqlalchemy.orm import sessionmaker

    from registry.db import create_registry_engine
    from registry.imports.parcels import ImportOptions, MappingError, SourceError, import_parcels
    from registry.imports.parcels.mapping import parse_map_options

    try:
        explicit = parse_map_options(mappings)
        if id_field:
            explicit.setdefault("parcel_id", id_field)
    except MappingError as error:
        raise click.UsageError(str(error)) from error
    settings = Settings.from_env()
    engine = create_registry_engine(settings.database_url)
    options = ImportOptions(layer=layer, mapping=explicit, srs=srs, dry_run=dry_run,
                            skip_invalid=skip_invalid, repair=repair, join_path=join_path,
                            join_on=join_on)
    try:
        result = import_parcels(sessionmaker(engine), file, options, settings, actor)
    except (SourceError, MappingError) as error:
        raise click.UsageError(str(error)) from error
    finally:
        engine.dispose()
    print_summary(str(file), result)
    if report_path:
        write_report(report_path, str(file), result)
    if result.rejected or (dry_run and result.counts.get("invalid")):
        raise SystemExit(1)
