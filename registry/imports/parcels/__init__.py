"""Import parcels from legacy files: read → normalise → stage (COPY) → check (set-based SQL) →
upsert, all in one transaction, every import kept as a batch with its full problem report.

By default one bad feature means nothing is written; `skip_invalid` loads the good ones;
`dry_run` writes nothing but the batch record; `repair` applies ST_MakeValid and reports each
repair with its area change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from registry.db import set_actor, unit_of_work
from registry.imports.batches import (
    close_batch,
    open_batch,
    record_staged_problems,
    stored_problems,
)
from registry.imports.parcels import checks
from registry.imports.parcels.join import AttributeExtract
from registry.imports.parcels.mapping import FieldMapping, MappingError, resolve_mapping
from registry.imports.parcels.normalise import normalise_batch
from registry.imports.parcels.source import SourceError, describe, read_batches
from registry.imports.parcels.staging import Staging
from registry.imports.pipeline import ImportOptions as _BaseOptions
from registry.imports.report import SUMMARY_PROBLEM_LIMIT, ImportReport
from registry.settings import Settings

__all__ = ["ImportOptions", "ImportReport", "MappingError", "SourceError", "import_parcels"]


@dataclass(frozen=True)
class ImportOptions(_BaseOptions):
    srs: str | None = None
    repair: bool = False
    batch_size: int = 50_000
    join_path: Path | None = None  # a second table of attributes, joined by `join_on`
    join_on: str | None = None


def _srid(srs: str | None, file_crs: str | None, path: Path) -> int:
    crs = srs or file_crs
    if not crs:
        raise SourceError(
            f"{path}: the file names no coordinate reference system; give one with --srs "
            "(e.g. --srs EPSG:2229 for California State Plane zone V in US feet)"
        )
    from pyproj import CRS

    try:
        epsg = CRS.from_user_input(crs).to_epsg(min_confidence=70)
    except Exception as error:
        raise SourceError(f"{path}: unknown CRS {crs!r}: {error}") from error
    if epsg is None:
        raise SourceError(f"{path}: the CRS {crs!r} has no EPSG code; give one with --srs")
    return int(epsg)


def _stage_file(session: Session, path: Path, options: ImportOptions, mapping: FieldMapping,
                settings: Settings, extract: AttributeExtract | None, source_srid: int,
                report: ImportReport) -> None:
    staging = Staging(session, source_srid)
    with read_batches(path, options.layer, options.batch_size) as batches:
        for raw_batch in batches:
            batch = mapping.compose(extract.join(raw_batch) if extract else raw_batch)
            rows, problems, skipped = normalise_batch(
                batch, mapping, settings.parcel_id_pattern, settings.council_districts
            )
            staging.add(rows, problems)
            report.rows_read += len(batch)
            report.skipped.extend(skipped)
    staging.finish()


def import_parcels(factory: sessionmaker[Session], path: Path, options: ImportOptions,
                   settings: Settings, actor: str) -> ImportReport:
    info = describe(path, options.layer)
    extract = (AttributeExtract.read(options.join_path, options.join_on, info.fields)
               if options.join_path else None)
    mapping = resolve_mapping(info.fields + (extract.fields if extract else []),
                              options.mapping, options.defaults)
    source_srid = _srid(options.srs, info.crs, path) if info.has_geometry else 4326
    report = ImportReport(file=str(path), kind="parcels", record_label="parcel",
                          layer=info.layer, columns=mapping.columns, dry_run=options.dry_run,
                          skip_invalid=options.skip_invalid)
    record = options.as_record(mapping.columns, srs=options.srs, repair=options.repair,
                               join=options.join_path.name if options.join_path else None,
                               join_on=options.join_on)
    with unit_of_work(factory, actor) as session:
        batch_id = open_batch(session, report, path.name, actor, record)
        set_actor(session, f"{actor} (import #{batch_id})")
        _stage_file(session, path, options, mapping, settings, extract, source_srid, report)
        checks.check_geometry(session, settings, options.repair, info.has_geometry)
        checks.check_duplicates(session)
        checks.check_departments(session)
        if info.has_geometry:
            checks.check_overlaps(session)
        checks.mark_rejected_rows(session)
        invalid, repaired, found = session.execute(text(
            "SELECT (SELECT count(*) FROM import_rows WHERE NOT ok), "
            "(SELECT count(*) FROM import_found WHERE severity = 'repaired'), "
            "(SELECT count(*) FROM import_found)"
        )).one()
        report.invalid, report.repaired, report.problem_count = map(int, (invalid, repaired,
                                                                          found))
        report.valid = report.rows_read - len(report.skipped) - report.invalid
        if report.may_write():
            from registry.imports.parcels.load import upsert_rows

            written = upsert_rows(session, mapping.targets, info.has_geometry)
            report.changes = {"inserted": written.inserted, "updated": written.updated,
                              "unchanged": written.unchanged}
        record_staged_problems(session, batch_id, mapping.columns)
        report.problems = list(stored_problems(session, batch_id, SUMMARY_PROBLEM_LIMIT))
        close_batch(session, report)
    return report
