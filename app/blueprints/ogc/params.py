"""The query parameters of `/ogc/collections/{id}/items` read into an `ItemsQuery`; every
problem found is reported at once as a 400 naming the parameter."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from flask import request

from app import api
from registry.features.collections import BOOLEAN
from registry.features.collections import INTEGER
from registry.features.collections import NUMBER
from registry.features.collections import Collection
from registry.features.collections import Property
from registry.features.cql2 import CQL2_TEXT
from registry.features.cql2 import FILTER_LANGUAGES
from registry.features.cql2 import compile_filter
from registry.features.cql2 import parse_filter
from registry.features.crs import CRS84
from registry.features.crs import Crs
from registry.features.crs import UnknownCrs
from registry.features.crs import find_crs
from registry.features.filter_errors import FilterError
from registry.features.queries import DEFAULT_LIMIT
from registry.features.queries import MAX_LIMIT
from registry.features.queries import MAX_OFFSET
from registry.features.queries import ItemsQuery
from registry.fields import FieldProblem
from registry.fields import whole_number

ITEMS_PARAMETERS = frozenset(
    {
        "f",
        "bbox",
        "bbox-crs",
        "crs",
        "datetime",
        "limit",
        "offset",
        "cursor",
        "filter",
        "filter-lang",
        "filter-crs",
        "sortby",
        "properties",
    }
)
ITEM_PARAMETERS = frozenset({"f", "crs", "properties"})
_MAX_PARAMETER = 100_000


def unknown_parameters(
    allowed: frozenset[str], errors: list[FieldProblem], also: frozenset[str] = frozenset()
) -> None:
    for name, value in request.args.items(multi=True):
        if name not in allowed and name not in also:
            errors.append(FieldProblem(name[:60], "is not a parameter of this resource"))
        elif "\x00" in value:
            errors.append(FieldProblem(name, "must not contain NUL characters"))
        elif len(value) > _MAX_PARAMETER:
            errors.append(FieldProblem(name, f"is longer than {_MAX_PARAMETER:,} characters"))


def output_crs(offered: tuple[Crs, ...], errors: list[FieldProblem]) -> Crs:
    return _crs("crs", offered, errors)


def _crs(name: str, offered: tuple[Crs, ...], errors: list[FieldProblem]) -> Crs:
    try:
        return find_crs(request.args.get(name) or CRS84, offered, name)
    except UnknownCrs as error:
        errors.append(FieldProblem(name, str(error).split(": ", 1)[1]))
        return offered[0]


def _bbox(errors: list[FieldProblem]) -> tuple[float, float, float, float] | None:
    raw = request.args.get("bbox")
    if not raw:
        return None
    try:
        parts = [float(part) for part in raw.split(",")]
        if len(parts) == 6:  # 3D: the heights do not matter for 2D parcels
            parts = parts[:2] + parts[3:5]
        if len(parts) != 4 or not all(math.isfinite(part) for part in parts):
            raise ValueError
        if parts[0] > parts[2] or parts[1] > parts[3]:
            raise ValueError
    except ValueError:
        errors.append(
            FieldProblem(
                "bbox",
                "must be four numbers: lower left x,y then upper right x,y (a box across the "
                "antimeridian is not supported)",
            )
        )
        return None
    return (parts[0], parts[1], parts[2], parts[3])


def _properties(
    collection: Collection, public: bool, errors: list[FieldProblem]
) -> tuple[Property, ...] | None:
    raw = request.args.get("properties")
    if raw is None:
        return None
    chosen = []
    for name in (part.strip() for part in raw.split(",") if part.strip()):
        found = collection.property(name, public)
        if found is None:
            errors.append(FieldProblem("properties", f"{name[:60]!r} is not a property here"))
        elif found not in chosen:
            chosen.append(found)
    return tuple(chosen)


def _sortby(
    collection: Collection, public: bool, errors: list[FieldProblem]
) -> tuple[tuple[Property, bool], ...]:
    order = []
    for part in (p.strip() for p in request.args.get("sortby", "").split(",") if p.strip()):
        descending = part.startswith("-")
        name = part.lstrip("+-").strip()
        found = collection.property(name, public)
        if found is None:
            errors.append(FieldProblem("sortby", f"{name[:60]!r} is not a property here"))
        else:
            order.append((found, descending))
    return tuple(order)


def _instant(text: str, end: bool) -> dt.datetime | None:
    if text in ("", ".."):
        return None
    if len(text) == 10:
        day = dt.date.fromisoformat(text)
        moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
        return moment.replace(tzinfo=dt.UTC)
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _period(
    collection: Collection, public: bool, errors: list[FieldProblem]
) -> tuple[dt.datetime | None, dt.datetime | None] | None:
    raw = request.args.get("datetime")
    if not raw:
        return None
    temporal = collection.temporal and collection.property(collection.temporal, public)
    if not temporal:
        errors.append(FieldProblem("datetime", f"{collection.title} have no time to filter on"))
        return None
    try:
        if "/" in raw:
            start_text, end_text = raw.split("/", 1)
            period = (_instant(start_text, False), _instant(end_text, True))
        else:
            period = (_instant(raw, False), _instant(raw, True))
    except ValueError:
        errors.append(
            FieldProblem(
                "datetime",
                "must be a date or timestamp (2024-07-01, 2024-07-01T00:00:00Z) or an interval "
                "of two, either open (..), separated by /",
            )
        )
        return None
    if period[0] and period[1] and period[0] > period[1]:
        errors.append(FieldProblem("datetime", "the interval ends before it starts"))
    return period


def item_options(
    collection: Collection, public: bool, offered: tuple[Crs, ...]
) -> tuple[Crs, tuple[Property, ...] | None]:
    """One feature's `crs` and `properties`, or a 400 naming the parameter at fault."""
    errors: list[FieldProblem] = []
    unknown_parameters(ITEM_PARAMETERS, errors)
    crs = output_crs(offered, errors)
    properties = _properties(collection, public, errors)
    api.bad_query(errors)
    return crs, properties


