"""How many database rows a unit of work (a web request) fetched or changed, for its log line.

Counted from the driver's `rowcount` after each statement (psycopg fills it for a SELECT as well
as for a write), so counting costs one context-variable read per statement and no query. The
count belongs to whoever opened it with `start_counting()`: a request in the web app, nothing
in the command line (statements then go uncounted).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import event


class RowCount:
    """Statements run and rows fetched or changed so far (many statements for few rows is a
    query in a loop)."""

    __slots__ = ("rows", "statements")

    def __init__(self) -> None:
        self.rows = 0
        self.statements = 0


_CURRENT: ContextVar[RowCount | None] = ContextVar("registry_row_count", default=None)


def start_counting() -> tuple[RowCount, Any]:
    """Count the rows of every statement run from here in this context (this thread: a WSGI
    server runs each request on one thread, so a request's count is its own) until
    `stop_counting(token)`. Two calls, not a `with`, because a response body outlives the call
    that made it."""
    count = RowCount()
    return count, _CURRENT.set(count)


def stop_counting(token: Any) -> None:
    try:
        _CURRENT.reset(token)
    except ValueError:  # ended on another thread than it started on: stop counting there
        _CURRENT.set(None)


def add_rows(rowcount: int) -> None:
    """Count one statement and its rows (-1, "not known", adds none) in the current count. For
    code that runs statements on a raw DB-API cursor, which engine events do not see."""
    count = _CURRENT.get()
    if count is not None:
        count.statements += 1
        if rowcount > 0:
            count.rows += rowcount


def _after_cursor_execute(
    _conn: Any, cursor: Any, _statement: Any, _params: Any, _context: Any, _many: bool
) -> None:
    add_rows(cursor.rowcount)


def count_rows_of(engine: Engine) -> None:
    """Have every statement `engine` runs through SQLAlchemy add to the current count."""
    if not event.contains(engine, "after_cursor_execute", _after_cursor_execute):
        event.listen(engine, "after_cursor_execute", _after_cursor_execute)
