"""Import batches: every import of every kind (parcels, leases, occupancy, costs), dry runs and
rejections included, is kept with its counts and every problem; the import pages and the JSON
report read them back.

The recorder is used inside the import's own transaction: a batch is opened first (its id names
the import in the audit trail), its problems added, and it is closed with the outcome, the
counts and the rows it passed over (severity `skipped`: blank, heading and totals rows). An
import that fails outright leaves no batch, as it leaves no data.

Where a problem's record is on the map, its details keep `point`, [longitude, latitude] in WGS 84:
a parcel's staged shape (or, without one, the stored parcel), a lease row's point. The reads
below serve the report page: problems counted by kind (field and message without the values it
quotes), filtered, paged, as CSV and as GeoJSON points; the JSON report leaves `point` and the
skipped rows out (it lists those apart).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from registry.cells import spreadsheet_safe
from registry.db import copy_frame_binary
from registry.imports.report import ImportProblem
from registry.imports.report import ImportReport
from registry.imports.report import SkippedRow

# the columns of a problem as the database keeps it: a batch's (import_problems, with its
# batch_id) and a parcel import's while it runs (import_found)
PROBLEM_TYPES = {
    "row_number": "integer",
    "record_id": "text",
    "field": "text",
    "severity": "text",
    "message": "text",
    "details": "jsonb",
}
_BATCH_PROBLEM_TYPES = {"batch_id": "bigint", **PROBLEM_TYPES}
_PROBLEM_ORDER = "ORDER BY row_number NULLS FIRST, id"
SKIPPED = "skipped"  # the severity of a row passed over: not a problem of a record
# [lon, lat] of a point `g` in EPSG:4326, NULL when it is no place on Earth (a wrong CRS)
_POINT = (
    "CASE WHEN ST_X({g}) BETWEEN -180 AND 180 AND ST_Y({g}) BETWEEN -90 AND 90 THEN "
    "jsonb_build_array(round(ST_X({g})::numeric, 7), round(ST_Y({g})::numeric, 7)) END"
)


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


def open_batch(
    session: Session, report: ImportReport, source_name: str, actor: str, options: Mapping[str, Any]
) -> int:
    """A new batch for `report` (outcome `failed` until closed); its id is kept on the report."""
    report.batch_id = session.execute(
        text(
            "INSERT INTO import_batches (kind, source_name, options, actor, outcome, counts) "
            "VALUES (:kind, :name, CAST(:options AS jsonb), :actor, 'failed', '{}') "
            "RETURNING id"
        ),
        {
            "kind": report.kind,
            "name": source_name,
            "actor": actor,
            "options": json.dumps(options, default=str),
        },
    ).scalar_one()
    return report.batch_id


def record_problems(session: Session, batch_id: int, problems: Iterable[ImportProblem]) -> None:
    """Problems found in memory (row by row), by one COPY. The value as read and the source
    column go into `details`, as the parcel engine's do."""
    rows = [
        {
            "batch_id": batch_id,
            "row_number": p.row,
            "record_id": p.record_id,
            "field": p.field,
            "severity": p.severity,
            "message": p.message,
            "details": _details(p),
        }
        for p in problems
    ]
    if rows:
        copy_frame_binary(
            session, "import_problems", pd.DataFrame(rows, dtype=object), _BATCH_PROBLEM_TYPES
        )


