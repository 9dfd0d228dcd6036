"""`asset-registry kpi snapshot`, and the pieces it shares with `export kpi` (`cli.kpis.export`).

The KPI commands run `compute_kpis` and nothing else, so what is exported, stored as a dated
snapshot for the trend charts, and shown on the dashboard is one computation."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from registry.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from registry.kpis import KpiValue

SNAPSHOT_ACTOR = "kpi-snapshot"

as_of_option = click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date the stock KPIs are measured at (YYYY-MM-DD; default: today).",
)


def kpi_values(session: Session, period: str | None, as_of: dt.date) -> list[KpiValue]:
    """The KPI set for `period` (default: the fiscal year holding `as_of`); a period that does
    not parse is a usage error on `--period` (exit 2)."""
    from registry.city.profile import city_profile
    from registry.kpis import Period
    from registry.kpis import compute_kpis

    start_month = city_profile(session, Settings.from_env()).fiscal_year_start_month
    try:
        Period.resolve(period, as_of, start_month)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--period") from error
    return compute_kpis(session, period, as_of, start_month)


def as_of_date(value: dt.datetime | None) -> dt.date:
    """The `--as-of` option's day, today when not given."""
    return value.date() if value is not None else dt.date.today()


@click.group()
def kpi() -> None:
    """The reform KPI set (values, snapshots)."""


@kpi.command("snapshot")
@as_of_option
def kpi_snapshot(as_of: dt.datetime | None) -> None:
    """Store the KPI values at the as-of date for the trend charts. Snapshots are never
    rewritten: if one exists for that date, nothing is stored (exit 0, says so)."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import sessionmaker

    from registry.db import create_registry_engine
    from registry.db import unit_of_work
    from registry.kpis.export import store_snapshot

    day = as_of_date(as_of)
    engine = create_registry_engine(Settings.from_env().database_url, pool_size=1)
    try:
        with unit_of_work(sessionmaker(engine), SNAPSHOT_ACTOR) as session:
            values = kpi_values(session, None, day)
            stored = store_snapshot(session, values, day)
    except OperationalError as error:
        raise click.ClickException(f"cannot reach the database: {error.orig}") from error
    finally:
        engine.dispose()
    if stored is None:
        click.echo(
            f"a KPI snapshot as of {day} exists already: skipped (snapshots are never rewritten)"
        )
    else:
        click.echo(f"KPI snapshot as of {day}: {stored} values stored")
