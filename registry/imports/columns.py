"""Which column of a lease list feeds which lease field, and how a cell is read.

Headers are matched case-, space- and punctuation-insensitively against synonyms seen in real
lists ("Lease No", "Lessor/Lessee", "Start", "Expiration", "Monthly Rent", "Dept", "APN",
"Sq Ft"); `--map TARGET=SOURCE` overrides or adds a match, `--map TARGET=` ignores a column.
Targets are the API's field names plus a few that only a list has: `end_date` (the term is
derived from it), `rent` / `monthly_rent` / `quarterly_rent` / `annual_rent` (a one-step
payment schedule is derived from them) and `longitude` / `latitude` (a point locating the parcel).

Cells are *normalised* here (US dates to ISO, "$30,000.00" to "30000.00", "0.89%" to "0.0089"),
never validated: a value this module cannot read ("Lease in process", "Police?") is handed on as
written, so that lease validation reports it in the same words as the API does. Only the rent and
coordinate columns, which validation never sees, are refused here. Dates are read as ISO or US
month/day/year (never day/month), a bare escalation as percent ("3" is 3 %), a bare discount rate
as a fraction ("0.04" is 4 %), as the API defines them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

IMPORT_ONLY_TARGETS = (
    "end_date", "rent", "monthly_rent", "quarterly_rent", "annual_rent", "longitude", "latitude",
)  # fmt: skip

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "lease_number": ("lease no", "lease number", "lease #", "lease id", "lease", "lease ref",
                     "contract no", "contract number", "agreement no", "agreement number"),
    "direction": ("in/out", "lease in/out", "lease direction", "city is", "city role"),
    "portfolio": ("lease portfolio", "lease category"),
    "counterparty": ("lessor/lessee", "lessee/lessor", "lessor", "lessee", "landlord", "tenant",
                     "landlord/tenant", "tenant/landlord", "other party", "party"),
    "parcel_id": ("apn", "ain", "parcel", "parcel no", "parcel number", "assessor parcel number"),
    "building_id": ("building", "bldg", "bldg id", "building no"),
    "department_code": ("department", "dept", "dept code", "department code", "agency",
                        "using department", "dept/agency", "department name"),
    "premises": ("address", "location", "property address", "site", "site address",
                 "street address", "property"),
    "leased_area_sq_ft": ("sq ft", "sqft", "square feet", "square footage", "area", "leased area",
                          "rentable sq ft", "rsf", "sf", "area sq ft", "area (sq ft)"),
    "approval_reference": ("approval", "council file", "council file no", "cf no", "cf",
                           "authority", "ordinance", "resolution"),
    "source_document": ("document", "lease document", "document location", "contract file"),
    "commencement_date": ("commencement", "start", "start date", "lease start", "begin date",
                          "effective date", "lease begin", "lease commencement", "from"),
    "end_date": ("end", "expiration", "expiration date", "expires", "expiry", "expiry date",
                 "lease end", "lease expiration", "termination date", "to"),
    "term_months": ("term", "lease term", "term (months)", "term mos", "months"),
    "max_possible_term_months": ("max term", "maximum term", "term with options"),
    "payment_frequency": ("frequency", "rent frequency", "payment schedule", "paid"),
    "payment_timing": ("timing", "paid in", "advance/arrears"),
    "rent": ("rent amount", "payment", "payment amount", "base rent", "current rent"),
    "monthly_rent": ("rent monthly", "monthly payment", "monthly amount", "rent per month",
                     "monthly base rent", "rent/month", "rent/mo"),
    "quarterly_rent": ("quarterly payment", "rent per quarter"),
    "annual_rent": ("rent annual", "yearly rent", "annual payment", "annual amount",
                    "rent per year", "annual base rent", "rent/year", "rent/yr"),
    "escalation_pct": ("escalation", "annual escalation", "escalator", "annual increase",
                       "rent increase", "escalation %"),
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
}

_CHOICES: dict[str, dict[str, str]] = {
    "direction": {"in": "in", "leasein": "in", "lessee": "in", "tenant": "in",
                  "cityastenant": "in", "citylessee": "in", "payable": "in",
                  "out": "out", "leaseout": "out", "lessor": "out", "landlord": "out",
                  "cityaslandlord": "out", "citylessor": "out", "receivable": "out"},
    "portfolio": {"payable": "payable", "receivable": "receivable", "nonprofit": "non_profit"},
    "payment_frequency": {"monthly": "monthly", "month": "monthly", "mo": "monthly",
                          "quarterly": "quarterly", "quarter": "quarterly", "qtr": "quarterly",
                          "annual": "annual", "annually": "annual", "yearly": "annual",
                          "year": "annual", "yr": "annual"},
    "payment_timing": {"advance": "advance", "inadvance": "advance", "arrears": "arrears",
                       "inarrears": "arrears"},
    "fund_type": {"governmental": "governmental", "businesstype": "business_type"},
    "discount_rate_source": {"stated": "stated", "implicit": "implicit", "ibrtable": "ibr_table"},
}
DATE_TARGETS = {"commencement_date", "end_date", "terminated_on"}
MONEY_TARGETS = {"rent", "monthly_rent", "quarterly_rent", "annual_rent", "non_lease_amount",
                 "fair_value", "residual_value", "initial_direct_costs", "incentives",
                 "prepaid_at_commencement", "market_rent_annual"}
NUMBER_TARGETS = {"leased_area_sq_ft", "longitude", "latitude"}
MONTH_TARGETS = {"term_months", "max_possible_term_months", "free_periods", "useful_life_months"}
_DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%d-%b-%Y", "%d-%b-%y", "%b %d, %Y",
                 "%B %d, %Y", "%b %d %Y", "%B %d %Y", "%Y/%m/%d")


class MappingError(ValueError):
    """A `--map` or `--id-field` that cannot apply to this file: a usage error (exit 2)."""


def header_key(name: str) -> str:
    """'Lease No.' and 'LEASE  NO' alike: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def all_targets(lease_fields: Iterable[str]) -> tuple[str, ...]:
    return (*lease_fields, *IMPORT_ONLY_TARGETS)


