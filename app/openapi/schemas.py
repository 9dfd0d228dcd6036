"""The OpenAPI components of the JSON API: what records look like going in and coming out.

Input schemas say what the validators accept (the exact rule of `registry.fields`: money and
rates as decimal strings or whole numbers, never a JSON number with a fraction), so that a
schema-driven client sends what the registry stores. Vocabularies and field lists come from the
registry itself, so a new status or lease field cannot drift from its description.
Output schemas name every field the registry answers with and let extensions pass
(`additionalProperties` stays open) the way GeoJSON readers expect.
"""

from __future__ import annotations

from typing import Any

from registry.fields import MAX_MONEY
from registry.fields import MAX_MONTHS
from registry.leases.validation import LEASE_FIELDS
from registry.operations.validation import COST_FIELDS
from registry.operations.validation import FIRST_FISCAL_YEAR
from registry.operations.validation import MAX_COUNT
from registry.operations.validation import OCCUPANCY_FIELDS
from registry.parcels.validation import EDITABLE_PROPERTIES
from registry.vocabulary import ASSET_TYPES
from registry.vocabulary import COST_CATEGORIES
from registry.vocabulary import DIGITIZATION_STATUSES
from registry.vocabulary import DISCOUNT_RATE_SOURCES
from registry.vocabulary import FUND_TYPES
from registry.vocabulary import LEASE_DIRECTIONS
from registry.vocabulary import LEASE_PORTFOLIOS
from registry.vocabulary import LEGAL_INTERESTS
from registry.vocabulary import PARCEL_STATUSES
from registry.vocabulary import PAYMENT_FREQUENCIES
from registry.vocabulary import PAYMENT_TIMINGS

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """`schema` or null (OpenAPI 3.0 spells it `nullable`, beside a `$ref` through `allOf`)."""
    if "$ref" in schema:
        return {"allOf": [schema], "nullable": True}
    return {**schema, "nullable": True}


def text(max_length: int) -> Schema:
    return {"type": "string", "maxLength": max_length}


def choice(values: tuple[str, ...]) -> Schema:
    return {"type": "string", "enum": list(values)}


DATE: Schema = {"type": "string", "format": "date"}
TIMESTAMP: Schema = {"type": "string", "format": "date-time"}
_MONEY_DIGITS = len(str(int(MAX_MONEY)))
MONEY_IN: Schema = {
    "description": "Exact money: a decimal string in whole cents or a whole number, never a "
    "JSON number with a fraction (refused with 422 naming the field).",
    "oneOf": [
        {"type": "string", "pattern": rf"^[0-9]{{1,{_MONEY_DIGITS}}}(\.[0-9]{{1,2}})?$"},
        {"type": "integer", "minimum": 0, "maximum": int(MAX_MONEY)},
    ],
}
MONEY_OUT: Schema = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$"}
DECIMAL_OUT: Schema = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}


def decimal_in(description: str, whole_digits: int = 3, places: int = 4) -> Schema:
    """A rate or percent: a decimal string or a whole number (the exact rule)."""
    return {
        "description": description,
        "oneOf": [
            {
                "type": "string",
                "pattern": rf"^[0-9]{{1,{whole_digits}}}(\.[0-9]{{1,{places}}})?$",
            },
            {"type": "integer", "minimum": 0, "maximum": 10**whole_digits - 1},
        ],
    }


def months(minimum: int = 1, maximum: int = MAX_MONTHS) -> Schema:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


def _object(properties: dict[str, Schema], required: tuple[str, ...] = (), **extra: Any) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = list(required)
    return schema


def _input(properties: dict[str, Schema], names: tuple[str, ...] | frozenset[str]) -> Schema:
    """An input object: exactly the fields the validator knows (anything else is a 422)."""
    missing = set(names) - set(properties)
    if missing:  # the registry gained a field: describe it here
        raise ValueError(f"undescribed input fields: {sorted(missing)}")
    return _object(properties, additionalProperties=False)


