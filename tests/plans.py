"""The plans PostgreSQL chose for the statements a block ran, nested ones (in triggers and
functions) included, read through auto_explain: for tests that prove a statement is planned as
its data needs (no timed assertions)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session


@contextmanager
def explained(session: Session) -> Iterator[list[str]]:
    """The block's statements' plans (each as auto_explain's notice: its text, then its plan),
    in the order they finished. Settings are local to the session's transaction."""
    plans: list[str] = []
    driver = session.connection().connection.driver_connection
    assert driver is not None

    def keep(notice: object) -> None:
        plans.append(getattr(notice, "message_primary", None) or "")

    driver.add_notice_handler(keep)
    for statement in (
        "LOAD 'auto_explain'",
        "SET LOCAL auto_explain.log_min_duration = 0",
        "SET LOCAL auto_explain.log_nested_statements = on",
        "SET LOCAL auto_explain.log_level = notice",
        "SET LOCAL auto_explain.log_settings = on",  # planner settings a statement changed
        "SET LOCAL client_min_messages = notice",
    ):
        session.execute(text(statement))
    try:
        yield plans
    finally:
        session.execute(text("SET LOCAL auto_explain.log_min_duration = -1"))
        driver.remove_notice_handler(keep)
