"""One-off SQL against a test database by its URL: an engine of its own, disposed at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Row
from sqlalchemy import create_engine
from sqlalchemy import text

from registry.db import normalise_database_url


@contextmanager
def _connection(url: str, *, commit: bool = False) -> Iterator[Connection]:
    engine = create_engine(normalise_database_url(url))
    try:
        with engine.begin() if commit else engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def query(url: str, sql: str, **params: Any) -> list[Row[Any]]:
    """Every row `sql` returns (read only: nothing is committed)."""
    with _connection(url) as connection:
        return list(connection.execute(text(sql), params).all())


def scalar(url: str, sql: str, **params: Any) -> Any:
    """The first column of the first row `sql` returns, or None if it returns no rows."""
    with _connection(url) as connection:
        return connection.execute(text(sql), params).scalar()


def execute(url: str, sql: str, **params: Any) -> None:
    """Run `sql` in a transaction of its own and commit it."""
    with _connection(url, commit=True) as connection:
        connection.execute(text(sql), params)
