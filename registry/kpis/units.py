"""How a KPI value reads for a person, by the unit the KPI set gives it: one set of rules for the
dashboard's tiles (a Jinja filter), its JSON (each value's `formatted`) and the public page.
`app/static/js/kpi_desk.js` (`formatKpi`) applies the same rules in the browser; a browser test
holds the two to the same output.

    count          1,287              (integers, thousands separators)
    $              $1,287,000         (whole dollars: totals over a year carry no meaningful cents)
    $/sq ft        $12.34 per sq ft   (cents: a rate)
    %              64.4 %             (one decimal)
    sq ft/person   162 sq ft/person
    days           +12 days / −30 days (ahead or behind)
    0–100          87.5 of 100
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP
from decimal import Decimal

# The KPI set's unit → the kind of number its value is ("count, %": the value is the share).
_KIND = {
    "%": "percent",
    "count, %": "percent",
    "count": "count",
    "count, $": "count",
    "$": "money",
    "$/sq ft": "rate",
    "sq ft/person": "area_per_person",
    "date, days": "days",
    "0–100": "index",
}
MINUS = "\u2212"


def unit_kind(unit: str) -> str:
    """The kind of number a KPI's value is (`percent`, `count`, `money`, ...): what the JSON
    sends with each value so the browser formats it the same way."""
    return _KIND.get(unit, "number")


def _fixed(value: Decimal, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    rounded = value.quantize(quantum, rounding=ROUND_HALF_UP)
    return f"{abs(rounded):,.{places}f}"


def _sign(value: Decimal) -> str:
    return MINUS if value < 0 and value.quantize(Decimal("0.01")) != 0 else ""


def format_kpi_value(value: Decimal | int | float | None, unit: str) -> str:
    """`value` as a person reads it in `unit` (see the module's table); "—" for no value."""
    if value is None:
        return "—"
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    kind = unit_kind(unit)
    sign = _sign(number)
    if kind == "percent":
        return f"{sign}{_fixed(number, 1)} %"
    if kind == "count":
        return f"{sign}{_fixed(number, 0)}"
    if kind == "money":
        return f"{sign}${_fixed(number, 0)}"
    if kind == "rate":
        return f"{sign}${_fixed(number, 2)} per sq ft"
    if kind == "area_per_person":
        return f"{sign}{_fixed(number, 0)} sq ft/person"
    if kind == "days":
        days = _fixed(number, 0)
        return f"{'+' if number > 0 else sign}{days} day{'' if days == '1' else 's'}"
    if kind == "index":
        return f"{sign}{_fixed(number, 1)} of 100"
    return format_quantity(number)


def format_quantity(value: Decimal | int | float | None) -> str:
    """A numerator, denominator or target: thousands separators, cents only when it has some."""
    if value is None:
        return ""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    places = 0 if number == number.to_integral_value() else 2
    return f"{_sign(number)}{_fixed(number, places)}"
