"""`asset-registry import occupancy|costs FILE`: facilities and finance sheets into the registry.

The lease import's contract, for occupancy and O&M cost records: every row is read and validated
(by `operations_validation`, the same rules as the API) before anything is written, and every
problem is reported with its row, record and field. By default one bad row rejects the file and
nothing is written; `skip_invalid` loads the good rows. All writes are one transaction whose
audit actor is `import:<file name>`. Records are matched by their natural key (occupancy:
building, department, period start; costs: parcel, building, fiscal year, category): a row equal
to the stored record is left alone (no new version), a changed one updated, a new one created,
so importing a file twice changes nothing. Blank cells keep the stored value. Every run, dry
runs and rejections too, is kept as an import batch with all its problems.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from registry.city.departments import find_department
from registry.fields import FieldProblem
from registry.fields import RecordInvalid
from registry.imports.cells import normalise_cell
from registry.imports.columns import ImportUsageError
from registry.imports.columns import check_defaults
from registry.imports.operation_rows import OperationsRow
from registry.imports.operation_rows import read_row
from registry.imports.pipeline import ImportOptions
from registry.imports.pipeline import read_table
from registry.imports.pipeline import recorded_batch
from registry.imports.pipeline import table_report
from registry.imports.report import ImportReport
from registry.operations import records as records
from registry.operations.validation import clean_cost
from registry.operations.validation import clean_occupancy

KINDS = ("occupancy", "costs")
_REQUIRED_COLUMNS = {
    "occupancy": ("building_id", "department_code", "period_start", "headcount",
                  "usable_sq_ft_occupied"),
    "costs": ("fiscal_year", "category", "amount"),
}  # fmt: skip
_REPEAT_FIELD = {"occupancy": "period_start", "costs": "category"}


@dataclass(frozen=True)
class _Kind:
    label: str
    clean: Callable[[Session, Any, Mapping[str, Any] | None], dict[str, Any]]
    as_dict: Callable[[Session, int], dict[str, Any]]
    create: Callable[[Session, Any], int]
    update: Callable[[Session, int, int, Any], int]
    key: tuple[str, ...]  # column names of the natural key


_KINDS = {
    "occupancy": _Kind(
        "occupancy",
        clean_occupancy,
        records.occupancy_as_dict,
        records.create_occupancy,
        records.update_occupancy,
        ("building_id", "department_id", "period_start"),
    ),
    "costs": _Kind(
        "cost",
        clean_cost,
        records.cost_as_dict,
        records.create_cost,
        records.update_cost,
        ("parcel_id", "building_id", "fiscal_year", "category"),
    ),
}


@dataclass
class _Planned:
    row: OperationsRow
    key: tuple[Any, ...]
    current: dict[str, Any] | None  # the stored record the row matches
    changed: bool


def import_operations(
    factory: sessionmaker[Session], path: Path, kind: str, options: ImportOptions
) -> ImportReport:
    """Read, validate and (unless told otherwise) load `path`; the report says what happened."""
    defaults = {
        target: normalise_cell(kind, target, value)[0]
        for target, value in check_defaults(kind, options.defaults).items()
    }
    table, columns = read_table(path, kind, options.mapping, options.layer)
    given = set(columns) | set(defaults)
    missing = [name for name in _REQUIRED_COLUMNS[kind] if name not in given]
    if kind == "costs" and not {"parcel_id", "building_id"} & given:
        missing.insert(0, "parcel_id")
    if missing:
        raise ImportUsageError(
            f"{path}: no column for {', '.join(missing)} among {', '.join(table.columns)}; "
            f"name it with --map {missing[0]}=COLUMN"
        )
    report = table_report(path, kind, _KINDS[kind].label, table, columns, options)
    read = (read_row(kind, row, columns, defaults, report) for row in table.rows)
    rows = [row for row in read if row is not None]
    with recorded_batch(factory, report, path, options.as_record(report.columns)) as session:
        plan = _validate(session, _KINDS[kind], kind, rows, report)
        if report.may_write():
            _write(session, _KINDS[kind], plan)
        elif not report.dry_run:
            report.discard_plan()  # all or nothing
    return report


def _validate(
    session: Session, spec: _Kind, kind: str, rows: list[OperationsRow], report: ImportReport
) -> list[_Planned]:
    """Every row through the record's validation, matched to the stored record by its key;
    a key given twice in the file is a problem on every such row (which is right is for the
    user to say)."""
    checked: list[_Planned] = []
    for row in rows:
        current = _stored(session, spec, kind, row.data)
        try:
            values = spec.clean(session, row.data, current)
        except RecordInvalid as invalid:
            _report(report, row, invalid.problems)
            continue
        changed = current is None or values != spec.clean(session, {}, current)
        checked.append(_Planned(row, tuple(values[name] for name in spec.key), current, changed))
    by_key: dict[tuple[Any, ...], list[_Planned]] = defaultdict(list)
    for planned in checked:
        by_key[planned.key].append(planned)
    plan: list[_Planned] = []
    for planned in checked:
        repeated = by_key[planned.key]
        if len(repeated) > 1:
            where = ", ".join(str(other.row.number) for other in repeated)
            _report(
                report,
                planned.row,
                [
                    FieldProblem(
                        _REPEAT_FIELD[kind],
                        f"the same {spec.label} record appears {len(repeated)} "
                        f"times in this file (rows {where})",
                    )
                ],
            )
            continue
        report.valid += 1
        report.plan(
            "inserted"
            if planned.current is None
            else ("updated" if planned.changed else "unchanged"),
            planned.row.label,
        )
        plan.append(planned)
    return plan


def _report(report: ImportReport, row: OperationsRow, problems: list[FieldProblem]) -> None:
    for problem in problems:
        report.add_problem(
            row.number,
            row.label,
            problem.field,
            problem.message,
            row.raw.get(problem.field),
            report.columns.get(problem.field),
            problem.details,
        )


def _stored(
    session: Session, spec: _Kind, kind: str, data: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The stored record with the row's natural key, if the key can be read at all."""
    if kind == "occupancy":
        record_id = _stored_occupancy(session, data)
    else:
        record_id = _stored_cost(session, data)
    return spec.as_dict(session, record_id) if record_id is not None else None


