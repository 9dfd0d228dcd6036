"""`clean_occupancy` and `clean_cost`: one occupancy or O&M cost record checked at once.

Shared by the API, the parcel page and the imports, so a bad row reads the same wherever it was
typed. Every problem is named by its API field; an unknown building, parcel or department comes
with the nearest existing one (`details["suggestion"]`), never matched silently. The records
speak the public ids (parcel id, building id, department code); the tables store internal keys.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry import fields as f
from registry.city.departments import find_department
from registry.fields import FieldProblem
from registry.fields import RecordInvalid
from registry.vocabulary import COST_CATEGORIES

OCCUPANCY_FIELDS: tuple[str, ...] = (
    "building_id", "department_code", "period_start", "period_end", "headcount",
    "usable_sq_ft_occupied",
)  # fmt: skip
COST_FIELDS: tuple[str, ...] = (
    "parcel_id", "building_id", "fiscal_year", "category", "amount", "note",
)  # fmt: skip
#: Sent back unchanged from a GET: kept by the registry, ignored on input.
READ_ONLY_FIELDS = frozenset({
    "id", "version", "created_at", "updated_at", "parcel_id", "department", "building_name",
    "building_usable_sq_ft",
})  # fmt: skip
FIRST_FISCAL_YEAR = 1950  # older costs are not kept in any city's ledger we import from
FISCAL_YEARS_AHEAD = 5  # budgets are planned a few years out, not decades
MAX_COUNT = 1_000_000  # people or sq ft: above this a typo is likelier than a building


def _merge(
    kind: str,
    fields: tuple[str, ...],
    data: Any,
    current: Mapping[str, Any] | None,
    read_only: frozenset[str],
) -> tuple[f.Problems, dict[str, Any]]:
    if not isinstance(data, Mapping):
        raise RecordInvalid([FieldProblem("body", f"must be an object of {kind} fields")])
    problems = f.Problems()
    for name in data:
        if name not in fields and name not in read_only:
            problems.add(name, f"is not {'an' if kind[0] in 'aeiou' else 'a'} {kind} field")
    merged = {k: v for k, v in (current or {}).items() if k in fields}
    merged.update({k: v for k, v in data.items() if k in fields})
    return problems, merged


def _nearest(session: Session, table: str, column: str, wanted: str) -> str | None:
    """The closest existing id, looked for among ids sharing the first characters (an id list
    of a large city is not read whole for one typo)."""
    rows = session.scalars(
        text(f"SELECT {column} FROM {table} WHERE {column} ILIKE :prefix LIMIT 5000"),
        {"prefix": wanted[:3].replace("%", "").replace("_", r"\_") + "%"},
    ).all()
    found = difflib.get_close_matches(wanted, list(rows), n=1, cutoff=0.6)
    return found[0] if found else None


def _unknown(
    problems: f.Problems, session: Session, name: str, what: str, value: str, table: str
) -> None:
    nearest = _nearest(session, table, name, value)
    hint = f"; did you mean {nearest!r}?" if nearest else ""
    problems.add(
        name,
        f"there is no {what} {value!r} in the registry{hint}",
        **({"suggestion": nearest} if nearest else {}),
    )


def _building(session: Session, problems: f.Problems, value: Any) -> Any:
    """The building's row (internal id, parcel, usable sq ft), or None after a problem."""
    public = f.to_text(problems, "building_id", value, 48)
    if public is None:
        return None
    row = session.execute(
        text(
            "SELECT b.id, b.parcel_id, b.usable_sq_ft, p.parcel_id AS public_parcel "
            "FROM buildings b JOIN parcels p ON p.id = b.parcel_id WHERE b.building_id = :b"
        ),
        {"b": public},
    ).one_or_none()
    if row is None:
        _unknown(problems, session, "building_id", "building", public, "buildings")
    return row


