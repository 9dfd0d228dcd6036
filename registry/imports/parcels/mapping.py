"""Which column of the file feeds which parcel field (`columns.resolve_columns` with the parcel
synonyms: APN, SITE_ADDR, DEPT…), composed columns, and the `--default` values of blank cells,
as the set-based engine uses them."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace

import pyarrow as pa

from registry.imports.columns import ColumnSource
from registry.imports.columns import MappingError
from registry.imports.columns import check_defaults
from registry.imports.columns import resolve_columns
from registry.imports.parcels.source import FeatureBatch
from registry.imports.synonyms import PARCEL_FIELDS

TARGET_FIELDS = PARCEL_FIELDS
#: The field that names a record: a row without it cannot be stored.
KEY_FIELD = "parcel_id"
#: Fields verification needs that a parcel file is expected to give. A record without one is
#: stored incomplete (a warning); a file with no column for one is told so once.
EXPECTED_FIELDS = ("address", "department_code")

__all__ = [
    "EXPECTED_FIELDS",
    "KEY_FIELD",
    "TARGET_FIELDS",
    "FieldMapping",
    "MappingError",
    "resolve_mapping",
]


@dataclass(frozen=True)
class FieldMapping:
    sources: dict[str, ColumnSource]  # target field -> its column, or a composition
    defaults: dict[str, str] = field(default_factory=dict)  # target field -> value for blanks

    @property
    def columns(self) -> dict[str, str]:
        """target field -> the batch column read for it (a composed one is added by
        `compose`, under its template)."""
        return {target: source.label for target, source in self.sources.items()}

    @property
    def targets(self) -> set[str]:
        """The fields an import writes: those read from the file or given a default."""
        return set(self.sources) | set(self.defaults)

    def source_of(self, target: str) -> str | None:
        return self.columns.get(target)

    def compose(self, batch: FeatureBatch) -> FeatureBatch:
        """The batch with a column for each composed target, built as the lease import builds
        one from a row."""
        composed = [source for source in self.sources.values() if source.composed]
        if not composed:
            return batch
        columns = dict(batch.columns)
        for source in composed:
            values = [batch.columns[name].to_pylist() for name in source.columns]
            columns[source.label] = pa.array(
                [
                    source.value(dict(zip(source.columns, row, strict=True)))
                    for row in zip(*values, strict=True)
                ],
                type=pa.string(),
            )
        return replace(batch, columns=columns)


def resolve_mapping(
    source_fields: Iterable[str],
    explicit: Mapping[str, str],
    defaults: Mapping[str, str] | None = None,
) -> FieldMapping:
    """`--map` first, then the field's own name, then the names legacy files commonly use."""
    sources = resolve_columns("parcels", list(source_fields), explicit)
    given = {
        target: value.strip()
        for target, value in check_defaults("parcels", defaults or {}).items()
        if value.strip()
    }
    return FieldMapping(sources, given)
