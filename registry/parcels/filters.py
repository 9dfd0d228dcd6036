"""The one parcel filter: what the parcel table, its exports, its bulk edit and the map's tiles
select, parsed from the same query parameters everywhere, so a table's URL and a map's URL that
carry the same filter show the same parcels.

Query parameters (all optional, all bounded; unknown values are refused with a message in the
user's words, never silently ignored, so a mistyped filter cannot look like "everything"):

- `q`: a parcel-id prefix or part of an address (as the map's search)
- `department`: a department code (any case)
- `district`: a council district number (1-99)
- `status`, `use`, `asset_type`: exact (`use` any case)
- `digitization`: paper / digitized / attributed / verified
- `verified`: yes / no (the parcel's record was verified by a second person)
- `area_min`, `area_max`: land area in square metres (m²), inclusive
- `ids`: a selection, comma-separated parcel ids (at most `MAX_IDS`)

Anonymous visitors may filter by public fields only (CONTRACT: id, address, department, use,
status); `PUBLIC_PARAMETERS` names them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import fields
from typing import Any

from registry.fields import whole_number
from registry.search_text import escape_like
from registry.vocabulary import ASSET_TYPES
from registry.vocabulary import DIGITIZATION_STATUSES
from registry.vocabulary import PARCEL_STATUSES

MAX_IDS = 500
MAX_TEXT = 100
SQ_FT_PER_SQ_M = 10.763910416709722  # 1 m² = 10.7639… ft² (the column is in square feet)
MAX_AREA_SQ_M = 1e9
PARAMETERS = (
    "q",
    "department",
    "district",
    "status",
    "use",
    "asset_type",
    "digitization",
    "verified",
    "area_min",
    "area_max",
    "ids",
)
PUBLIC_PARAMETERS = frozenset({"q", "department", "status", "use", "ids"})
_LABELS = {
    "q": "Search",
    "department": "Department",
    "district": "Council district",
    "status": "Status",
    "use": "Use",
    "asset_type": "Asset type",
    "digitization": "Digitization",
    "verified": "Verified",
    "area_min": "Area from (m²)",
    "area_max": "Area to (m²)",
    "ids": "Selection",
}


class FilterInvalid(ValueError):
    """A filter parameter the registry cannot read; the message names it in the form's words."""


