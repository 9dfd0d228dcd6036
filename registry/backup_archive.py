"""The backup archive: one uncompressed tar (the dump is compressed already, documents mostly
are) holding

- `manifest.json`: the format and its version, when it was made, the schema revision, the
  server's version, the row count of every table, and each member's size and SHA-256;
- `database.dump`: `pg_dump --format=custom` of the database, taken in the snapshot the files
  were listed in;
- `files/<sha256>`: every file the database lists in `stored_files` (the document store), named
  by its SHA-256 as in the store.

Any record that keeps a file does so through `stored_files`, so new kinds of documents need no
change of format. `read_verified` checks everything before a restore touches anything: a
damaged, truncated, foreign or newer archive is refused with the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import IO
from typing import Any
from typing import BinaryIO

FORMAT = "city-asset-registry-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_MEMBER = "database.dump"
FILES_PREFIX = "files/"
_FILE_MEMBER = re.compile(r"files/[0-9a-f]{64}")
_MAX_MANIFEST_BYTES = 64 << 20
_CHUNK = 1 << 20


class ArchiveRefused(Exception):
    """The archive is not a backup this version can restore; the message says why."""


@dataclass(frozen=True)
class Member:
    name: str
    size: int
    sha256: str
    media_type: str | None = None

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"name": self.name, "size": self.size, "sha256": self.sha256}
        if self.media_type is not None:
            found["media_type"] = self.media_type
        return found


@dataclass(frozen=True)
class Manifest:
    created_at: str
    schema_revision: str
    server_version: str
    counts: dict[str, int]
    members: list[Member] = field(default_factory=list)
    format_version: int = FORMAT_VERSION

    @property
    def files(self) -> list[Member]:
        return [member for member in self.members if member.name.startswith(FILES_PREFIX)]

    def as_json(self) -> bytes:
        document = {
            "format": FORMAT,
            "format_version": self.format_version,
            "created_at": self.created_at,
            "schema_revision": self.schema_revision,
            "server_version": self.server_version,
            "counts": self.counts,
            "members": [member.as_json() for member in self.members],
        }
        return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode()


def file_member(sha256: str) -> str:
    return f"{FILES_PREFIX}{sha256}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class HashingReader:
    """Reads `source` and hashes what passes, so a member is checked as it is copied."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self._source.read(size)
        self.digest.update(chunk)
        return chunk


@contextmanager
def archive_writer(out: IO[bytes]) -> Iterator[tarfile.TarFile]:
    """A tar written to `out`; members are added in the order given (the manifest first, for
    readers of `tar tf`) by `add_bytes` and `add_stream`."""
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        yield tar


def _info(name: str, size: int, created: dt.datetime) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, int(created.timestamp()), 0o600
    return info


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes, created: dt.datetime) -> None:
    tar.addfile(_info(name, len(data), created), io.BytesIO(data))


def add_stream(tar: tarfile.TarFile, member: Member, source: BinaryIO, created: dt.datetime) -> str:
    """Copy `member.size` bytes of `source` (OSError if it has fewer); returns the SHA-256 of
    what was written, for the caller to compare with the one it expects."""
    reader = HashingReader(source)
    tar.addfile(_info(member.name, member.size, created), reader)
    return reader.digest.hexdigest()


def _manifest(raw: bytes) -> Manifest:
    try:
        document = json.loads(raw)
        if document.get("format") != FORMAT:
            raise ArchiveRefused("it is not a backup of the City Asset Registry")
        version = int(document["format_version"])
        if version > FORMAT_VERSION:
            raise ArchiveRefused(
                f"it was made by a newer version of the registry (backup format {version}; "
                f"this version reads format {FORMAT_VERSION}): upgrade the software first"
            )
        members = [
            Member(
                str(item["name"]),
                int(item["size"]),
                str(item["sha256"]),
                None if item.get("media_type") is None else str(item["media_type"]),
            )
            for item in document["members"]
        ]
        return Manifest(
            created_at=str(document["created_at"]),
            schema_revision=str(document["schema_revision"]),
            server_version=str(document.get("server_version", "")),
            counts={str(table): int(count) for table, count in document["counts"].items()},
            members=members,
            format_version=version,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ArchiveRefused("its manifest is damaged") from error


def _check_names(manifest: Manifest, present: dict[str, tarfile.TarInfo]) -> None:
    listed = {member.name: member for member in manifest.members}
    if DATABASE_MEMBER not in listed:
        raise ArchiveRefused("its manifest lists no database dump")
    for name, member in listed.items():
        if name != DATABASE_MEMBER and not _FILE_MEMBER.fullmatch(name):
            raise ArchiveRefused(f"its manifest lists an unexpected member {name!r}")
        if name.startswith(FILES_PREFIX) and member.sha256 != name.removeprefix(FILES_PREFIX):
            raise ArchiveRefused(f"the file {name} is not named by its SHA-256")
        info = present.get(name)
        if info is None:
            raise ArchiveRefused(f"{name} is missing (the archive is incomplete)")
        if not info.isfile() or info.size != member.size:
            raise ArchiveRefused(f"{name} is damaged (its size differs from the manifest's)")
    extra = sorted(set(present) - set(listed) - {MANIFEST})
    if extra:
        raise ArchiveRefused(f"it holds members its manifest does not list: {extra[0]!r}")


@contextmanager
def read_verified(path: Path) -> Iterator[tuple[Manifest, tarfile.TarFile]]:
    """The archive's manifest and its tar, once every member has been read and found to match
    the manifest's size and SHA-256; ArchiveRefused otherwise."""
    try:
        tar = tarfile.open(path, mode="r:")  # noqa: SIM115 (closed by the `with tar` below)
    except (tarfile.TarError, OSError) as error:
        raise ArchiveRefused("it is not a backup archive (not a readable tar file)") from error
    with tar:
        try:
            present = {info.name: info for info in tar.getmembers()}
        except (tarfile.TarError, OSError) as error:
            raise ArchiveRefused("it is damaged or truncated") from error
        info = present.get(MANIFEST)
        if info is None or not info.isfile():
            raise ArchiveRefused("it is not a backup of the City Asset Registry (no manifest)")
        if info.size > _MAX_MANIFEST_BYTES:
            raise ArchiveRefused("its manifest is too large to be one of ours")
        manifest = _manifest(_read_member(tar, info))
        _check_names(manifest, present)
        for member in manifest.members:
            if sha256_of_member(tar, present[member.name]) != member.sha256:
                raise ArchiveRefused(f"{member.name} is damaged (its SHA-256 differs)")
        yield manifest, tar


def _read_member(tar: tarfile.TarFile, info: tarfile.TarInfo) -> bytes:
    source = tar.extractfile(info)
    if source is None:
        raise ArchiveRefused(f"{info.name} is not a file")
    try:
        return source.read()
    except (tarfile.TarError, OSError) as error:
        raise ArchiveRefused("it is damaged or truncated") from error


def sha256_of_member(tar: tarfile.TarFile, info: tarfile.TarInfo) -> str:
    source = tar.extractfile(info)
    if source is None:
        raise ArchiveRefused(f"{info.name} is not a file")
    digest = hashlib.sha256()
    try:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    except (tarfile.TarError, OSError) as error:
        raise ArchiveRefused("it is damaged or truncated") from error
    return digest.hexdigest()


def open_member(tar: tarfile.TarFile, name: str) -> BinaryIO:
    source = tar.extractfile(name)
    if source is None:
        raise ArchiveRefused(f"{name} is not a file")
    return source  # type: ignore[return-value]
