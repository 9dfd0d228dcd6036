"""`asset-registry backup PATH` and `asset-registry restore PATH`: the database and the stored
documents (`REGISTRY_DOCUMENT_DIR`) in one archive, consistent with each other; `asset-registry
documents check`: every document the database lists is in the folder, whole.

Exit codes: 0 done, 1 refused (an archive damaged or foreign, a target not empty, PATH taken, a
failing pg_dump/pg_restore: nothing is left half-made), 2 usage error.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from registry.settings import Settings


@contextmanager
def _database_errors(outcome: str) -> Iterator[None]:
    """A database that cannot be reached or refuses is one line naming why, not a traceback."""
    from sqlalchemy.exc import DBAPIError

    try:
        yield
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise click.ClickException(f"{outcome}: the database refused: {reason}") from error


def _documents(count: int) -> str:
    return f"{count:,} document" if count == 1 else f"{count:,} documents"


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


def _summary(counts: dict[str, int]) -> str:
    shown = ("parcels", "buildings", "leases", "audit_events", "users")
    return ", ".join(
        f"{counts[name]:,} {name.replace('_', ' ')}" for name in shown if name in counts
    )


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def backup(path: Path, force: bool) -> None:
    """Write the database and its stored documents to one archive at PATH."""
    from registry.backup import BackupRefused
    from registry.backup import create_backup
    from registry.pg_client import ClientToolFailed
    from registry.stored_files import StoredFileDamaged
    from registry.stored_files import document_root

    url = Settings.from_env().database_url
    try:
        with _database_errors("no backup was written"):
            result = create_backup(url, document_root(), path, force=force)
    except (BackupRefused, ClientToolFailed, StoredFileDamaged) as refused:
        raise click.ClickException(f"no backup was written: {refused}") from refused
    manifest = result.manifest
    click.echo(
        f"backup written to {path.name} ({_megabytes(result.size_bytes)}): "
        f"{_summary(manifest.counts)}, {_documents(len(manifest.files))}; "
        f"schema {manifest.schema_revision}"
    )


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--database-url",
    default=None,
    help="The database to restore into (default DATABASE_URL); created if missing.",
)
@click.option("--force", is_flag=True, help="Replace the target database even if it holds data.")
def restore(path: Path, database_url: str | None, force: bool) -> None:
    """Restore a backup made by `asset-registry backup` into an empty (or new) database and the
    document folder, then migrate it if it is older than this version and ANALYZE it (the
    planner's statistics are not in a backup)."""
    from registry.restore import RestoreRefused
    from registry.restore import restore_backup
    from registry.stored_files import document_root

    url = database_url or Settings.from_env().database_url
    try:
        with _database_errors("the backup was not restored"):
            result = restore_backup(path, url, document_root(), force=force)
    except RestoreRefused as refused:
        raise click.ClickException(str(refused)) from refused
    manifest = result.manifest
    migrated = f"; schema migrated to {result.migrated_to}" if result.migrated_to else ""
    click.echo(
        f"restored the backup of {manifest.created_at} into {result.database}: "
        f"{_summary(manifest.counts)}, {_documents(result.files_written)}{migrated}"
    )


@click.group("documents")
def documents() -> None:
    """The stored documents (REGISTRY_DOCUMENT_DIR)."""


@documents.command("check")
def documents_check() -> None:
    """Check that every document the database lists is in the document folder, whole (exit 1
    naming each one missing or damaged). Run it after a point-in-time recovery."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from registry.db import normalise_database_url
    from registry.stored_files import check_store
    from registry.stored_files import document_root

    engine = create_engine(
        normalise_database_url(Settings.from_env().database_url), poolclass=NullPool
    )
    try:
        with _database_errors("nothing was checked"), engine.connect() as connection:
            check = check_store(connection, document_root())
    finally:
        engine.dispose()
    for info, problem in check.problems:
        click.echo(
            f"document {info.sha256} ({info.media_type}, {info.size_bytes:,} bytes) {problem}"
        )
    if check.problems:
        raise click.ClickException(
            f"{len(check.problems):,} of {_documents(check.listed)} missing or damaged"
        )
    click.echo(f"{_documents(check.listed)} listed, all present and whole")
