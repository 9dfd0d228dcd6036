"""What the import pages know of each kind of file: the formats it may come in, the fields its
columns map to, how a report names its records, and how to read its columns and run its import
(the importers of `registry.imports`, with the options the command line gives them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TypedDict

from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from registry.errors import VersionConflict
from registry.fields import RecordInvalid
from registry.imports.cells import is_blank
from registry.imports.columns import ImportUsageError
from registry.imports.columns import header_score
from registry.imports.columns import resolve_columns
from registry.imports.leases import LeaseImportOptions
from registry.imports.leases import import_leases
from registry.imports.operations import import_operations
from registry.imports.parcels import ImportOptions as ParcelImportOptions
from registry.imports.parcels import SourceError
from registry.imports.parcels import import_parcels
from registry.imports.parcels.mapping import resolve_mapping
from registry.imports.parcels.source import describe
from registry.imports.parcels.source import layers
from registry.imports.pipeline import ImportOptions
from registry.imports.report import ImportReport
from registry.imports.sources import WORKBOOK_SUFFIXES
from registry.imports.sources import SourceTable
from registry.imports.sources import SourceUnreadable
from registry.imports.sources import read_source
from registry.imports.synonyms import NO_DEFAULT
from registry.imports.synonyms import TARGETS
from registry.settings import Settings

_GIS = (".gpkg", ".zip", ".geojson", ".json")
_LISTS = (".csv", ".xlsx", *_GIS)


@dataclass(frozen=True)
class Kind:
    name: str  # parcels, leases, occupancy, costs: the importer's kind
    title: str
    holds: str  # what such a file holds, for the upload page
    formats: str  # the formats it may come in, in words
    accepted: tuple[str, ...]  # file name endings
    id_label: str  # how the report names a record's id
    required: tuple[str, ...] = ()  # fields the import cannot do without

    @property
    def targets(self) -> tuple[str, ...]:
        return TARGETS[self.name]

    def may_default(self, target: str) -> bool:
        return target not in NO_DEFAULT[self.name]


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "parcels",
            "Parcels",
            "parcel shapes and their attributes",
            "GeoPackage, zipped Shapefile, GeoJSON, TopoJSON, CSV (a WKT column) or XLSX",
            (".gpkg", ".zip", ".geojson", ".json", ".topojson", ".csv", ".xlsx"),
            "Parcel id",
            ("parcel_id", "address", "department_code"),
        ),
        Kind(
            "leases",
            "Leases",
            "a lease list: one lease a row, upserted by lease number",
            "CSV, XLSX, or a point layer (GeoJSON, GeoPackage, zipped Shapefile)",
            _LISTS,
            "Lease number",
            ("lease_number",),
        ),
        Kind(
            "occupancy",
            "Occupancy",
            "occupancy records: building, department, period, headcount, usable sq ft",
            "CSV, XLSX, or a point layer (GeoJSON, GeoPackage, zipped Shapefile)",
            _LISTS,
            "Record",
            (
                "building_id",
                "department_code",
                "period_start",
                "headcount",
                "usable_sq_ft_occupied",
            ),
        ),
        Kind(
            "costs",
            "O&M costs",
            "operating and maintenance costs: parcel and/or building, fiscal "
            "year, category, amount",
            "CSV, XLSX, or a point layer (GeoJSON, GeoPackage, zipped Shapefile)",
            _LISTS,
            "Record",
            ("fiscal_year", "category", "amount"),
        ),
    )
}


class UnreadableUpload(ValueError):
    """The file cannot be read or imported as asked; the message says why, for the user."""


@dataclass(frozen=True)
class Columns:
    """A file's columns as the prepare page shows them, and the target each one resolves to."""

    names: list[str]
    resolved: dict[str, str]  # target → column (a template when composed)
    layers: list[str]
    layer: str | None
    rows: int | None
    crs: str | None
    header_row: int | None = None
    samples: dict[str, str] = field(default_factory=dict)  # column → its first value


@dataclass(frozen=True)
class Choices:
    """What the prepare form chose: the `--map`, `--default` and other options of the import."""

    layer: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)  # every target: column, or "" for none
    defaults: dict[str, str] = field(default_factory=dict)
    srs: str | None = None
    direction: str | None = None  # leases: in or out, for rows that do not say
    skip_invalid: bool = False
    repair: bool = False  # parcels: ST_MakeValid

    def as_dict(self) -> dict[str, object]:
        return {
            "layer": self.layer,
            "mapping": self.mapping,
            "defaults": self.defaults,
            "srs": self.srs,
            "direction": self.direction,
            "skip_invalid": self.skip_invalid,
            "repair": self.repair,
        }

    @classmethod
    def from_dict(cls, saved: Mapping[str, object]) -> Choices:
        def text(name: str) -> str | None:
            value = saved.get(name)
            return str(value) if value else None

        def pairs(name: str) -> dict[str, str]:
            value = saved.get(name)
            return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

        return cls(
            text("layer"),
            pairs("mapping"),
            pairs("defaults"),
            text("srs"),
            text("direction"),
            bool(saved.get("skip_invalid")),
            bool(saved.get("repair")),
        )


