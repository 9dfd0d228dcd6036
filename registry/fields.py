"""Fields of a record as people send them, and the problems found in them: the one set of exact
converters that parcels, leases, operations and imports share.

Each problem names its field so a form can show it next to the input, an API can list it in a
problem document, and an import report can point at the row and column.

The exact rule, the same for every API and importer: money and rates are decimal strings, whole
numbers or `Decimal`s, never binary floats. A JSON number with a fraction is parsed exactly
(`JsonFloat`, never `float`) and refused where money or a rate goes, with a message saying to
send a decimal string: the sender already held it as a binary float, so 0.1 + 0.2 arrives as
0.30000000000000004 and no rounding here would make it the amount the person meant.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

#: The ceiling on any amount of money the registry keeps (NUMERIC(14, 2) holds it, and cent
#: quantization stays inside 28 digits).
MAX_MONEY = Decimal("999999999999.99")
#: The default bound on a whole number of months: a 100-year (99-year ground lease) term.
MAX_MONTHS = 1200
_FLOAT_REFUSED = 'must be a decimal string such as "1234.50", not a JSON number with a fraction'


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"field": self.field, "message": self.message, **self.details}


class RecordInvalid(ValueError):
    """A record failed validation; `problems` lists every problem, not just the first."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


class JsonFloat(Decimal):
    """A JSON number with a fraction or exponent: kept exact, but refused where money or a rate
    is expected (the sender's side already held it as a binary float)."""


def loads_json(body: str | bytes) -> Any:
    """Parse a JSON body, numbers with fractions as `JsonFloat` (never `float`)."""
    return json.loads(body, parse_float=JsonFloat)


class Problems(list[FieldProblem]):
    """The problems found so far, and which fields failed (so later checks can skip them)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed: set[str] = set()

    def add(self, field: str, message: str, **details: Any) -> None:
        self.append(FieldProblem(field, message, details))
        self.failed.add(re.split(r"[.\[]", field, maxsplit=1)[0])


def to_decimal(
    problems: Problems,
    name: str,
    value: Any,
    *,
    places: int,
    minimum: Decimal,
    maximum: Decimal,
    what: str = "an amount",
) -> Decimal | None:
    """An exact decimal with at most `places` decimals in [minimum, maximum]; None if blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float | JsonFloat):
        problems.add(name, _FLOAT_REFUSED)
        return None
    if isinstance(value, bool):
        problems.add(name, f"must be {what} written as a decimal string")
        return None
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip().replace(",", "").removeprefix("$"))
        except InvalidOperation:
            problems.add(name, f"{value!r} is not {what}")
            return None
    else:
        problems.add(name, f"must be {what} written as a decimal string")
        return None
    if not number.is_finite():
        problems.add(name, "must be a finite number")
    elif number < minimum:
        problems.add(
            name, "must not be negative" if minimum == 0 else f"must be at least {minimum}"
        )
    elif number > maximum:
        problems.add(name, f"must be at most {maximum}")
    elif number != number.quantize(Decimal(1).scaleb(-places)):
        problems.add(
            name,
            "must be in whole cents (at most two decimals)"
            if places == 2
            else f"has more than {places} decimals",
        )
    else:
        return number
    return None


def to_money(problems: Problems, name: str, value: Any) -> Decimal | None:
    """Zero or more whole cents, below one trillion."""
    return to_decimal(problems, name, value, places=2, minimum=Decimal(0), maximum=MAX_MONEY)


def to_int(
    problems: Problems, name: str, value: Any, *, minimum: int, maximum: int = MAX_MONTHS
) -> int | None:
    """A whole number in [minimum, maximum]; digit strings are accepted (spreadsheets)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, Decimal) and value == value.to_integral_value():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(name, "must be a whole number")
        return None
    if not minimum <= value <= maximum:
        problems.add(name, f"must be a whole number from {minimum} to {maximum}")
        return None
    return value


#: The most digits a number in a query may have (a 64-bit integer's 18 safe ones).
MAX_WHOLE_NUMBER_DIGITS = 18


def whole_number(text: str) -> int | None:
    """`text` as a whole number when it is ASCII digits only ("12"), else None.

    Use it, never `text.isdigit()` then `int(text)`: `isdigit` is also true of "²" and other
    superscripts, which `int` refuses (a query such as `?limit=²` was a server error). More
    than 18 digits is never a count, a page or a year here, and over 4,300 digits `int` refuses
    the string (`?limit=` and five thousand nines was a server error): None as well.
    """
    if len(text) > MAX_WHOLE_NUMBER_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


#: The years a record's date may fall in. A date outside them is a typing slip, not a record: a
#: year typed short becomes year 26 in a browser's date input ("0026-07-01"), and such a lease
#: was stored and reported as a holdover since the year 31. Wide enough for a colonial deed and
#: a ground lease of 99 years signed in two centuries' time.
FIRST_YEAR, LAST_YEAR = 1600, 2399


def to_date(problems: Problems, name: str, value: Any) -> dt.date | None:
    """An ISO date (YYYY-MM-DD) from `FIRST_YEAR` to `LAST_YEAR`; free text such as "Lease in
    process" is refused, not guessed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    day: dt.date | None = None
    if isinstance(value, dt.datetime):
        day = value.date()
    elif isinstance(value, dt.date):
        day = value
    elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        with contextlib.suppress(ValueError):  # 2031-02-30: not a date, said below
            day = dt.date.fromisoformat(value.strip())
    if day is None:
        problems.add(name, f"{value!r} is not a date (YYYY-MM-DD)")
        return None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        problems.add(
            name,
            f"{day.isoformat()} is not a likely date: its year should be from {FIRST_YEAR} to "
            f"{LAST_YEAR} (was the year typed in full?)",
        )
        return None
    return day


def to_text(problems: Problems, name: str, value: Any, max_length: int = 2000) -> str | None:
    """Trimmed text; blank becomes None."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(name, "must be text")
        return None
    if len(value) > max_length:
        problems.add(name, f"is longer than {max_length} characters")
        return None
    if "\x00" in value:  # PostgreSQL text cannot hold it
        problems.add(name, "must not contain NUL characters")
        return None
    return value.strip() or None


def to_choice(problems: Problems, name: str, value: Any, allowed: tuple[str, ...]) -> str | None:
    """One of a vocabulary's values (case-insensitive on input, stored as the vocabulary has it)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and value.strip().lower() in allowed:
        return value.strip().lower()
    problems.add(name, f"must be one of: {', '.join(allowed)}")
    return None


def to_bool(problems: Problems, name: str, value: Any) -> bool | None:
    """true/false; "yes"/"no" as spreadsheets write them."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "yes", "y", "1"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "no", "n", "0"}:
        return False
    problems.add(name, "must be true or false")
    return None


def decimal_str(value: Decimal | None) -> str | None:
    """A rate or percent without trailing zeros ("0.0089", "3"); None stays None."""
    if value is None:
        return None
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money_text(value: Decimal | None) -> str | None:
    """Money as a two-decimal string ("30000.00"); None stays None."""
    return None if value is None else f"{value:.2f}"
