"""`registry.db.planner_settings`: a block's statements run with the settings asked, and the
caller's own settings (a SET LOCAL of its transaction) are in force again after it."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.db import planner_settings


def _setting(session: Session, name: str) -> str:
    return str(session.execute(text("SELECT current_setting(:name)"), {"name": name}).scalar())


def test_the_callers_own_settings_are_back_after_the_block(db_session: Session) -> None:
    db_session.execute(text("SET LOCAL work_mem = '8MB'"))
    with planner_settings(db_session, work_mem="64MB", enable_nestloop="off"):
        assert _setting(db_session, "work_mem") == "64MB"
        assert _setting(db_session, "enable_nestloop") == "off"
    assert _setting(db_session, "work_mem") == "8MB"  # not the server's default: the caller's
    assert _setting(db_session, "enable_nestloop") == "on"
