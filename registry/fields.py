"""Problems with input fields, shared by all validation: parcels, leases, imports.

Each problem names its field so a form can show it next to the input, an API can list it in a
problem document, and an import report can point at the row and column.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message, **self.details}


class RecordInvalid(ValueError):
    """A record failed validation; `problems` lists every problem, not just the first."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems
