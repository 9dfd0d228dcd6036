"""Apps over a database of a module's own, for tests that drive a live server."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy.orm import sessionmaker

from app import create_app
from app import database
from registry import database_admin
from registry.db import create_registry_engine
from tests.auth_fixtures import make_user
from tests.database import clone


@contextmanager
def sample_app(template_url: str, users: Iterable[tuple[str, str]] = ()) -> Iterator[Flask]:
    """The sample portfolio in a fresh clone of the test template, with `users` ((email, role)
    pairs) added; the database is dropped afterwards."""
    from sample_parcels.load import load_sample

    url = clone(template_url)
    engine = create_registry_engine(url)
    load_sample(sessionmaker(engine))
    engine.dispose()
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test"})
    try:
        for email, role in users:
            make_user(app, email, role)
        yield app
    finally:
        database.dispose(app)
        database_admin.drop_database(url)
