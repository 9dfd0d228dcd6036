"""Build ``LeaseTerms`` from a JSON-like mapping (the API's request body).

Field names are the dataclass field names.  Money and rates are accepted as
decimal strings ("30000.00", "0.0089"), ints or ``Decimal``; JSON floats are
refused because they are already inexact - decode JSON with
``json.loads(text, parse_float=Decimal)`` or send strings.  Every conversion
problem is reported at once in one ``LeaseTermsError``.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import fields
from datetime import date
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

from .terms import LeaseTerms
from .terms import LeaseTermsError
from .terms import PaymentStep

_DECIMAL_FIELDS = {
    "escalation_pct", "non_lease_amount", "discount_rate", "fair_value", "residual_value",
    "initial_direct_costs", "incentives", "prepaid_at_commencement",
}  # fmt: skip
_INT_FIELDS = {"term_months", "max_possible_term_months", "free_periods", "useful_life_months"}
_DATE_FIELDS = {"commencement_date", "end_date", "period_anchor"}
_KNOWN = {item.name for item in fields(LeaseTerms)}


class _Invalid(Exception):
    """A single field could not be converted; the message names why."""


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool | float):
        raise _Invalid('must be a decimal string such as "1234.50", not a JSON float')
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            parsed = Decimal(value.strip())
        except InvalidOperation as exc:
            raise _Invalid("is not a decimal number") from exc
        if not parsed.is_finite():
            raise _Invalid("must be a finite number")
        return parsed
    raise _Invalid("must be a decimal string")


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise _Invalid("must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise _Invalid("must be a whole number")


def _to_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise _Invalid("must be an ISO date such as 2021-04-01") from exc
    raise _Invalid("must be an ISO date such as 2021-04-01")


def _convert(
    errors: list[tuple[str, str]], name: str, value: Any, converter: Callable[[Any], Any]
) -> Any:
    try:
        return converter(value)
    except _Invalid as exc:
        errors.append((name, str(exc)))
        return None


def _payments(errors: list[tuple[str, str]], raw: Any) -> tuple[PaymentStep, ...]:
    if not isinstance(raw, list | tuple) or not raw:
        errors.append(("payments", "must be a non-empty list of {periods, amount} steps"))
        return ()
    steps: list[PaymentStep] = []
    for index, item in enumerate(raw):
        name = f"payments[{index}]"
        if isinstance(item, PaymentStep):
            steps.append(item)
            continue
        if not isinstance(item, Mapping):
            errors.append((name, "must be an object with periods and amount"))
            continue
        periods = _convert(errors, f"{name}.periods", item.get("periods"), _to_int)
        amount = _convert(errors, f"{name}.amount", item.get("amount"), _to_decimal)
        if periods is not None and amount is not None:
            steps.append(PaymentStep(periods=periods, amount=amount))
    return tuple(steps)


def lease_terms_from_dict(data: Mapping[str, Any]) -> LeaseTerms:
    """Convert and validate ``data``; raise ``LeaseTermsError`` naming every bad field."""
    errors: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    for name, raw in data.items():
        if name not in _KNOWN:
            errors.append((name, "is not a lease field"))
        elif raw is None:
            continue
        elif name in _DECIMAL_FIELDS:
            values[name] = _convert(errors, name, raw, _to_decimal)
        elif name in _INT_FIELDS:
            values[name] = _convert(errors, name, raw, _to_int)
        elif name in _DATE_FIELDS:
            values[name] = _convert(errors, name, raw, _to_date)
        elif name == "payments":
            values[name] = _payments(errors, raw)
        else:
            values[name] = raw
    required = ("direction", "commencement_date", "payment_frequency", "payment_timing",
                "payments")  # fmt: skip
    for name in required:
        if name not in data or data[name] is None:
            errors.append((name, "is required"))
    if data.get("term_months") is None and data.get("end_date") is None:
        errors.append(("term_months", "is required (or give end_date)"))
    if errors:
        raise LeaseTermsError(errors)
    return LeaseTerms(**values)
