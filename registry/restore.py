"""`asset-registry restore PATH`: a backup back into a database and the document folder.

The order is what makes a refusal or a failure harmless:
1. the whole archive is checked first (manifest, each member's size and SHA-256, a schema this
   version knows): a damaged or foreign archive is refused with nothing touched;
2. the target database must be empty (or absent); a non-empty one is refused unless `force`,
   which replaces it — again before anything is written;
3. the files go into the document folder before the database: they are named by their content,
   so a file no database lists is inert, while the reverse order could leave a restored database
   listing files that never arrived;
4. pg_restore in one transaction (all or nothing), then each table's row count is compared with
   the manifest's, and the migrations run when the backup's schema is older than this version's;
5. ANALYZE: a dump holds rows, not the planner's statistics (`database_admin.analyze`).
"""

from __future__ import annotations

import re
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from registry import database_admin
from registry.backup import table_counts
from registry.backup_archive import DATABASE_MEMBER
from registry.backup_archive import ArchiveRefused
from registry.backup_archive import Manifest
from registry.backup_archive import open_member
from registry.backup_archive import read_verified
from registry.db import normalise_database_url
from registry.pg_client import ClientToolFailed
from registry.pg_client import client_tool
from registry.pg_client import libpq_target
from registry.pg_client import run_tool
from registry.pg_client import server_major
from registry.stored_files import write_file

# The tables a database holds besides those of extensions (PostGIS's spatial_ref_sys, …).
_ANY_TABLE = """
SELECT EXISTS (
  SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                    AND d.objid = c.oid AND d.deptype = 'e'))"""


_EXTENSION_COMMENT = re.compile(r"\d+; \d+ \d+ COMMENT - EXTENSION ")
_OWNER_ONLY = re.compile(r"\d+; \d+ \d+ (COMMENT - EXTENSION |TABLE DATA public spatial_ref_sys )")


class RestoreRefused(Exception):
    """The restore did not run or did not complete; the message says why."""


@dataclass(frozen=True)
class RestoreResult:
    database: str
    manifest: Manifest
    files_written: int
    migrated_to: str | None  # the newest revision, when the backup's schema was older


def restore_backup(
    path: Path, database_url: str, document_root: Path, *, force: bool = False
) -> RestoreResult:
    """Restore the archive at `path` into `database_url` and `document_root` (see the module)."""
    name = make_url(database_url).database or ""
    if not name:
        raise RestoreRefused("the database URL names no database")
    try:
        with read_verified(path) as (manifest, tar):
            head = _check_revision(database_url, manifest.schema_revision)
            occupied = database_admin.database_exists(database_url) and not _is_empty(database_url)
            if occupied and not force:
                raise RestoreRefused(
                    f"the database {name} is not empty (--force replaces it with the backup)"
                )
            written = _restore_files(manifest, tar, document_root)
            if occupied:
                database_admin.drop_database(database_url)
            database_admin.create_database(database_url)
            with tempfile.TemporaryDirectory(prefix="registry-restore-") as work:
                dump = Path(work) / DATABASE_MEMBER
                with open_member(tar, DATABASE_MEMBER) as source, dump.open("wb") as out:
                    while chunk := source.read(1 << 20):
                        out.write(chunk)
                _pg_restore(database_url, dump)
    except ArchiveRefused as refused:
        raise RestoreRefused(f"{path.name} was refused: {refused}") from refused
    _check_counts(database_url, manifest)
    migrated = None
    if manifest.schema_revision != head:
        database_admin.upgrade(database_url)
        migrated = head
    _analyze(database_url)
    return RestoreResult(name, manifest, written, migrated)


def _check_revision(database_url: str, revision: str) -> str:
    """This version's newest revision; the archive is refused when its schema is one this version
    does not know (made by a newer version: its tables would not be understood)."""
    scripts = ScriptDirectory.from_config(database_admin.alembic_config(database_url))
    try:
        known = scripts.get_revision(revision)
    except CommandError:
        known = None
    head = scripts.get_current_head() or ""
    if known is None:
        raise ArchiveRefused(
            f"the backup's schema (revision {revision}) is newer than this version of the "
            f"registry knows (up to {head}): restore it with the version that made it"
        )
    return head


def _is_empty(database_url: str) -> bool:
    engine = create_engine(normalise_database_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return not connection.execute(text(_ANY_TABLE)).scalar()
    finally:
        engine.dispose()


def _restore_files(manifest: Manifest, tar: tarfile.TarFile, document_root: Path) -> int:
    for member in manifest.files:
        with open_member(tar, member.name) as source:
            write_file(document_root, source, expected_sha256=member.sha256)
    return len(manifest.files)


def _pg_restore(database_url: str, dump: Path) -> None:
    """One transaction, stopping at the first error; owners and grants are left to the target
    (the restoring role owns what it creates), so a backup restores on another server too, and
    by a role that owns its database but not PostGIS (see `_restorable`)."""
    engine = create_engine(normalise_database_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            major = server_major(connection)
            owns_postgis = bool(
                connection.execute(
                    text("SELECT has_table_privilege('spatial_ref_sys', 'INSERT')")
                ).scalar()
            )
    finally:
        engine.dispose()
    conninfo, env = libpq_target(database_url)
    pg_restore = client_tool("pg_restore", major)
    listing = dump.with_suffix(".list")
    try:
        contents = run_tool([pg_restore, "--list", str(dump)], env)
        listing.write_text(_restorable(contents, owns_postgis))
        run_tool(
            [
                pg_restore,
                "--single-transaction",
                "--exit-on-error",
                "--no-owner",
                "--no-privileges",
                f"--use-list={listing}",
                f"--dbname={conninfo}",
                str(dump),
            ],
            env,
        )
    except ClientToolFailed as failed:
        message = str(failed).replace(str(dump), "the dump").replace(str(listing), "its list")
        raise RestoreRefused(f"the database was not restored: {message}") from failed


def _restorable(contents: str, owns_postgis: bool) -> str:
    """The dump's table of contents less what only PostGIS's owner may do: `COMMENT ON
    EXTENSION` always (the extension exists already: `create_database` made it, or a DBA did for
    the app's role), and the rows of `spatial_ref_sys` (only SRIDs added by hand are dumped)
    when the restoring role may not write that table. The extension itself stays (IF NOT
    EXISTS)."""
    owner_only = _EXTENSION_COMMENT if owns_postgis else _OWNER_ONLY
    return "".join(
        line for line in contents.splitlines(keepends=True) if not owner_only.match(line)
    )


def _analyze(database_url: str) -> None:
    engine = create_engine(normalise_database_url(database_url), poolclass=NullPool)
    try:
        with engine.begin() as connection:
            database_admin.analyze(connection)
    finally:
        engine.dispose()


def _check_counts(database_url: str, manifest: Manifest) -> None:
    engine = create_engine(normalise_database_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            found = table_counts(connection)
    finally:
        engine.dispose()
    differ = sorted(
        table for table in manifest.counts if found.get(table) != manifest.counts[table]
    )
    if differ:
        table = differ[0]
        raise RestoreRefused(
            f"the restored table {table} holds {found.get(table, 0)} rows where the backup "
            f"had {manifest.counts[table]}"
        )
