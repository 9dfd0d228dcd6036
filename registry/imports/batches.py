"""Reading import batches and their reports back, for the import pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class BatchSummary:
    id: int
    kind: str
    source_name: str
    actor: str
    started_at: Any
    finished_at: Any
    outcome: str
    counts: dict[str, Any]
    options: dict[str, Any]


def recent_batches(session: Session, limit: int = 100) -> list[BatchSummary]:
    rows = session.execute(
        text("SELECT id, kind, source_name, actor, started_at, finished_at, outcome, counts, "
             "options FROM import_batches ORDER BY id DESC LIMIT :limit"),
        {"limit": limit},
    ).mappings()
    return [BatchSummary(**row) for row in rows]


def batch(session: Session, batch_id: int) -> BatchSummary | None:
    row = session.execute(
        text("SELECT id, kind, source_name, actor, started_at, finished_at, outcome, counts, "
             "options FROM import_batches WHERE id = :id"),
        {"id": batch_id},
    ).mappings().one_or_none()
    return BatchSummary(**row) if row else None


def batch_problems(session: Session, batch_id: int, offset: int = 0,
                   limit: int = 500) -> tuple[list[dict[str, Any]], int]:
    """One page of the batch's problems in row order, and how many there are in all."""
    total = session.execute(
        text("SELECT count(*) FROM import_problems WHERE batch_id = :id"), {"id": batch_id}
    ).scalar_one()
    rows = session.execute(
        text("SELECT row_number, record_id, field, severity, message, details "
             "FROM import_problems WHERE batch_id = :id "
             "ORDER BY row_number NULLS FIRST, id OFFSET :offset LIMIT :limit"),
        {"id": batch_id, "offset": offset, "limit": limit},
    ).mappings()
    return [dict(row) for row in rows], int(total)
