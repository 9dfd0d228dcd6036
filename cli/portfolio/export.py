"""`asset-registry export portfolio`: the portfolio summary for finance as a file, the
command-line front of `registry.portfolio.export`.

Its `--format` choices are that module's own list, so importing this one loads openpyxl, pyarrow
and pyogrio: the `export` group imports it only when the command is named."""

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
from registry.city.profile import city_profile
from registry.portfolio.export import PORTFOLIO_FORMATS
from registry.portfolio.export import portfolio_export
from registry.settings import Settings


@click.command("portfolio")
@format_option(*PORTFOLIO_FORMATS)
@output_option
@as_of_option
def export_portfolio(export_format: str, output: Path, as_of: dt.datetime | None) -> None:
    """Portfolio summary for finance: XLSX (parcels, buildings, leases, costs by fiscal year,
    summaries by department, council district, asset type), CSV (parcels), or the parcels with
    their attributes as GeoPackage or GeoJSON."""
    day = as_of_date(as_of)
    with read_session() as session:
        start_month = city_profile(session, Settings.from_env()).fiscal_year_start_month
        content = portfolio_export(session, export_format, day, start_month)
    write_output(output, content)
    click.echo(f"portfolio as of {day} ({export_format}, {len(content):,} bytes) -> {output}")
