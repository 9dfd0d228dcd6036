"""The registry's engine and a request-scoped session, wired into Flask."""

from __future__ import annotations

from flask import Flask
from flask import current_app
from flask import g
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from registry.db import create_read_engine
from registry.db import create_registry_engine

_EXTENSION = "registry"
_READ_ENGINE = "registry_read_engine"


def init_app(app: Flask) -> None:
    engine = create_registry_engine(app.config["DATABASE_URL"])
    app.extensions[_EXTENSION] = sessionmaker(engine, expire_on_commit=False)
    app.extensions[_READ_ENGINE] = create_read_engine(app.config["DATABASE_URL"], pool_size=5)
    app.teardown_appcontext(_close_session)


def dispose(app: Flask) -> None:
    """Close the app's pooled connections (tests and shutdown)."""
    factory = app.extensions.get(_EXTENSION)
    if factory is not None:
        factory.kw["bind"].dispose()
    if _READ_ENGINE in app.extensions:
        app.extensions[_READ_ENGINE].dispose()


def session_factory() -> sessionmaker[Session]:
    return current_app.extensions[_EXTENSION]


def engine() -> Engine:
    bind = session_factory().kw["bind"]
    assert isinstance(bind, Engine)
    return bind


def read_engine() -> Engine:
    """Autocommit engine for hot read-only statements such as tiles (see create_read_engine)."""
    return current_app.extensions[_READ_ENGINE]


def db_session() -> Session:
    """The request's read session, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        g.db_session = session_factory()()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
