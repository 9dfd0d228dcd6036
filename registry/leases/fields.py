"""Typed conversion of one lease field at a time, each problem named by its API field.

Shared by lease validation (`registry.leases.validation`), modifications and imports, so a bad
amount reads the same wherever it was typed. Money and rates must be exact: decimal strings,
ints or `Decimal`, never floats (a JSON float such as 0.1 is already inexact when it arrives).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from registry.fields import FieldProblem

MAX_MONEY = Decimal("999999999999.99")
MAX_MONTHS = 1200  # the engine's bound: a 100-year (99-year ground lease) term
_FLOAT_REFUSED = 'must be a decimal string such as "1234.50", not a JSON number with a fraction'


class JsonFloat(Decimal):
    """A JSON number with a fraction or exponent: kept exact, but refused where money or a rate
    is expected (the sender's side already held it as a binary float)."""


def loads_json(body: str | bytes) -> Any:
    """Parse a JSON request body, numbers with fractions as `JsonFloat` (never `float`)."""
    return json.loads(body, parse_float=JsonFloat)


class Problems(list[FieldProblem]):
    """The problems found so far, and which fields failed (so later checks can skip them)."""

    def __init__(self) -> None:
        super().__init__()
        self.failed: set[str] = set()

    def add(self, field: str, message: str, **details: Any) -> None:
        self.append(FieldProblem(field, message, details))
        self.failed.add(re.split(r"[.\[]", field, maxsplit=1)[0])


def to_decimal(problems: Problems, name: str, value: Any, *, places: int, minimum: Decimal,
               maximum: Decimal, what: str = "an amount") -> Decimal | None:
    """An exact decimal with at most `places` decimals in [minimum, maximum]; None if blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool | float | JsonFloat):
        problems.add(name, _FLOAT_REFUSED)
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
        problems.add(name, "must not be negative" if minimum == 0
                     else f"must be at least {minimum}")
    elif number > maximum:
        problems.add(name, f"must be at most {maximum}")
    elif number != number.quantize(Decimal(1).scaleb(-places)):
        problems.add(name, "must be in whole cents (at most two decimals)" if places == 2
                     else f"has more than {places} decimals")
    else:
        return number
    return None


def to_money(problems: Problems, name: str, value: Any) -> Decimal | None:
    """Zero or more whole cents, below one trillion."""
    return to_decimal(problems, name, value, places=2, minimum=Decimal(0), maximum=MAX_MONEY)


def to_rate(problems: Problems, name: str, value: Any) -> Decimal | None:
    """An annual fraction in [0, 1): "0.04" is 4 %; six decimals, as the column keeps."""
    rate = to_decimal(problems, name, value, places=6, minimum=Decimal(0),
                      maximum=Decimal("0.999999"), what="an annual rate such as \"0.04\"")
    return rate


def to_int(problems: Problems, name: str, value: Any, *, minimum: int,
           maximum: int = MAX_MONTHS) -> int | None:
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


def to_date(problems: Problems, name: str, value: Any) -> dt.date | None:
    """An ISO date (YYYY-MM-DD); free text such as "Lease in process" is refused, not guessed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    problems.add(name, f"{value!r} is not a date (YYYY-MM-DD)")
    return None


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


def to_payment_steps(problems: Problems, name: str, value: Any) -> list[dict[str, Any]] | None:
    """[{"periods": n, "amount": "…"}] steps in order, amounts normalised to two decimals."""
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not value:
        problems.add(name, 'must be a non-empty list of {"periods": n, "amount": "…"} steps')
        return None
    steps: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        here = f"{name}[{index}]"
        if not isinstance(item, Mapping):
            problems.add(here, 'must be an object {"periods": n, "amount": "…"}')
            continue
        extra = sorted(set(item) - {"periods", "amount"})
        if extra:
            problems.add(here, f"has unknown keys: {', '.join(extra)}")
        periods = to_int(problems, f"{here}.periods", item.get("periods"), minimum=1)
        amount = to_money(problems, f"{here}.amount", item.get("amount"))
        for key in ("periods", "amount"):
            if item.get(key) is None:
                problems.add(f"{here}.{key}", "is required")
        if periods is not None and amount is not None:
            steps.append({"periods": periods, "amount": f"{amount:.2f}"})
    return steps if len(steps) == len(value) else None


def decimal_str(value: Decimal | None) -> str | None:
    """A rate or percent without trailing zeros ("0.0089", "3"); None stays None."""
    if value is None:
        return None
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money_text(value: Decimal | None) -> str | None:
    """Money as a two-decimal string ("30000.00"); None stays None."""
    return None if value is None else f"{value:.2f}"
