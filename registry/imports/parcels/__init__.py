"""Import parcels from legacy files: read → normalise → stage (COPY) → check (set-based SQL) →
upsert, all in one transaction, every import kept as a batch with its full problem report.

The city profile (`registry.city`) says what a parcel id is (its formats, their other spellings,
its placeholders), where the city lies, its departments (with aliases) and its districts.

Every finding is an error or a warning. An error refuses its row: by default one refused row
means nothing is written; `skip_invalid` loads the others. A warning does not: the record is
stored without the value (incomplete, when verification needs it) or, for a value the source
marked uncertain (`GSD?`), with a flag asking for a person's confirmation. `dry_run` writes
nothing but the batch record; `repair` applies ST_MakeValid and reports each repair with its
area change (without it an invalid shape's repair is still measured, and the row refused).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from registry.city.departments import DepartmentMatch
from registry.city.districts import district_numbers
from registry.city.ids import canonical_parcel_id
from registry.city.profile import city_profile
from registry.db import set_actor
from registry.db import unit_of_work
from registry.imports.batches import close_batch
from registry.imports.batches import open_batch
from registry.imports.batches import record_staged_problems
from registry.imports.batches import stored_problems
from registry.imports.parcels import checks
from registry.imports.parcels.join import AttributeExtract
from registry.imports.parcels.mapping import FieldMapping
from registry.imports.parcels.mapping import MappingError
from registry.imports.parcels.mapping import resolve_mapping
from registry.imports.parcels.normalise import CityRules
from registry.imports.parcels.normalise import normalise_batch
from registry.imports.parcels.source import SourceError
from registry.imports.parcels.source import describe
from registry.imports.parcels.source import read_batches
from registry.imports.parcels.staging import Staging
from registry.imports.pipeline import ImportOptions as _BaseOptions
from registry.imports.report import SUMMARY_PROBLEM_LIMIT
from registry.imports.report import ImportProblem
from registry.imports.report import ImportReport
from registry.parcels.shape_locks import lock_whole_city
from registry.settings import Settings

__all__ = ["ImportOptions", "ImportReport", "MappingError", "SourceError", "import_parcels"]


@dataclass(frozen=True)
class ImportOptions(_BaseOptions):
    srs: str | None = None
    repair: bool = False
    batch_size: int = 50_000
    join_path: Path | None = None  # a second table of attributes, joined by `join_on`
    join_on: str | None = None  # the key column of both, or SHAPES_COLUMN=TABLE_COLUMN


def _srid(srs: str | None, file_crs: str | None, path: Path) -> int:
    crs = srs or file_crs
    if not crs:
        raise SourceError(
            f"{path.name}: the file names no coordinate reference system; give one with --srs "
            "(e.g. --srs EPSG:2229 for California State Plane zone V in US feet)"
        )
    from pyproj import CRS

    try:
        epsg = CRS.from_user_input(crs).to_epsg(min_confidence=70)
    except Exception as error:
        raise SourceError(f"{path.name}: unknown CRS {crs!r}: {error}") from error
    if epsg is None:
        raise SourceError(f"{path.name}: the CRS {crs!r} has no EPSG code; give one with --srs")
    return int(epsg)


def _stage_file(
    session: Session,
    path: Path,
    options: ImportOptions,
    mapping: FieldMapping,
    rules: CityRules,
    extract: AttributeExtract | None,
    source_srid: int,
    report: ImportReport,
    settings: Settings,
) -> dict[str, DepartmentMatch]:
    """Stage every feature; what each department value of the file matched."""
    staging = Staging(session, source_srid, settings)
    with read_batches(path, options.layer, options.batch_size) as batches:
        for raw_batch in batches:
            batch = mapping.compose(extract.join(raw_batch) if extract else raw_batch)
            rows, problems, skipped = normalise_batch(batch, mapping, rules)
            staging.add(rows, problems)
            report.rows_read += len(batch)
            report.skipped.extend(skipped)
    staging.finish()
    return staging.departments


def import_parcels(
    factory: sessionmaker[Session],
    path: Path,
    options: ImportOptions,
    settings: Settings,
    actor: str,
) -> ImportReport:
    info = describe(path, options.layer)
    with unit_of_work(factory, actor) as session:
        profile = city_profile(session, settings)
        rules = CityRules(profile, district_numbers(session, settings))
        extract = (
            AttributeExtract.read(
                options.join_path,
                options.join_on,
                info.fields,
                key=lambda value: canonical_parcel_id(profile, value) or value,
            )
            if options.join_path
            else None
        )
        mapping = resolve_mapping(
            info.fields + (extract.fields if extract else []), options.mapping, options.defaults
        )
        source_srid = _srid(options.srs, info.crs, path) if info.has_geometry else 4326
        report = ImportReport(
            file=str(path),
            kind="parcels",
            record_label="parcel",
            layer=info.layer,
            columns=mapping.columns,
            dry_run=options.dry_run,
            skip_invalid=options.skip_invalid,
        )
        record = options.as_record(
            mapping.columns,
            srs=options.srs,
            repair=options.repair,
            join=options.join_path.name if options.join_path else None,
            join_on=options.join_on,
        )
        batch_id = open_batch(session, report, path.name, actor, record)
        set_actor(session, f"{actor} (import #{batch_id})")
        departments = _stage_file(
            session, path, options, mapping, rules, extract, source_srid, report, settings
        )
        checks.check_unmapped(session, mapping)
        if extract is not None:
            checks.check_unjoined(session, extract)
        checks.check_geometry(session, profile, options.repair, info.has_geometry, settings)
        checks.check_duplicates(session)
        checks.check_departments(session, departments)
        if info.has_geometry:
            if not options.dry_run:
                # from the overlap checks to the commit, no single edit's shape may slip in
                # (shape_locks); reading, staging and checking each shape alone took no lock
                lock_whole_city(session)
            checks.check_overlaps(session)
        checks.mark_rejected_rows(session)
        invalid, repaired, warnings, found = session.execute(
            text(
                "SELECT (SELECT count(*) FROM import_rows WHERE NOT ok), "
                "(SELECT count(*) FROM import_found WHERE severity = 'repaired'), "
                "(SELECT count(*) FROM import_found WHERE severity = 'warning'), "
                "(SELECT count(*) FROM import_found)"
            )
        ).one()
        report.invalid, report.repaired, report.warnings, report.problem_count = map(
            int, (invalid, repaired, warnings, found)
        )
        report.valid = report.rows_read - len(report.skipped) - report.invalid
        report.incomplete = checks.incomplete_rows(session)
        if report.may_write():
            from registry.imports.parcels.load import upsert_rows

            written = upsert_rows(session, mapping.targets, info.has_geometry)
            report.changes = {
                "inserted": written.inserted,
                "updated": written.updated,
                "unchanged": written.unchanged,
            }
        record_staged_problems(session, batch_id, mapping.columns)
        report.problems = _first_problems(session, batch_id)
        close_batch(session, report)
    return report


def _first_problems(session: Session, batch_id: int) -> list[ImportProblem]:
    """The problems the terminal shows: errors first (the refused rows), then the others, each
    in row order; the JSON report streams them all. (The stream is read to its end: a server
    cursor left open would outlive the import.)"""
    errors: list[ImportProblem] = []
    others: list[ImportProblem] = []
    for problem in stored_problems(session, batch_id):
        kept = errors if problem.severity == "error" else others
        if len(kept) < SUMMARY_PROBLEM_LIMIT:
            kept.append(problem)
    return (errors + others)[:SUMMARY_PROBLEM_LIMIT]
