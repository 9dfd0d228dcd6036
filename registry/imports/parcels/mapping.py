"""Which column of the file feeds which parcel field: `--map` first, then the field's own name,
then the names legacy files commonly use (APN, SITE_ADDR, DEPT…)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

TARGET_FIELDS = (
    "parcel_id", "address", "council_district", "use", "asset_type", "legal_interest", "status",
    "department_code", "acquisition_date", "acquisition_cost", "disposition_date",
    "disposition_proceeds", "digitization_status",
)  # fmt: skip
REQUIRED_FIELDS = ("parcel_id", "address", "department_code")

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "parcel_id": ("apn", "ain", "parcel", "parcel_no", "parcel_number", "parcelid", "pin"),
    "address": ("site_address", "site_addr", "situs", "situs_address", "street_address", "addr"),
    "council_district": ("cd", "district", "council_dist", "council"),
    "use": ("current_use", "land_use", "use_description", "usage"),
    "asset_type": ("type", "asset_class", "category"),
    "legal_interest": ("interest", "ownership", "owned_leased"),
    "status": ("parcel_status", "use_status"),
    "department_code": ("department", "dept", "dept_code", "agency", "owner_dept",
                        "owning_department", "jurisdiction"),
    "acquisition_date": ("acquired", "acq_date", "date_acquired"),
    "acquisition_cost": ("acq_cost", "cost", "purchase_price"),
    "disposition_date": ("disposed", "disp_date", "date_disposed"),
    "disposition_proceeds": ("sale_price", "proceeds", "disp_proceeds"),
    "digitization_status": ("digitization",),
}


class MappingError(ValueError):
    pass


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "_", name.strip().lower()).strip("_")


@dataclass(frozen=True)
class FieldMapping:
    columns: dict[str, str]  # target field -> source column

    def source_of(self, target: str) -> str | None:
        return self.columns.get(target)


def parse_map_options(pairs: Iterable[str]) -> dict[str, str]:
    """`TARGET=SOURCE` pairs from the command line."""
    explicit: dict[str, str] = {}
    for pair in pairs:
        target, sep, source = pair.partition("=")
        if not sep or not target.strip() or not source.strip():
            raise MappingError(f"--map {pair!r}: write TARGET=SOURCE, e.g. parcel_id=APN")
        if target.strip() not in TARGET_FIELDS:
            raise MappingError(
                f"--map {pair!r}: {target.strip()!r} is not a parcel field "
                f"({', '.join(TARGET_FIELDS)})"
            )
        explicit[target.strip()] = source.strip()
    return explicit


def resolve_mapping(source_fields: Iterable[str], explicit: Mapping[str, str]) -> FieldMapping:
    fields = list(source_fields)
    by_key = {_key(name): name for name in fields}
    columns: dict[str, str] = {}
    for target, source in explicit.items():
        if source not in fields:
            raise MappingError(f"--map {target}={source}: the file has no column {source!r} "
                               f"(it has: {', '.join(fields)})")
        columns[target] = source
    used = set(columns.values())
    for target in TARGET_FIELDS:
        if target in columns:
            continue
        for candidate in (target, *_SYNONYMS.get(target, ())):
            found = by_key.get(_key(candidate))
            if found is not None and found not in used:
                columns[target] = found
                used.add(found)
                break
    return FieldMapping(columns)
