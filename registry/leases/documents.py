"""Documents kept with a lease: the signed lease, amendments, other papers.

The bytes live in the document store (`registry.stored_files`: once per content, named by their
SHA-256, listed in `stored_files`); `lease_documents` says which lease keeps which file, under the
name it was uploaded with (non-ASCII kept: it is shown and offered back on download, never used as
a path), of which kind, attached by whom and when. Rows are audited by the database's triggers.

What a file is, is read from its content, never from its name: a PDF starts with `%PDF-`, a PNG,
JPEG or TIFF with its signature, a Word or Excel file is a ZIP holding that format's parts. A
`.pdf` that is really an HTML page is refused, because the registry hands documents back to
browsers and an HTML page served from its origin could run script there. The stored media type is
the one read from the content.

Removing a document deletes its row in the caller's transaction; the stored file goes afterwards,
through `remove_stored_file` (which the backup's consistency relies on), and only when no other
document refers to it: the same signed lease attached to two leases is one file.
"""

from __future__ import annotations

import datetime as dt
import os
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from typing import BinaryIO
from typing import cast

from sqlalchemy import Engine
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.errors import NotFound
from registry.fields import FieldProblem
from registry.fields import RecordInvalid
from registry.stored_files import FileTooLarge
from registry.stored_files import remove_stored_file
from registry.stored_files import store_file

#: The kinds of document a lease keeps, with their labels.
DOCUMENT_KINDS = {"signed_lease": "Signed lease", "amendment": "Amendment", "other": "Other"}
DEFAULT_MAX_DOCUMENT_MB = 50
MAX_FILE_NAME = 255
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: What the registry accepts, as people name it (for messages).
ACCEPTED = "a PDF, PNG, JPEG or TIFF image, Word (.docx) or Excel (.xlsx) file"
_SIGNATURES = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)
#: An Office Open XML file is a ZIP holding its content types and its main part.
_OFFICE_PARTS = ((DOCX, "word/document.xml"), (XLSX, "xl/workbook.xml"))


@dataclass(frozen=True)
class LeaseDocument:
    id: int
    lease_number: str
    file_name: str
    kind: str
    sha256: str
    size_bytes: int
    media_type: str
    uploaded_at: dt.datetime
    uploaded_by: str

    @property
    def kind_label(self) -> str:
        return DOCUMENT_KINDS.get(self.kind, self.kind)


def max_document_bytes(env: Mapping[str, str | None] | None = None) -> int:
    """`REGISTRY_MAX_DOCUMENT_MB` (default 50) in bytes."""
    value = (os.environ if env is None else env).get("REGISTRY_MAX_DOCUMENT_MB")
    megabytes = int(value) if value not in (None, "") else DEFAULT_MAX_DOCUMENT_MB
    return megabytes * 1024 * 1024


def sniff_media_type(source: IO[bytes]) -> str | None:
    """The media type read from the content of a seekable file (None: not one the registry
    keeps); the position is back at the start afterwards."""
    source.seek(0)
    head = source.read(8)
    source.seek(0)
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    if not head.startswith(b"PK\x03\x04"):
        return None
    try:
        with zipfile.ZipFile(source) as archive:  # reads the directory only, never the parts
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    finally:
        source.seek(0)
    if "[Content_Types].xml" not in names:
        return None
    return next((media for media, part in _OFFICE_PARTS if part in names), None)


