"""Which column of an occupancy or cost list feeds which field, and how a cell is read.

Headers are matched as in the lease import (`lease_import_columns.header_key`: case, spaces and
punctuation ignored) against synonyms seen in facilities and finance sheets ("Bldg", "Dept",
"FY", "Cost Type", "Staff", "USF"); `--map TARGET=SOURCE` overrides a match, `--map TARGET=`
ignores a column. Cells are *normalised* ("FY2025" and "2024-25" to 2025, "$1,200.00" to
"1200.00", 3/1/2025 to 2025-03-01, "Custodial" to janitorial), never validated: what cannot be
read goes on as written for `operations_validation` to refuse in the same words as the API.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from registry.imports.columns import (
    MappingError,
    header_key,
    is_blank,
    parse_date,
    parse_number,
)
from registry.imports.columns import _text as cell_text
from registry.imports.report import ImportReport
from registry.imports.sources import SourceRow
from registry.operations.validation import COST_FIELDS, OCCUPANCY_FIELDS

SYNONYMS: dict[str, tuple[str, ...]] = {
    "parcel_id": ("apn", "ain", "parcel", "parcel no", "parcel number", "assessor parcel number"),
    "building_id": ("building", "bldg", "bldg id", "building no", "building number", "facility id"),
    "department_code": ("department", "dept", "dept code", "department code", "agency",
                        "occupant", "occupying department", "tenant department"),
    "period_start": ("start", "start date", "from", "begin", "begin date", "move in",
                     "move-in date", "occupied from", "period begin"),
    "period_end": ("end", "end date", "to", "until", "move out", "move-out date",
                   "occupied to", "period end"),
    "headcount": ("head count", "staff", "fte", "ftes", "employees", "people", "occupants"),
    "usable_sq_ft_occupied": ("usf", "usable sq ft", "usf occupied", "sq ft occupied",
                              "occupied sq ft", "occupied area", "area occupied", "sq ft", "sf"),
    "fiscal_year": ("fy", "fiscal yr", "year", "budget year", "fiscal period"),
    "category": ("cost category", "cost type", "type", "expense type", "expense category"),
    "amount": ("cost", "amount ($)", "total cost", "expense", "expenditure", "actual", "actuals",
               "annual cost"),
    "note": ("notes", "comment", "comments", "remarks", "description", "memo"),
}
_CATEGORIES = {
    "operations": "operations", "operating": "operations", "ops": "operations",
    "maintenance": "maintenance", "maint": "maintenance", "repairs": "maintenance",
    "repairsandmaintenance": "maintenance", "utilities": "utilities", "utility": "utilities",
    "security": "security", "janitorial": "janitorial", "custodial": "janitorial",
    "cleaning": "janitorial", "capital": "capital", "capex": "capital",
    "capitalimprovements": "capital",
}  # fmt: skip
TARGETS = {"occupancy": OCCUPANCY_FIELDS, "costs": COST_FIELDS}
KEY_FIELDS = {
    "occupancy": ("building_id", "department_code", "period_start"),
    "costs": ("parcel_id", "building_id", "fiscal_year", "category"),
}
_TOTAL_WORDS = ("total", "subtotal", "grandtotal", "sum")


def _index(targets: Iterable[str]) -> dict[str, str]:
    index: dict[str, str] = {}
    for target in targets:
        for name in (target, *SYNONYMS.get(target, ())):
            index.setdefault(header_key(name), target)
    return index


def header_score(cells: Iterable[str], targets: Iterable[str], sources: Iterable[str]) -> int:
    """How many cells of a candidate header row name a known column (to find the header row)."""
    known = set(_index(targets)) | {header_key(source) for source in sources}
    return sum(1 for cell in cells if header_key(cell) in known)


def resolve_columns(columns: list[str], targets: tuple[str, ...],
                    overrides: Mapping[str, str]) -> dict[str, str]:
    """target → column: `--map` first (an empty SOURCE ignores the target), then synonyms."""
    by_key = {header_key(column): column for column in reversed(columns)}
    mapping: dict[str, str] = {}
    for target, source in overrides.items():
        if target not in targets:
            raise MappingError(f"--map {target}={source}: unknown target {target!r}; "
                               f"targets: {', '.join(targets)}")
        if source:
            found = source if source in columns else by_key.get(header_key(source))
            if found is None:
                raise MappingError(f"--map {target}={source}: no column {source!r}; "
                                   f"columns: {', '.join(columns)}")
            mapping[target] = found
    index, used = _index(targets), set(mapping.values())
    for column in columns:
        matched = index.get(header_key(column))
        if matched and matched not in mapping and matched not in overrides and column not in used:
            mapping[matched] = column
            used.add(column)
    return mapping


def normalise_cell(target: str, value: Any) -> Any:
    """The cell in API form, or as written (text) when it cannot be read."""
    if target in {"period_start", "period_end"}:
        parsed = parse_date(value)
        return parsed.isoformat() if parsed else cell_text(value)
    if target == "amount":
        number = parse_number(value, money=True)
        return f"{number:f}" if number is not None else cell_text(value)
    if target in {"headcount", "usable_sq_ft_occupied"}:
        number = parse_number(value, money=False)
        if number is not None and number == number.to_integral_value():
            return int(number)
        return f"{number:f}" if number is not None else cell_text(value)
    if target == "fiscal_year":
        return _fiscal_year(value)
    if target == "category":
        text = cell_text(value)
        return _CATEGORIES.get(header_key(text), text)
    return cell_text(value)


def _fiscal_year(value: Any) -> Any:
    """2025, "FY2025", "FY 25", "2024-25", "2024/2025": the year a fiscal year ends in."""
    text = cell_text(value).upper().replace(" ", "")
    match = re.fullmatch(r"(?:FY)?(\d{4})(?:[-/](\d{2}|\d{4}))?", text) or \
        re.fullmatch(r"FY(\d{2})", text)
    if match is None:
        return text
    if len(match.group(1)) == 2:
        return 2000 + int(match.group(1))
    start, end = int(match.group(1)), match.group(2)
    if end is None:
        return start
    ending = int(end) if len(end) == 4 else start // 100 * 100 + int(end)
    return ending if ending == start + 1 else text  # "2024-26" is not a fiscal year


@dataclass
class OperationsRow:
    """A data row: the API fields read from it, and the cells as read for the report."""

    number: int
    data: dict[str, Any]
    raw: dict[str, Any]
    label: str = ""
    problems: list[tuple[str, str]] = field(default_factory=list)


def read_row(kind: str, row: SourceRow, columns: Mapping[str, str],
             report: ImportReport) -> OperationsRow | None:
    """The row's record, or None after recording it as skipped (blank, heading, total)."""
    filled = [value for value in row.cells.values() if not is_blank(value)]
    if not filled:
        report.skip(row.number, "blank")
        return None
    first = filled[0]
    if isinstance(first, str) and header_key(first).startswith(_TOTAL_WORDS):
        report.skip(row.number, "total", " | ".join(str(value) for value in filled))
        return None
    if len(filled) == 1 and isinstance(first, str):
        report.skip(row.number, "heading", first)
        return None
    raw = {target: row.cells.get(column) for target, column in columns.items()}
    raw = {target: value for target, value in raw.items() if not is_blank(value)}
    data = {target: normalise_cell(target, value) for target, value in raw.items()}
    return OperationsRow(row.number, data, raw, _label(kind, data))


def _label(kind: str, data: Mapping[str, Any]) -> str:
    """How a report names the record: its natural key as the file gives it."""
    if kind == "occupancy":
        return " ".join(str(data.get(name, "?")) for name in KEY_FIELDS[kind])
    asset = "/".join(str(data[name]) for name in ("parcel_id", "building_id") if name in data)
    return f"{asset or '?'} FY{data.get('fiscal_year', '?')} {data.get('category', '?')}"
