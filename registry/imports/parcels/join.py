"""Attribute extracts that come apart from the shapes (an assessor table, a spreadsheet), joined
to each batch of features by a shared id column. The extract is read once; its ids stay text.

The two files may spell the column differently (`MAP_LOT` in the shapes, `Map-Lot` in the
table): `--on` names it once (matched as headers are: case, spaces and punctuation aside) or
as SHAPES_COLUMN=TABLE_COLUMN. Ids are compared in the city's canonical spelling, so an AIN
`5056011903` finds the APN `5056-011-903`. The table's rows that no feature asked for are kept,
for the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from registry.imports.columns import MappingError
from registry.imports.columns import find_column
from registry.imports.parcels.source import FeatureBatch
from registry.imports.parcels.source import SourceError
from registry.imports.parcels.source import describe
from registry.imports.parcels.source import read_batches


def _columns(
    on: str, shape_fields: list[str], table_fields: list[str], table: Path
) -> tuple[str, str]:
    shapes_name, equals, table_name = on.partition("=")
    if not equals:
        table_name = shapes_name
    return (
        _join_column(on, shapes_name, shape_fields, "the shapes have", "they have"),
        _join_column(on, table_name, table_fields, f"{table.name}:", "it has"),
    )


def _join_column(on: str, name: str, fields: list[str], missing: str, has: str) -> str:
    try:
        return find_column(name.strip(), fields, f"--on {on}")
    except MappingError as error:
        raise SourceError(
            f"{missing} no column {name.strip()!r} to join on ({has}: {', '.join(fields)})"
        ) from error


@dataclass(frozen=True)
class AttributeExtract:
    on: str  # the shapes' key column
    fields: list[str]  # the extract's columns other than the key (prefixed if they clash)
    rows: dict[str, dict[str, Any]]
    file: str = ""
    row_numbers: dict[str, int] = field(default_factory=dict)  # key → its row in the table
    key: Callable[[str], str] = str
    joined: set[str] = field(default_factory=set)  # the keys a feature asked for

    @classmethod
    def read(
        cls, path: Path, on: str | None, shape_fields: list[str], key: Callable[[str], str] = str
    ) -> AttributeExtract:
        """`key` turns an id as written into the one compared (the canonical spelling)."""
        if not on:
            raise SourceError("--join needs --on FIELD: the id column both files share")
        info = describe(path)
        shapes_column, table_column = _columns(on, shape_fields, info.fields, path)
        names = {
            name: (f"join_{name}" if name in shape_fields else name)
            for name in info.fields
            if name != table_column
        }
        rows: dict[str, dict[str, Any]] = {}
        numbers: dict[str, int] = {}
        with read_batches(path) as batches:
            for batch in batches:
                values = {name: batch.columns[name].to_pylist() for name in names}
                for index, cell in enumerate(batch.columns[table_column].to_pylist()):
                    if cell is not None and str(cell).strip():
                        found = key(str(cell).strip())
                        rows[found] = {names[name]: values[name][index] for name in names}
                        numbers.setdefault(found, batch.first_row + index)
        return cls(shapes_column, list(names.values()), rows, path.name, numbers, key)

    def join(self, batch: FeatureBatch) -> FeatureBatch:
        keys = [
            None if cell is None or not str(cell).strip() else self.key(str(cell).strip())
            for cell in batch.columns[self.on].to_pylist()
        ]
        matches = [self.rows.get(key) if key else None for key in keys]
        self.joined.update(
            key for key, match in zip(keys, matches, strict=True) if key and match is not None
        )
        columns = dict(batch.columns)
        for name in self.fields:
            columns[name] = pa.array(
                [match.get(name) if match else None for match in matches], type=pa.string()
            )
        return replace(batch, columns=columns)

    def unjoined(self) -> list[tuple[int, str]]:
        """(row in the table, id) of the table's rows that no feature asked for."""
        return sorted((self.row_numbers[key], key) for key in self.rows if key not in self.joined)
