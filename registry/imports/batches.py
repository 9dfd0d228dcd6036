"""Import batches: every import of every kind (parcels, leases, occupancy, costs), dry runs and
rejections included, is kept with its counts and every problem; the import pages and the JSON
report read them back.

The recorder is used inside the import's own transaction: a batch is opened first (its id names
the import in the audit trail), its problems added, and it is closed with the outcome and the
counts. An import that fails outright leaves no batch, as it leaves no data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.db import copy_frame_binary
from registry.imports.report import ImportProblem, ImportReport

_PROBLEM_TYPES = {"batch_id": "bigint", "row_number": "integer", "record_id": "text",
                  "field": "text", "severity": "text", "message": "text", "details": "jsonb"}
_PROBLEM_ORDER = "ORDER BY row_number NULLS FIRST, id"


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


def open_batch(session: Session, report: ImportReport, source_name: str, actor: str,
               options: Mapping[str, Any]) -> int:
    """A new batch for `report` (outcome `failed` until closed); its id is kept on the report."""
    report.batch_id = session.execute(
        text("INSERT INTO import_batches (kind, source_name, options, actor, outcome, counts) "
             "VALUES (:kind, :name, CAST(:options AS jsonb), :actor, 'failed', '{}') "
             "RETURNING id"),
        {"kind": report.kind, "name": source_name, "actor": actor,
         "options": json.dumps(options, default=str)},
    ).scalar_one()
    return report.batch_id


def record_problems(session: Session, batch_id: int, problems: Iterable[ImportProblem]) -> None:
    """Problems found in memory (row by row), by one COPY. The value as read and the source
    column go into `details`, as the parcel engine's do."""
    rows = [{"batch_id": batch_id, "row_number": p.row, "record_id": p.record_id,
             "field": p.field, "severity": p.severity, "message": p.message,
             "details": _details(p)} for p in problems]
    if rows:
        copy_frame_binary(session, "import_problems", pd.DataFrame(rows, dtype=object),
                          _PROBLEM_TYPES)


def record_staged_problems(session: Session, batch_id: int, columns: Mapping[str, str]) -> None:
    """The parcel engine's problems (the staging table `import_found`), by one INSERT, with the
    source column of each field (`columns`: field → column) added to the details."""
    session.execute(text(
        "INSERT INTO import_problems (batch_id, row_number, record_id, field, severity, "
        "message, details) SELECT :batch, f.row_number, f.record_id, f.field, f.severity, "
        "f.message, CASE WHEN c.source IS NULL OR c.source = f.field THEN f.details "
        "ELSE coalesce(f.details, '{}') || jsonb_build_object('column', c.source) END "
        "FROM import_found f LEFT JOIN jsonb_each_text(CAST(:columns AS jsonb)) "
        "AS c (target, source) ON c.target = f.field "
        "ORDER BY f.row_number NULLS FIRST, f.field, f.message"
    ), {"batch": batch_id, "columns": json.dumps(dict(columns))})


def close_batch(session: Session, report: ImportReport) -> None:
    session.execute(
        text("UPDATE import_batches SET outcome = :outcome, counts = CAST(:counts AS jsonb), "
             "finished_at = clock_timestamp() WHERE id = :id"),
        {"outcome": report.outcome, "counts": json.dumps(report.counts()),
         "id": report.batch_id},
    )


def stored_problems(session: Session, batch_id: int,
                    limit: int | None = None) -> Iterator[ImportProblem]:
    """The batch's problems in row order, streamed from the database (any number of them)."""
    result = session.execute(
        text("SELECT row_number, record_id, field, severity, message, details "
             f"FROM import_problems WHERE batch_id = :id {_PROBLEM_ORDER}"
             + (" LIMIT :limit" if limit is not None else "")),
        {"id": batch_id, "limit": limit}, execution_options={"yield_per": 2_000},
    )
    for row in result:
        details = dict(row.details or {})
        value, column = details.pop("value", None), details.pop("column", None)
        yield ImportProblem(row.row_number, row.record_id, row.field, row.message, value,
                            column, details, row.severity)


def _details(problem: ImportProblem) -> dict[str, Any] | None:
    details = {**problem.details, "value": problem.value, "column": problem.column}
    kept = {key: value for key, value in details.items() if value is not None}
    return kept or None


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
             f"FROM import_problems WHERE batch_id = :id {_PROBLEM_ORDER} "
             "OFFSET :offset LIMIT :limit"),
        {"id": batch_id, "offset": offset, "limit": limit},
    ).mappings()
    return [dict(row) for row in rows], int(total)
