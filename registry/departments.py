"""Departments: the owning agencies that parcels, buildings and costs are attributed to."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def department_choices(session: Session) -> list[list[str]]:
    """[code, name] pairs for pick lists, by name."""
    rows = session.execute(text("SELECT code, name FROM departments ORDER BY name"))
    return [[row.code, row.name] for row in rows]
