"""Fixtures: real PostGIS databases (never SQLite, never mocks), the Flask app, a live server."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server

from app import create_app
from app import database
from registry import database_admin
from registry.db import create_registry_engine
from tests.database import clone
from tests.database import make_template

pytest_plugins = [
    "tests.auth_fixtures",
    "tests.browser",
    "tests.import_fixtures",
    "tests.kpi_fixtures",
    "tests.pg_clusters",
]


@pytest.fixture(scope="session")
def template_url() -> Iterator[str]:
    url = make_template("template")
    yield url
    database_admin.drop_database(url)


@pytest.fixture(scope="session")
def sample_database_url(template_url: str) -> Iterator[str]:
    """One database holding the shipped sample, shared by tests that only read it."""
    from sample_parcels.load import load_sample

    url = clone(template_url)
    engine = create_registry_engine(url)
    load_sample(sessionmaker(engine))
    engine.dispose()
    yield url
    database_admin.drop_database(url)


@pytest.fixture(scope="module")
def sample_session(sample_database_url: str) -> Iterator[Session]:
    """A session on the shared sample database, for a module's tests that only read it (or
    write in a savepoint they roll back)."""
    engine = create_registry_engine(sample_database_url, pool_size=1)
    with sessionmaker(engine)() as session:
        yield session
        session.rollback()
    engine.dispose()


@pytest.fixture
def fresh_database_url(template_url: str) -> Iterator[str]:
    """An empty migrated database of the test's own, for tests that commit."""
    url = clone(template_url)
    yield url
    database_admin.drop_database(url)


@pytest.fixture(scope="session")
def shared_engine(template_url: str) -> Iterator[Engine]:
    url = clone(template_url)
    engine = create_registry_engine(url)
    yield engine
    engine.dispose()
    database_admin.drop_database(url)


@pytest.fixture
def connection(shared_engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with shared_engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions whose commits become savepoints of the test's rolled-back transaction."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint")


@pytest.fixture
def db_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


def _app_for(url: str) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test",
            "UPLOAD_FOLDER": tempfile.mkdtemp(prefix="registry-uploads-"),
        }
    )


@pytest.fixture(scope="session")
def sample_app(sample_database_url: str) -> Iterator[Flask]:
    app = _app_for(sample_database_url)
    yield app
    database.dispose(app)


@pytest.fixture
def sample_client(sample_app: Flask) -> FlaskClient:
    return sample_app.test_client()


@pytest.fixture
def app(fresh_database_url: str) -> Iterator[Flask]:
    app = _app_for(fresh_database_url)
    yield app
    database.dispose(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture(scope="session")
def sample_server(sample_app: Flask) -> Iterator[LiveServer]:
    with LiveServer(sample_app) as server:
        yield server
