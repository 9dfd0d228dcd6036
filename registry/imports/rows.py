"""Rows of a file that are not records: blank rows, section headings and totals (footers).

The one detector of every importer. People's lists put a heading above each section ("OFFICE
LEASES"), a blank line between sections, and a total at the end ("Total", "Subtotal", "Grand
Total", "Total: 112 leases"); these are skipped and counted, never reported as bad records. A
real record is never skipped because of how a value begins: a totals word counts only as a
whole word ("SUMMIT-01" is a building, not a sum), and only in a row that names no record
("Total Fitness LLC" beside a lease number is a tenant). A row with a shape is always a record.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from registry.imports.cells import is_blank
from registry.imports.columns import ColumnSource
from registry.imports.report import ImportReport
from registry.imports.sources import SourceRow

TOTAL_WORD = re.compile(r"\s*(grand\s*total|sub\s*-?\s*total|totals?|sum)\b", re.IGNORECASE)


def skip_reason(
    cells: Sequence[tuple[str, Any]], key_columns: Collection[str], has_shape: bool = False
) -> str | None:
    """'blank', 'heading' or 'total' for a row that is not a record, else None.

    `cells` are (column, value) in the file's order; `key_columns` are the columns of the
    fields that name a record (lease number; parcel id; building, department and start...).
    A lone text cell is a heading unless it sits in a key column and could be an id (no space,
    a digit): then it is a record that lacks the rest, to be reported as such.
    """
    if has_shape:
        return None
    filled = [(column, value) for column, value in cells if not is_blank(value)]
    if not filled:
        return "blank"
    first_column, first = filled[0]
    if not isinstance(first, str):
        return None
    names_a_record = any(column in key_columns and column != first_column for column, _ in filled)
    if not names_a_record and TOTAL_WORD.match(first):
        return "total"
    if len(filled) == 1:
        could_be_id = (
            first_column in key_columns
            and " " not in first.strip()
            and any(character.isdigit() for character in first)
        )
        return None if could_be_id else "heading"
    return None


def skipped_text(cells: Sequence[tuple[str, Any]]) -> str:
    """The row's filled cells as the report shows a skipped row."""
    return " | ".join(str(value) for _, value in cells if not is_blank(value))


def record_cells(
    row: SourceRow,
    columns: Mapping[str, ColumnSource],
    key_targets: Iterable[str],
    report: ImportReport,
) -> dict[str, Any] | None:
    """The row's value of each mapped target (blank ones too), or None after recording it as
    skipped (blank, heading, total); `key_targets` are the fields that name a record."""
    cells = list(row.cells.items())
    keys = [
        column for target in key_targets if target in columns for column in columns[target].columns
    ]
    reason = skip_reason(cells, keys, has_shape=row.point is not None)
    if reason:
        report.skip(row.number, reason, skipped_text(cells))
        return None
    return {target: source.value(row.cells) for target, source in columns.items()}
