"""Digitization milestones kept by an admin: name, target share of parcels verified, date.

Writes go through the caller's `unit_of_work`, so the audit trigger records who changed a
milestone; validation collects every problem, as for parcels, so a form can show them all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.fields import FieldProblem
from registry.fields import RecordInvalid
from registry.models import Milestone


class MilestoneNotFound(LookupError):
    """No milestone with that id."""


@dataclass(frozen=True)
class MilestoneInput:
    """A milestone as typed into the form (strings), before validation."""

    name: str
    target_pct_verified: str
    target_date: str


def _validated(
    session: Session, data: MilestoneInput, milestone_id: int | None
) -> tuple[str, Decimal, dt.date]:
    problems: list[FieldProblem] = []
    name = " ".join(data.name.split())
    if not name:
        problems.append(FieldProblem("name", "is required"))
    elif len(name) > 200:
        problems.append(FieldProblem("name", "must be at most 200 characters"))
    else:
        clash = session.scalars(select(Milestone.id).where(Milestone.name == name)).first()
        if clash is not None and clash != milestone_id:
            problems.append(FieldProblem("name", f"a milestone named {name!r} exists already"))
    try:
        pct = Decimal(data.target_pct_verified.strip().rstrip("%").strip())
        if not (0 <= pct <= 100) or pct != pct.quantize(Decimal("0.01")):
            raise InvalidOperation
    except InvalidOperation:
        problems.append(
            FieldProblem(
                "target_pct_verified", "must be a percentage from 0 to 100 (two decimals at most)"
            )
        )
        pct = Decimal(0)
    try:
        target_date = dt.date.fromisoformat(data.target_date.strip())
    except ValueError:
        problems.append(FieldProblem("target_date", "must be a date (YYYY-MM-DD)"))
        target_date = dt.date.min
    if problems:
        raise RecordInvalid(problems)
    return name, pct, target_date


def list_milestones(session: Session) -> list[Milestone]:
    """All milestones, the nearest target date first."""
    return list(session.scalars(select(Milestone).order_by(Milestone.target_date, Milestone.name)))


def get_milestone(session: Session, milestone_id: int) -> Milestone:
    milestone = session.get(Milestone, milestone_id)
    if milestone is None:
        raise MilestoneNotFound(milestone_id)
    return milestone


def save_milestone(
    session: Session, data: MilestoneInput, milestone_id: int | None = None
) -> Milestone:
    """Create a milestone, or change the one with `milestone_id`; RecordInvalid lists every
    problem with the input."""
    name, pct, target_date = _validated(session, data, milestone_id)
    milestone = Milestone() if milestone_id is None else get_milestone(session, milestone_id)
    milestone.name, milestone.target_pct_verified, milestone.target_date = name, pct, target_date
    session.add(milestone)
    session.flush()
    return milestone


def delete_milestone(session: Session, milestone_id: int) -> None:
    session.delete(get_milestone(session, milestone_id))
    session.flush()