# GeoJSON (RFC 7946). Positions are binary doubles: coordinates are not money.
_POSITION: Schema = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 3}
_RING: Schema = {"type": "array", "items": _POSITION, "minItems": 4}
POLYGONAL: Schema = {
    "type": "object",
    "description": "A Polygon or MultiPolygon in WGS 84 (longitude, latitude).",
    "required": ["type", "coordinates"],
    "properties": {
        "type": choice(("Polygon", "MultiPolygon")),
        "coordinates": {"type": "array", "minItems": 1, "items": {"type": "array"}},
    },
}
GEOMETRY: Schema = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"type": "string"}, "coordinates": {"type": "array"}},
}
POINT: Schema = _object(
    {"type": choice(("Point",)), "coordinates": _POSITION}, ("type", "coordinates")
)

_PARCEL_INPUT: dict[str, Schema] = {
    "parcel_id": {**text(32), "description": "In the city's id format (e.g. 2001-016-025)"},
    "address": nullable(text(300)),
    "use": nullable(text(200)),
    "status": choice(PARCEL_STATUSES),
    "legal_interest": choice(LEGAL_INTERESTS),
    "asset_type": nullable(choice(ASSET_TYPES)),
    "digitization_status": choice(DIGITIZATION_STATUSES),
    "department_code": nullable({**text(200), "description": "A department's code, name or alias"}),
    "council_district": nullable({"type": "integer", "minimum": 1, "maximum": 99}),
    "acquisition_date": nullable(DATE),
    "disposition_date": nullable(DATE),
    "acquisition_cost": nullable(MONEY_IN),
    "disposition_proceeds": nullable(MONEY_IN),
    "overlap_accepted_reason": nullable(
        {**text(1000), "description": "Why an overlap of more than 1 m² is accepted"}
    ),
    "confirm": {
        "type": "array",
        "items": {"type": "string", "maxLength": 100},
        "maxItems": 50,
        "description": "Fields flagged needs_confirmation kept as they stand",
    },
}
_PARCEL_PUBLIC: dict[str, Schema] = {
    "parcel_id": {"type": "string"},
    "address": nullable({"type": "string"}),
    "department": nullable({"type": "string"}),
    "use": nullable({"type": "string"}),
    "status": choice(PARCEL_STATUSES),
}
_PARCEL_FULL: dict[str, Schema] = {
    **_PARCEL_PUBLIC,
    "department_code": nullable({"type": "string"}),
    "council_district": nullable({"type": "integer"}),
    "asset_type": nullable(choice(ASSET_TYPES)),
    "legal_interest": choice(LEGAL_INTERESTS),
    "acquisition_date": nullable(DATE),
    "acquisition_cost": nullable(MONEY_OUT),
    "disposition_date": nullable(DATE),
    "disposition_proceeds": nullable(MONEY_OUT),
    "digitization_status": choice(DIGITIZATION_STATUSES),
    "land_area_sq_ft": nullable({"type": "number"}),
    "overlap_accepted_reason": nullable({"type": "string"}),
    "verified_by": nullable({"type": "string"}),
    "verified_at": nullable(TIMESTAMP),
    "needs_confirmation": {"type": "array", "items": {"type": "string"}},
    "version": {"type": "integer"},
    "updated_at": nullable(TIMESTAMP),
    "retired_at": nullable(TIMESTAMP),
}

