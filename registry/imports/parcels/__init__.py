"""Import parcels from legacy files: read → normalise → stage (COPY) → check (set-based SQL) →
upsert, all in one transaction, every import kept as a batch with its full problem report.

By default one bad feature means nothing is written; `skip_invalid` loads the good ones;
`dry_run` writes nothing but the batch record; `repair` applies ST_MakeValid and reports each
repair with its area change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from registry.db import set_actor, unit_of_work
from registry.imports.parcels import checks
from registry.imports.parcels.join import AttributeExtract
from registry.imports.parcels.mapping import FieldMapping, MappingError, resolve_mapping
from registry.imports.parcels.normalise import normalise_batch
from registry.imports.parcels.source import SourceError, describe, read_batches
from registry.imports.parcels.staging import Staging
from registry.settings import Settings

__all__ = ["ImportOptions", "ImportResult", "MappingError", "SourceError", "import_parcels"]


@dataclass(frozen=True)
class ImportOptions:
    layer: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    srs: str | None = None
    dry_run: bool = False
    skip_invalid: bool = False
    repair: bool = False
    batch_size: int = 50_000
    join_path: Path | None = None  # a second table of attributes, joined by `join_on`
    join_on: str | None = None


@dataclass
class ImportResult:
    batch_id: int
    outcome: str
    counts: dict[str, int]
    problems: list[dict[str, Any]]  # every problem, in row order
    mapping: dict[str, str]

    @property
    def rejected(self) -> bool:
        return self.outcome == "rejected"


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
                settings: Settings, extract: AttributeExtract | None, source_srid: int) -> int:
    staging = Staging(session, source_srid)
    read = 0
    with read_batches(path, options.layer, options.batch_size) as batches:
        for raw_batch in batches:
            batch = extract.join(raw_batch) if extract else raw_batch
            rows, problems = normalise_batch(
                batch, mapping, settings.parcel_id_pattern, settings.council_districts
            )
            staging.add(rows, problems)
            read += len(batch)
    staging.finish()
    return read


# The result carries at most this many problems (memory stays bounded on a million bad rows);
# the batch's import_problems table keeps them all.
MAX_PROBLEMS_IN_RESULT = 10_000


def _problem_list(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(text(
        "SELECT row_number, record_id, field, severity, message, details FROM import_found "
        f"ORDER BY row_number NULLS FIRST, field, message LIMIT {MAX_PROBLEMS_IN_RESULT}"
    )).mappings()
    return [dict(row) for row in rows]


def import_parcels(factory: sessionmaker[Session], path: Path, options: ImportOptions,
                   settings: Settings, actor: str) -> ImportResult:
    info = describe(path, options.layer)
    extract = (AttributeExtract.read(options.join_path, options.join_on, info.fields)
               if options.join_path else None)
    mapping = resolve_mapping(info.fields + (extract.fields if extract else []), options.mapping)
    source_srid = _srid(options.srs, info.crs, path) if info.has_geometry else 4326
    with unit_of_work(factory, actor) as session:
        batch_id = session.execute(
            text("INSERT INTO import_batches (kind, source_name, options, actor, outcome, counts) "
                 "VALUES ('parcels', :name, CAST(:options AS jsonb), :actor, 'failed', '{}') "
                 "RETURNING id"),
            {"name": path.name, "actor": actor, "options": _options_json(options, mapping)},
        ).scalar_one()
        set_actor(session, f"{actor} (import #{batch_id})")
        read = _stage_file(session, path, options, mapping, settings, extract, source_srid)
        checks.check_geometry(session, settings, options.repair, info.has_geometry)
        checks.check_duplicates(session)
        checks.check_departments(session)
        if info.has_geometry:
            checks.check_overlaps(session)
        checks.mark_rejected_rows(session)
        problems = _problem_list(session)
        invalid, repaired, found = session.execute(text(
            "SELECT (SELECT count(*) FROM import_rows WHERE NOT ok), "
            "(SELECT count(*) FROM import_found WHERE severity = 'repaired'), "
            "(SELECT count(*) FROM import_found)"
        )).one()
        counts: dict[str, int] = {"read": read, "valid": read - int(invalid),
                                  "invalid": int(invalid), "repaired": int(repaired),
                                  "problems": int(found)}
        if options.dry_run:
            outcome = "dry_run"
        elif invalid and not options.skip_invalid:
            outcome = "rejected"
        else:
            from registry.imports.parcels.load import upsert_rows

            written = upsert_rows(session, set(mapping.columns), info.has_geometry)
            counts.update(inserted=written.inserted, updated=written.updated,
                          unchanged=written.unchanged, skipped=int(invalid))
            outcome = "imported_with_skips" if invalid else "imported"
        session.execute(text(
            "INSERT INTO import_problems (batch_id, row_number, record_id, field, severity, "
            "message, details) SELECT :batch, row_number, record_id, field, severity, message, "
            "details FROM import_found"
        ), {"batch": batch_id})
        session.execute(
            text("UPDATE import_batches SET outcome = :outcome, counts = CAST(:counts AS jsonb), "
                 "finished_at = clock_timestamp() WHERE id = :id"),
            {"outcome": outcome, "counts": _json(counts), "id": batch_id},
        )
    return ImportResult(batch_id, outcome, counts, problems, dict(mapping.columns))


def _json(value: Any) -> str:
    import json

    return json.dumps(value, default=str)


def _options_json(options: ImportOptions, mapping: FieldMapping) -> str:
    return _json({"layer": options.layer, "srs": options.srs, "dry_run": options.dry_run,
                  "skip_invalid": options.skip_invalid, "repair": options.repair,
                  "join": options.join_path.name if options.join_path else None,
                  "join_on": options.join_on,
                  "mapping": mapping.columns})
