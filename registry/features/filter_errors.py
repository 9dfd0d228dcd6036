"""The one error a filter raises, in the words of the person who wrote the filter."""

from __future__ import annotations


class FilterError(ValueError):
    """What is wrong with a filter and, for CQL2 text, at which character (1-based)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.message, self.position = message, position
        where = f" (at character {position})" if position else ""
        super().__init__(f"{message}{where}")
