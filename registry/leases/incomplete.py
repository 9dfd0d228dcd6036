"""A lease recorded as its source gives it: what is missing, what the source wrote instead of a
value, what it doubted, and the point that placed it.

Old lease lists leave terms blank or write "Lease in process" where a date goes, mark a value
they are unsure of (`GSD?`) and place a lease by a geocoded point. Such a lease is still recorded
(an *incomplete* record), never guessed at: `missing` names the absent terms, `source_notes` keeps
the source's text verbatim per field until the field gets a value, `needs_confirmation` the
fields a person must confirm, and `location` the point. A lease is *measured* (GASB 87) only
when it has every term the engine needs; everything that measures leases leaves the others out
and says how many and which.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from registry import fields as f

#: Terms a lease may be recorded without (as found): the first is not needed for measuring.
MISSABLE = ("counterparty", "commencement_date", "end_date", "payment_frequency",
            "payment_timing", "payments", "discount_rate")  # fmt: skip
#: The terms GASB 87 measurement needs (the end: `end_date` or `term_months`).
MEASUREMENT_TERMS = frozenset(MISSABLE) - {"counterparty"}
#: The request flag by which an API client records a lease as found.
INCOMPLETE_FLAG = "incomplete"
MAX_NOTE = 500
COORDINATE_PLACES = 7  # about 1 cm: what the API shows and what an import is compared at


def is_incomplete(record: Mapping[str, Any] | None) -> bool:
    """Whether a stored lease (as `lease_as_dict` gives it) was recorded incomplete."""
    return bool(record and record.get("missing"))


def is_measured(missing: Iterable[str]) -> bool:
    return not MEASUREMENT_TERMS & set(missing)


def to_source_notes(problems: f.Problems, value: Any, fields: Iterable[str]) -> dict[str, str]:
    """{field: the source's text} for fields of `fields`; blank texts are dropped."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.add("source_notes", 'must be an object {"field": "text as the source wrote it"}')
        return {}
    known = set(fields)
    notes: dict[str, str] = {}
    for name, note in value.items():
        if name not in known:
            problems.add(f"source_notes.{name}", "is not a lease field")
            continue
        text = f.to_text(problems, f"source_notes.{name}", note, MAX_NOTE)
        if text:
            notes[name] = text
    return notes


def notes_kept(notes: Mapping[str, str], values: Mapping[str, Any]) -> dict[str, str]:
    """The notes of fields still without a value: a value supersedes the text it stood in for
    (the audit trail keeps the text)."""
    return {
        name: note
        for name, note in sorted(notes.items())
        if name == "location" or values.get(name) is None
    }


def to_location(problems: f.Problems, value: Any) -> dict[str, Any] | None:
    """A GeoJSON Point in longitude/latitude (WGS 84), coordinates kept to 7 places."""
    if value is None:
        return None
    coordinates = value.get("coordinates") if isinstance(value, Mapping) else None
    if not (
        isinstance(value, Mapping)
        and value.get("type") == "Point"
        and isinstance(coordinates, list | tuple)
        and len(coordinates) == 2
        and all(_number(c) for c in coordinates)
    ):
        problems.add(
            "location",
            'must be a GeoJSON Point {"type": "Point", "coordinates": '
            "[longitude, latitude]} in WGS 84",
        )
        return None
    lon, lat = (round(float(c), COORDINATE_PLACES) for c in coordinates)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        problems.add("location", f"({lon}, {lat}) is not a longitude and latitude")
        return None
    return {"type": "Point", "coordinates": [lon, lat]}


def _number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    return math.isfinite(float(value))


def confirmations(
    current: Mapping[str, Any] | None, data: Mapping[str, Any], doubted: Iterable[str]
) -> list[str]:
    """Fields awaiting confirmation: the stored ones a change does not state again, and those
    doubted now. Stating a value again (without a doubt mark) confirms it."""
    kept = {name for name in (current or {}).get("needs_confirmation") or () if name not in data}
    return sorted(kept | set(doubted))


def missing_text(missing: Iterable[str]) -> str:
    """ "payments, discount_rate" for messages."""
    return ", ".join(missing)