def clean_file_name(name: str | None) -> str:
    """The name as uploaded, for display: its last path part (a browser may send a folder),
    without control characters, NFC, at most 255 characters; "document" when nothing is left."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    if len(base) > MAX_FILE_NAME:
        _stem, dot, suffix = base.rpartition(".")
        keep = f".{suffix}" if dot and len(suffix) <= 10 else ""
        base = base[: MAX_FILE_NAME - len(keep)] + keep
    return base or "document"


def _size(source: IO[bytes]) -> int:
    source.seek(0, os.SEEK_END)
    size = source.tell()
    source.seek(0)
    return size


def _lease_id(session: Session, lease_number: str) -> int:
    lease_id = session.execute(
        text("SELECT id FROM leases WHERE lease_number = :n"), {"n": lease_number}
    ).scalar()
    if lease_id is None:
        raise NotFound("lease", lease_number)
    return int(lease_id)


def attach_document(
    session: Session,
    root: Path,
    lease_number: str,
    source: IO[bytes],
    file_name: str | None,
    kind: str | None,
    actor: str,
    *,
    max_bytes: int,
) -> LeaseDocument:
    """Check and keep an uploaded file (seekable) with the lease, in the caller's transaction.
    Problems name `file` or `kind`, all at once."""
    lease_id = _lease_id(session, lease_number)
    name = clean_file_name(file_name)
    problems = []
    if kind not in DOCUMENT_KINDS:
        problems.append(
            FieldProblem("kind", "must be one of: " + ", ".join(DOCUMENT_KINDS.values()).lower())
        )
    size = _size(source)
    media_type = None
    if size == 0:
        problems.append(FieldProblem("file", f"{name} is empty"))
    elif size > max_bytes:
        problems.append(FieldProblem("file", f"{name} is larger than {_megabytes(max_bytes)}"))
    else:
        media_type = sniff_media_type(source)
        if media_type is None:
            problems.append(
                FieldProblem("file", f"{name} is not {ACCEPTED} (judged by its content)")
            )
    if problems or media_type is None:
        raise RecordInvalid(problems)
    try:
        stored = store_file(session, root, cast(BinaryIO, source), media_type, max_bytes=max_bytes)
    except FileTooLarge as error:  # grew while read: refuse as if it had been seen so
        raise RecordInvalid(
            [FieldProblem("file", f"{name} is larger than {_megabytes(max_bytes)}")]
        ) from error
    row = session.execute(
        text(
            "INSERT INTO lease_documents (lease_id, sha256, file_name, kind, uploaded_by) "
            "VALUES (:lease, :sha256, :name, :kind, :actor) RETURNING id"
        ),
        {"lease": lease_id, "sha256": stored.sha256, "name": name, "kind": kind, "actor": actor},
    ).scalar_one()
    return lease_document(session, lease_number, int(row))


def _megabytes(limit: int) -> str:
    return f"the limit of {limit / (1024 * 1024):g} MB"


_SELECT = """
    SELECT d.id, l.lease_number, d.file_name, d.kind, d.sha256, f.size_bytes, f.media_type,
           d.uploaded_at, d.uploaded_by
      FROM lease_documents d
      JOIN leases l ON l.id = d.lease_id
      JOIN stored_files f ON f.sha256 = d.sha256
"""


def lease_documents(session: Session, lease_number: str) -> list[LeaseDocument]:
    """The lease's documents, newest first."""
    rows = session.execute(
        text(f"{_SELECT} WHERE l.lease_number = :n ORDER BY d.uploaded_at DESC, d.id DESC"),
        {"n": lease_number},
    )
    return [LeaseDocument(*row) for row in rows]


def lease_document(session: Session, lease_number: str, document_id: int) -> LeaseDocument:
    """One document of the lease (NotFound when it is not that lease's)."""
    row = session.execute(
        text(f"{_SELECT} WHERE l.lease_number = :n AND d.id = :id"),
        {"n": lease_number, "id": document_id},
    ).one_or_none()
    if row is None:
        raise NotFound("document", document_id)
    return LeaseDocument(*row)


def detach_document(session: Session, lease_number: str, document_id: int) -> LeaseDocument:
    """Delete the document's row (audited) in the caller's transaction; the stored file stays
    until `forget_unused_file` is called after the commit."""
    document = lease_document(session, lease_number, document_id)
    session.execute(text("DELETE FROM lease_documents WHERE id = :id"), {"id": document.id})
    return document


def forget_unused_file(engine: Engine, root: Path, sha256: str, actor: str) -> bool:
    """Remove a stored file no document refers to any more (True when removed). A file
    attached again meanwhile is kept: the database refuses to delete a row still referred to."""
    with engine.connect() as connection:
        used = connection.execute(
            text("SELECT EXISTS (SELECT 1 FROM lease_documents WHERE sha256 = :s)"),
            {"s": sha256},
        ).scalar()
    if used:
        return False
    try:
        return remove_stored_file(engine, root, sha256, actor)
    except IntegrityError:
        return False