_PAYMENT_STEP: Schema = _object(
    {
        "periods": months(),
        "amount": MONEY_IN,
    },
    ("periods", "amount"),
    additionalProperties=False,
)
_LEASE_INPUT: dict[str, Schema] = {
    "lease_number": {**text(40), "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"},
    "direction": choice(LEASE_DIRECTIONS),
    "portfolio": nullable(choice(LEASE_PORTFOLIOS)),
    "counterparty": text(500),
    "parcel_id": nullable(text(32)),
    "building_id": nullable(text(64)),
    "department_code": nullable(text(200)),
    "premises": nullable(text(500)),
    "leased_area_sq_ft": nullable(
        {
            "description": "Sq ft to one decimal; a JSON number is fine here (an area, not money)",
            "oneOf": [
                {"type": "string", "pattern": r"^[0-9]{1,11}(\.[0-9])?$"},
                {"type": "number", "minimum": 0, "maximum": 99_999_999_999},
            ],
        }
    ),
    "approval_reference": nullable(text(200)),
    "source_document": nullable(text(500)),
    "commencement_date": DATE,
    "end_date": nullable({**DATE, "description": "The term's last day, instead of term_months"}),
    "term_months": nullable(months()),
    "max_possible_term_months": nullable(months()),
    "options": nullable(
        {"type": "array", "maxItems": 20, "items": {"type": "object"}, "description": "Options"}
    ),
    "payment_frequency": choice(PAYMENT_FREQUENCIES),
    "payment_timing": choice(PAYMENT_TIMINGS),
    "payments": {"type": "array", "minItems": 1, "maxItems": 200, "items": _PAYMENT_STEP},
    "escalation_pct": nullable(decimal_in('A yearly percent such as "3"', 3, 4)),
    "free_periods": nullable(months(minimum=0)),
    "non_lease_amount": nullable(MONEY_IN),
    "discount_rate": nullable(
        {
            "description": 'A yearly rate such as "0.0325", or in percent with the sign, "3.25%"',
            "oneOf": [
                *decimal_in("", 1, 6)["oneOf"],
                {"type": "string", "pattern": r"^ *[0-9]{1,2}(\.[0-9]{1,4})? *% *$"},
            ],
        }
    ),
    "discount_rate_source": nullable(choice(DISCOUNT_RATE_SOURCES)),
    "fair_value": nullable(MONEY_IN),
    "residual_value": nullable(MONEY_IN),
    "initial_direct_costs": nullable(MONEY_IN),
    "incentives": nullable(MONEY_IN),
    "prepaid_at_commencement": nullable(MONEY_IN),
    "useful_life_months": nullable(months(maximum=12_000)),
    "fund_type": nullable(choice(FUND_TYPES)),
    "market_rent_annual": nullable(MONEY_IN),
    "occupied": nullable({"type": "boolean"}),
    "terminated_on": nullable(DATE),
    "notes": nullable(text(4000)),
    "source_notes": nullable({"type": "object", "additionalProperties": {"type": "string"}}),
    "location": nullable(ref("Point")),
    "incomplete": {"type": "boolean", "description": "Record the lease as found (not measured)"},
}
_LEASE_OUTPUT: dict[str, Schema] = {
    "lease_number": {"type": "string"},
    "direction": choice(LEASE_DIRECTIONS),
    "portfolio": nullable(choice(LEASE_PORTFOLIOS)),
    "counterparty": nullable({"type": "string"}),
    "parcel_id": nullable({"type": "string"}),
    "commencement_date": nullable(DATE),
    "term_months": nullable({"type": "integer"}),
    "payments": nullable({"type": "array", "items": {"type": "object"}}),
    "discount_rate": nullable(DECIMAL_OUT),
    "end_date": nullable(DATE),
    "measured": {"type": "boolean"},
    "missing": {"type": "array", "items": {"type": "string"}},
    "needs_confirmation": {"type": "array", "items": {"type": "string"}},
    "version": {"type": "integer"},
    "id": {"type": "integer"},
    "status": {"type": "string"},
}
_OCCUPANCY_INPUT: dict[str, Schema] = {
    "building_id": text(64),
    "department_code": text(200),
    "period_start": DATE,
    "period_end": nullable(DATE),
    "headcount": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
    "usable_sq_ft_occupied": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT * 10},
}
_COST_INPUT: dict[str, Schema] = {
    "parcel_id": nullable(text(32)),
    "building_id": nullable(text(64)),
    "fiscal_year": {
        "type": "integer",
        "minimum": FIRST_FISCAL_YEAR,
        "description": "Up to five years ahead of this year",
    },
    "category": choice(COST_CATEGORIES),
    "amount": MONEY_IN,
    "note": nullable(text(4000)),
}
_RECORD_OUTPUT: dict[str, Schema] = {
    "id": {"type": "integer"},
    "version": {"type": "integer"},
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
}
_LINK = _object(
    {"rel": {"type": "string"}, "href": {"type": "string"}, "type": {"type": "string"}},
    ("rel", "href"),
)


