"""Create, migrate and analyze the registry's database. Used by the CLI, the test fixtures and
benchmarks."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from registry.db import normalise_database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# PostGIS's own tables (spatial_ref_sys, topology, tiger) are not ours to migrate.
_POSTGIS_TABLES = {"spatial_ref_sys", "topology", "layer"}


def include_object(obj, name, obj_type, reflected, compare_to):
    """Autogenerate's filter: our tables only, with geoalchemy2's spatial-index handling."""
    if obj_type == "table" and (name in _POSTGIS_TABLES or obj.schema in {"tiger", "topology"}):
        return False
    return alembic_helpers.include_object(obj, name, obj_type, reflected, compare_to)


def _maintenance_url(url: str) -> str:
    return (
        make_url(normalise_database_url(url))
        .set(database="postgres")
        .render_as_string(hide_password=False)
    )


def database_exists(url: str) -> bool:
    name = make_url(url).database
    engine = create_engine(_maintenance_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).scalar()
            return found is not None
    finally:
        engine.dispose()


def create_database(url: str, template: str | None = None) -> bool:
    """Create the database named in `url` unless it exists; True when it was created.

    PostGIS is enabled in it (a clone of a template already has it).
    """
    name = make_url(url).database
    if not name:
        raise ValueError("DATABASE_URL names no database")
    created = False
    if not database_exists(url):
        engine = create_engine(_maintenance_url(url), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                clause = f' TEMPLATE "{template}"' if template else ""
                connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
                created = True
        finally:
            engine.dispose()
    engine = create_engine(normalise_database_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    finally:
        engine.dispose()
    return created


def drop_database(url: str) -> None:
    name = make_url(url).database
    engine = create_engine(_maintenance_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic's config is ConfigParser-based: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", normalise_database_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def analyze(bind: Connection | Session) -> None:
    """ANALYZE every table, in the caller's transaction: give the planner statistics of rows
    just written in bulk (a sample load, a restore) without waiting for autovacuum, which a
    server may have off and which runs a while later anyway. Why: without them the planner
    guessed one row for the audit trail and looked each parcel up through the trigram index of
    parcel ids (5 ms a probe) instead of the unique one: the milestone page's burn-up took 30 s
    on the 2,400-parcel sample. Tables the role does not own (PostGIS's, made by a superuser)
    are skipped with a warning from the server, not an error."""
    bind.execute(text("ANALYZE"))
