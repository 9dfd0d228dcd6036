"""`asset-registry export …`: reports for finance, written to a file.

The group holds one command per report: `gasb87` here; `kpi` and `portfolio` in
`cli.kpis.export` and `cli.portfolio.export`, imported only when named, because their format
choices come from report modules that load openpyxl and pyogrio. Here too are the pieces every
export shares: `format_option`, `output_option`, `read_session` and `write_output`, so each
command is a few lines over its registry service.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

import click

from cli.lazy_group import LazyGroup
from registry.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

F = TypeVar("F", bound=Callable[..., Any])


@click.group(
    cls=LazyGroup,
    lazy_subcommands={
        "kpi": "cli.kpis.export.export_kpi",
        "portfolio": "cli.portfolio.export.export_portfolio",
    },
)
def export() -> None:
    """Write a report for finance to a file (XLSX, CSV, …)."""


def format_option(*formats: str) -> Callable[[F], F]:
    """`-f/--format` among `formats`, the first being the default."""
    return click.option(
        "-f",
        "--format",
        "export_format",
        type=click.Choice(formats),
        default=formats[0],
        show_default=True,
        help="File format.",
    )


def output_option(function: F) -> F:
    """`-o/--output PATH`, required: exports are files, never a terminal dump."""
    return click.option(
        "-o",
        "--output",
        required=True,
        type=click.Path(dir_okay=False, writable=True, path_type=Path),
        help="File to write (replaced if it exists).",
    )(function)


@contextmanager
def read_session() -> Iterator[Session]:
    """A read-only session (exports change nothing, so nothing to audit): on the read replica
    (`DATABASE_READ_URL`) when it has replayed everything committed on the primary before the
    export began, so the file is as current as if read from the primary; else on DATABASE_URL."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import sessionmaker

    engine = _export_engine(Settings.from_env())
    try:
        with sessionmaker(engine)() as session:
            yield session
    except OperationalError as error:
        raise click.ClickException(f"cannot read the database: {error.orig}") from error
    finally:
        engine.dispose()


def _export_engine(settings: Settings) -> Engine:
    from registry.db import create_registry_engine
    from registry.replication import DATABASE_ERRORS
    from registry.replication import REPLICA_CONNECT_TIMEOUT_SECONDS
    from registry.replication import replica_has_caught_up

    primary = create_registry_engine(settings.database_url, pool_size=1)
    if not settings.database_read_url:
        return primary
    replica = create_registry_engine(
        settings.database_read_url,
        pool_size=1,
        connect_args={"connect_timeout": REPLICA_CONNECT_TIMEOUT_SECONDS},
    )
    try:
        current = replica_has_caught_up(primary, replica)
    except DATABASE_ERRORS:
        current = False  # the primary does not answer: reading it says so in the usual words
    chosen, other = (replica, primary) if current else (primary, replica)
    other.dispose()
    return chosen


def write_output(path: Path, content: str | bytes) -> None:
    """Write atomically (a temporary file renamed over `path`), so a failed export never
    leaves a half-written file where a previous good one was."""
    data = content.encode() if isinstance(content, str) else content
    folder = path.resolve().parent
    if not folder.is_dir():
        raise click.UsageError(f"{path}: the folder {folder} does not exist")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@export.command("gasb87")
@click.option(
    "--fy",
    "fiscal_year",
    required=True,
    type=click.IntRange(1901, 2199),
    help="Fiscal year, named by the calendar year it ends in (2026: July 2025-June "
    "2026 when the city's fiscal year starts in July).",
)
@format_option("xlsx", "csv")
@output_option
def export_gasb87(fiscal_year: int, export_format: str, output: Path) -> None:
    """GASB 87 lease report of a fiscal year: summary by direction and fund type, every lease,
    maturity tables (XLSX), or the per-lease and totals rows (CSV)."""
    from registry.city.profile import city_profile
    from registry.leases.gasb87.columns import gasb87_csv
    from registry.leases.gasb87.report import gasb87_report
    from registry.leases.gasb87.workbook import gasb87_workbook

    with read_session() as session:
        start_month = city_profile(session, Settings.from_env()).fiscal_year_start_month
        report = gasb87_report(session, fiscal_year, start_month)
    content = gasb87_csv(report) if export_format == "csv" else gasb87_workbook(report)
    write_output(output, content)
    lessee, lessor = report.group("in"), report.group("out")
    not_measured = len(report.not_measured)
    click.echo(
        f"FY{fiscal_year} ({report.start} to {report.end}): {len(report.leases)} leases; "
        f"lease liability {lessee.amounts.closing_balance:,.2f}, "
        f"lease receivable {lessor.amounts.closing_balance:,.2f} -> {output}"
        + (
            f"; not measured, left out: {not_measured} leases (recorded incomplete)"
            if not_measured
            else ""
        )
    )


@export.command("journal")
@click.option(
    "--fy",
    "fiscal_year",
    required=True,
    type=click.IntRange(1901, 2199),
    help="Fiscal year, named by the calendar year it ends in.",
)
@click.option(
    "--month",
    type=click.IntRange(1, 12),
    default=None,
    help="Fiscal period (1 = the fiscal year's first month); default: every month of the year.",
)
@format_option("csv", "xlsx")
@output_option
def export_journal(fiscal_year: int, month: int | None, export_format: str, output: Path) -> None:
    """GASB 87 journal entries for the general ledger (lessee: liability, right-to-use asset,
    interest, amortization; lessor: receivable, deferred inflow, interest, lease revenue), with
    the account codes of REGISTRY_JOURNAL_ACCOUNTS. The XLSX adds a trial balance and, for a
    whole year, the tie-out to the GASB 87 report."""
    from registry.city.profile import city_profile
    from registry.leases.gasb87.journal import journal_csv
    from registry.leases.gasb87.journal import journal_entries
    from registry.leases.gasb87.journal import journal_workbook
    from registry.leases.gasb87.journal import parse_accounts
    from registry.leases.gasb87.journal import tie_out
    from registry.leases.gasb87.report import gasb87_report

    try:
        accounts = parse_accounts(os.environ.get("REGISTRY_JOURNAL_ACCOUNTS"))
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    with read_session() as session:
        start_month = city_profile(session, Settings.from_env()).fiscal_year_start_month
        journal = journal_entries(session, fiscal_year, start_month, month=month, accounts=accounts)
        ties = (
            tie_out(journal, gasb87_report(session, fiscal_year, start_month))
            if month is None
            else []
        )
    if export_format == "csv":
        write_output(output, journal_csv(journal))
    else:
        write_output(output, journal_workbook(journal, ties))
    entries = len({line.entry for line in journal.lines})
    click.echo(
        f"FY{fiscal_year}{f' period {month}' if month else ''} ({journal.start} to {journal.end}): "
        f"{entries} entries, {len(journal.lines)} lines -> {output}"
    )
    for what, ours, report in ties:
        if ours != report:
            click.echo(f"warning: {what}: journal {ours:,.2f}, report {report:,.2f}", err=True)
