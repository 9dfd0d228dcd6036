"""The one set of cell readers every importer uses (parcels, leases, occupancy, costs).

Cells are *normalised* here ("$30,000.00" to "30000.00", 3/1/2025 to 2025-03-01, "0.89%" to
"0.0089", "FY25" to 2025), never validated: a value these readers cannot read ("Lease in
process", "Police?") is handed on as written, so that the record's own validation refuses it in
the same words as the API does. Dates are read as ISO (also with a midnight time, as databases
export them) or US month/day/year, never day/month; a blank cell and the literals `NULL` and
`N/A` are blank.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from decimal import InvalidOperation
from typing import TYPE_CHECKING
from typing import Any

from registry.imports.synonyms import VALUE_SYNONYMS
from registry.imports.synonyms import header_key

if TYPE_CHECKING:
    import pandas as pd

#: Cell texts that mean "no value" (compared trimmed and in lower case).
BLANK_LITERALS = frozenset({"", "null", "n/a", "#n/a"})
_DATE_FORMATS = (
    "%m/%d/%Y",
    "%m/%d/%y",
    "%m-%d-%Y",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%b %d, %Y",
    "%B %d, %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%Y/%m/%d",
)
_MIDNIGHT = re.compile(r"(\d{4}-\d{2}-\d{2})[ T]00:00(:00(\.0+)?)?")
_MONTHS = re.compile(r"(\d+)\s*(months?|mos?\.?|years?|yrs?\.?)")

# How each kind reads the cells of its targets (the rest are text). `UNVALIDATED` targets never
# reach the record's validation (they are turned into other fields), so an unreadable value is
# a problem found here.
_CELL_TYPES: dict[str, dict[str, str]] = {
    "leases": {
        **dict.fromkeys(("commencement_date", "end_date", "terminated_on"), "date"),
        **dict.fromkeys(("rent", "monthly_rent", "quarterly_rent", "annual_rent",
                         "non_lease_amount", "fair_value", "residual_value",
                         "initial_direct_costs", "incentives", "prepaid_at_commencement",
                         "market_rent_annual"), "money"),
        **dict.fromkeys(("leased_area_sq_ft", "longitude", "latitude"), "number"),
        **dict.fromkeys(("term_months", "max_possible_term_months", "free_periods",
                         "useful_life_months"), "months"),
        **dict.fromkeys(("direction", "portfolio", "payment_frequency", "payment_timing",
                         "fund_type", "discount_rate_source"), "choice"),
        "discount_rate": "fraction", "escalation_pct": "percent", "occupied": "flag",
    },
    "occupancy": {"period_start": "date", "period_end": "date", "headcount": "count",
                  "usable_sq_ft_occupied": "count"},
    "costs": {"fiscal_year": "fiscal_year", "amount": "money", "category": "choice"},
    "parcels": {},
}  # fmt: skip
UNVALIDATED = {
    "leases": frozenset(
        {"rent", "monthly_rent", "quarterly_rent", "annual_rent", "longitude", "latitude"}
    ),
}


def is_blank(value: Any) -> bool:
    """None, NaN, an empty or all-space text, or a `NULL` / `N/A` literal."""
    if value is None:
        return True
    if isinstance(value, float):
        return value != value  # NaN
    return isinstance(value, str) and value.strip().lower() in BLANK_LITERALS


def blank_values(values: pd.Series) -> pd.Series:
    """`is_blank` of each value of a text column, vectorized (the parcel engine's batches)."""
    return values.isna() | values.str.strip().str.lower().isin(BLANK_LITERALS).fillna(False)


def cell_text(value: Any) -> str:
    """A cell as text: 1001.0 from a spreadsheet is the id '1001', a date is ISO."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return " ".join(str(value).split())


def parse_date(value: Any) -> dt.date | None:
    """ISO (a midnight time allowed), US month/day/year and written-out dates; free text
    ("TBD") is None, never today."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    text = " ".join(value.strip().split())
    midnight = _MIDNIGHT.fullmatch(text)
    try:
        return dt.date.fromisoformat(midnight.group(1) if midnight else text)
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
    match = _MONTHS.fullmatch(value.strip().lower())
    if not match:
        return None
    return int(match.group(1)) * (12 if match.group(2).startswith("y") else 1)


def parse_fiscal_year(value: Any) -> int | None:
    """2025, "FY2025", "FY 25", "2024-25", "2024/2025": the year a fiscal year ends in."""
    text = cell_text(value).upper().replace(" ", "")
    match = re.fullmatch(r"(?:FY)?(\d{4})(?:[-/](\d{2}|\d{4}))?", text) or re.fullmatch(
        r"FY(\d{2})", text
    )
    if match is None:
        return None
    if len(match.group(1)) == 2:
        return 2000 + int(match.group(1))
    start, end = int(match.group(1)), match.group(2)
    if end is None:
        return start
    ending = int(end) if len(end) == 4 else start // 100 * 100 + int(end)
    return ending if ending == start + 1 else None  # "2024-26" is not a fiscal year


def normalise_cell(kind: str, target: str, value: Any) -> tuple[Any, str | None]:
    """(the cell in API form, or as written when unreadable; a problem only for a target whose
    value no validation will see)."""
    read = _read(_CELL_TYPES[kind].get(target, "text"), kind, target, value)
    if read is not None:
        return read, None
    if target in UNVALIDATED.get(kind, ()):
        what = "an amount" if _CELL_TYPES[kind][target] == "money" else "a number"
        return None, f"{value!r} is not {what}"
    return cell_text(value), None


def _read(cell_type: str, kind: str, target: str, value: Any) -> Any:
    """The value read as `cell_type`, or None when it cannot be."""
    if cell_type == "date":
        parsed = parse_date(value)
        return parsed.isoformat() if parsed else None
    if cell_type in {"money", "number", "count"}:
        number = parse_number(value, money=cell_type == "money")
        if number is not None and cell_type == "count" and number == number.to_integral_value():
            return int(number)
        return f"{number:f}" if number is not None else None
    if cell_type in {"fraction", "percent"}:
        rate = parse_percent(value, as_fraction=cell_type == "fraction")
        return f"{rate.normalize():f}" if rate is not None else None
    if cell_type == "months":
        return parse_months(value)
    if cell_type == "fiscal_year":
        return parse_fiscal_year(value)
    if cell_type == "choice":
        text = cell_text(value)
        return VALUE_SYNONYMS[kind][target].get(header_key(text), text)
    if cell_type == "flag" and isinstance(value, bool):
        return value
    return None
