"""A fresh registry with two departments, named by DATABASE_URL, for the import commands."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sql import execute


@pytest.fixture
def database(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    execute(
        fresh_database_url,
        "INSERT INTO departments (code, name) VALUES ('GSD', 'General Services'), "
        "('RAP', 'Recreation and Parks')",
    )
    yield fresh_database_url
