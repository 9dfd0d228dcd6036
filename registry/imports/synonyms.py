"""What each kind of import reads: its targets (the API's field names), the names real files
give their columns, the words they use for a field's values, and the fields that make a record.

Kinds: `parcels`, `leases`, `occupancy`, `costs`. Names are compared by `header_key` (case,
spaces and punctuation ignored), so "Lease No.", "LEASE NO" and "lease_no" are one name.
"""

from __future__ import annotations

import re

from registry.leases.validation import LEASE_FIELDS
from registry.operations.validation import COST_FIELDS
from registry.operations.validation import OCCUPANCY_FIELDS

KINDS = ("parcels", "leases", "occupancy", "costs")
PARCEL_FIELDS = (
    "parcel_id", "address", "council_district", "use", "asset_type", "legal_interest", "status",
    "department_code", "acquisition_date", "acquisition_cost", "disposition_date",
    "disposition_proceeds", "digitization_status",
)  # fmt: skip
# Lease-list columns that are not lease fields: `end_date` (the term is derived from it), the
# rent amounts (a one-step payment schedule is derived from them) and a point's coordinates.
LEASE_LIST_ONLY = (
    "end_date", "rent", "monthly_rent", "quarterly_rent", "annual_rent", "longitude", "latitude",
)  # fmt: skip
TARGETS: dict[str, tuple[str, ...]] = {
    "parcels": PARCEL_FIELDS,
    "leases": (*LEASE_FIELDS, *LEASE_LIST_ONLY),
    "occupancy": OCCUPANCY_FIELDS,
    "costs": COST_FIELDS,
}
#: The fields that name a record: a row with none of them filled but a "Total" is a totals row.
KEY_TARGETS: dict[str, tuple[str, ...]] = {
    "parcels": ("parcel_id",),
    "leases": ("lease_number",),
    "occupancy": ("building_id", "department_code", "period_start"),
    "costs": ("parcel_id", "building_id", "fiscal_year", "category"),
}
#: Targets `--default` may not fill: a record's own id, and what a row cannot share.
NO_DEFAULT: dict[str, frozenset[str]] = {
    "parcels": frozenset({"parcel_id"}),
    "leases": frozenset({"lease_number", "payments", "options", *LEASE_LIST_ONLY}),
    "occupancy": frozenset(),
    "costs": frozenset(),
}

_PLACE = {
    "parcel_id": (
        "apn",
        "ain",
        "parcel",
        "parcel no",
        "parcel number",
        "parcelid",
        "pin",
        "assessor parcel number",
    ),
    "building_id": ("building", "bldg", "bldg id", "building no", "building number", "facility id"),
}
# how leases and occupancy lists name the department, before the names of their own
_DEPARTMENT = ("department", "dept", "dept code", "department code", "agency")
HEADER_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "parcels": {
        "parcel_id": _PLACE["parcel_id"],
        "address": (
            "site_address",
            "site_addr",
            "situs",
            "situs_address",
            "street_address",
            "addr",
            "location",
        ),
        "council_district": ("cd", "district", "council_dist", "council"),
        "use": ("current_use", "land_use", "use_description", "usage"),
        "asset_type": ("type", "asset_class", "category"),
        "legal_interest": ("interest", "ownership", "owned_leased"),
        "status": ("parcel_status", "use_status"),
        "department_code": (
            "department",
            "dept",
            "dept_code",
            "agency",
            "owner_dept",
            "owning_department",
            "jurisdiction",
        ),
        "acquisition_date": ("acquired", "acq_date", "date_acquired"),
        "acquisition_cost": ("acq_cost", "cost", "purchase_price"),
        "disposition_date": ("disposed", "disp_date", "date_disposed"),
        "disposition_proceeds": ("sale_price", "proceeds", "disp_proceeds"),
        "digitization_status": ("digitization",),
    },
    "leases": {
        "lease_number": (
            "lease no",
            "lease number",
            "lease #",
            "lease id",
            "lease",
            "lease ref",
            "contract no",
            "contract number",
            "agreement no",
            "agreement number",
            "no.",
            "number",
        ),
        "direction": ("in/out", "lease in/out", "lease direction", "city is", "city role"),
        "portfolio": ("lease portfolio", "lease category"),
        "counterparty": (
            "lessor/lessee",
            "lessee/lessor",
            "lessor",
            "lessee",
            "landlord",
            "tenant",
            "landlord/tenant",
            "tenant/landlord",
            "other party",
            "party",
            "non profit",
            "organization",
        ),
        **_PLACE,
        "department_code": (*_DEPARTMENT, "using department", "dept/agency", "department name"),
        "premises": (
            "address",
            "location",
            "property address",
            "site",
            "site address",
            "street address",
            "property",
        ),
        "leased_area_sq_ft": (
            "sq ft",
            "sqft",
            "square feet",
            "square footage",
            "area",
            "leased area",
            "rentable sq ft",
            "rsf",
            "sf",
            "area sq ft",
            "area (sq ft)",
        ),
        "approval_reference": (
            "approval",
            "council file",
            "council file no",
            "cf no",
            "cf",
            "authority",
            "ordinance",
            "resolution",
        ),
        "source_document": ("document", "lease document", "document location", "contract file"),
        "commencement_date": (
            "commencement",
            "start",
            "start date",
            "lease start",
            "begin date",
            "effective date",
            "lease begin",
            "lease commencement",
            "from",
        ),
        "end_date": (
            "end",
            "expiration",
            "expiration date",
            "expires",
            "expiry",
            "expiry date",
            "lease end",
            "lease expiration",
            "lease exp",
            "termination date",
            "to",
        ),
        "term_months": ("term", "lease term", "term (months)", "term mos", "months"),
        "max_possible_term_months": ("max term", "maximum term", "term with options"),
        "payment_frequency": ("frequency", "rent frequency", "payment schedule", "paid"),
        "payment_timing": ("timing", "paid in", "advance/arrears"),
        "rent": ("rent amount", "payment", "payment amount", "base rent", "current rent"),
        "monthly_rent": (
            "rent monthly",
            "monthly payment",
            "monthly amount",
            "rent per month",
            "monthly base rent",
            "rent/month",
            "rent/mo",
        ),
        "quarterly_rent": ("quarterly payment", "rent per quarter"),
        "annual_rent": (
            "rent annual",
            "yearly rent",
            "annual payment",
            "annual amount",
            "rent per year",
            "annual base rent",
            "rent/year",
            "rent/yr",
        ),
        "escalation_pct": (
            "escalation",
            "annual escalation",
            "escalator",
            "annual increase",
            "rent increase",
            "escalation %",
        ),
        "free_periods": ("free rent", "free rent months", "free months", "rent abatement"),
        "non_lease_amount": ("non-lease component", "cam", "cam charges", "service charge"),
        "discount_rate": ("interest rate", "ibr", "incremental borrowing rate"),
        "fair_value": ("fmv", "fair market value"),
        "residual_value": ("residual",),
        "incentives": ("lease incentives", "ti allowance"),
        "prepaid_at_commencement": ("prepaid", "prepayment"),
        "useful_life_months": ("useful life",),
        "fund_type": ("fund",),
        "market_rent_annual": ("market rent", "annual market rent", "fair market rent"),
        "notes": ("note", "comments", "comment", "remarks"),
        "terminated_on": ("terminated", "date terminated"),
        "longitude": ("lon", "long", "lng", "x"),
        "latitude": ("lat", "y"),
    },
    "occupancy": {
        "building_id": _PLACE["building_id"],
        "department_code": (*_DEPARTMENT, "occupant", "occupying department", "tenant department"),
        "period_start": (
            "start",
            "start date",
            "from",
            "begin",
            "begin date",
            "move in",
            "move-in date",
            "occupied from",
            "period begin",
        ),
        "period_end": (
            "end",
            "end date",
            "to",
            "until",
            "move out",
            "move-out date",
            "occupied to",
            "period end",
        ),
        "headcount": ("head count", "staff", "fte", "ftes", "employees", "people", "occupants"),
        "usable_sq_ft_occupied": (
            "usf",
            "usable sq ft",
            "usf occupied",
            "sq ft occupied",
            "occupied sq ft",
            "occupied area",
            "area occupied",
            "sq ft",
            "sf",
        ),
    },
    "costs": {
        "parcel_id": _PLACE["parcel_id"],
        "building_id": _PLACE["building_id"],
        "fiscal_year": ("fy", "fiscal yr", "year", "budget year", "fiscal period"),
        "category": ("cost category", "cost type", "type", "expense type", "expense category"),
        "amount": (
            "cost",
            "amount ($)",
            "total cost",
            "expense",
            "expenditure",
            "actual",
            "actuals",
            "annual cost",
        ),
        "note": ("notes", "comment", "comments", "remarks", "description", "memo"),
    },
}

