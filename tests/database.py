"""Test databases: one migrated template per test session, cloned cheaply where a test commits.

`CREATE DATABASE … TEMPLATE` copies files (~0.15 s), so a test that needs real commits (the web
app, concurrency, the CLI) gets a database of its own; tests of services use a rolled-back
transaction on a shared one instead.
"""

from __future__ import annotations

import os
import uuid

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


def make_template(suffix: str) -> str:
    """A freshly migrated database to clone from (rebuilt each session: migrations change)."""
    url = url_for_database(f"{_prefix()}_{suffix}")
    database_admin.drop_database(url)
    database_admin.create_database(url)
    database_admin.upgrade(url)
    return url


def clone(template_url: str) -> str:
    name = f"{_prefix()}_{uuid.uuid4().hex[:10]}"
    url = url_for_database(name)
    database_admin.create_database(url, template=make_url(template_url).database)
    return url