def record_staged_problems(session: Session, batch_id: int, columns: Mapping[str, str]) -> None:
    """The parcel engine's problems (the staging table `import_found`), by one INSERT, with the
    source column of each field (`columns`: field → column) and the point of the feature (the
    centroid of its staged shape, else of the stored parcel with its id) added to the details.
    The staged shapes were all transformed to WGS 84 by the extent check already."""
    session.execute(
        text(
            "INSERT INTO import_problems (batch_id, row_number, record_id, field, severity, "
            "message, details) SELECT :batch, f.row_number, f.record_id, f.field, f.severity, "
            "f.message, nullif(coalesce(f.details, '{}') "
            "|| CASE WHEN c.source IS NULL OR c.source = f.field THEN '{}' "
            "ELSE jsonb_build_object('column', c.source) END "
            "|| jsonb_strip_nulls(jsonb_build_object('point', "
            + _POINT.format(g="w.centre")
            + ")), "
            "'{}') FROM import_found f LEFT JOIN jsonb_each_text(CAST(:columns AS jsonb)) "
            "AS c (target, source) ON c.target = f.field "
            "LEFT JOIN import_rows r ON r.row_number = f.row_number "
            "LEFT JOIN LATERAL (SELECT s.geom FROM parcels s WHERE r.geom IS NULL "
            "AND s.parcel_id = f.record_id AND s.retired_at IS NULL LIMIT 1) s ON true "
            "CROSS JOIN LATERAL (SELECT ST_Centroid(ST_Transform(coalesce(r.geom, s.geom), 4326)) "
            "AS centre) w ORDER BY f.row_number NULLS FIRST, f.field, f.message"
        ),
        {"batch": batch_id, "columns": json.dumps(dict(columns))},
    )


def record_skipped(session: Session, batch_id: int, skipped: Iterable[SkippedRow]) -> None:
    """Rows passed over (blank, heading, totals, a repeated header), kept for the report page as
    problems of severity `skipped` whose value is the row's text."""
    record_problems(
        session,
        batch_id,
        (
            ImportProblem(
                item.row, None, "row", f"{item.reason} row", item.text or None, severity=SKIPPED
            )
            for item in skipped
        ),
    )


_LOCATE_ROWS = text(
    "UPDATE import_problems p SET details = coalesce(p.details, '{}') "
    "|| jsonb_build_object('point', w.point) "
    "FROM (SELECT r.row_number, "
    + _POINT.format(g="ST_Transform(ST_SetSRID(ST_MakePoint(r.x, r.y), :srid), 4326)")
    + " AS point "
    "FROM unnest(CAST(:rows AS int[]), CAST(:xs AS float8[]), CAST(:ys AS float8[])) "
    "AS r (row_number, x, y)) w "
    "WHERE p.batch_id = :batch AND p.row_number = w.row_number AND w.point IS NOT NULL"
)


def locate_rows(
    session: Session, batch_id: int, places: Mapping[int, tuple[float, float]], srid: int | None
) -> None:
    """Give the problems of each row in `places` (row → x, y in `srid`) the row's point. A point
    PostGIS cannot transform leaves its problems without one, never failing the import."""
    if not places or srid is None:
        return
    rows = list(places)
    try:
        with session.begin_nested():
            session.execute(
                _LOCATE_ROWS,
                {
                    "batch": batch_id,
                    "srid": srid,
                    "rows": rows,
                    "xs": [places[row][0] for row in rows],
                    "ys": [places[row][1] for row in rows],
                },
            )
    except DBAPIError:
        pass  # an unknown SRID or coordinates no transformation takes: no map for them


def close_batch(session: Session, report: ImportReport) -> None:
    """Keep the rows the import passed over and where the rows are, then the outcome and counts."""
    assert report.batch_id is not None
    record_skipped(session, report.batch_id, report.skipped)
    locate_rows(session, report.batch_id, report.places, report.places_srid)
    session.execute(
        text(
            "UPDATE import_batches SET outcome = :outcome, counts = CAST(:counts AS jsonb), "
            "finished_at = clock_timestamp() WHERE id = :id"
        ),
        {"outcome": report.outcome, "counts": json.dumps(report.counts()), "id": report.batch_id},
    )