# The words files use for a field's values, by `header_key`, and the value they mean.
VALUE_SYNONYMS: dict[str, dict[str, dict[str, str]]] = {
    "leases": {
        "direction": {
            "in": "in",
            "leasein": "in",
            "lessee": "in",
            "tenant": "in",
            "cityastenant": "in",
            "citylessee": "in",
            "payable": "in",
            "out": "out",
            "leaseout": "out",
            "lessor": "out",
            "landlord": "out",
            "cityaslandlord": "out",
            "citylessor": "out",
            "receivable": "out",
        },
        "portfolio": {"payable": "payable", "receivable": "receivable", "nonprofit": "non_profit"},
        "payment_frequency": {
            "monthly": "monthly",
            "month": "monthly",
            "mo": "monthly",
            "quarterly": "quarterly",
            "quarter": "quarterly",
            "qtr": "quarterly",
            "annual": "annual",
            "annually": "annual",
            "yearly": "annual",
            "year": "annual",
            "yr": "annual",
        },
        "payment_timing": {
            "advance": "advance",
            "inadvance": "advance",
            "arrears": "arrears",
            "inarrears": "arrears",
        },
        "fund_type": {"governmental": "governmental", "businesstype": "business_type"},
        "discount_rate_source": {
            "stated": "stated",
            "implicit": "implicit",
            "ibrtable": "ibr_table",
        },
    },
    "costs": {
        "category": {
            "operations": "operations",
            "operating": "operations",
            "ops": "operations",
            "maintenance": "maintenance",
            "maint": "maintenance",
            "repairs": "maintenance",
            "repairsandmaintenance": "maintenance",
            "utilities": "utilities",
            "utility": "utilities",
            "security": "security",
            "janitorial": "janitorial",
            "custodial": "janitorial",
            "cleaning": "janitorial",
            "capital": "capital",
            "capex": "capital",
            "capitalimprovements": "capital",
        },
    },
}


def header_key(name: object) -> str:
    """'Lease No.', 'LEASE  NO' and 'lease_no' alike: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def dbf_key(name: str) -> str:
    """The key of `name` as a Shapefile's DBF keeps it: spaces and punctuation made `_`, cut to
    ten characters ("Lease Start" → `Lease_Star`, "No." → `No_`)."""
    return header_key(re.sub(r"[^A-Za-z0-9]", "_", name)[:10])
