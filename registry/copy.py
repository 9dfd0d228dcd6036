"""COPY of a DataFrame into a table on the session's own connection (inside its transaction)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import pandas as pd
from sqlalchemy.orm import Session


def copy_frame(session: Session, table: str, frame: pd.DataFrame,
               columns: Sequence[str] | None = None) -> None:
    """Rows of `frame` (its `columns`, default all) into `table`; an empty cell is NULL.

    CSV through COPY is one round trip for the whole frame, where INSERTs would be one per row.
    """
    if frame.empty:
        return
    names = list(columns or frame.columns)
    buffer = io.StringIO()
    frame[names].to_csv(buffer, index=False, header=False, na_rep="")
    raw = session.connection().connection.driver_connection
    assert raw is not None, "the session's connection is closed"
    with raw.cursor() as cursor, cursor.copy(
        f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT csv, NULL '')"
    ) as copy:
        copy.write(buffer.getvalue())
