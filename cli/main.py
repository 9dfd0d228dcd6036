"""`asset-registry`: the command line, a thin front end over the same services as the web app.

Exit codes: 0 success, 1 the input or the database refused the work, 2 usage error.
The groups defined in other modules are imported only when named (`cli.lazy_group`).
"""

from __future__ import annotations

import sys

import click

from cli.lazy_group import LazyGroup
from registry.settings import Settings


def _database_url() -> str:
    return Settings.from_env().database_url


@click.group(
    cls=LazyGroup,
    lazy_subcommands={
        "users": "cli.users.users",
        "import": "cli.imports.group.imports",
        "export": "cli.exports.export",
        "kpi": "cli.kpis.commands.kpi",
        "city": "cli.city.profile.city",
        "departments": "cli.city.departments.departments",
        "districts": "cli.city.districts.districts",
        "backup": "cli.backup.backup",
        "restore": "cli.backup.restore",
        "documents": "cli.backup.documents",
        "leases": "cli.leases.notices.leases",
        "notify": "cli.leases.notices.notify",
    },
)
def cli() -> None:
    """City Asset Registry: a city's parcels, buildings and leases on PostGIS."""


@cli.group()
def db() -> None:
    """Create and migrate the database (DATABASE_URL)."""


@db.command("create")
def db_create() -> None:
    """Create the database and enable PostGIS in it, unless both exist."""
    from sqlalchemy.exc import OperationalError

    from registry import database_admin

    url = _database_url()
    try:
        created = database_admin.create_database(url)
    except OperationalError as error:
        raise click.ClickException(f"cannot reach the database server: {error.orig}") from error
    click.echo("database created" if created else "database exists")


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or migrate the schema to the newest revision (idempotent)."""
    from registry import database_admin

    database_admin.upgrade(_database_url(), revision)
    click.echo(f"schema at {revision}")
    if revision == "head":  # the stored lease schedules a new revision may call for
        from cli.city.common import city_session
        from registry.leases.records import store_stale_schedules

        with city_session() as session:
            stored = store_stale_schedules(session)
        if stored:
            click.echo(f"{stored} lease schedule{'' if stored == 1 else 's'} stored")


@cli.group()
def sample() -> None:
    """The sample portfolio in sample_parcels/."""


@sample.command("load")
@click.option(
    "--parcels",
    "n_parcels",
    type=click.IntRange(min=1),
    default=None,
    help="Generate a synthetic city of N parcels instead of loading the shipped sample.",
)
def sample_load(n_parcels: int | None) -> None:
    """Load the sample portfolio (safe to run again: unchanged records are left alone)."""
    from sqlalchemy.orm import sessionmaker

    from registry.db import create_registry_engine
    from sample_parcels.load import load_sample

    engine = create_registry_engine(_database_url())
    try:
        result = load_sample(sessionmaker(engine), n_parcels)
    finally:
        engine.dispose()
    for name, counts in (
        ("parcels", result.parcels),
        ("buildings", result.buildings),
        ("leases", result.leases),
    ):
        click.echo(
            f"{name}: {counts.inserted} inserted, {counts.updated} updated, "
            f"{counts.unchanged} unchanged"
        )


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Threads per process (each may hold one of the pool's 20 connections).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes, each with --threads threads (one core each at most).",
)
@click.option(
    "--connection-limit",
    default=500,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Open connections kept; more wait in the backlog.",
)
@click.option("--backlog", default=1024, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--channel-timeout",
    default=60,
    show_default=True,
    type=click.IntRange(1, 3600),
    help="Seconds an idle keep-alive connection is kept.",
)
@click.option(
    "--max-queue",
    default=400,
    show_default=True,
    type=click.IntRange(0, 1_000_000),
    help="Requests waiting for a thread beyond which new ones answer 503 (0: no limit).",
)
@click.option(
    "--trusted-proxy",
    default=None,
    help="Address of a reverse proxy whose X-Forwarded-For/-Proto are believed.",
)
def serve(
    host: str,
    port: int,
    threads: int,
    workers: int,
    connection_limit: int,
    backlog: int,
    channel_timeout: int,
    max_queue: int,
    trusted_proxy: str | None,
) -> None:
    """Serve the web app with a production WSGI server (waitress; docs/operations.md)."""
    from app import create_app
    from app.request_log import configure_logging
    from app.serving import ServerOptions
    from app.serving import serve as serve_app

    try:
        configure_logging()  # one JSON line per request unless REGISTRY_LOG_FORMAT=text
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    options = ServerOptions(threads, workers, connection_limit, backlog, channel_timeout, max_queue)
    proxy: dict[str, object] = {}
    if trusted_proxy:
        proxy = {
            "trusted_proxy": trusted_proxy,
            "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
            "clear_untrusted_proxy_headers": True,
        }
    click.echo(f"City Asset Registry on http://{host}:{port}")
    serve_app(create_app, host, port, options, **proxy)


def main() -> None:
    sys.exit(cli())


if __name__ == "__main__":
    main()
