"""The document store: files the registry keeps beside the database (a signed lease, an
amendment), each stored once under the document folder by its content, `<root>/ab/abcd…` named
by its SHA-256, and listed in the table `stored_files`. A record that keeps a file refers to its
row; the file's bytes never change, since its name is its content.

The backup's consistency rests on three rules kept here, and nowhere else:
- `store_file` writes the file (synced, then renamed into place) *before* its row is inserted in
  the caller's transaction, so a committed row always has its file. A rolled-back transaction
  leaves a file no row lists: nothing reads it and no backup copies it.
- A stored file is removed only by `remove_stored_file`, which holds `BACKUP_LOCK` exclusively
  from before its row is deleted until after the file is gone. A backup holds the lock shared
  from before its snapshot until it has copied the files, so no file its snapshot lists can be
  removed under it.
- Files restored from a backup go through the same writer, which checks each one's SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.db import set_actor
from registry.folders import registry_folder

#: Advisory lock key shared by backups (shared) and file removals (exclusive): "REGB".
BACKUP_LOCK = 0x52454742
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
MAX_MEDIA_TYPE = 255
_CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredFileInfo:
    sha256: str
    size_bytes: int
    media_type: str


class StoredFileDamaged(Exception):
    """A stored file is missing or its bytes no longer match its SHA-256."""

    def __init__(self, sha256: str, reason: str) -> None:
        super().__init__(f"The stored file {sha256} {reason}.")
        self.sha256 = sha256


class FileTooLarge(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The file is larger than {limit:,} bytes.")
        self.limit = limit


def document_root(env: Mapping[str, str] | None = None) -> Path:
    """The document folder: `REGISTRY_DOCUMENT_DIR`, or else the user's data folder
    (`$XDG_DATA_HOME`, ~/.local/share) — kept data, never inside the code nor beside uploads,
    which are removed after a while."""
    return registry_folder("REGISTRY_DOCUMENT_DIR", "data", "documents", env)


def file_path(root: Path, sha256: str) -> Path:
    if not SHA256_PATTERN.fullmatch(sha256):
        raise ValueError("not a SHA-256 in lower-case hex")
    return root / sha256[:2] / sha256


def write_file(
    root: Path, source: BinaryIO, expected_sha256: str | None = None, max_bytes: int | None = None
) -> tuple[str, int]:
    """Copy `source` into the store; returns its SHA-256 and size.

    The bytes go to a temporary file in the store (same file system), are synced, and only then
    renamed to their name, so a file under its name is always whole. With `expected_sha256` (a
    restore) bytes that differ are refused and nothing is kept."""
    incoming = root / ".incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    handle, temporary = tempfile.mkstemp(dir=incoming)
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise FileTooLarge(max_bytes)
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha256 = digest.hexdigest()
        if expected_sha256 is not None and sha256 != expected_sha256:
            raise StoredFileDamaged(expected_sha256, "does not match its SHA-256")
        target = file_path(root, sha256)
        target.parent.mkdir(exist_ok=True)
        os.replace(temporary, target)  # same content under the same name: replacing is harmless
        _sync_folder(target.parent)
        return sha256, size
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _sync_folder(folder: Path) -> None:
    """Make a rename durable: a crash right after must not lose the file a committed row lists."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def store_file(
    session: Session,
    root: Path,
    source: BinaryIO,
    media_type: str,
    max_bytes: int | None = None,
) -> StoredFileInfo:
    """Keep `source` in the store and list it in the caller's transaction (its audited write).

    The file is in place before the row exists (see the module's rules); storing bytes already
    kept adds nothing."""
    media_type = media_type.strip()[:MAX_MEDIA_TYPE] or "application/octet-stream"
    sha256, size = write_file(root, source, max_bytes=max_bytes)
    session.execute(
        text(
            "INSERT INTO stored_files (sha256, size_bytes, media_type)"
            " VALUES (:sha256, :size, :media_type) ON CONFLICT (sha256) DO NOTHING"
        ),
        {"sha256": sha256, "size": size, "media_type": media_type},
    )
    return StoredFileInfo(sha256, size, media_type)


def open_stored_file(root: Path, sha256: str) -> BinaryIO:
    try:
        return file_path(root, sha256).open("rb")
    except FileNotFoundError as missing:
        reason = "is missing from the document folder (REGISTRY_DOCUMENT_DIR)"
        raise StoredFileDamaged(sha256, reason) from missing


def listed_files(connection: Connection | Session) -> list[StoredFileInfo]:
    """Every file the database lists, in the caller's snapshot (a backup's); none in a database
    whose schema predates the store (migration 0015)."""
    if connection.execute(text("SELECT to_regclass('stored_files')")).scalar() is None:
        return []
    rows = connection.execute(
        text("SELECT sha256, size_bytes, media_type FROM stored_files ORDER BY sha256")
    )
    return [StoredFileInfo(*row) for row in rows]


def remove_stored_file(engine: Engine, root: Path, sha256: str, actor: str) -> bool:
    """Delete the file's row (audited, as `actor`) and then the file; False when it was not
    listed. A record still referring to the file makes the database refuse, and nothing goes.

    Holds `BACKUP_LOCK` exclusively throughout, so it waits for a running backup to finish."""
    path = file_path(root, sha256)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": BACKUP_LOCK})
        connection.commit()
        try:
            with connection.begin():
                session = Session(bind=connection)
                set_actor(session, actor)
                deleted = connection.execute(
                    text("DELETE FROM stored_files WHERE sha256 = :sha256"), {"sha256": sha256}
                ).rowcount
            if deleted:
                path.unlink(missing_ok=True)
            return bool(deleted)
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": BACKUP_LOCK})
            connection.commit()


@dataclass(frozen=True)
class StoreCheck:
    listed: int
    problems: list[tuple[StoredFileInfo, str]]


def check_store(connection: Connection | Session, root: Path) -> StoreCheck:
    """Every listed file that is missing from `root` or whose bytes no longer match its SHA-256,
    with what is wrong. Run after a point-in-time recovery (the database may list files stored
    after the last backup) or from monitoring: a backup of a damaged store fails."""
    listed = listed_files(connection)
    problems = []
    for info in listed:
        path = file_path(root, info.sha256)
        if not path.is_file():
            problems.append((info, "is missing"))
            continue
        digest = hashlib.sha256()
        with path.open("rb") as source:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
        if digest.hexdigest() != info.sha256:
            problems.append((info, "does not match its SHA-256"))
    return StoreCheck(len(listed), problems)