def stored_problems(
    session: Session, batch_id: int, limit: int | None = None
) -> Iterator[ImportProblem]:
    """The batch's problems in row order, streamed from the database (any number of them)."""
    result = session.execute(
        text(
            "SELECT row_number, record_id, field, severity, message, details "
            f"FROM import_problems WHERE batch_id = :id AND severity <> '{SKIPPED}' "
            f"{_PROBLEM_ORDER}" + (" LIMIT :limit" if limit is not None else "")
        ),
        {"id": batch_id, "limit": limit},
        execution_options={"yield_per": 2_000},
    )
    for row in result:
        details = dict(row.details or {})
        value, column = details.pop("value", None), details.pop("column", None)
        details.pop("point", None)  # for the report page's map
        yield ImportProblem(
            row.row_number,
            row.record_id,
            row.field,
            row.message,
            value,
            column,
            details,
            row.severity,
        )


def _details(problem: ImportProblem) -> dict[str, Any] | None:
    details = {**problem.details, "value": problem.value, "column": problem.column}
    kept = {key: value for key, value in details.items() if value is not None}
    return kept or None


def recent_batches(session: Session, limit: int = 100) -> list[BatchSummary]:
    rows = session.execute(
        text(
            "SELECT id, kind, source_name, actor, started_at, finished_at, outcome, counts, "
            "options FROM import_batches ORDER BY id DESC LIMIT :limit"
        ),
        {"limit": limit},
    ).mappings()
    return [BatchSummary(**row) for row in rows]


def batch(session: Session, batch_id: int) -> BatchSummary | None:
    row = (
        session.execute(
            text(
                "SELECT id, kind, source_name, actor, started_at, finished_at, outcome, counts, "
                "options FROM import_batches WHERE id = :id"
            ),
            {"id": batch_id},
        )
        .mappings()
        .one_or_none()
    )
    return BatchSummary(**row) if row else None


@dataclass(frozen=True)
class ProblemFilter:
    """Which problems of a batch a page shows: by severity, and by field and kind (both as
    `problem_kinds` names them); None is any."""

    severity: str | None = None
    field: str | None = None
    kind: str | None = None

    def params(self) -> dict[str, Any]:
        return {"severity": self.severity, "field": self.field, "kind": self.kind}


@dataclass(frozen=True)
class ProblemKind:
    field: str  # the field, without an index ("payments", not "payments[0].amount")
    kind: str  # the message without its values: "not a date", "no department"
    severity: str
    count: int


# A problem's field without an index, and its kind: the message without the record id it starts
# with, what follows "; " or ": " (hints, reasons), parenthesised details, quoted values and
# words holding digits (ids, amounts, coordinates), and a leading "is".
_FIELD = r"regexp_replace(p.field, '[.\[].*$', '')"
_KIND = r"""regexp_replace(btrim(regexp_replace(regexp_replace(regexp_replace(
    regexp_replace(split_part(split_part(CASE WHEN p.record_id <> ''
        AND starts_with(p.message, p.record_id || ' ')
        THEN substr(p.message, length(p.record_id) + 2) ELSE p.message END, '; ', 1), ': ', 1),
    '\s*\([^)]*\)', '', 'g'), '(^|\s)(''[^'']*''|"[^"]*")', '\1', 'g'),
    '\S*[0-9]\S*', '…', 'g'), '\s+', ' ', 'g')), '^(… )?((is|are) )?', '')"""
_MATCHES = (
    f"p.batch_id = :id AND (CAST(:severity AS text) IS NULL OR p.severity = :severity) "
    f"AND (CAST(:field AS text) IS NULL OR {_FIELD} = :field) "
    f"AND (CAST(:kind AS text) IS NULL OR {_KIND} = :kind)"
)
_COLUMNS = (
    "p.id, p.row_number, p.record_id, p.field, p.severity, p.message, p.details, "
    "p.details->>'value' AS value"
)
# the problems that pass a ProblemFilter, in row order
_MATCHING = (
    f"SELECT {_COLUMNS} FROM import_problems p WHERE {_MATCHES} "
    "ORDER BY p.row_number NULLS FIRST, p.id"
)


