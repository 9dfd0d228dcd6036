"""Where the registry keeps files outside the database: a setting, or else a folder under the
user's XDG base directory. Never inside the source tree: a checkout is replaced on upgrade, and
files there would be served or committed by mistake.

- kept data (stored documents) under `$XDG_DATA_HOME` (~/.local/share);
- state that comes and goes (uploads waiting to be imported, exports waiting to be fetched)
  under `$XDG_STATE_HOME` (~/.local/state).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

_XDG = {
    "data": ("XDG_DATA_HOME", (".local", "share")),
    "state": ("XDG_STATE_HOME", (".local", "state")),
}


def registry_folder(
    setting: str, kind: str, name: str, env: Mapping[str, str] | None = None
) -> Path:
    """The folder named by the environment variable `setting`, else `<XDG kind>/asset-registry/
    <name>` (`kind`: "data" or "state")."""
    env = os.environ if env is None else env
    configured = env.get(setting)
    if configured:
        return Path(configured)
    variable, fallback = _XDG[kind]
    base = env.get(variable) or str(Path.home().joinpath(*fallback))
    return Path(base) / "asset-registry" / name
