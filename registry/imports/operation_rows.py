"""One row of an occupancy or cost list → the API's fields, or a skipped row.

Headers are resolved by `columns.resolve_columns` with the kind's synonyms ("Bldg", "Dept",
"FY", "Cost Type", "Staff", "USF"); cells are read by `cells.normalise_cell` ("FY2025" and
"2024-25" to 2025, "$1,200.00" to "1200.00", 3/1/2025 to 2025-03-01, "Custodial" to janitorial)
and never validated here: what cannot be read goes on as written for
`operations.validation` to refuse in the same words as the API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from registry.imports.cells import is_blank
from registry.imports.cells import normalise_cell
from registry.imports.columns import ColumnSource
from registry.imports.report import ImportReport
from registry.imports.rows import record_cells
from registry.imports.sources import SourceRow
from registry.imports.synonyms import KEY_TARGETS


@dataclass
class OperationsRow:
    """A data row: the API fields read from it, and the cells as read for the report."""

    number: int
    data: dict[str, Any]
    raw: dict[str, Any]
    label: str = ""
    problems: list[tuple[str, str]] = field(default_factory=list)


def read_row(
    kind: str,
    row: SourceRow,
    columns: Mapping[str, ColumnSource],
    defaults: Mapping[str, Any],
    report: ImportReport,
) -> OperationsRow | None:
    """The row's record, or None after recording it as skipped (blank, heading, total)."""
    raw = record_cells(row, columns, KEY_TARGETS[kind], report)
    if raw is None:
        return None
    raw = {target: value for target, value in raw.items() if not is_blank(value)}
    data = {target: normalise_cell(kind, target, value)[0] for target, value in raw.items()}
    for target, value in defaults.items():
        data.setdefault(target, value)
    return OperationsRow(row.number, data, raw, _label(kind, data))


def _label(kind: str, data: Mapping[str, Any]) -> str:
    """How a report names the record: its natural key as the file gives it."""
    if kind == "occupancy":
        return " ".join(str(data.get(name, "?")) for name in KEY_TARGETS[kind])
    asset = "/".join(str(data[name]) for name in ("parcel_id", "building_id") if name in data)
    return f"{asset or '?'} FY{data.get('fiscal_year', '?')} {data.get('category', '?')}"
