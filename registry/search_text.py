"""Text searches typed by people: LIKE patterns that match what was typed, wildcards included."""

from __future__ import annotations

#: The longest search text kept; anything longer is cut (no field searched is longer).
MAX_SEARCH_LENGTH = 100


def escape_like(value: str) -> str:
    """`value` for a LIKE/ILIKE pattern with the default escape (backslash): `%`, `_` and `\\`
    match themselves, so "50%_off" finds that text, not every row."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains_pattern(value: str) -> str:
    """An ILIKE pattern finding `value` (trimmed, at most `MAX_SEARCH_LENGTH` characters)
    anywhere in a column."""
    return "%" + escape_like(value.strip()[:MAX_SEARCH_LENGTH]) + "%"
