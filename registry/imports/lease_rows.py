"""One row of a lease list → the API's lease fields, or a skipped row, with what it cannot read.

Nothing is invented: a blank cell leaves the field out (so an update keeps the stored value), a
misspelt or doubted department goes on as written for lease validation to judge, free text where
a date or a rent goes ("Lease in process", "TBD") is kept verbatim as the field's source note (a
rent's as the payments') and the value left missing, and the only values derived are those the
row states in another form: the payment steps from a rent amount and its period (the number of
payments counted by the engine's periods, a partial one included), the parcel from a point (see
`registry.imports.leases`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from registry.imports.cells import cell_text
from registry.imports.cells import is_blank
from registry.imports.cells import normalise_cell
from registry.imports.cells import parse_date
from registry.imports.columns import ColumnSource
from registry.imports.report import ImportReport
from registry.imports.rows import record_cells
from registry.imports.sources import SourceRow
from registry.imports.synonyms import LEASE_LIST_ONLY
from registry.leases.accounting.periods import default_anchor
from registry.leases.accounting.periods import payment_periods

MONTHS_PER_PAYMENT = {"monthly": 1, "quarterly": 3, "annual": 12}
#: Date fields whose free text is kept as a source note, the date left missing.
DATE_TARGETS = ("commencement_date", "end_date", "terminated_on")
# the period each rent column is stated for; `rent` is for the payment frequency's period
RENT_BASIS: dict[str, str | None] = {
    "rent": None, "monthly_rent": "monthly", "quarterly_rent": "quarterly", "annual_rent": "annual",
}  # fmt: skip
_CENT = Decimal("0.01")
# list-only targets that are not lease fields (`end_date` is: validation derives the term)
_NOT_SENT = frozenset(LEASE_LIST_ONLY) - {"end_date"}


@dataclass
class LeaseRow:
    """A data row: the API fields read from it and the problems only the import can see."""

    number: int
    lease_number: str | None
    data: dict[str, Any]
    raw: dict[str, Any]  # target → the cell as read, for the report's `value`
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field, message)
    derived_from: dict[str, str] = field(default_factory=dict)  # derived field → source target
    point: tuple[float, float] | None = None
    notes: dict[str, str] = field(default_factory=dict)  # field → the source's text for it
    # (field, message) that refuse nothing: the point's, found with the others' (see leases.py)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def problem(self, field_name: str, message: str) -> None:
        self.problems.append((field_name, message))

    def warning(self, field_name: str, message: str) -> None:
        self.warnings.append((field_name, message))


def read_lease_row(
    row: SourceRow,
    columns: Mapping[str, ColumnSource],
    defaults: Mapping[str, Any],
    report: ImportReport,
) -> LeaseRow | None:
    """The row's lease, or None after recording it as skipped (blank, heading, total)."""
    raw = record_cells(row, columns, ("lease_number",), report)
    if raw is None:
        return None
    lease = LeaseRow(row.number, None, {}, {k: v for k, v in raw.items() if not is_blank(v)})
    values: dict[str, Any] = {}
    for target, cell in lease.raw.items():
        if target in DATE_TARGETS and parse_date(cell) is None:
            lease.notes[target] = cell_text(cell)  # "Lease in process": kept, the date missing
            continue
        value, problem = normalise_cell("leases", target, cell)
        if problem and target in RENT_BASIS:
            lease.notes["payments"] = cell_text(cell)  # "TBD": kept, the payments missing
        elif problem:
            lease.problem(target, problem)
        elif value is not None:
            values[target] = value
    for target, value in defaults.items():
        values.setdefault(target, value)
    lease.lease_number = values.get("lease_number")
    _payments_from_rent(lease, values)
    _point(lease, values, row)
    lease.data = {k: v for k, v in values.items() if k not in _NOT_SENT}
    return lease


