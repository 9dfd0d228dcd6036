"""The staging table of one import: typed rows COPYed in batch by batch, then geometry-checked,
cross-checked and upserted by set-based SQL."""

from __future__ import annotations

import json

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.copy import copy_frame
from registry.parcel_import.mapping import TARGET_FIELDS
from registry.parcel_import.normalise import PROBLEM_COLUMNS

_TYPES = {
    "council_district": "smallint", "acquisition_date": "date", "acquisition_cost": "numeric",
    "disposition_date": "date", "disposition_proceeds": "numeric",
}  # fmt: skip
STAGED_COLUMNS = ["row_number", *TARGET_FIELDS, "parcel_id_raw", "geom_hex"]


def create_staging(session: Session) -> None:
    """No primary key on purpose: with a b-tree on row_number the planner pairs features by
    `a.row_number < b.row_number` (n² pairs) instead of by the spatial index."""
    columns = ", ".join(f"{name} {_TYPES.get(name, 'text')}" for name in TARGET_FIELDS)
    for statement in (
        "SET LOCAL jit = off",  # compiling these one-off statements costs more than it saves
        "DROP TABLE IF EXISTS import_rows",
        "DROP TABLE IF EXISTS import_found",
        f"""CREATE TEMP TABLE import_rows (
                row_number integer NOT NULL, {columns}, parcel_id_raw text, geom_hex text,
                geom geometry, department_id integer, ok boolean NOT NULL DEFAULT true
            ) ON COMMIT DROP""",
        # Made now, while empty: an index built after this transaction updated rows would be
        # unusable until the transaction ends (pg_index.indcheckxmin), and the overlap check
        # would pair every feature with every other.
        "CREATE INDEX import_rows_geom ON import_rows USING gist (geom)",
        """CREATE TEMP TABLE import_found (
                row_number integer, record_id text, field text NOT NULL,
                severity text NOT NULL DEFAULT 'error', message text NOT NULL, details jsonb
            ) ON COMMIT DROP""",
    ):
        session.execute(text(statement))


def stage_batch(session: Session, rows: pd.DataFrame, problems: pd.DataFrame) -> None:
    present = [name for name in STAGED_COLUMNS if name in rows.columns]
    copy_frame(session, "import_rows", rows, present)
    found = problems.assign(details=problems["value"].map(
        lambda v: None if v is None or v is pd.NA else json.dumps({"value": str(v)})
    ))
    copy_frame(session, "import_found", found,
               ["row_number", "record_id", "field", "message", "details"])


__all__ = ["PROBLEM_COLUMNS", "STAGED_COLUMNS", "create_staging", "stage_batch"]
