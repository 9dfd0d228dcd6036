"""Uploaded files waiting to be imported: one random folder each under the upload folder
(`REGISTRY_UPLOAD_DIR`, by default the user's state folder, never inside the code), with
`upload.json` saying whose it is, what it holds, its name as uploaded and the choices last made
for it. Only the editor who uploaded a file sees it; it is removed once imported (or discarded),
and uploads left longer than `REGISTRY_UPLOAD_MAX_AGE_HOURS` (48) go when a new one arrives."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from registry.folders import registry_folder

_META = "upload.json"


@dataclass(frozen=True)
class Upload:
    token: str
    path: Path
    kind: str
    uploaded_at: str
    choices: dict[str, Any]
    original: str = ""

    @property
    def name(self) -> str:
        """The file's name as it was uploaded (the stored one may be transliterated)."""
        return self.original or self.path.name


def _setting(name: str) -> str | None:
    value = current_app.config.get(name, os.environ.get(name))
    return str(value) if value not in (None, "") else None


def upload_root() -> Path:
    """Where uploads wait: `REGISTRY_UPLOAD_DIR` (`UPLOAD_FOLDER` in tests), or else the user's
    state folder (`$XDG_STATE_HOME`, ~/.local/state), outside the source tree."""
    configured = _setting("UPLOAD_FOLDER") or _setting("REGISTRY_UPLOAD_DIR")
    if configured:
        return Path(configured)
    return registry_folder("REGISTRY_UPLOAD_DIR", "state", "uploads")


def stored_name(original: str) -> str:
    """A safe file name for `original`: its ASCII transliteration (`Parcelles été.csv` is
    `Parcelles_ete.csv`), or `upload` and its extension when nothing of it is left (`地块.csv`)."""
    name = secure_filename(original)
    suffix = Path(original).suffix.lower()
    if not (suffix[1:].isascii() and suffix[1:].isalnum()):
        return name
    if not name.lower().endswith(suffix) or name.lower() == suffix[1:]:
        return f"upload{suffix}"
    return name


def remove_abandoned(now: float | None = None) -> None:
    """Remove every upload older than REGISTRY_UPLOAD_MAX_AGE_HOURS: a file left unimported."""
    root = upload_root()
    hours = float(_setting("REGISTRY_UPLOAD_MAX_AGE_HOURS") or 48)
    oldest = (time.time() if now is None else now) - hours * 3600
    for folder in root.iterdir() if root.is_dir() else ():
        try:
            if folder.is_dir() and folder.stat().st_mtime < oldest:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def save_upload(file: FileStorage, original: str, kind: str, user_id: int) -> str:
    """Keep `file` (uploaded as `original`) for `user_id`; returns the token that names it.
    Uploads abandoned long ago are removed first."""
    remove_abandoned()
    name = stored_name(original)
    token = secrets.token_hex(16)  # hex: secure_filename() leaves it as it is
    folder = upload_root() / token
    folder.mkdir(parents=True)
    file.save(folder / name)
    (folder / _META).write_text(
        json.dumps(
            {
                "name": name,
                "original": original,
                "user_id": user_id,
                "kind": kind,
                "uploaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "choices": {},
            }
        )
    )
    return token


def _read(folder: Path) -> dict[str, Any] | None:
    try:
        meta = json.loads((folder / _META).read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _upload(token: str, meta: dict[str, Any]) -> Upload:
    folder = upload_root() / token
    return Upload(
        token,
        folder / str(meta["name"]),
        str(meta.get("kind") or "parcels"),
        str(meta.get("uploaded_at") or ""),
        dict(meta.get("choices") or {}),
        str(meta.get("original") or ""),
    )


def find_upload(token: str, user_id: int | None) -> Upload | None:
    """The upload `token` names, if it is still there and `user_id` made it."""
    safe = secure_filename(token)
    meta = _read(upload_root() / safe) if safe else None
    if meta is None or user_id is None or meta.get("user_id") != user_id:
        return None
    return _upload(safe, meta)


def pending_uploads(user_id: int) -> list[Upload]:
    """The user's uploads not yet imported, newest first."""
    root = upload_root()
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
