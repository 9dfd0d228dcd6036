"""What an import found and did, for the terminal and for `--report OUT.json`: one report type
for parcels, leases, occupancy and costs.

A problem names the row or feature number as the user sees it in a spreadsheet or GIS, the
record's id, the field (an API field name, so it means the same in the API, the forms and here),
the source column when it differs, the message and the value as read. Skipped rows (blank,
section headings, totals) are counted apart from problems: they are not errors and must not hide
among them. Every problem is kept with the import's batch; the JSON report streams them all from
there, however many.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from functools import partialmethod
from pathlib import Path
from typing import Any

SUMMARY_PROBLEM_LIMIT = 20
CHANGES = ("inserted", "updated", "unchanged")


@dataclass(frozen=True)
class ImportProblem:
    row: int | None
    record_id: str | None
    field: str
    message: str
    value: Any = None
    column: str | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)  # {"suggestion": "Police"}
    severity: str = "error"  # or "repaired": a note, not a refusal

    def line(self, file: str, unit: str = "row", label: str = "record") -> str:
        """`FILE:row N lease L field F: message`, the form editors and `grep` both read."""
        where = f"{file}:{unit} {self.row}" if self.row is not None else file
        record = f"{label} {self.record_id or '(none)'}"
        severity = f" [{self.severity}]" if self.severity != "error" else ""
        column = f" [column {self.column!r}]" if self.column and self.column != self.field else ""
        return f"{where} {record} field {self.field}{severity}: {self.message}{column}"

    def as_json(self, file: str) -> dict[str, Any]:
        return {"file": file, **asdict(self)}


@dataclass(frozen=True)
class SkippedRow:
    row: int
    reason: str  # "blank", "heading", "total", "repeated header"
    text: str = ""


@dataclass
class ImportReport:
    """Everything one import run found and did; `outcome` says whether it wrote anything."""

    file: str
    kind: str  # "parcels", "leases", "occupancy", "costs"
    record_label: str = "record"  # "lease", "parcel": names the id in each problem line
    row_unit: str = "row"  # "row" for tables, "feature" for GIS layers
    header_row: int | None = None
    layer: str | None = None  # the sheet or layer read
    columns: dict[str, str] = field(default_factory=dict)  # target field → source column
    dry_run: bool = False
    skip_invalid: bool = False
    batch_id: int | None = None
    rows_read: int = 0
    valid: int = 0
    invalid: int = 0
    repaired: int = 0
    problem_count: int = 0
    warnings: int = 0  # problems that refuse nothing: a value missing, doubted or ruined
    incomplete: int = 0  # valid records stored without a field verification needs
    # every problem (leases, occupancy, costs), or the first shown (parcels: the rest are in
    # the batch, written by set-based SQL)
    problems: list[ImportProblem] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)
    changes: dict[str, int] = field(default_factory=dict)  # empty until known
    record_ids: dict[str, list[str]] = field(default_factory=dict)  # "inserted" → ids
    # row → its point (x, y) in `places_srid`, where the file gives one: the report's map
    places: dict[int, tuple[float, float]] = field(default_factory=dict, repr=False)
    places_srid: int | None = None
    _invalid_rows: set[int] = field(default_factory=set, repr=False)

    def add_problem(
        self,
        row: int | None,
        record_id: str | None,
        field_name: str,
        message: str,
        value: Any = None,
        column: str | None = None,
        details: dict[str, Any] | None = None,
        *,
        severity: str = "error",
    ) -> None:
        self.problems.append(
            ImportProblem(
                row,
                record_id,
                field_name,
                message,
                _jsonable(value),
                column,
                {key: _jsonable(item) for key, item in (details or {}).items()},
                severity,
            )
        )
        self.problem_count += 1
        if severity == "warning":
            self.warnings += 1
        elif row is not None and row not in self._invalid_rows:
            self._invalid_rows.add(row)
            self.invalid += 1

    # A problem that refuses nothing: the row stays valid and its record is stored (a value
    # missing, doubted or out of place).
    add_warning = partialmethod(add_problem, severity="warning")

    def skip(self, row: int, reason: str, text: str = "") -> None:
        self.skipped.append(SkippedRow(row, reason, text))

    def plan(self, change: str, record_id: str) -> None:
        """Count a valid record as `change` (inserted, updated, unchanged)."""
        self.changes[change] = self.changes.get(change, 0) + 1
        self.record_ids.setdefault(change, []).append(record_id)

    def may_write(self) -> bool:
        return not self.dry_run and (not self.invalid or self.skip_invalid)

    def discard_plan(self) -> None:
        """Nothing will be written: no record counts as inserted, updated or unchanged."""
        self.changes, self.record_ids = {}, {}

    @property
    def outcome(self) -> str:
        """dry_run; rejected (problems, nothing written); unchanged (nothing needed writing);
        imported, or imported_with_skips when invalid rows were left out."""
        if self.dry_run:
            return "dry_run"
        if self.invalid and (not self.skip_invalid or not self.valid):
            return "rejected"
        if not (self.changes.get("inserted") or self.changes.get("updated")):
            return "unchanged"
        return "imported_with_skips" if self.invalid else "imported"

    @property
    def rejected(self) -> bool:
        """True when problems stopped the import: nothing was written."""
        return self.outcome == "rejected"

    @property
    def exit_code(self) -> int:
        """1 when any row was refused, even when the good rows were loaded (a script notices)."""
        return 1 if self.invalid else 0

    def counts(self) -> dict[str, int]:
        return {
            "read": self.rows_read, "valid": self.valid, "invalid": self.invalid,
            "problems": self.problem_count, "warnings": self.warnings,
            "incomplete": self.incomplete, "repaired": self.repaired,
            "skipped": len(self.skipped), **{name: self.changes.get(name, 0) for name in CHANGES},
        }  # fmt: skip

    def summary_lines(self, limit: int = SUMMARY_PROBLEM_LIMIT) -> list[str]:
        """The batch and its outcome, the counts, then the first `limit` problems, errors
        before warnings (what refused a row must show); the JSON report has them all."""
        c = self.counts()
        by_reason = Counter(item.reason for item in self.skipped)
        skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(by_reason.items()))
        lines = [f"import #{self.batch_id} ({self.kind}): {self.outcome.replace('_', ' ')}"]
        lines.append(
            f"{self.file}: {c['read']} {self.row_unit}s read, {c['valid']} valid"
            + (f" ({c['incomplete']} incomplete)" if c["incomplete"] else "")
            + f", {c['invalid']} invalid ({c['problems']} problems"
            + (f", {c['warnings']} of them warnings" if c["warnings"] else "")
            + f"), {c['skipped']} skipped"
            + (f" ({skipped})" if skipped else "")
            + (f", {c['repaired']} repaired" if c["repaired"] else "")
        )
        if self.outcome in {"imported", "imported_with_skips", "unchanged"}:
            lines.append(
                f"{self.kind}: {c['inserted']} inserted, {c['updated']} updated, "
                f"{c['unchanged']} unchanged"
            )
        elif self.dry_run and (not self.invalid or self.skip_invalid):
            lines.append(
                "dry run, nothing written"
                + (
                    f" (would insert {c['inserted']}, update {c['updated']}, leave "
                    f"{c['unchanged']} unchanged)"
                    if self.changes
                    else ""
                )
            )
        else:
            hint = (
                f" (--skip-invalid loads the {c['valid']} valid ones)"
                if self.valid and not self.skip_invalid
                else ""
            )
            lines.append(f"nothing written: {c['invalid']} {self.row_unit}s have problems{hint}")
        errors_first = sorted(self.problems, key=lambda problem: problem.severity == "warning")
        lines.extend(
            problem.line(self.file, self.row_unit, self.record_label)
            for problem in errors_first[:limit]
        )
        if self.problem_count > limit:
            lines.append(f"... and {self.problem_count - limit:,} more (see --report)")
        return lines

    def write_json(self, path: str | Path, problems: Iterable[ImportProblem]) -> int:
        """The report with every problem of `problems` (the batch's, streamed: one problem a
        line, never all in memory); returns how many were written."""
        head: dict[str, Any] = {
            "batch_id": self.batch_id, "file": self.file, "kind": self.kind,
            "outcome": self.outcome, "row_unit": self.row_unit, "layer": self.layer,
            "header_row": self.header_row, "columns": self.columns, "dry_run": self.dry_run,
            "skip_invalid": self.skip_invalid, "written": self.outcome.startswith("imported"),
            "counts": {**self.counts(), "skipped_by_reason": dict(
                Counter(item.reason for item in self.skipped))},
            "records": self.record_ids, "skipped": [asdict(item) for item in self.skipped],
            "problem_count": self.problem_count,
        }  # fmt: skip
        written = 0
        with Path(path).open("w", encoding="utf-8") as out:
            out.write("{\n")
            for key, value in head.items():
                out.write(f"  {json.dumps(key)}: {json.dumps(value, default=str)},\n")
            out.write('  "problems": [')
            for problem in problems:
                out.write(
                    ("," if written else "")
                    + "\n    "
                    + json.dumps(problem.as_json(self.file), default=str)
                )
                written += 1
            out.write("\n  ]\n}\n")
        return written


def _jsonable(value: Any) -> Any:
    """Values as read (cells may be dates, Decimals, floats): kept as text unless JSON-native."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value else None  # NaN from a spreadsheet is an empty cell
    return str(value)