def clean_occupancy(
    session: Session, data: Any, current: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Validate `current` (as `occupancy_as_dict` gives it) merged with `data`; the column
    values of `occupancy`, or `RecordInvalid` listing every problem."""
    problems, merged = _merge("occupancy", OCCUPANCY_FIELDS, data, current, READ_ONLY_FIELDS)
    get = merged.get
    building = _building(session, problems, get("building_id"))
    department_id = None
    department = f.to_text(problems, "department_code", get("department_code"), 200)
    if department is not None:
        department_id, nearest = find_department(session, department)
        if department_id is None:
            hint = f"; did you mean {nearest!r}?" if nearest else ""
            problems.add(
                "department_code",
                f"there is no department {department!r}{hint}",
                **({"suggestion": nearest} if nearest else {}),
            )
    start = f.to_date(problems, "period_start", get("period_start"))
    end = f.to_date(problems, "period_end", get("period_end"))
    headcount = f.to_int(problems, "headcount", get("headcount"), minimum=0, maximum=MAX_COUNT)
    usf = f.to_int(
        problems,
        "usable_sq_ft_occupied",
        get("usable_sq_ft_occupied"),
        minimum=0,
        maximum=MAX_COUNT * 10,
    )
    for name, value in (
        ("building_id", building),
        ("department_code", department_id),
        ("period_start", start),
        ("headcount", headcount),
        ("usable_sq_ft_occupied", usf),
    ):
        if value is None and name not in problems.failed:
            problems.add(name, "is required")
    if start is not None and end is not None and end < start:
        problems.add("period_end", f"{end} is before the period's start {start}")
    if (
        building is not None
        and usf is not None
        and building.usable_sq_ft is not None
        and usf > building.usable_sq_ft
    ):
        problems.add(
            "usable_sq_ft_occupied",
            f"{usf:,} sq ft is more than the building's usable {building.usable_sq_ft:,} sq ft",
        )
    if problems:
        raise RecordInvalid(list(problems))
    return {
        "building_id": building.id,
        "department_id": department_id,
        "period_start": start,
        "period_end": end,
        "headcount": headcount,
        "usable_sq_ft_occupied": usf,
    }


def clean_cost(
    session: Session, data: Any, current: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Validate `current` (as `cost_as_dict` gives it) merged with `data`; the column values of
    `om_costs`. A cost names a parcel, a building, or both (the building must stand on the
    parcel); a building's cost is stored with its parcel too, as the KPI engine reads it."""
    problems, merged = _merge("cost", COST_FIELDS, data, current, READ_ONLY_FIELDS - {"parcel_id"})
    get = merged.get
    parcel = f.to_text(problems, "parcel_id", get("parcel_id"), 32)
    parcel_key = None
    if parcel is not None:
        parcel_key = session.execute(
            text("SELECT id FROM parcels WHERE parcel_id = :p"), {"p": parcel}
        ).scalar()
        if parcel_key is None:
            _unknown(problems, session, "parcel_id", "parcel", parcel, "parcels")
    building = _building(session, problems, get("building_id"))
    if building is not None and parcel_key is not None and building.parcel_id != parcel_key:
        problems.add(
            "building_id",
            f"building {get('building_id')} is on parcel {building.public_parcel}, not on {parcel}",
        )
    if parcel is None and get("building_id") is None:
        problems.add("parcel_id", "is required (or building_id)")
    last_year = dt.date.today().year + FISCAL_YEARS_AHEAD
    year = f.to_int(
        problems, "fiscal_year", get("fiscal_year"), minimum=FIRST_FISCAL_YEAR, maximum=last_year
    )
    category = f.to_choice(problems, "category", get("category"), COST_CATEGORIES)
    amount = f.to_money(problems, "amount", get("amount"))
    note = f.to_text(problems, "note", get("note"), 4000)
    for name, value in (("fiscal_year", year), ("category", category), ("amount", amount)):
        if value is None and name not in problems.failed:
            problems.add(name, "is required")
    if problems:
        raise RecordInvalid(list(problems))
    return {
        "parcel_id": parcel_key if parcel_key is not None else building.parcel_id,
        "building_id": building.id if building is not None else None,
        "fiscal_year": year,
        "category": category,
        "amount": amount,
        "note": note,
    }
