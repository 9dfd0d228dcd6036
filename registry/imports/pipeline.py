"""The steps every import shares: its options, reading a table's rows and columns, the report,
and the transaction that records the run as a batch.

The lease, occupancy and cost imports read rows (CSV, XLSX, a GIS layer of points) and check
them record by record; the parcel engine streams features and checks them set-based (see
`registry.imports.parcels`). Both resolve columns with `columns.resolve_columns`, read cells with
`cells`, skip the rows `rows.skip_reason` names, report with `ImportReport` and keep the run as a
batch with `batches`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from registry.db import set_actor
from registry.db import unit_of_work
from registry.imports.batches import close_batch
from registry.imports.batches import open_batch
from registry.imports.batches import record_problems
from registry.imports.cells import normalise_cell
from registry.imports.columns import ColumnSource
from registry.imports.columns import ImportUsageError
from registry.imports.columns import MappingError
from registry.imports.columns import header_score
from registry.imports.columns import resolve_columns
from registry.imports.report import ImportReport
from registry.imports.sources import SourceRow
from registry.imports.sources import SourceTable
from registry.imports.sources import SourceUnreadable
from registry.imports.sources import read_source

ACTOR_PREFIX = "import:"


@dataclass(frozen=True)
class ImportOptions:
    """What every importer is told: which sheet or layer, `--map`, `--default`, and whether to
    write."""

    layer: str | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)  # target → column or template
    defaults: Mapping[str, str] = field(default_factory=dict)  # target → value for blanks
    dry_run: bool = False
    skip_invalid: bool = False
    actor: str | None = None  # who runs it (the web: the signed-in user); else import:<file>

    def as_record(self, columns: Mapping[str, str], **extra: Any) -> dict[str, Any]:
        """The options as the batch keeps them, with the columns the import read."""
        record = {
            "layer": self.layer,
            "dry_run": self.dry_run,
            "skip_invalid": self.skip_invalid,
            "mapping": dict(columns),
            "defaults": dict(self.defaults),
            **extra,
        }
        return record | ({"actor": self.actor} if self.actor else {})


def read_table(
    path: Path, kind: str, mapping: Mapping[str, str], layer: str | None
) -> tuple[SourceTable, dict[str, ColumnSource]]:
    """The file's rows below the header row it finds, and the column of each target."""
    try:
        table = read_source(path, lambda cells: header_score(kind, cells, mapping), layer)
        return table, resolve_columns(kind, table.columns, mapping)
    except (SourceUnreadable, MappingError) as error:
        raise ImportUsageError(str(error)) from error


def table_report(
    path: Path,
    kind: str,
    label: str,
    table: SourceTable,
    columns: Mapping[str, ColumnSource],
    options: ImportOptions,
) -> ImportReport:
    report = ImportReport(
        file=str(path), kind=kind, record_label=label, row_unit=table.row_unit,
        dry_run=options.dry_run, skip_invalid=options.skip_invalid, header_row=table.header_row,
        layer=table.layer, columns={target: source.label for target, source in columns.items()},
    )  # fmt: skip
    report.rows_read = len(table.rows) + len(table.repeated_header_rows)
    for number in table.repeated_header_rows:
        report.skip(number, "repeated header")
    report.places_srid = _places_srid(getattr(options, "srs", None) or table.crs, table)
    if report.places_srid is not None:
        report.places = _places(kind, table, columns)
    return report


def _places_srid(declared: str | None, table: SourceTable) -> int | None:
    """The EPSG code of the rows' points for the report's map: the declared CRS (`--srs` or
    the layer's), else WGS 84 for a table's longitude/latitude; None when it is not an EPSG
    code (the import itself says what it makes of the points)."""
    if declared is None:
        return 4326 if table.row_unit == "row" else None
    match = re.fullmatch(r"\s*EPSG:(\d+)\s*", declared, flags=re.IGNORECASE)
    return int(match.group(1)) if match else None


def _places(
    kind: str, table: SourceTable, columns: Mapping[str, ColumnSource]
) -> dict[int, tuple[float, float]]:
    """row → its point: the feature's, or its longitude and latitude cells."""
    places: dict[int, tuple[float, float]] = {}
    for row in table.rows:
        point = row.point or _coordinates(kind, row, columns)
        if point is not None:
            places[row.number] = point
    return places


def _coordinates(
    kind: str, row: SourceRow, columns: Mapping[str, ColumnSource]
) -> tuple[float, float] | None:
    if "longitude" not in columns or "latitude" not in columns:
        return None
    read = [
        normalise_cell(kind, target, columns[target].value(row.cells))
        for target in ("longitude", "latitude")
    ]
    try:
        x, y = (float(value) for value, problem in read if value is not None and not problem)
    except (TypeError, ValueError):  # a coordinate blank or unreadable
        return None
    return x, y


@contextmanager
def recorded_batch(
    factory: sessionmaker[Session], report: ImportReport, path: Path, options: Mapping[str, Any]
) -> Iterator[Session]:
    """One transaction, kept as a batch with every problem the report holds when the block
    ends; an error leaves neither data nor batch. Audited as `import:<file name>`, or, when
    the options name an `actor` (a user of the web pages), as `ACTOR (import #N)`."""
    actor = str(options.get("actor") or ACTOR_PREFIX + path.name)
    with unit_of_work(factory, actor) as session:
        batch_id = open_batch(session, report, path.name, actor, options)
        if options.get("actor"):
            set_actor(session, f"{actor} (import #{batch_id})")
        yield session
        report.skipped.sort(key=lambda item: item.row)
        record_problems(session, batch_id, report.problems)
        close_batch(session, report)
