"""Which column of a file feeds which target field: the one resolver of every importer.

`--map` first: `--map TARGET=SOURCE` names a column, `--map TARGET='{COL_A} {COL_B}'` composes
the target from several (braces name columns, other text is kept; a blank column's surrounding
spaces collapse), `--map TARGET=` ignores a column the headers would match. Then the headers:
the target's own name or the names real files give it (`synonyms.HEADER_SYNONYMS`), compared
case-, space- and punctuation-insensitively, also as a Shapefile's DBF cuts them to ten
characters ("Lease_Star" for "Lease Start"). Where several columns match one target, the
better-ranked name wins (the field's own name, then its synonyms in order), then the leftmost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from registry.imports.cells import cell_text
from registry.imports.cells import is_blank
from registry.imports.synonyms import HEADER_SYNONYMS
from registry.imports.synonyms import NO_DEFAULT
from registry.imports.synonyms import TARGETS
from registry.imports.synonyms import dbf_key
from registry.imports.synonyms import header_key

_BRACES = re.compile(r"\{([^{}]*)\}")
_CUT_NAME_RANK = 1000  # a DBF-shortened name ranks after every full name


class ImportUsageError(ValueError):
    """The import cannot run as asked (file, format, layer, --map, --default): exit 2."""


class MappingError(ImportUsageError):
    """A `--map`, `--id-field` or `--default` that cannot apply to this file."""


@dataclass(frozen=True)
class ColumnSource:
    """Where a target's value comes from: one column, or several composed by a template."""

    label: str  # the column's name, or the template as given (for reports)
    parts: tuple[tuple[str, bool], ...]  # (column name, True) or (literal text, False)

    @classmethod
    def column(cls, name: str) -> ColumnSource:
        return cls(name, ((name, True),))

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(text for text, is_column in self.parts if is_column)

    @property
    def composed(self) -> bool:
        return self.parts != ((self.label, True),)

    def value(self, cells: Mapping[str, Any]) -> Any:
        """The target's cell: the column's value as read, or the composed text (None if blank)."""
        if not self.composed:
            return cells.get(self.label)
        pieces = [
            ("" if is_blank(cells.get(text)) else cell_text(cells.get(text))) if is_column else text
            for text, is_column in self.parts
        ]
        return " ".join("".join(pieces).split()) or None


def template_columns(source: str) -> list[str]:
    """The column names a `--map` source names: those in braces, or the source itself."""
    return _BRACES.findall(source) if "{" in source else [source]


def find_column(name: str, headers: Sequence[str], option: str) -> str:
    """The header `name` means: as written, then matched like headers (also DBF-shortened)."""
    if name in headers:
        return name
    for match in (
        lambda h: header_key(h) == header_key(name),
        lambda h: header_key(h) == dbf_key(name),
    ):
        found = next((header for header in headers if match(header)), None)
        if found is not None:
            return found
    raise MappingError(
        f"{option}: the file has no column {name!r}; its columns: {', '.join(headers)}"
    )


def column_source(source: str, headers: Sequence[str], option: str) -> ColumnSource:
    """A `--map` SOURCE read against the file's headers: a column, or a template of them."""
    if "{" not in source:
        return ColumnSource.column(find_column(source.strip(), headers, option))
    parts: list[tuple[str, bool]] = []
    position = 0
    for match in _BRACES.finditer(source):
        if match.start() > position:
            parts.append((source[position : match.start()], False))
        parts.append((find_column(match.group(1).strip(), headers, option), True))
        position = match.end()
    if source[position:]:
        parts.append((source[position:], False))
    if any("{" in text or "}" in text for text, is_column in parts if not is_column):
        raise MappingError(f"{option}: unmatched brace; write TARGET='{{COLUMN}} {{COLUMN}}'")
    return ColumnSource(source, tuple(parts))


@cache
def _names(kind: str) -> dict[str, tuple[str, int]]:
    """header key → (target, rank): full names first, then their DBF-shortened forms."""
    index: dict[str, tuple[str, int]] = {}
    for key_of, offset in ((header_key, 0), (dbf_key, _CUT_NAME_RANK)):
        for target in TARGETS[kind]:
            names = (target, *HEADER_SYNONYMS[kind].get(target, ()))
            for rank, name in enumerate(names):
                if key := key_of(name):
                    index.setdefault(key, (target, offset + rank))
    return index


def _check_target(kind: str, target: str, option: str) -> None:
    if target not in TARGETS[kind]:
        raise MappingError(
            f"{option}: unknown target {target!r}; targets: {', '.join(TARGETS[kind])}"
        )


def resolve_columns(
    kind: str, headers: Sequence[str], mapping: Mapping[str, str]
) -> dict[str, ColumnSource]:
    """target → where its cells come from, for a file of `kind` with these headers."""
    resolved: dict[str, ColumnSource] = {}
    for target, source in mapping.items():
        option = f"--map {target}={source}"
        _check_target(kind, target, option)
        if source.strip():
            resolved[target] = column_source(source, headers, option)
    used = {column for source in resolved.values() for column in source.columns}
    best: dict[str, tuple[int, int, str]] = {}  # target → (rank, position, header)
    names = _names(kind)
    for position, header in enumerate(headers):
        target, rank = names.get(header_key(header), ("", 0))
        if not target or target in mapping or header in used:
            continue
        if target not in best or (rank, position) < best[target][:2]:
            best[target] = (rank, position, header)
    resolved.update(
        {
            target: ColumnSource.column(header)
            for target, (_, _, header) in sorted(best.items(), key=lambda item: item[1][1])
        }
    )
    return resolved


def header_score(kind: str, cells: Iterable[str], mapping: Mapping[str, str]) -> int:
    """How many cells of a candidate header row name a column (to find the header row)."""
    known = set(_names(kind)) | {
        header_key(column) for source in mapping.values() for column in template_columns(source)
    }
    known.discard("")
    return sum(1 for cell in cells if header_key(cell) in known)


def check_defaults(kind: str, defaults: Mapping[str, str]) -> dict[str, str]:
    """`--default FIELD=VALUE`s that may apply to a file of `kind`."""
    for target, value in defaults.items():
        option = f"--default {target}={value}"
        _check_target(kind, target, option)
        if target in NO_DEFAULT[kind]:
            raise MappingError(f"{option}: {target!r} cannot have a default")
    return dict(defaults)
