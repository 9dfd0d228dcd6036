"""`asset-registry import leases FILE`: a lease list as cities keep it, into the registry.

Every row is read and validated (by `lease_records.clean_lease`, the same rules as the API)
before anything is written, and every problem is reported with its row, lease number and field.
By default one bad row rejects the file and nothing is written; `skip_invalid` loads the good
rows. All writes are one transaction whose audit actor is `import:<file name>`. Leases are
matched by lease number: a row identical to the stored lease is left alone (no new version, no
history), a changed one is updated, a new one created, so importing a file twice changes nothing.
Every run, dry runs and rejections too, is kept as an import batch with all its problems.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from registry.fields import FieldProblem, RecordInvalid
from registry.imports.cells import normalise_cell
from registry.imports.columns import ImportUsageError, MappingError, check_defaults
from registry.imports.lease_rows import LeaseRow, read_lease_row
from registry.imports.pipeline import ImportOptions, read_table, recorded_batch, table_report
from registry.imports.report import ImportReport
from registry.leases.records import clean_lease, create_lease, lease_as_dict, update_lease
from registry.settings import STORAGE_SRID


@dataclass(frozen=True)
class LeaseImportOptions(ImportOptions):
    id_field: str | None = None  # the lease number's column (as --map lease_number=COLUMN)
    srs: str | None = None  # CRS of the points when the file has none (or a wrong one)


def import_leases(
    factory: sessionmaker[Session], path: Path, options: LeaseImportOptions
) -> ImportReport:
    """Read, validate and (unless told otherwise) load `path`; the report says what happened."""
    mapping = dict(options.mapping)
    if options.id_field:
        mapping["lease_number"] = options.id_field
    defaults = _defaults(options.defaults)
    table, columns = read_table(path, "leases", mapping, options.layer)
    if "lease_number" not in columns:
        raise ImportUsageError(
            f"{path}: no lease number column among {', '.join(table.columns)}; "
            "name it with --id-field COLUMN (or --map lease_number=COLUMN)"
        )
    report = table_report(path, "leases", "lease", table, columns, options)
    read = (read_lease_row(row, columns, defaults, report) for row in table.rows)
    rows = [lease for lease in read if lease is not None]
    srid = _points_srid(rows, options.srs, table.crs, path)
    with recorded_batch(factory, report, path, options.as_record(
            report.columns, srs=options.srs)) as session:
        _locate_parcels(session, rows, srid)
        _flag_repeated_numbers(rows)
        plan = _validate(session, rows, report)
        if report.may_write():
            _write(session, plan)
        elif not report.dry_run:
            report.discard_plan()  # all or nothing
    return report


def _defaults(given: Mapping[str, str]) -> dict[str, Any]:
    """`--default FIELD=VALUE`, read like a cell of that field."""
    defaults: dict[str, Any] = {}
    for target, raw in check_defaults("leases", given).items():
        value, problem = normalise_cell("leases", target, raw)
        if problem:
            raise MappingError(f"--default {target}={raw}: {problem}")
        defaults[target] = value
    return defaults


def _points_srid(rows: list[LeaseRow], srs: str | None, crs: str | None, path: Path) -> int:
    """The EPSG code of the points: --srs, else the layer's CRS, else WGS 84 for lon/lat columns."""
    declared = srs or crs
    if declared is None:
        if any(row.point for row in rows) and path.suffix.lower() not in {".csv", ".txt", ".tsv",
                                                                         ".xlsx", ".xlsm"}:
            raise ImportUsageError(f"{path}: the layer has no CRS; give --srs EPSG:N")
        return 4326
    match = re.fullmatch(r"\s*EPSG:(\d+)\s*", declared, flags=re.IGNORECASE)
    if match is None:
        if not any(row.point for row in rows):
            return 4326
        raise ImportUsageError(f"{path}: CRS {declared!r} is not an EPSG code; give --srs")
    return int(match.group(1))


_LOCATE_SQL = text(
    """
    WITH points AS (
        SELECT r.row_number, ST_Transform(ST_SetSRID(ST_MakePoint(r.x, r.y), :srid), :storage) AS g
        FROM unnest(CAST(:rows AS int[]), CAST(:xs AS float8[]), CAST(:ys AS float8[]))
             AS r(row_number, x, y)
    )
    SELECT points.row_number, array_agg(p.parcel_id ORDER BY p.parcel_id) AS parcels
    FROM points JOIN parcels p ON p.retired_at IS NULL AND ST_Covers(p.geom, points.g)
    GROUP BY points.row_number
    """
)


