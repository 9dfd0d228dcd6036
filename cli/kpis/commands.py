"""`asset-registry kpi snapshot`, and the pieces it shares with `export kpi` (`cli.kpis.export`).

The KPI commands run `compute_kpis` and nothing else, so what is exported, stored as a dated
snapshot for the trend charts, and shown on the dashboard is one computation."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

from registry.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.orm import Session
    from sqlalchemy.orm import sessionmaker

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


watch_days_option = click.option(
    "--watch-days",
    type=click.IntRange(1, 3660),
    default=90,
    show_default=True,
    help="Combinations of dimensions viewed on the KPI desk within this many days are kept too.",
)


@kpi.command("snapshot")
@as_of_option
@click.option(
    "--if-month-end",
    is_flag=True,
    help="Take it only when the as-of date is a fiscal month end (for a daily timer).",
)
@watch_days_option
def kpi_snapshot(as_of: dt.datetime | None, if_month_end: bool, watch_days: int) -> None:
    """Store the KPI values at the as-of date for the trend charts. Snapshots are never
    rewritten: if one exists for that date, nothing is stored (exit 0, says so). With
    `--if-month-end`, any other day is a no-op (exit 0), so a daily timer keeps one point per
    fiscal month end and a day missed while the machine was down is taken by `kpi backfill`
    (DIG-1..3) or by hand with `--as-of`. Each combination of dimensions viewed on the KPI desk
    in the last `--watch-days` days is stored too (the most viewed
    REGISTRY_KPI_WATCHED_COMBINATIONS, default 50; the output says how many more were left
    out), and its DIG-1..3 of the last 12 month ends back-filled from the audit trail where it
    has none (`registry.kpis.combinations`)."""
    from registry.kpis.snapshots import is_month_end

    day = as_of_date(as_of)
    if if_month_end and not is_month_end(day):
        click.echo(f"{day} is not a fiscal month end: no KPI snapshot taken")
        return
    _in_unit_of_work(lambda session: _store(session, day))
    _with_sessions(lambda factory: _store_combinations(factory, day, watch_days))


def _store_combinations(factory: sessionmaker[Session], day: dt.date, watch_days: int) -> None:
    from registry.kpis.combinations import backfill_combinations
    from registry.kpis.combinations import snapshot_combinations

    start_month, keys = _start_month(factory), _watched(factory, day, watch_days)
    stored = snapshot_combinations(factory, SNAPSHOT_ACTOR, keys, day, start_month)
    for key, rows in stored.items():
        click.echo(
            f"combination {key}: " + ("exists already" if rows is None else f"{rows} values")
        )
    filled = backfill_combinations(factory, SNAPSHOT_ACTOR, keys, day, 12, start_month)
    _echo_combinations_filled(filled)


def _watched(factory: sessionmaker[Session], day: dt.date, watch_days: int) -> list[str]:
    """The watched combinations' keys (the most viewed `REGISTRY_KPI_WATCHED_COMBINATIONS`);
    says how many viewed ones are left out, and how to keep more."""
    from registry.kpis.combinations import watched_combinations

    limit = Settings.from_env().kpi_watched_combinations
    with factory() as session:
        watched = watched_combinations(session, day, watch_days, limit)
    if watched.left_out:
        click.echo(
            f"{watched.left_out} more combinations viewed in the last {watch_days} days left "
            f"out: only the {limit} viewed on most days are kept "
            "(REGISTRY_KPI_WATCHED_COMBINATIONS)"
        )
    return watched.keys


def _echo_combinations_filled(filled: dict[str, dict[dt.date, int]]) -> None:
    for key, days in filled.items():
        if days:
            click.echo(f"combination {key}: {len(days)} month ends of DIG-1..DIG-3 back-filled")


def _start_month(factory: sessionmaker[Session]) -> int:
    from registry.city.profile import city_profile

    with factory() as session:
        return city_profile(session, Settings.from_env()).fiscal_year_start_month


def _store(session: Session, day: dt.date) -> None:
    from registry.kpis.snapshots import store_snapshot

    stored = store_snapshot(session, kpi_values(session, None, day), day)
    if stored is None:
        click.echo(
            f"a KPI snapshot as of {day} exists already: skipped (snapshots are never rewritten)"
        )
    else:
        click.echo(f"KPI snapshot as of {day}: {stored} values stored")


def _in_unit_of_work(work: Callable[[Session], None]) -> None:
    from registry.db import unit_of_work

    def one_transaction(factory: sessionmaker[Session]) -> None:
        with unit_of_work(factory, SNAPSHOT_ACTOR) as session:
            work(session)

    _with_sessions(one_transaction)


def _with_sessions(work: Callable[[sessionmaker[Session]], None]) -> None:
    """`work` with sessions on the database (it commits what it writes)."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import sessionmaker

    from registry.db import create_registry_engine

    engine = create_registry_engine(Settings.from_env().database_url, pool_size=1)
    try:
        work(sessionmaker(engine))
    except OperationalError as error:
        raise click.ClickException(f"cannot reach the database: {error.orig}") from error
    finally:
        engine.dispose()


@kpi.command("backfill")
@click.option(
    "--months",
    type=click.IntRange(1, 120),
    default=12,
    show_default=True,
    help="How many past month ends to fill.",
)
@as_of_option
@watch_days_option
def kpi_backfill(months: int, as_of: dt.datetime | None, watch_days: int) -> None:
    """Fill the trend of DIG-1, DIG-2 and DIG-3 at past month ends from the audit trail, where
    no snapshot was taken: the city's, then each combination of dimensions viewed on the KPI
    desk in the last `--watch-days` days (the most viewed REGISTRY_KPI_WATCHED_COMBINATIONS).
    Only these three: every input of theirs is a parcel's
    own fields, and the audit trail keeps each version of each parcel. The other KPIs read
    buildings, occupancy, costs, lease terms and findings whose past the trail cannot rebuild
    as one consistent portfolio, so their history starts with the first snapshot."""

    def fill(session: Session) -> None:
        from registry.city.profile import city_profile
        from registry.kpis.snapshots import backfill_snapshots

        start_month = city_profile(session, Settings.from_env()).fiscal_year_start_month
        stored = backfill_snapshots(session, as_of_date(as_of), months, start_month)
        for day, rows in stored.items():
            click.echo(f"{day}: {rows} values of DIG-1..DIG-3 back-filled")
        click.echo(
            f"back-filled {len(stored)} month ends (month ends with a snapshot are kept as taken)"
        )

    _in_unit_of_work(fill)

    def fill_combinations(factory: sessionmaker[Session]) -> None:
        from registry.kpis.combinations import backfill_combinations

        start_month, day = _start_month(factory), as_of_date(as_of)
        keys = _watched(factory, day, watch_days)
        filled = backfill_combinations(factory, SNAPSHOT_ACTOR, keys, day, months, start_month)
        _echo_combinations_filled(filled)

    _with_sessions(fill_combinations)
