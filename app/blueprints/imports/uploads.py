"""Uploaded files waiting to be imported: one random folder each under the app's upload folder
(the instance folder's `uploads/` unless `UPLOAD_FOLDER` is set), with `upload.json` saying
whose it is, what it holds and the choices last made for it. Only the editor who uploaded a file
sees it; it is removed once imported (or discarded)."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

_META = "upload.json"


@dataclass(frozen=True)
class Upload:
    token: str
    path: Path
    kind: str
    uploaded_at: str
    choices: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.name


def _root() -> Path:
    configured = current_app.config.get("UPLOAD_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads"


def save_upload(file: FileStorage, name: str, kind: str, user_id: int) -> str:
    """Keep `file` as `name` for `user_id`; returns the token that names it."""
    token = secrets.token_hex(16)  # hex: secure_filename() leaves it as it is
    folder = _root() / token
    folder.mkdir(parents=True)
    file.save(folder / name)
    (folder / _META).write_text(json.dumps({
        "name": name, "user_id": user_id, "kind": kind,
        "uploaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "choices": {},
    }))
    return token


def _read(folder: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((folder / _META).read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _upload(token: str, meta: dict[str, Any]) -> Upload:
    folder = _root() / token
    return Upload(token, folder / str(meta["name"]), str(meta.get("kind") or "parcels"),
                  str(meta.get("uploaded_at") or ""), dict(meta.get("choices") or {}))


def find_upload(token: str, user_id: int | None) -> Upload | None:
    """The upload `token` names, if it is still there and `user_id` made it."""
    safe = secure_filename(token)
    meta = _read(_root() / safe) if safe else None
    if meta is None or user_id is None or meta.get("user_id") != user_id:
        return None
    return _upload(safe, meta)


def pending_uploads(user_id: int) -> list[Upload]:
    """The user's uploads not yet imported, newest first."""
    root = _root()
    found = []
    for meta_path in root.glob(f"*/{_META}") if root.is_dir() else ():
        meta = _read(meta_path.parent)
        if meta is not None and meta.get("user_id") == user_id:
            found.append(_upload(meta_path.parent.name, meta))
    return sorted(found, key=lambda upload: upload.uploaded_at, reverse=True)


def save_choices(upload: Upload, choices: dict[str, Any]) -> None:
    """Remember the prepare form's choices, so the form and the report's Import offer them."""
    meta_path = upload.path.parent / _META
    meta = _read(upload.path.parent) or {}
    meta["choices"] = choices
    meta_path.write_text(json.dumps(meta))


def discard(upload: Upload) -> None:
    shutil.rmtree(upload.path.parent, ignore_errors=True)