def problem_kinds(session: Session, batch_id: int) -> list[ProblemKind]:
    """How many problems of each field, kind and severity the batch has, most first."""
    rows = session.execute(
        text(
            f"SELECT {_FIELD} AS field, {_KIND} AS kind, p.severity, count(*) AS n "
            "FROM import_problems p WHERE p.batch_id = :id GROUP BY 1, 2, 3 "
            "ORDER BY count(*) DESC, 1, 2, 3"
        ),
        {"id": batch_id},
    )
    return [ProblemKind(row.field, row.kind, row.severity, int(row.n)) for row in rows]


def problem_page(
    session: Session, batch_id: int, filters: ProblemFilter, offset: int = 0, limit: int = 100
) -> tuple[list[dict[str, Any]], int]:
    """One page of the batch's problems that pass `filters`, in row order, and how many pass."""
    params = {"id": batch_id, **filters.params()}
    total = session.execute(
        text(f"SELECT count(*) FROM import_problems p WHERE {_MATCHES}"), params
    ).scalar_one()
    rows = session.execute(
        text(f"{_MATCHING} OFFSET :offset LIMIT :limit"),
        {**params, "offset": offset, "limit": limit},
    ).mappings()
    return [dict(row) for row in rows], int(total)


CSV_COLUMNS = ("file", "row", "record", "field", "severity", "message", "value")


def problems_csv(session: Session, batch: BatchSummary, filters: ProblemFilter) -> Iterator[str]:
    """The problems that pass `filters` as CSV lines, streamed (any number); every text cell
    spreadsheet-safe, as in every export."""
    out = io.StringIO()
    writer = csv.writer(out)

    def line(cells: Iterable[Any]) -> str:
        writer.writerow(cells)
        text_ = out.getvalue()
        out.seek(0)
        out.truncate()
        return text_

    yield line(CSV_COLUMNS)
    rows = session.execute(
        text(_MATCHING),
        {"id": batch.id, **filters.params()},
        execution_options={"yield_per": 2_000},
    )
    for row in rows:
        yield line(
            [
                spreadsheet_safe(batch.source_name),
                row.row_number or "",
                spreadsheet_safe(row.record_id or ""),
                spreadsheet_safe(row.field),
                row.severity,
                spreadsheet_safe(row.message),
                spreadsheet_safe(row.value or ""),
            ]
        )


def problem_places(
    session: Session, batch_id: int, filters: ProblemFilter, limit: int = 5_000
) -> dict[str, Any]:
    """The rows with problems that pass `filters` and have a point, as a GeoJSON
    FeatureCollection made by PostGIS (one feature a row: its problems and their first
    messages), at most `limit` of them; `located` says how many problems have a point."""
    return dict(
        session.execute(
            text(
                "WITH placed AS (SELECT p.row_number, p.record_id, p.field, p.message, p.id, "
                "coalesce(p.details->'point', p.details->'location'->'coordinates') AS point "
                f"FROM import_problems p WHERE {_MATCHES}), "
                "rows AS (SELECT row_number, record_id, point, count(*) AS problems, "
                "(array_agg(field || ': ' || message ORDER BY id))[1:5] AS messages "
                "FROM placed WHERE point IS NOT NULL GROUP BY row_number, record_id, point "
                "ORDER BY row_number NULLS FIRST LIMIT :limit) "
                "SELECT jsonb_build_object('type', 'FeatureCollection', "
                "'located', (SELECT count(*) FROM placed WHERE point IS NOT NULL), "
                "'features', coalesce(jsonb_agg(jsonb_build_object('type', 'Feature', "
                "'geometry', jsonb_build_object('type', 'Point', 'coordinates', point), "
                "'properties', jsonb_build_object('row', row_number, 'record', record_id, "
                "'problems', problems, 'messages', to_jsonb(messages)))), '[]')) FROM rows"
            ),
            {"id": batch_id, "limit": limit, **filters.params()},
        ).scalar_one()
    )
