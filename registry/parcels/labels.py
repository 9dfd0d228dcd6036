"""A parcel's fields in the words of its form: the one mapping the editor's panel, the history
and every message use, so that a person reads "Acquisition cost", never `acquisition_cost`.

The API keeps the field names in its `errors[].field` (scripts key on them); the `message` and
every page say the label.
"""

from __future__ import annotations

from collections.abc import Iterable

from registry.fields import FieldProblem

FIELD_LABELS: dict[str, str] = {
    "parcel_id": "Parcel id (APN)",
    "address": "Address",
    "department_code": "Owning department",
    "department_id": "Owning department",
    "department": "Owning department",
    "council_district": "Council district",
    "use": "Use",
    "asset_type": "Asset type",
    "legal_interest": "Legal interest",
    "status": "Status",
    "digitization_status": "Digitization",
    "acquisition_date": "Acquisition date",
    "acquisition_cost": "Acquisition cost",
    "disposition_date": "Disposition date",
    "disposition_proceeds": "Disposition proceeds",
    "overlap_accepted_reason": "Overlap reason",
    "geometry": "Shape",
    "geom": "Shape",
    "land_area_sq_ft": "Land area (sq ft)",
    "verified_by": "Verified by",
    "verified_at": "Verified at",
    "digitized_at": "Digitized at",
    "needs_confirmation": "Values to confirm",
    "retired_at": "Retired",
    "line": "Split line",
    "parcel_ids": "New parcel ids",
    "parcels": "Parcels merged",
    "keep": "Record kept",
}

# The editor's form, in its order: (field, input kind); labels from FIELD_LABELS.
FORM_FIELDS: tuple[tuple[str, str], ...] = (
    ("parcel_id", "text"),
    ("address", "text"),
    ("department_code", "select"),
    ("council_district", "number"),
    ("use", "text"),
    ("asset_type", "select"),
    ("legal_interest", "select"),
    ("status", "select"),
    ("digitization_status", "select"),
    ("acquisition_date", "date"),
    ("acquisition_cost", "text"),
    ("disposition_date", "date"),
    ("disposition_proceeds", "text"),
)


def field_label(name: str) -> str:
    """The form's word for a field; an unknown name reads as words ("some_field" → "Some field")."""
    return FIELD_LABELS.get(name) or name.replace("_", " ").capitalize()


def problem_sentence(problem: FieldProblem) -> str:
    return f"{field_label(problem.field)}: {problem.message}"


def problems_sentence(problems: Iterable[FieldProblem]) -> str:
    """Problems as one sentence for a page's message: "Address: is too long; Shape: …"."""
    return "; ".join(problem_sentence(problem) for problem in problems)
