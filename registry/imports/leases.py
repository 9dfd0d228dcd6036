"""`asset-registry import leases FILE`: a lease list as cities keep it, into the registry.

Every row is read and validated (by `lease_records.clean_lease`, the same rules as the API, the
lease recorded *as found*) before anything is written, and every finding is reported with its
row, lease number and field. A finding is an error or a warning:

- An error refuses the row: a date that is not one where the term needs it to be (an end before
  the start), a department that matches nothing (with "did you mean", never applied: an alias or
  `--map` decides), a repeated lease number, a point in several parcels. By default one refused
  row means nothing is written; `skip_invalid` loads the others.
- A warning does not: a blank term or free text where a date goes ("Lease in process", kept
  verbatim in the lease's `source_notes`) leaves the lease incomplete; no payment terms leave it
  recorded but not measured; a department the source doubted (`GSD?`) is read and flagged for
  confirmation; a point outside the city's extent (a geocoding error) is not kept (its
  coordinates go to `source_notes`); a point inside the city that lies in no parcel is kept, the
  lease not linked to a parcel.

All writes are one transaction whose audit actor is `import:<file name>`. Leases are matched by
lease number: a row identical to the stored lease is left alone (no new version, no history), a
changed one is updated, a new one created, so importing a file twice changes nothing. Every run,
dry runs and rejections too, is kept as an import batch with all its findings.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from registry.city.profile import city_profile
from registry.fields import FieldProblem
from registry.fields import RecordInvalid
from registry.imports.cells import normalise_cell
from registry.imports.columns import ImportUsageError
from registry.imports.columns import MappingError
from registry.imports.columns import check_defaults
from registry.imports.lease_rows import RENT_BASIS
from registry.imports.lease_rows import LeaseRow
from registry.imports.lease_rows import read_lease_row
from registry.imports.pipeline import ImportOptions
from registry.imports.pipeline import read_table
from registry.imports.pipeline import recorded_batch
from registry.imports.pipeline import table_report
from registry.imports.report import ImportReport
from registry.leases.incomplete import missing_text
from registry.leases.records import clean_lease
from registry.leases.records import create_lease
from registry.leases.records import lease_as_dict
from registry.leases.records import update_lease
from registry.settings import STORAGE_SRID
from registry.settings import Settings

#: Missing payment terms are one warning: "not measured: no payment terms".
PAYMENT_TERMS = ("payments", "payment_frequency", "payment_timing", "discount_rate")


@dataclass(frozen=True)
class LeaseImportOptions(ImportOptions):
    id_field: str | None = None  # the lease number's column (as --map lease_number=COLUMN)
    srs: str | None = None  # CRS of the points when the file has none (or a wrong one)


def import_leases(
    factory: sessionmaker[Session],
    path: Path,
    options: LeaseImportOptions,
    settings: Settings | None = None,
) -> ImportReport:
    """Read, validate and (unless told otherwise) load `path`; the report says what happened.
    `settings`: the environment's (default), whose overrides of the city profile apply."""
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
    with recorded_batch(
        factory, report, path, options.as_record(report.columns, srs=options.srs)
    ) as session:
        _place(session, rows, srid, city_profile(session, settings or Settings.from_env()).extent)
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
        if any(row.point for row in rows) and path.suffix.lower() not in {
            ".csv",
            ".txt",
            ".tsv",
            ".xlsx",
            ".xlsm",
        }:
            raise ImportUsageError(f"{path}: the layer has no CRS; give --srs EPSG:N")
        return 4326
    match = re.fullmatch(r"\s*EPSG:(\d+)\s*", declared, flags=re.IGNORECASE)
    if match is None:
        if not any(row.point for row in rows):
            return 4326
        raise ImportUsageError(f"{path}: CRS {declared!r} is not an EPSG code; give --srs")
    return int(match.group(1))


_PLACE_SQL = text(
    """
    WITH points AS (
        SELECT r.row_number, ST_Transform(ST_SetSRID(ST_MakePoint(r.x, r.y), :srid), 4326) AS g
        FROM unnest(CAST(:rows AS int[]), CAST(:xs AS float8[]), CAST(:ys AS float8[]))
             AS r(row_number, x, y)
    )
    SELECT points.row_number, ST_X(points.g) AS lon, ST_Y(points.g) AS lat,
           ST_Intersects(points.g, ST_MakeEnvelope(:west, :south, :east, :north, 4326)) AS inside,
           array_remove(array_agg(p.parcel_id ORDER BY p.parcel_id), NULL) AS parcels
    FROM points LEFT JOIN parcels p
      ON p.retired_at IS NULL AND ST_Contains(p.geom, ST_Transform(points.g, :storage))
    GROUP BY points.row_number, points.g
    """
)


def _place(
    session: Session, rows: list[LeaseRow], srid: int, extent: tuple[float, float, float, float]
) -> None:
    """Each row's point, in one query: outside the city's extent (a geocoding error: not kept,
    its coordinates noted), in one parcel (the lease's parcel when the row names none), in
    several (an error), or in none (kept, the lease not linked)."""
    wanted = {row.number: (row, row.point) for row in rows if row.point is not None}
    if not wanted:
        return
    numbers = list(wanted)
    west, south, east, north = extent
    result = session.execute(_PLACE_SQL, {
        "rows": numbers, "xs": [wanted[n][1][0] for n in numbers],
        "ys": [wanted[n][1][1] for n in numbers], "srid": srid, "storage": STORAGE_SRID,
        "west": west, "south": south, "east": east, "north": north,
    })  # fmt: skip
    for number, lon, lat, inside, parcels in result:
        row, (x, y) = wanted[number]
        where = f"({x}, {y})" + ("" if srid == 4326 else f" in EPSG:{srid}")
        if not inside:
            row.notes["location"] = f"POINT ({x} {y})" + ("" if srid == 4326 else f" EPSG:{srid}")
            row.warning(
                "location",
                f"the point {where} lies outside the city (a geocoding "
                "error?): not kept, its coordinates noted on the lease",
            )
            continue
        row.data["location"] = {"type": "Point", "coordinates": [lon, lat]}
        if "parcel_id" in row.data or "building_id" in row.data:
            continue
        if len(parcels) == 1:
            row.data["parcel_id"] = parcels[0]
            row.derived_from["parcel_id"] = "point"
        elif parcels:
            row.problem(
                "parcel_id",
                f"the point {where} lies in {len(parcels)} parcels "
                f"({', '.join(parcels)}); give the parcel id",
            )
        else:
            row.warning(
                "parcel_id",
                f"the point {where} lies in no parcel of the registry: "
                "the lease keeps its point, not linked to a parcel",
            )


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
                row.problem(
                    "lease_number",
                    f"{number} appears {len(repeated)} times in this file (rows {where})",
                )


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
            if row.lease_number and row.lease_number in stored
            else None
        )
        if row.notes:  # the source's text joins the notes already kept
            row.data["source_notes"] = {**((current or {}).get("source_notes") or {}), **row.notes}
        problems, cleaned = _problems_of(session, row, current)
        for problem in problems:
            source = row.derived_from.get(_root(problem), _root(problem))
            report.add_problem(
                row.number,
                row.lease_number,
                problem.field,
                problem.message,
                row.raw.get(source),
                report.columns.get(source),
                problem.details,
            )
        if problems or cleaned is None:
            continue
        report.valid += 1
        _warn(session, report, row, cleaned)
        if current is None:
            plan.inserts.append(row.data)
            report.plan("inserted", str(row.lease_number))
        elif _changes(session, row.data, current):
            plan.updates.append((str(row.lease_number), int(current["version"]), row.data))
            report.plan("updated", str(row.lease_number))
        else:
            report.plan("unchanged", str(row.lease_number))
    return plan


