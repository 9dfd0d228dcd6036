"""When the database is gone, too slow or too busy: which of these an exception means.

They are conditions of the system, not bugs: the front ends answer them in the user's words
(the web app a 503, app/faults.py) and log one line, without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout


@dataclass(frozen=True)
class Unavailable:
    title: str
    detail: str
    retry_after: int  # seconds


DATABASE_GONE = Unavailable(
    "Database not answering",
    "The registry's database is not answering; try again in a minute.",
    60,
)
TOO_SLOW = Unavailable(
    "Took too long",
    "This took too long; narrow the request (a smaller area, fewer rows, one period) or try again.",
    5,
)
BUSY = Unavailable("Busy", "The registry is busy; try again in a moment.", 5)

#: The exceptions that may mean one of them (`unavailability` tells which, or None for a bug).
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    PoolTimeout,
    psycopg.Error,
)


def unavailability(error: BaseException) -> Unavailable | None:
    """What an exception says of the database, or None when it is a bug to report as such."""
    if isinstance(error, PoolTimeout):
        return BUSY
    original = error.orig if isinstance(error, DBAPIError) else error
    if isinstance(original, psycopg.errors.QueryCanceled):
        return TOO_SLOW
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return DATABASE_GONE
    if isinstance(original, psycopg.OperationalError | psycopg.InterfaceError):
        return DATABASE_GONE
    return None


def reason(error: BaseException) -> str:
    """The driver's first line (what failed), never the statement."""
    text = str(getattr(error, "orig", None) or error)
    return text.splitlines()[0] if text else type(error).__name__
