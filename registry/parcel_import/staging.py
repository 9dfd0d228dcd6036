"""The staging table of one import: typed rows COPYed in batch by batch, then geometry-checked,
cross-checked and upserted by set-based SQL."""

from __future__ import annotations

import io
import json

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.parcel_import.mapping import TARGET_FIELDS
from registry.parcel_import.normalise import PROBLEM_COLUMNS

_TYPES = {
    "council_district": "smallint", "acquisition_date": "date", "acquisition_cost": "numeric",
    "disposition_date": "date", "disposition_proceeds": "numeric",
}  # fmt: skip
STAGED_COLUMNS = ["row_number", *TARGET_FIELDS, "parcel_id_raw", "geom_hex"]


def create_staging(session: Session) -> None:
    columns = ", ".join(f"{name} {_TYPES.get(name, 'text')}" for name in TARGET_FIELDS)
    for statement in (
        "DROP TABLE IF EXISTS import_rows",
        "DROP TABLE IF EXISTS import_found",
        f"""CREATE TEMP TABLE import_rows (
                row_number integer PRIMARY KEY, {columns}, parcel_id_raw text, geom_hex text,
                geom geometry, department_id integer, ok boolean NOT NULL DEFAULT true
            ) ON COMMIT DROP""",
        """CREATE TEMP TABLE import_found (
                row_number integer, record_id text, field text NOT NULL,
                severity text NOT NULL DEFAULT 'error', message text NOT NULL, details jsonb
            ) ON COMMIT DROP""",
    ):
        session.execute(text(statement))


def _copy(session: Session, table: str, columns: list[str], frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    buffer = io.StringIO()
    frame[columns].to_csv(buffer, index=False, header=False, na_rep="")
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv, NULL '')"
    ) as copy:
        copy.write(buffer.getvalue())


def stage_batch(session: Session, rows: pd.DataFrame, problems: pd.DataFrame) -> None:
    present = [name for name in STAGED_COLUMNS if name in rows.columns]
    _copy(session, "import_rows", present, rows)
    found = problems.assign(details=problems["value"].map(
        lambda v: None if v is None or v is pd.NA else json.dumps({"value": str(v)})
    ))
    _copy(session, "import_found", ["row_number", "record_id", "field", "message", "details"],
          found[["row_number", "record_id", "field", "message", "details"]])


__all__ = ["PROBLEM_COLUMNS", "STAGED_COLUMNS", "create_staging", "stage_batch"]
