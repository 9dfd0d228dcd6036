"""`asset-registry backup PATH`: the database and its stored files in one archive, consistent
with each other (the format: `registry.backup_archive`).

Why they are consistent. One connection takes `BACKUP_LOCK` shared, then opens a REPEATABLE READ
transaction and exports its snapshot (`pg_export_snapshot`); pg_dump dumps in exactly that
snapshot (`--snapshot`), and the list of files to copy is read from `stored_files` in it too. So
the archive holds the files of the very database it holds:
- a file listed in the snapshot was in place before its row committed (`store_file` writes
  first), so it is there to copy, and it stays there, since a removal needs the lock exclusively
  and waits until the copy is done;
- a file stored after the snapshot is not listed, so not copied: the restored database would not
  know it.
Taking the files first and then the dump would not do: a row committed in between would name a
file the archive lacks. The lock is taken before the snapshot, so a removal that committed
while the backup waited for it is already invisible to the snapshot.

Each file's SHA-256 is checked as it is copied: a damaged store fails the backup, loudly, instead
of producing an archive that restores damage.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import Connection
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from registry.backup_archive import DATABASE_MEMBER
from registry.backup_archive import MANIFEST
from registry.backup_archive import Manifest
from registry.backup_archive import Member
from registry.backup_archive import add_bytes
from registry.backup_archive import add_stream
from registry.backup_archive import archive_writer
from registry.backup_archive import file_member
from registry.backup_archive import sha256_of
from registry.db import normalise_database_url
from registry.pg_client import client_tool
from registry.pg_client import libpq_target
from registry.pg_client import run_tool
from registry.pg_client import server_major
from registry.stored_files import BACKUP_LOCK
from registry.stored_files import StoredFileDamaged
from registry.stored_files import listed_files
from registry.stored_files import open_stored_file


class BackupRefused(Exception):
    """The backup was not made; the message says why (nothing was written at PATH)."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: Manifest
    size_bytes: int


_OUR_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY c.relname"""


def table_counts(connection: Connection) -> dict[str, int]:
    """Rows of every table of ours (PostGIS's own left out), in the caller's snapshot: the
    manifest keeps them, and a restore must find the same."""
    quote = connection.dialect.identifier_preparer.quote
    names = connection.execute(text(_OUR_TABLES)).scalars().all()
    return {
        name: int(connection.execute(text(f"SELECT count(*) FROM {quote(name)}")).scalar_one())
        for name in names
    }


def schema_revision(connection: Connection) -> str:
    revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if revision is None:
        raise BackupRefused("the database has no schema yet (run asset-registry db upgrade)")
    return str(revision)


def create_backup(
    database_url: str, document_root: Path, path: Path, *, force: bool = False
) -> BackupResult:
    """Write the archive to `path` (refused if it exists, unless `force`).

    Everything goes to a temporary file beside `path`, readable by its owner only (it holds
    password hashes), and takes the name only when whole."""
    if path.exists() and not force:
        raise BackupRefused(f"{path.name} exists already (--force replaces it)")
    if not path.parent.is_dir():
        raise BackupRefused(f"the folder for {path.name} does not exist")
    engine = create_engine(normalise_database_url(database_url), poolclass=NullPool)
    created = dt.datetime.now(dt.UTC).replace(microsecond=0)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with (
            os.fdopen(handle, "wb") as out,
            tempfile.TemporaryDirectory(dir=path.parent, prefix=".backup-") as work,
            engine.connect() as connection,
        ):
            connection.execute(text("SELECT pg_advisory_lock_shared(:key)"), {"key": BACKUP_LOCK})
            connection.commit()
            snapshot = connection.execution_options(isolation_level="REPEATABLE READ")
            with snapshot.begin():
                snapshot.execute(text("SET TRANSACTION READ ONLY"))
                snapshot_id = snapshot.execute(text("SELECT pg_export_snapshot()")).scalar_one()
                dump = Path(work) / DATABASE_MEMBER
                _dump(database_url, server_major(snapshot), str(snapshot_id), dump)
                manifest = Manifest(
                    created_at=created.isoformat(),
                    schema_revision=schema_revision(snapshot),
                    server_version=str(snapshot.execute(text("SHOW server_version")).scalar()),
                    counts=table_counts(snapshot),
                    members=[Member(DATABASE_MEMBER, dump.stat().st_size, sha256_of(dump))]
                    + [
                        Member(file_member(f.sha256), f.size_bytes, f.sha256, f.media_type)
                        for f in listed_files(snapshot)
                    ],
                )
                _write_archive(out, created, manifest, dump, document_root)
            out.flush()
            os.fsync(out.fileno())
        _put_in_place(Path(temporary), path, force)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        engine.dispose()  # closing the connection also released the shared lock
    return BackupResult(path, manifest, path.stat().st_size)


def _dump(database_url: str, major: int, snapshot_id: str, target: Path) -> None:
    conninfo, env = libpq_target(database_url)
    run_tool(
        [
            client_tool("pg_dump", major),
            "--format=custom",
            f"--snapshot={snapshot_id}",
            "--no-sync",  # the archive around it is synced once, whole
            f"--file={target}",
            f"--dbname={conninfo}",
        ],
        env,
    )


def _write_archive(
    out: IO[bytes], created: dt.datetime, manifest: Manifest, dump: Path, document_root: Path
) -> None:
    with archive_writer(out) as tar:
        add_bytes(tar, MANIFEST, manifest.as_json(), created)
        for member in manifest.members:
            if member.name == DATABASE_MEMBER:
                with dump.open("rb") as source:
                    add_stream(tar, member, source, created)
                continue
            try:
                with open_stored_file(document_root, member.sha256) as source:
                    copied = add_stream(tar, member, source, created)
            except OSError as short:  # tarfile: the file is shorter than its row says
                raise StoredFileDamaged(member.sha256, "is shorter than recorded") from short
            if copied != member.sha256:
                raise StoredFileDamaged(member.sha256, "does not match its SHA-256")


def _put_in_place(temporary: Path, path: Path, force: bool) -> None:
    """Give the archive its name: `os.replace` with --force, else a hard link, which fails if
    the name was taken meanwhile (the check at the start is no guarantee)."""
    if force:
        os.replace(temporary, path)
        return
    try:
        os.link(temporary, path)
    except FileExistsError as taken:
        raise BackupRefused(f"{path.name} exists already (--force replaces it)") from taken
    temporary.unlink()