def _equals(prop: Property, value: str) -> dict[str, Any]:
    """`?name=value` as the CQL2 condition name = value, the value read as the property's type
    (a value that is not of it is reported by the compiler, naming the property)."""
    typed: Any = value
    if prop.type in (INTEGER, NUMBER):
        try:
            typed = Decimal(value)
        except InvalidOperation:
            typed = value
    elif prop.type == BOOLEAN and value.lower() in ("true", "false"):
        typed = value.lower() == "true"
    return {"op": "=", "args": [{"property": prop.name}, typed]}


def items_query(collection: Collection, public: bool, offered: tuple[Crs, ...]) -> ItemsQuery:
    """The request's items query, or a 400 listing every parameter at fault."""
    errors: list[FieldProblem] = []
    names = frozenset(p.name for p in collection.visible(public))
    unknown_parameters(ITEMS_PARAMETERS, errors, also=names)
    crs = output_crs(offered, errors)
    bbox_crs = _crs("bbox-crs", offered, errors)
    filter_crs = _crs("filter-crs", offered, errors)
    limit = api.page_limit(errors, DEFAULT_LIMIT, MAX_LIMIT)
    offset_text = request.args.get("offset") or "0"
    if whole_number(offset_text) is None or int(offset_text) > MAX_OFFSET:
        errors.append(FieldProblem("offset", f"must be a whole number up to {MAX_OFFSET:,}"))
        offset_text = "0"
    conditions = [
        _equals(prop, request.args[prop.name])
        for prop in collection.visible(public)
        if prop.name in request.args
    ]
    if request.args.get("filter"):
        language = request.args.get("filter-lang") or CQL2_TEXT
        if language not in FILTER_LANGUAGES:
            errors.append(FieldProblem("filter-lang", f"must be {' or '.join(FILTER_LANGUAGES)}"))
        else:
            try:
                conditions.append(parse_filter(request.args["filter"], language))
            except FilterError as error:
                errors.append(FieldProblem("filter", str(error)))
    compiled = None
    if conditions:
        node = conditions[0] if len(conditions) == 1 else {"op": "and", "args": conditions}
        try:
            compiled = compile_filter(node, collection, public, filter_crs)
        except FilterError as error:
            errors.append(FieldProblem("filter", str(error)))
    sortby = _sortby(collection, public, errors)
    query = ItemsQuery(
        collection=collection,
        public=public,
        crs=crs,
        bbox=_bbox(errors),
        bbox_crs=bbox_crs,
        filter=compiled,
        period=_period(collection, public, errors),
        sortby=sortby,
        properties=_properties(collection, public, errors),
        limit=limit,
        after=(request.args.get("cursor") or None) if not sortby else None,
        offset=int(offset_text),
    )
    api.bad_query(errors)
    return query
