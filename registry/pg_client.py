"""PostgreSQL's own client programs (pg_dump, pg_restore, …) run against a registry database.

The programs are those of the server's major version (Debian keeps them in
/usr/lib/postgresql/<major>/bin beside the server), found before whatever `PATH` offers: a dump
made by an older pg_dump than the server is refused by pg_dump itself, and Debian's wrapper in
/usr/bin picks a version by the local clusters, not by the server actually addressed.

The password travels in `PGPASSWORD`, never on the command line, where `ps` would show it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from psycopg.conninfo import make_conninfo
from sqlalchemy import Connection
from sqlalchemy import text
from sqlalchemy.engine import make_url

from registry.db import normalise_database_url

_DEBIAN_BIN = "/usr/lib/postgresql/{major}/bin"


class ClientToolFailed(RuntimeError):
    """A PostgreSQL client program failed or is missing; the message says which and why."""


def libpq_target(url: str) -> tuple[str, dict[str, str]]:
    """The conninfo string (without the password) and the environment to run a client program
    against the database `url` names."""
    parsed = make_url(normalise_database_url(url))
    params: dict[str, str] = {
        key: str(value) for key, value in parsed.query.items() if isinstance(value, str)
    }
    for key, value in (
        ("host", parsed.host),
        ("port", parsed.port),
        ("user", parsed.username),
        ("dbname", parsed.database),
    ):
        if value not in (None, ""):
            params.setdefault(key, str(value))
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return make_conninfo(**params), env


def server_major(connection: Connection) -> int:
    return int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def client_tool(name: str, major: int) -> str:
    """The path of client program `name` for a server of version `major`."""
    debian = Path(_DEBIAN_BIN.format(major=major)) / name
    if debian.is_file():
        return str(debian)
    found = shutil.which(name)
    if found is None:
        raise ClientToolFailed(
            f"{name} is not installed: install PostgreSQL {major}'s client programs "
            f"(Debian: postgresql-client-{major})"
        )
    return found


def run_tool(arguments: Sequence[str], env: dict[str, str]) -> str:
    """Run a client program; its standard output, or ClientToolFailed with its own message."""
    completed = subprocess.run(list(arguments), env=env, capture_output=True, text=True)
    if completed.returncode != 0:
        reason = completed.stderr.strip() or f"exit status {completed.returncode}"
        raise ClientToolFailed(f"{Path(arguments[0]).name} failed: {reason}")
    return completed.stdout
