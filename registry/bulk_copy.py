"""COPY into a table on the session's own connection (inside its transaction)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session


def _driver_connection(session: Session) -> Any:
    raw = session.connection().connection.driver_connection
    assert raw is not None, "the session's connection is closed"
    return raw


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
    with _driver_connection(session).cursor() as cursor, cursor.copy(
        f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT csv, NULL '')"
    ) as copy:
        copy.write(buffer.getvalue())


def copy_frame_binary(session: Session, table: str, frame: pd.DataFrame,
                      types: Mapping[str, str]) -> None:
    """The columns of `frame` that `types` names into `table` by binary COPY, each sent as the
    Postgres type given (its values Python values of that type: str, int, date, Decimal, a dict
    for jsonb, bytes for bytea); NA is NULL, an empty string stays an empty string.

    No value is formatted as text nor parsed by the server, so dates, amounts and geometry load
    several times faster than through `copy_frame`. Bytes sent to a geometry column (as
    "bytea") are (E)WKB, which PostGIS reads with the checks of ST_GeomFromWKB (closed rings,
    enough points); its text input does not check them.
    """
    if frame.empty:
        return
    names = list(types)
    columns = [frame[name].astype(object).where(frame[name].notna(), None).tolist()
               for name in names]
    with _driver_connection(session).cursor() as cursor, cursor.copy(
        f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT binary)"
    ) as copy:
        copy.set_types([types[name] for name in names])
        for row in zip(*columns, strict=True):
            copy.write_row(row)
