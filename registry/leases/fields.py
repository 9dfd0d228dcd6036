"""Lease-only fields: rates and payment steps. The generic converters (money, dates, whole
numbers, text, choices) are the kernel's (`registry.fields`), shared with parcels and operations.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from registry.fields import Problems
from registry.fields import to_decimal
from registry.fields import to_int
from registry.fields import to_money


def to_rate(problems: Problems, name: str, value: Any) -> Decimal | None:
    """An annual fraction in [0, 1): "0.04" is 4 %; six decimals, as the column keeps.

    Also as finance types it beside a yearly escalation given in percent: "4.5%" is 0.045. A
    number from 1 to 100 without the sign is not guessed (4.5 may be a slip for 0.45): the
    message gives both readings."""
    if isinstance(value, str) and value.strip().endswith("%"):
        typed = value.strip()[:-1].strip()
        try:
            percent = Decimal(typed)
            if not percent.is_finite():
                raise InvalidOperation
            value = f"{percent / 100:f}"
        except ArithmeticError:  # not a number, or too large to divide (1e999999999%)
            problems.add(name, f'{value!r} is not a percentage such as "4.5%"')
            return None
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = Decimal(0)
        if number.is_finite() and 1 <= number < 100:  # NaN compared raises InvalidOperation
            problems.add(
                name,
                f"{value} is not a rate below 1: for {number.normalize():f} %, give "
                f"{number / 100:f} or {number.normalize():f}%",
            )
            return None
    return to_decimal(
        problems,
        name,
        value,
        places=6,
        minimum=Decimal(0),
        maximum=Decimal("0.999999"),
        what='an annual rate such as "0.04" or "4%"',
    )


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