def _synonym_index(targets: Iterable[str]) -> dict[str, str]:
    index: dict[str, str] = {}
    for target in targets:
        for name in (target, *_SYNONYMS.get(target, ())):
            index.setdefault(header_key(name), target)
    return index


def header_score(cells: Iterable[str], targets: Iterable[str], sources: Iterable[str]) -> int:
    """How many cells of a candidate header row name a known column (to find the header row)."""
    known = set(_synonym_index(targets)) | {header_key(source) for source in sources}
    return sum(1 for cell in cells if header_key(cell) in known)


def resolve_columns(
    columns: list[str], targets: tuple[str, ...], overrides: Mapping[str, str]
) -> dict[str, str]:
    """target → column: `--map` first (an empty SOURCE ignores the target), then synonyms."""
    by_key = {header_key(column): column for column in reversed(columns)}
    mapping: dict[str, str] = {}
    for target, source in overrides.items():
        if target not in targets:
            raise MappingError(
                f"--map {target}={source}: unknown target {target!r}; targets: {', '.join(targets)}"
            )
        if not source:
            continue
        found = source if source in columns else by_key.get(header_key(source))
        if found is None:
            raise MappingError(
                f"--map {target}={source}: no column {source!r}; columns: {', '.join(columns)}"
            )
        mapping[target] = found
    index = _synonym_index(targets)
    used = set(mapping.values())
    for column in columns:
        matched = index.get(header_key(column))
        if matched and matched not in mapping and matched not in overrides and column not in used:
            mapping[matched] = column
            used.add(column)
    return mapping


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return value != value  # NaN
    return isinstance(value, str) and not value.strip()


def normalise_cell(target: str, value: Any) -> tuple[Any, str | None]:
    """(value in API form, or as written when unreadable; a problem only for what this owns)."""
    if target in DATE_TARGETS:
        parsed = parse_date(value)
        return (parsed.isoformat() if parsed else _text(value)), None
    if target in MONEY_TARGETS or target in NUMBER_TARGETS:
        number = parse_number(value, money=target in MONEY_TARGETS)
        if number is None and target in IMPORT_ONLY_TARGETS:
            what = "an amount" if target in MONEY_TARGETS else "a number"
            return None, f"{value!r} is not {what}"
        return (f"{number:f}" if number is not None else _text(value)), None
    if target == "discount_rate":
        rate = parse_percent(value, as_fraction=True)
        return (f"{rate.normalize():f}" if rate is not None else _text(value)), None
    if target == "escalation_pct":
        pct = parse_percent(value, as_fraction=False)
        return (f"{pct.normalize():f}" if pct is not None else _text(value)), None
    if target in MONTH_TARGETS:
        months = parse_months(value)
        return (months if months is not None else _text(value)), None
    if target in _CHOICES:
        text = _text(value)
        return _CHOICES[target].get(header_key(text), text), None
    if target == "occupied" and isinstance(value, bool):
        return value, None
    return _text(value), None


def _text(value: Any) -> str:
    """A cell as text: 1001.0 from a spreadsheet is the id '1001', a date is ISO."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(str(value).split())


def parse_date(value: Any) -> dt.date | None:
    """ISO, US month/day/year and written-out dates; free text ("TBD") is None, never today."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    text = " ".join(value.strip().split())
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    for pattern in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def parse_number(value: Any, *, money: bool) -> Decimal | None:
    """'$30,000.00', '(1,200)' (accounting negative), 12500, 0.1 from a spreadsheet cell."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if value == value else None
    if not isinstance(value, str):
        return None
    text = value.strip().replace(",", "").replace(" ", "")
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()")
    if money:
        text = text.removeprefix("$").removeprefix("USD")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return -number if negative else number


def parse_percent(value: Any, *, as_fraction: bool) -> Decimal | None:
    """'0.89%' is 0.0089 as a fraction or 0.89 in percent; a bare number is taken as written."""
    if isinstance(value, str) and value.strip().endswith("%"):
        number = parse_number(value.strip().removesuffix("%"), money=False)
        if number is None:
            return None
        return number / 100 if as_fraction else number
    return parse_number(value, money=False)


def parse_months(value: Any) -> int | None:
    """36, '36', '36 months', '3 years' → months; anything else is for validation to refuse."""
    number = parse_number(value, money=False)
    if number is not None:
        return int(number) if number == number.to_integral_value() else None
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"(\d+)\s*(months?|mos?\.?|years?|yrs?\.?)", value.strip().lower())
    if not match:
        return None
    return int(match.group(1)) * (12 if match.group(2).startswith("y") else 1)