def read_columns(kind: Kind, path: Path, layer: str | None, mapping: Mapping[str, str]) -> Columns:
    """The file's columns (a table's header row is found as the importer finds it) and what
    the one resolver makes of them, `mapping` first."""
    try:
        if kind.name == "parcels":
            info = describe(path, layer)
            resolved = resolve_mapping(info.fields, mapping).columns
            return Columns(info.fields, resolved, layers(path), layer, info.feature_count, info.crs)
        table = _read_table(kind, path, layer, mapping)
        resolved = {
            target: source.label
            for target, source in resolve_columns(kind.name, table.columns, mapping).items()
        }
    except (SourceError, SourceUnreadable, ImportUsageError) as error:
        raise UnreadableUpload(str(error)) from error
    return Columns(
        table.columns,
        resolved,
        _layers(path),
        table.layer,
        len(table.rows),
        table.crs,
        table.header_row,
        _samples(table),
    )


def _samples(table: SourceTable, rows: int = 20) -> dict[str, str]:
    """Each column's first value among the first rows, to help tell the columns apart."""
    samples: dict[str, str] = {}
    for row in table.rows[:rows]:
        for name, value in row.cells.items():
            if name not in samples and not is_blank(value):
                text = " ".join(str(value).split())
                samples[name] = text if len(text) <= 30 else text[:29] + "…"
    return samples


def _read_table(
    kind: Kind, path: Path, layer: str | None, mapping: Mapping[str, str]
) -> SourceTable:
    try:
        return read_source(path, lambda cells: header_score(kind.name, cells, mapping), layer)
    except SourceUnreadable as error:
        if "no header row" not in str(error):
            raise
        # no row names enough known columns: show the widest of the first rows, to map by hand
        return read_source(path, len, layer)


def _layers(path: Path) -> list[str]:
    """The sheets of a workbook or the layers of a GIS file, when there may be several."""
    suffix = path.suffix.lower()
    if suffix in WORKBOOK_SUFFIXES:
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True)
        try:
            return list(workbook.sheetnames)
        finally:
            workbook.close()
    return layers(path) if suffix in (".gpkg", ".zip", ".geojson", ".json") else []


class _CommonOptions(TypedDict):
    layer: str | None
    mapping: Mapping[str, str]
    defaults: Mapping[str, str]
    dry_run: bool
    skip_invalid: bool


def _common_options(choices: Choices, defaults: dict[str, str], dry_run: bool) -> _CommonOptions:
    """The options every importer takes, from the form's choices."""
    return _CommonOptions(
        layer=choices.layer,
        mapping=choices.mapping,
        defaults=defaults,
        dry_run=dry_run,
        skip_invalid=choices.skip_invalid,
    )


def run_import(
    kind: Kind,
    factory: sessionmaker[Session],
    path: Path,
    choices: Choices,
    dry_run: bool,
    settings: Settings,
    actor: str,
) -> ImportReport:
    """The kind's importer with the form's choices, as `asset-registry import KIND` runs it."""
    defaults = {target: value for target, value in choices.defaults.items() if value.strip()}
    try:
        if kind.name == "parcels":
            return import_parcels(
                factory,
                path,
                ParcelImportOptions(
                    **_common_options(choices, defaults, dry_run),
                    srs=choices.srs,
                    repair=choices.repair,
                ),
                settings,
                actor,
            )
        if kind.name == "leases":
            if choices.direction:
                if defaults.get("direction", choices.direction) != choices.direction:
                    raise UnreadableUpload("The direction and the default of direction disagree.")
                defaults["direction"] = choices.direction
            return import_leases(
                factory,
                path,
                LeaseImportOptions(
                    **_common_options(choices, defaults, dry_run),
                    srs=choices.srs,
                    actor=actor,
                ),
            )
        return import_operations(
            factory,
            path,
            kind.name,
            ImportOptions(**_common_options(choices, defaults, dry_run), actor=actor),
        )
    except (SourceError, ImportUsageError) as error:
        raise UnreadableUpload(str(error)) from error
    except (RecordInvalid, VersionConflict) as error:  # someone else wrote meanwhile
        raise UnreadableUpload(f"Nothing was written: {error}. Try again.") from error
