"""`asset-registry export kpi`, `export portfolio` and `kpi snapshot`: finance's reform reports.

The KPI commands run `compute_kpis` and nothing else, so what is exported, stored as a dated
snapshot for the trend charts, and shown on the dashboard is one computation. `export portfolio`
writes the portfolio summary (`registry.portfolio_export`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from cli.exports import export, format_option, output_option, read_session, write_output
from registry.db import create_registry_engine, unit_of_work
from registry.kpi_export import KPI_EXPORT_FORMATS, kpi_export, store_snapshot
from registry.kpis import KpiValue, Period, compute_kpis
from registry.portfolio_export import PORTFOLIO_FORMATS, portfolio_export
from registry.settings import Settings

SNAPSHOT_ACTOR = "kpi-snapshot"

as_of_option = click.option(
    "--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
    help="Date the stock KPIs are measured at (YYYY-MM-DD; default: today).",
)


def _values(session: Session, period: str | None, as_of: dt.date) -> list[KpiValue]:
    start_month = Settings.from_env().fiscal_year_start_month
    try:
        Period.resolve(period, as_of, start_month)  # a bad period is a usage error, exit 2
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--period") from error
    return compute_kpis(session, period, as_of, start_month)


def _date(value: dt.datetime | None) -> dt.date:
    return value.date() if value is not None else dt.date.today()


@export.command("kpi")
@format_option(*KPI_EXPORT_FORMATS)
@output_option
@click.option("--period", default=None, metavar="FY2026",
              help="Fiscal year (default: the one holding the as-of date).")
@as_of_option
def export_kpi(export_format: str, output: Path, period: str | None,
               as_of: dt.datetime | None) -> None:
    """The reform KPI set: one row per KPI and breakdown value, with numerator, denominator,
    target and status; XLSX adds a Definitions sheet, JSON carries the definitions."""
    with read_session() as session:
        values = _values(session, period, _date(as_of))
    write_output(output, kpi_export(values, export_format))
    empty = sum(1 for value in values if value.value is None)
    label = values[0].period if values else period
    click.echo(f"{label}: {len(values)} KPI rows ({empty} without data) -> {output}")


@export.command("portfolio")
@format_option(*PORTFOLIO_FORMATS)
@output_option
@as_of_option
def export_portfolio(export_format: str, output: Path, as_of: dt.datetime | None) -> None:
    """Portfolio summary for finance: XLSX (parcels, buildings, leases, costs by fiscal year,
    summaries by department, council district, asset type), CSV (parcels), or the parcels with
    their attributes as GeoPackage or GeoJSON."""
    day = _date(as_of)
    start_month = Settings.from_env().fiscal_year_start_month
    with read_session() as session:
        content = portfolio_export(session, export_format, day, start_month)
    write_output(output, content)
    click.echo(f"portfolio as of {day} ({export_format}, {len(content):,} bytes) -> {output}")


@click.group()
def kpi() -> None:
    """The reform KPI set (values, snapshots)."""


@kpi.command("snapshot")
@as_of_option
def kpi_snapshot(as_of: dt.datetime | None) -> None:
    """Store the KPI values at the as-of date for the trend charts. Snapshots are never
    rewritten: if one exists for that date, nothing is stored (exit 0, says so)."""
    day = _date(as_of)
    engine = create_registry_engine(Settings.from_env().database_url, pool_size=1)
    try:
        with unit_of_work(sessionmaker(engine), SNAPSHOT_ACTOR) as session:
            values = _values(session, None, day)
            stored = store_snapshot(session, values, day)
    except OperationalError as error:
        raise click.ClickException(f"cannot reach the database: {error.orig}") from error
    finally:
        engine.dispose()
    if stored is None:
        click.echo(f"a KPI snapshot as of {day} exists already: skipped (snapshots are never "
                   "rewritten)")
    else:
        click.echo(f"KPI snapshot as of {day}: {stored} values stored")