def _warn(
    session: Session, report: ImportReport, row: LeaseRow, cleaned: Mapping[str, Any]
) -> None:
    """The warnings of a valid row: what the lease lacks (it is recorded incomplete), the text
    the source wrote instead of a date, what the source doubted, and where its point lies."""
    missing = list(cleaned["missing"])
    if missing:
        report.incomplete += 1
    measured = "" if cleaned["measured"] else ", not measured"
    for name in missing:
        if name in PAYMENT_TERMS:
            continue
        note, column = row.notes.get(name), report.columns.get(name)
        message = (
            f"{note!r} is not a date: kept as written (source_notes); the lease is "
            f"recorded incomplete{measured}"
            if note
            else f"is missing: the lease is recorded incomplete{measured}"
        )
        report.add_warning(row.number, row.lease_number, name, message, note, column)
    for name, note in row.notes.items():
        if name not in missing and name not in ("location", "payments"):
            report.add_warning(
                row.number,
                row.lease_number,
                name,
                f"{note!r} is not a date: kept as written (source_notes), the field left as it was",
                note,
                report.columns.get(name),
            )
    payment_terms = [name for name in missing if name in PAYMENT_TERMS]
    if payment_terms:
        rent = row.derived_from.get("payments") or next(
            (target for target in RENT_BASIS if target in row.raw), None
        )
        if "payments" in row.notes:
            why = f"the rent is {row.notes['payments']!r}, not an amount (kept as written)"
        elif "payments" in payment_terms and rent is not None:
            why = "the rent cannot become payment steps without the lease's dates"
        else:
            why = "no payment terms"
        report.add_warning(
            row.number,
            row.lease_number,
            "payments" if "payments" in payment_terms else payment_terms[0],
            f"not measured: {why} ({missing_text(payment_terms)} missing); the lease is "
            "recorded and left out of GASB 87 schedules, exports and KPIs until they are given",
            row.raw.get(rent) if rent else None,
            report.columns.get(rent) if rent else None,
            {"missing": payment_terms},
        )
    doubted = row.data.get("department_code")
    if "department_code" in cleaned["needs_confirmation"] and str(doubted).rstrip().endswith("?"):
        code = session.execute(
            text("SELECT code FROM departments WHERE id = :id"), {"id": cleaned["department_id"]}
        ).scalar()
        report.add_warning(
            row.number,
            row.lease_number,
            "department_code",
            f"{doubted!r} is marked uncertain in the source: read as {code}, to be confirmed",
            row.raw.get("department_code"),
            report.columns.get("department_code"),
        )
    for name, message in row.warnings:
        report.add_warning(row.number, row.lease_number, name, message)


def _problems_of(
    session: Session, row: LeaseRow, current: Mapping[str, Any] | None
) -> tuple[list[FieldProblem], dict[str, Any] | None]:
    """The import's own problems, then validation's on other fields (a field the import already
    faulted, or one derived from a faulted field, is reported once); the cleaned lease when
    validation passed."""
    problems = [FieldProblem(name, message) for name, message in row.problems]
    faulted = {_root(problem) for problem in problems}
    if faulted & {"rent", "monthly_rent", "quarterly_rent", "annual_rent", "payment_frequency"}:
        faulted.add("payments")
    try:
        cleaned = clean_lease(session, row.data, current, as_found=True)
    except RecordInvalid as invalid:
        for problem in invalid.problems:
            if _root(problem) not in faulted and not _consequence(problem, row, invalid.problems):
                problems.append(problem)
        return problems, None
    return problems, cleaned


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
        before = clean_lease(session, {}, current, as_found=True)
    except RecordInvalid:
        return True
    return clean_lease(session, data, current, as_found=True) != before


def _write(session: Session, plan: _Plan) -> None:
    for data in plan.inserts:
        create_lease(session, data, as_found=True)
    for number, version, data in plan.updates:
        update_lease(session, number, version, data, as_found=True)