@dataclass(frozen=True)
class ParcelFilter:
    q: str | None = None
    department: str | None = None
    district: int | None = None
    status: str | None = None
    use: str | None = None
    asset_type: str | None = None
    digitization: str | None = None
    verified: bool | None = None
    area_min: float | None = None
    area_max: float | None = None
    ids: tuple[str, ...] = ()

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ParcelFilter:
        """The filter of a query string (Flask's `request.args` or any str mapping)."""
        raw = {name: str(args.get(name) or "").strip() for name in PARAMETERS}
        for name, value in raw.items():
            limit = MAX_IDS * 33 if name == "ids" else MAX_TEXT
            if len(value) > limit:
                raise FilterInvalid(f"{_LABELS[name]} is too long (at most {limit} characters).")
        return cls(
            q=raw["q"] or None,
            department=raw["department"] or None,
            district=_district(raw["district"]),
            status=_choice("status", raw["status"], PARCEL_STATUSES),
            use=raw["use"] or None,
            asset_type=_choice("asset_type", raw["asset_type"], ASSET_TYPES),
            digitization=_choice("digitization", raw["digitization"], DIGITIZATION_STATUSES),
            verified=_yes_no(raw["verified"]),
            area_min=_area("area_min", raw["area_min"]),
            area_max=_area("area_max", raw["area_max"]),
            ids=_ids(raw["ids"]),
        )

    def as_args(self) -> dict[str, str]:
        """The filter as query parameters (only those set), for links that keep it."""
        args: dict[str, str] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None or value == ():
                continue
            if field.name == "ids":
                args["ids"] = ",".join(value)
            elif field.name == "verified":
                args["verified"] = "yes" if value else "no"
            elif isinstance(value, float):
                args[field.name] = f"{value:g}"
            else:
                args[field.name] = str(value)
        return args

    @property
    def is_empty(self) -> bool:
        return not self.as_args()

    def is_public(self) -> bool:
        """Whether it filters by public fields only (what an anonymous visitor may use)."""
        return set(self.as_args()) <= PUBLIC_PARAMETERS

    def where(self, include_retired: bool = False) -> tuple[str, dict[str, Any]]:
        """The SQL condition over `parcels p LEFT JOIN departments d` and its bound parameters
        (SQLAlchemy `:name` style; values are never spliced into the text)."""
        conditions: list[str] = [] if include_retired else ["p.retired_at IS NULL"]
        params: dict[str, Any] = {}
        if self.q:
            conditions.append("(p.parcel_id ILIKE :f_q_prefix OR p.address ILIKE :f_q_anywhere)")
            params["f_q_prefix"] = escape_like(self.q) + "%"
            params["f_q_anywhere"] = "%" + escape_like(self.q) + "%"
        if self.department:
            conditions.append("lower(d.code) = lower(:f_department)")
            params["f_department"] = self.department
        if self.district is not None:
            conditions.append("p.council_district = :f_district")
            params["f_district"] = self.district
        if self.status:
            conditions.append("p.status = :f_status")
            params["f_status"] = self.status
        if self.use:
            conditions.append("lower(p.use) = lower(:f_use)")
            params["f_use"] = self.use
        if self.asset_type:
            conditions.append("p.asset_type = :f_asset_type")
            params["f_asset_type"] = self.asset_type
        if self.digitization:
            conditions.append("p.digitization_status = :f_digitization")
            params["f_digitization"] = self.digitization
        if self.verified is not None:
            verified = "p.digitization_status = 'verified'"
            conditions.append(verified if self.verified else f"NOT ({verified})")
        if self.area_min is not None:
            conditions.append("p.land_area_sq_ft >= :f_area_min")
            params["f_area_min"] = self.area_min * SQ_FT_PER_SQ_M
        if self.area_max is not None:
            conditions.append("p.land_area_sq_ft <= :f_area_max")
            params["f_area_max"] = self.area_max * SQ_FT_PER_SQ_M
        if self.ids:
            conditions.append("p.parcel_id = ANY(:f_ids)")
            params["f_ids"] = list(self.ids)
        return " AND ".join(conditions) or "true", params


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str | None:
    if not value:
        return None
    if value not in allowed:
        words = ", ".join(choice.replace("_", " ") for choice in allowed)
        raise FilterInvalid(f"{_LABELS[name]} must be one of: {words}.")
    return value


def _district(value: str) -> int | None:
    if not value:
        return None
    number = whole_number(value)
    if number is None or not 1 <= number <= 99:
        raise FilterInvalid("Council district must be a whole number from 1 to 99.")
    return number


def _yes_no(value: str) -> bool | None:
    if not value:
        return None
    if value.lower() in ("yes", "true", "1"):
        return True
    if value.lower() in ("no", "false", "0"):
        return False
    raise FilterInvalid("Verified must be yes or no.")


def _area(name: str, value: str) -> float | None:
    if not value:
        return None
    try:
        number = float(value.replace(",", ""))
    except ValueError:
        number = -1.0
    if not 0 <= number <= MAX_AREA_SQ_M:  # also refuses NaN
        raise FilterInvalid(f"{_LABELS[name]} must be a number of square metres, 0 or more.")
    return number


def _ids(value: str) -> tuple[str, ...]:
    ids = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    if len(ids) > MAX_IDS:
        raise FilterInvalid(f"A selection holds at most {MAX_IDS} parcels; {len(ids)} were given.")
    if any(len(parcel_id) > 32 for parcel_id in ids):
        raise FilterInvalid("A parcel id in the selection is longer than 32 characters.")
    return ids
