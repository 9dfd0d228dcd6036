"""Test databases: one migrated template per test session, cloned cheaply where a test commits.

`CREATE DATABASE … TEMPLATE` copies files (~0.15 s), so a test that needs real commits (the web
app, concurrency, the CLI) gets a database of its own; tests of services use a rolled-back
transaction on a shared one instead.
"""

from __future__ import annotations

import os
import uuid

from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url

from registry import database_admin
from registry.settings import DEFAULT_DATABASE_URL


def server_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def url_for_database(name: str) -> str:
    return make_url(server_url()).set(database=name).render_as_string(hide_password=False)


def _prefix() -> str:
    # the pid keeps concurrent test runs on one server (CI, a developer, xdist) apart
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"registry_test_{worker}_{os.getpid()}"


def _pid_is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def drop_abandoned_test_databases() -> None:
    """Drop the databases of test runs on this machine that were killed before their clean-up
    (their pid is gone), so that reused CI machines do not fill up. Remote servers are left
    alone: a pid there may belong to another machine."""
    if make_url(server_url()).host not in {None, "", "127.0.0.1", "localhost", "::1"}:
        return
    engine = create_engine(
        make_url(server_url()).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with engine.connect() as connection:
            names = (
                connection.execute(
                    text("SELECT datname FROM pg_database WHERE datname LIKE 'registry\\_test\\_%'")
                )
                .scalars()
                .all()
            )
    finally:
        engine.dispose()
    for name in names:
        parts = name.split("_")
        if len(parts) > 3 and parts[3].isdigit() and not _pid_is_running(int(parts[3])):
            database_admin.drop_database(url_for_database(name))


def make_template(suffix: str) -> str:
    """A freshly migrated database to clone from (rebuilt each session: migrations change)."""
    if os.environ.get("PYTEST_XDIST_WORKER") in (None, "gw0"):
        drop_abandoned_test_databases()
    url = url_for_database(f"{_prefix()}_{suffix}")
    database_admin.drop_database(url)
    database_admin.create_database(url)
    database_admin.upgrade(url)
    return url


def clone(template_url: str) -> str:
    url = unused_database_url()
    database_admin.create_database(url, template=make_url(template_url).database)
    return url


def unused_database_url() -> str:
    """The URL of a database of this test run that does not exist yet (a restore's target), named
    like the clones so that an abandoned one is dropped with them."""
    return url_for_database(f"{_prefix()}_{uuid.uuid4().hex[:10]}")
