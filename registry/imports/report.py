"""What an import found and did, for the terminal and for `--report OUT.json`.

Generic over record kinds (leases now, parcels later): a problem names the file, the row or
feature number as the user sees it in a spreadsheet or GIS, the record's id, the field (an API
field name, so it means the same in the API, the forms and here), the source column when it
differs, the message and the value as read. Skipped rows (blank, section headings, totals) are
counted apart from problems, because they are not errors and must not hide among them.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SUMMARY_PROBLEM_LIMIT = 20


@dataclass(frozen=True)
class ImportProblem:
    file: str
    row: int | None
    record_id: str | None
    field: str
    message: str
    value: Any = None
    column: str | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)  # {"suggestion": "Police"}

    def line(self, unit: str = "row", label: str = "record") -> str:
        """`FILE:row N lease L field F: message`, the form editors and `grep` both read."""
        where = f"{self.file}:{unit} {self.row}" if self.row is not None else self.file
        record = f"{label} {self.record_id or '(none)'}"
        column = f" [column {self.column!r}]" if self.column and self.column != self.field else ""
        return f"{where} {record} field {self.field}: {self.message}{column}"


@dataclass(frozen=True)
class SkippedRow:
    row: int
    reason: str  # "blank", "heading", "total", "repeated header"
    text: str = ""


@dataclass
class ImportReport:
    """Everything one import run found; `written` says whether the database was changed."""

    file: str
    kind: str  # "leases", "parcels", ...
    record_label: str = "record"  # "lease", "parcel": names the id in each problem line
    row_unit: str = "row"  # "row" for tables, "feature" for GIS layers
    header_row: int | None = None
    layer: str | None = None  # the sheet or layer read
    columns: dict[str, str] = field(default_factory=dict)  # target field → source column
    dry_run: bool = False
    skip_invalid: bool = False
    rows_read: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)
    invalid_rows: set[int] = field(default_factory=set)
    valid_rows: int = 0
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    written: bool = False

    def add_problem(
        self,
        row: int | None,
        record_id: str | None,
        field_name: str,
        message: str,
        value: Any = None,
        column: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.problems.append(
            ImportProblem(
                self.file, row, record_id, field_name, message, _jsonable(value), column,
                {key: _jsonable(item) for key, item in (details or {}).items()},
            )
        )
        if row is not None:
            self.invalid_rows.add(row)

    def skip(self, row: int, reason: str, text: str = "") -> None:
        self.skipped.append(SkippedRow(row, reason, text))

    @property
    def rejected(self) -> bool:
        """True when any row was refused: exit code 1, even when the good rows were loaded."""
        return bool(self.problems)

    def counts(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "valid": self.valid_rows,
            "invalid": len(self.invalid_rows),
            "problems": len(self.problems),
            "skipped": len(self.skipped),
            "skipped_by_reason": dict(Counter(item.reason for item in self.skipped)),
            "inserted": len(self.inserted),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": self.kind,
            "row_unit": self.row_unit,
            "layer": self.layer,
            "header_row": self.header_row,
            "columns": self.columns,
            "dry_run": self.dry_run,
            "skip_invalid": self.skip_invalid,
            "written": self.written,
            "counts": self.counts(),
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "problems": [asdict(problem) for problem in self.problems],
            "skipped": [asdict(item) for item in self.skipped],
        }

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.as_dict(), indent=2) + "\n", encoding="utf-8")

    def summary_lines(self, limit: int = SUMMARY_PROBLEM_LIMIT) -> list[str]:
        """Counts first, then the first `limit` problems; the JSON report has them all."""
        c = self.counts()
        skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(c["skipped_by_reason"].items()))
        lines = [
            f"{self.file}: {c['rows_read']} {self.row_unit}s read, {c['valid']} valid, "
            f"{c['invalid']} invalid ({c['problems']} problems), {c['skipped']} skipped"
            + (f" ({skipped})" if skipped else "")
        ]
        if self.written:
            lines.append(
                f"{self.kind}: {c['inserted']} inserted, {c['updated']} updated, "
                f"{c['unchanged']} unchanged"
            )
        elif self.dry_run and not (self.rejected and not self.skip_invalid):
            lines.append(
                f"dry run, nothing written (would insert {c['inserted']}, update {c['updated']}, "
                f"leave {c['unchanged']} unchanged)"
            )
        elif self.rejected:
            lines.append(
                f"nothing written: {c['invalid']} {self.row_unit}s have problems "
                f"(--skip-invalid loads the {c['valid']} valid ones)"
            )
        lines.extend(
            problem.line(self.row_unit, self.record_label) for problem in self.problems[:limit]
        )
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more (see --report)")
        return lines


def _jsonable(value: Any) -> Any:
    """Values as read (cells may be dates, Decimals, floats): kept as text unless JSON-native."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value else None  # NaN from a spreadsheet is an empty cell
    return str(value)
