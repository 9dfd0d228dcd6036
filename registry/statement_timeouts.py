"""A statement timeout for the work in progress, applied to every pooled connection it checks out.

The web app names the timeout of each request by its class (app/request_limits.py); this module
makes it so in PostgreSQL: on checkout, a connection whose `statement_timeout` differs from the
one wanted gets a `SET`, committed on its own (so the request's rolled-back transaction can't
undo it) and remembered on the connection, so the hot path (the same class on the same pool)
pays no extra round trip. Outside a request (the CLI, the tests' own engines) nothing is wanted
and a connection that had a timeout gets the server's default back.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError

#: Any timeout will do (a health check's one-row query: a SET would cost it two round trips).
ANY_TIMEOUT = -1
_wanted_ms: ContextVar[int | None] = ContextVar("registry_statement_timeout_ms", default=None)
_INFO_KEY = "registry_statement_timeout_ms"


def want_statement_timeout(milliseconds: int | None) -> None:
    """The timeout of this thread's statements from now on (None: the server's default)."""
    _wanted_ms.set(milliseconds)


def _set_statement_timeout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    wanted = _wanted_ms.get()
    if wanted == ANY_TIMEOUT or record.info.get(_INFO_KEY) == wanted:
        return
    value = "DEFAULT" if wanted is None else str(int(wanted))
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {value}")
        if not dbapi_connection.autocommit:
            dbapi_connection.commit()
    except psycopg.OperationalError as error:
        # a connection the server dropped: the pool discards it and checks out another
        raise DisconnectionError(str(error)) from error
    record.info[_INFO_KEY] = wanted


def apply_statement_timeouts(engine: Engine) -> None:
    """Make `engine`'s connections follow `want_statement_timeout` (idempotent)."""
    if not event.contains(engine, "checkout", _set_statement_timeout):
        event.listen(engine, "checkout", _set_statement_timeout)