def _locate_parcels(session: Session, rows: list[LeaseRow], srid: int) -> None:
    """The parcel containing each point of a row without a parcel id, in one query."""
    wanted = {row.number: (row, row.point) for row in rows
              if row.point is not None and "parcel_id" not in row.data}
    if not wanted:
        return
    numbers = list(wanted)
    result = session.execute(_LOCATE_SQL, {
        "rows": numbers, "xs": [wanted[n][1][0] for n in numbers],
        "ys": [wanted[n][1][1] for n in numbers], "srid": srid, "storage": STORAGE_SRID,
    })  # fmt: skip
    found: dict[int, list[str]] = {row[0]: list(row[1]) for row in result}
    for number, (row, (x, y)) in wanted.items():
        parcels = found.get(number, [])
        if len(parcels) == 1:
            row.data["parcel_id"] = parcels[0]
            row.derived_from["parcel_id"] = "point"
        elif parcels:
            row.problem("parcel_id", f"the point ({x}, {y}) lies in {len(parcels)} parcels "
                        f"({', '.join(parcels)}); give the parcel id")
        else:
            row.problem("parcel_id", f"the point ({x}, {y}) lies in no parcel of the registry")


def _flag_repeated_numbers(rows: list[LeaseRow]) -> None:
    """A lease number twice in one file is a problem on every such row: which one is right is
    for the user to say, not for the import to guess."""
    by_number: dict[str, list[LeaseRow]] = defaultdict(list)
    for row in rows:
        if row.lease_number:
            by_number[row.lease_number].append(row)
    for number, repeated in by_number.items():
        if len(repeated) > 1:
            where = ", ".join(str(row.number) for row in repeated)
            for row in repeated:
                row.problem("lease_number", f"{number} appears {len(repeated)} times in this "
                            f"file (rows {where})")


@dataclass
class _Plan:
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)


def _validate(session: Session, rows: list[LeaseRow], report: ImportReport) -> _Plan:
    """Every row through `clean_lease`; its problems and the import's own go to the report."""
    numbers = [row.lease_number for row in rows if row.lease_number]
    stored = set(
        session.scalars(
            text("SELECT lease_number FROM leases WHERE lease_number = ANY(:n)"), {"n": numbers}
        )
    )
    plan = _Plan()
    for row in rows:
        current = (
            lease_as_dict(session, row.lease_number)
            if row.lease_number and row.lease_number in stored else None
        )
        problems = _problems_of(session, row, current)
        for problem in problems:
            source = row.derived_from.get(_root(problem), _root(problem))
            report.add_problem(row.number, row.lease_number, problem.field, problem.message,
                               row.raw.get(source), report.columns.get(source),
                               problem.details)
        if problems:
            continue
        report.valid += 1
        if current is None:
            plan.inserts.append(row.data)
            report.plan("inserted", str(row.lease_number))
        elif _changes(session, row.data, current):
            plan.updates.append((str(row.lease_number), int(current["version"]), row.data))
            report.plan("updated", str(row.lease_number))
        else:
            report.plan("unchanged", str(row.lease_number))
    return plan


def _problems_of(
    session: Session, row: LeaseRow, current: Mapping[str, Any] | None
) -> list[FieldProblem]:
    """The import's own problems, then validation's on other fields (a field the import already
    faulted, or one derived from a faulted field, is reported once)."""
    problems = [FieldProblem(name, message) for name, message in row.problems]
    faulted = {_root(problem) for problem in problems}
    if faulted & {"rent", "monthly_rent", "quarterly_rent", "annual_rent", "payment_frequency"}:
        faulted.add("payments")
    try:
        clean_lease(session, row.data, current)
    except RecordInvalid as invalid:
        for problem in invalid.problems:
            if _root(problem) not in faulted and not _consequence(problem, row, invalid.problems):
                problems.append(problem)
    return problems


def _root(problem: FieldProblem) -> str:
    return re.split(r"[.\[]", problem.field, maxsplit=1)[0]


def _consequence(problem: FieldProblem, row: LeaseRow, all_problems: list[FieldProblem]) -> bool:
    """'payments is required' where the rent could not become payments because the term or the
    dates are wrong, or 'term_months is required' where the end date was given but the start
    is unreadable: the cause is already reported on the dates or the term."""
    roots = {_root(other) for other in all_problems}
    if _root(problem) == "term_months" and "end_date" in row.data:
        return "commencement_date" in roots  # the end date cannot be read without a start
    if _root(problem) != "payments" or "payments" not in row.derived_from:
        return False
    return bool(roots & {"commencement_date", "end_date", "term_months"})


def _changes(session: Session, data: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """Whether the row would change the stored lease: both cleaned the same way and compared,
    so "30000" against "30000.00" or 4/1/2021 against 2021-04-01 is no change."""
    try:
        before = clean_lease(session, {}, current)
    except RecordInvalid:
        return True
    return clean_lease(session, data, current) != before


def _write(session: Session, plan: _Plan) -> None:
    for data in plan.inserts:
        create_lease(session, data)
    for number, version, data in plan.updates:
        update_lease(session, number, version, data)
