"""Attribute extracts that come apart from the shapes (an assessor table, a spreadsheet), joined
to each batch of features by a shared id column. The extract is read once; its ids stay text."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa

from registry.imports.parcels.source import FeatureBatch, SourceError, describe, read_batches


@dataclass(frozen=True)
class AttributeExtract:
    on: str
    fields: list[str]  # the extract's columns other than the key (prefixed if they clash)
    rows: dict[str, dict[str, Any]]

    @classmethod
    def read(cls, path: Path, on: str | None, shape_fields: list[str]) -> AttributeExtract:
        if not on:
            raise SourceError("--join needs --on FIELD: the id column both files share")
        info = describe(path)
        if on not in info.fields:
            raise SourceError(f"{path}: no column {on!r} to join on (it has: "
                              f"{', '.join(info.fields)})")
        if on not in shape_fields:
            raise SourceError(f"the shapes have no column {on!r} to join on")
        names = {name: (f"join_{name}" if name in shape_fields else name)
                 for name in info.fields if name != on}
        rows: dict[str, dict[str, Any]] = {}
        with read_batches(path) as batches:
            for batch in batches:
                values = {name: batch.columns[name].to_pylist() for name in names}
                for index, key in enumerate(batch.columns[on].to_pylist()):
                    if key is not None:
                        rows[str(key).strip()] = {
                            names[name]: values[name][index] for name in names
                        }
        return cls(on, list(names.values()), rows)

    def join(self, batch: FeatureBatch) -> FeatureBatch:
        keys = [None if key is None else str(key).strip()
                for key in batch.columns[self.on].to_pylist()]
        matches = [self.rows.get(key) if key else None for key in keys]
        columns = dict(batch.columns)
        for name in self.fields:
            columns[name] = pa.array([match.get(name) if match else None for match in matches],
                                     type=pa.string())
        return replace(batch, columns=columns)
