"""Departments: the owning agencies that parcels, buildings and costs are attributed to."""

from __future__ import annotations

import difflib

from sqlalchemy import text
from sqlalchemy.orm import Session


def department_choices(session: Session) -> list[list[str]]:
    """[code, name] pairs for pick lists, by name."""
    rows = session.execute(text("SELECT code, name FROM departments ORDER BY name"))
    return [[row.code, row.name] for row in rows]


def find_department(session: Session, value: str) -> tuple[int | None, str | None]:
    """(id, None) for a department given by code or name (case and spaces ignored), else
    (None, the nearest code or name): a typo or a "GSD?" is reported with a suggestion, never
    matched silently."""
    wanted = " ".join(value.split()).lower()
    rows = session.execute(text("SELECT id, code, name FROM departments")).all()
    for row in rows:
        if wanted in {row.code.lower(), row.name.lower()}:
            return int(row.id), None
    names = {row.code.lower(): row.code for row in rows}
    names.update({row.name.lower(): row.name for row in rows})
    nearest = difflib.get_close_matches(wanted.strip("?* "), list(names), n=1, cutoff=0.5)
    return None, names[nearest[0]] if nearest else None