def _payments_from_rent(lease: LeaseRow, values: dict[str, Any]) -> None:
    """One payment step over the whole term from a rent amount and the period it is for.

    A rent column named for a period (monthly, quarterly) is paid each such period unless a
    payment frequency says otherwise; an annual rent is a total that does not say how often it
    is paid, so it needs an explicit frequency. Amounts are converted only when the result is
    whole cents (12 x 10,000.00, not 100,000.00 / 12): a rounded rent would be invented.
    """
    rents = [target for target in RENT_BASIS if target in lease.raw or target in values]
    if not rents or "payments" in values:
        return
    lease.derived_from["payments"] = rents[0]
    frequency = values.get("payment_frequency")
    if frequency is None:
        bases = [RENT_BASIS[target] for target in rents]
        if "monthly" in bases or "quarterly" in bases:
            frequency = "monthly" if "monthly" in bases else "quarterly"
            values["payment_frequency"] = frequency
            lease.derived_from["payment_frequency"] = rents[bases.index(frequency)]
        else:
            basis = "an annual rent" if "annual" in bases else "a rent amount"
            lease.problem(
                "payment_frequency",
                f"is required to read {basis}: add a payment "
                "frequency column or --default payment_frequency=monthly",
            )
            return
    if frequency not in MONTHS_PER_PAYMENT or any(target not in values for target in rents):
        return  # validation reports the frequency, the rent its own problem
    amount = _payment_amount(lease, values, rents, frequency)
    periods = _period_count(lease, values, MONTHS_PER_PAYMENT[frequency], frequency)
    if amount is None or periods is None:
        return  # the rent's or the term's own problem says why
    values["payments"] = [{"periods": periods, "amount": f"{amount:.2f}"}]


def _payment_amount(
    lease: LeaseRow, values: dict[str, Any], rents: list[str], frequency: str
) -> Decimal | None:
    amounts: list[tuple[str, Decimal]] = []
    for target in rents:
        stated = Decimal(values[target])
        basis = RENT_BASIS[target] or frequency
        amount = stated * MONTHS_PER_PAYMENT[frequency] / MONTHS_PER_PAYMENT[basis]
        if amount != amount.quantize(_CENT):
            lease.problem(
                target,
                f"{stated:,.2f} per {_period(basis)} is not a whole number of "
                f"cents per {frequency} payment ({amount:,.4f}); give the "
                f"{frequency} amount",
            )
            return None
        amounts.append((target, amount))
    first_target, first = amounts[0]
    for target, amount in amounts[1:]:
        if amount != first:
            lease.problem(
                target,
                f"gives {amount:,.2f} per {frequency} payment but "
                f"{first_target} gives {first:,.2f}",
            )
            return None
    return first


def _period(frequency: str) -> str:
    return {"monthly": "month", "quarterly": "quarter", "annual": "year"}[frequency]


def _period_count(
    lease: LeaseRow, values: dict[str, Any], months: int, frequency: str
) -> int | None:
    """The payment periods of the term, as the engine counts them: `term_months` of whole
    periods, or from commencement to the end date, a partial first or last period included
    (`accounting.periods`)."""
    term = values.get("term_months")
    if term is not None:
        if not isinstance(term, int):
            return None
        if term % months:
            lease.problem(
                "payments",
                f"a {term}-month term is not a whole number of "
                f"{frequency} payments; give the end date or the payment steps",
            )
            return None
        return term // months
    start, end = parse_date(values.get("commencement_date")), parse_date(values.get("end_date"))
    if start is None or end is None or end < start:
        return None
    term_end = end + dt.timedelta(days=1)
    return len(payment_periods(start, term_end, months, default_anchor(start, term_end, months)))


def _point(lease: LeaseRow, values: dict[str, Any], row: SourceRow) -> None:
    """The feature's point, or longitude/latitude columns; used to find a missing parcel."""
    if row.geometry_problem:
        lease.problem("geometry", row.geometry_problem)
        return
    if row.point is not None:
        lease.point = row.point
        return
    x, y = values.get("longitude"), values.get("latitude")
    if x is not None and y is not None:
        lease.point = (float(x), float(y))
    elif (x is None) != (y is None):
        lease.problem(
            "longitude" if x is None else "latitude", "is required with the other coordinate"
        )