def _stored_occupancy(session: Session, data: Mapping[str, Any]) -> int | None:
    building, department, start = (
        data.get(name) for name in ("building_id", "department_code", "period_start")
    )
    if not all(isinstance(value, str) for value in (building, department, start)):
        return None
    department_id, _ = find_department(session, str(department))
    try:
        start_date = dt.date.fromisoformat(str(start))
    except ValueError:
        return None
    return session.execute(
        text(
            "SELECT o.id FROM occupancy o JOIN buildings b ON b.id = o.building_id "
            "WHERE b.building_id = :b AND o.department_id = :d AND o.period_start = :s"
        ),
        {"b": building, "d": department_id, "s": start_date},
    ).scalar()


def _stored_cost(session: Session, data: Mapping[str, Any]) -> int | None:
    year, category = data.get("fiscal_year"), data.get("category")
    if not isinstance(year, int) or not isinstance(category, str):
        return None
    return session.execute(
        text(
            "SELECT c.id FROM om_costs c LEFT JOIN buildings b ON b.id = c.building_id "
            "JOIN parcels p ON p.id = coalesce(c.parcel_id, b.parcel_id) "
            "WHERE (CAST(:p AS text) IS NULL OR p.parcel_id = :p) "
            "AND b.building_id IS NOT DISTINCT FROM CAST(:b AS text) "
            "AND c.fiscal_year = :fy AND c.category = :c ORDER BY c.id LIMIT 1"
        ),
        {"p": data.get("parcel_id"), "b": data.get("building_id"), "fy": year, "c": category},
    ).scalar()


def _write(session: Session, spec: _Kind, plan: list[_Planned]) -> None:
    for planned in plan:
        if planned.current is None:
            spec.create(session, planned.row.data)
        elif planned.changed:
            spec.update(
                session,
                int(planned.current["id"]),
                int(planned.current["version"]),
                planned.row.data,
            )