def _feature(properties: Schema, geometry: Schema) -> Schema:
    return _object(
        {
            "type": choice(("Feature",)),
            "id": {"type": "string"},
            "geometry": nullable(geometry),
            "properties": properties,
        },
        ("type", "geometry", "properties"),
    )


def schemas() -> dict[str, Schema]:
    """`components.schemas` of the document."""
    return {
        "Problem": _object(
            {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "errors": {"type": "array", "items": ref("FieldError")},
            },
            ("title", "status"),
            description="RFC 9457 problem details; a 412 adds current_version, changed_by, "
            "changed_at, current and etag",
        ),
        "FieldError": _object(
            {"field": {"type": "string"}, "message": {"type": "string"}},
            ("field", "message"),
            description="Geometry problems add reason and location; overlaps add overlaps",
        ),
        "Link": _LINK,
        "Point": POINT,
        "Geometry": GEOMETRY,
        "PolygonalGeometry": POLYGONAL,
        "ParcelPropertiesInput": _input(_PARCEL_INPUT, EDITABLE_PROPERTIES),
        "ParcelFeatureInput": _object(
            {
                "type": choice(("Feature",)),
                "geometry": nullable(ref("PolygonalGeometry")),
                "properties": ref("ParcelPropertiesInput"),
            },
            ("type",),
            description="A create needs properties.parcel_id, status, legal_interest and "
            "digitization_status; a PATCH sends only what changes (null clears a field)",
        ),
        "ParcelProperties": _object(
            _PARCEL_FULL, tuple(_PARCEL_PUBLIC), description="Signed-in view"
        ),
        "PublicParcelProperties": _object(
            _PARCEL_PUBLIC, tuple(_PARCEL_PUBLIC), description="What the city publishes"
        ),
        "ParcelFeature": _feature(
            {"anyOf": [ref("ParcelProperties"), ref("PublicParcelProperties")]}, ref("Geometry")
        ),
        "ParcelFeatureCollection": _object(
            {
                "type": choice(("FeatureCollection",)),
                "features": {"type": "array", "items": ref("ParcelFeature")},
                "numberReturned": {"type": "integer", "minimum": 0},
                "links": {"type": "array", "items": ref("Link")},
            },
            ("type", "features", "numberReturned", "links"),
        ),
        "ParcelHistory": _object(
            {
                "parcel_id": {"type": "string"},
                "history": {
                    "type": "array",
                    "items": _object(
                        {
                            "event_id": {"type": "integer"},
                            "occurred_at": TIMESTAMP,
                            "actor": nullable({"type": "string"}),
                            "action": {"type": "string"},
                            "version": nullable({"type": "integer"}),
                            "changes": {"type": "array", "items": {"type": "object"}},
                            "before": nullable({"type": "object"}),
                            "after": nullable({"type": "object"}),
                        },
                        ("event_id", "occurred_at", "actor", "action"),
                    ),
                },
            },
            ("parcel_id", "history"),
        ),
        "SplitRequest": _object(
            {
                "line": {"type": "object", "description": "A GeoJSON LineString across the parcel"},
                "parcel_ids": {"type": "array", "items": {"type": "string"}, "minItems": 2},
            },
            ("line", "parcel_ids"),
        ),
        "MergeRequest": _object(
            {
                "parcels": {
                    "type": "object",
                    "description": "Each parcel id merged → its ETag",
                    "additionalProperties": {"type": "string"},
                },
                "keep": {"type": "string", "description": "The parcel whose record is kept"},
                "parcel_id": {"type": "string", "description": "A new id for the merged parcel"},
            },
            ("parcels", "keep"),
        ),
        "RepairRequest": _object({"geometry": ref("Geometry")}, ("geometry",)),
        "RepairProposal": _object(
            {
                "geometry": nullable({"type": "object"}),
                "usable": {"type": "boolean"},
                "area_sq_m": {"type": "number"},
                "area_change_sq_m": {"type": "number"},
            },
            ("usable",),
        ),
        "LeaseInput": _input(_LEASE_INPUT, LEASE_FIELDS),
        "Lease": _object(_LEASE_OUTPUT, ("lease_number", "version")),
        "LeaseList": _object(
            {
                "leases": {"type": "array", "items": ref("Lease")},
                "links": {"type": "array", "items": ref("Link")},
            },
            ("leases", "links"),
        ),
        "LeasedParcels": _object(
            {
                "type": choice(("FeatureCollection",)),
                "features": {
                    "type": "array",
                    "items": _feature({"type": "object"}, ref("Point")),
                },
            },
            ("type", "features"),
            description="The leased parcels as points, each listing its leases",
        ),
        "LeaseSchedule": _object(
            {
                "lease_number": {"type": "string"},
                "direction": choice(LEASE_DIRECTIONS),
                "short_term": {"type": "boolean"},
                "discount_rate": nullable(DECIMAL_OUT),
                "initial_measurement": nullable(MONEY_OUT),
                "rows": {"type": "array", "items": {"type": "object"}},
                "remeasurements": {"type": "array", "items": {"type": "object"}},
            },
            ("lease_number", "direction", "rows", "remeasurements"),
        ),
        "LeaseModification": _object(
            {
                "effective_date": DATE,
                "terms": {
                    "type": "object",
                    "description": "The lease fields that change. A new end_date without "
                    "payments (an extension, a termination) gets the payments worked out from "
                    "the schedule in force, as the lease page's form does: those in force up to "
                    "the new end, each period added at the last period's amount (not with "
                    "payment_frequency, payment_timing or term_months, which need payments). "
                    "Payments given are recorded as given.",
                },
                "reason": nullable(text(2000)),
                "kind": {
                    "type": "string",
                    "enum": ["extension", "termination", "payment_change"],
                    "description": "What the modification does, as the lease page's form "
                    "records it (optional): an extension or a termination needs "
                    "terms.end_date, a payment change terms.payments; a termination also sets "
                    "the lease's terminated_on to the new end.",
                },
            },
            ("effective_date",),
            additionalProperties=False,
        ),
        "OccupancyInput": _input(_OCCUPANCY_INPUT, OCCUPANCY_FIELDS),
        "Occupancy": _object(
            {
                **_RECORD_OUTPUT,
                "building_id": {"type": "string"},
                "parcel_id": nullable({"type": "string"}),
                "department_code": nullable({"type": "string"}),
                "period_start": DATE,
                "period_end": nullable(DATE),
                "headcount": {"type": "integer"},
                "usable_sq_ft_occupied": {"type": "integer"},
            },
            ("id", "version"),
        ),
        "OccupancyList": _object(
            {"occupancy": {"type": "array", "items": ref("Occupancy")}}, ("occupancy",)
        ),
        "CostInput": _input(_COST_INPUT, COST_FIELDS),
        "Cost": _object(
            {
                **_RECORD_OUTPUT,
                "parcel_id": nullable({"type": "string"}),
                "building_id": nullable({"type": "string"}),
                "fiscal_year": {"type": "integer"},
                "category": choice(COST_CATEGORIES),
                "amount": MONEY_OUT,
                "note": nullable({"type": "string"}),
            },
            ("id", "version", "amount"),
        ),
        "CostList": _object({"costs": {"type": "array", "items": ref("Cost")}}, ("costs",)),
        "Health": _object(
            {"status": {"type": "string"}, "database": {"type": "string"}}, ("status",)
        ),
    }
