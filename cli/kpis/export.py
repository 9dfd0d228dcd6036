"""`asset-registry export kpi`: the reform KPI set as a file, the command-line front of
`registry.kpis.export`.

Its `--format` choices are that module's own list, so importing this one loads openpyxl and the
KPI engine: the `export` group imports it only when the command is named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from cli.exports import format_option
from cli.exports import output_option
from cli.exports import read_session
from cli.exports import write_output
from cli.kpis.commands import as_of_date
from cli.kpis.commands import as_of_option
from cli.kpis.commands import kpi_values
from registry.kpis.export import KPI_EXPORT_FORMATS
from registry.kpis.export import kpi_export


@click.command("kpi")
@format_option(*KPI_EXPORT_FORMATS)
@output_option
@click.option(
    "--period",
    default=None,
    metavar="FY2026",
    help="Fiscal year (default: the one holding the as-of date).",
)
@as_of_option
def export_kpi(
    export_format: str, output: Path, period: str | None, as_of: dt.datetime | None
) -> None:
    """The reform KPI set: one row per KPI and breakdown value, with numerator, denominator,
    target and status; XLSX adds a Definitions sheet, JSON carries the definitions."""
    with read_session() as session:
        values = kpi_values(session, period, as_of_date(as_of))
    write_output(output, kpi_export(values, export_format))
    empty = sum(1 for value in values if value.value is None)
    label = values[0].period if values else period
    click.echo(f"{label}: {len(values)} KPI rows ({empty} without data) -> {output}")
