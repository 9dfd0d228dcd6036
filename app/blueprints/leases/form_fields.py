"""The lease forms' fields: what each input is called on the page, how a posted form becomes the
API's lease fields (so `registry.leases.records` validates a form exactly as it does the JSON
API), and how the problems it finds come back next to the inputs, in the form's words.

Payment steps and options are rows of plain inputs (`payments-0-periods`, `options-1-kind`…)
with a few blank rows to fill: no script is needed to add one. Blank rows are skipped; a problem
of the n-th step sent is shown on the row it came from.

A problem's field (`payments[1].amount`, `terms.end_date`) is mapped to an input id and a label
("Payment step 2: amount"); API field names inside a message are replaced by their labels, so
nothing internal reaches the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from werkzeug.datastructures import MultiDict

from registry.fields import FieldProblem
from registry.leases.options import OPTION_HOLDERS
from registry.leases.options import OPTION_KINDS

#: Blank rows offered after the rows a lease has.
BLANK_ROWS = 3
#: At most this many rows are read from a form (a lease has a handful).
MAX_ROWS = 60

DIRECTION_CHOICES = (("in", "City is tenant (lessee)"), ("out", "City is landlord (lessor)"))
PORTFOLIO_CHOICES = (
    ("payable", "Payable"),
    ("receivable", "Receivable"),
    ("non_profit", "Non-profit"),
)
FREQUENCY_CHOICES = (("monthly", "Monthly"), ("quarterly", "Quarterly"), ("annual", "Annual"))
TIMING_CHOICES = (("advance", "In advance"), ("arrears", "In arrears"))
RATE_SOURCE_CHOICES = (
    ("stated", "Stated in the lease"),
    ("implicit", "Implicit (solved from fair value)"),
    ("ibr_table", "Incremental borrowing rate table"),
)
FUND_CHOICES = (("governmental", "Governmental"), ("business_type", "Business-type"))
OPTION_KIND_CHOICES = tuple((kind, kind.capitalize()) for kind in OPTION_KINDS)
OPTION_HOLDER_CHOICES = tuple((holder, holder.capitalize()) for holder in OPTION_HOLDERS)


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text, number, date, select, textarea, checkbox
    choices: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    required: bool = False


#: The lease form's single inputs, in the order shown, in groups.
LEASE_GROUPS: tuple[tuple[str, tuple[Field, ...]], ...] = (
    (
        "The lease",
        (
            Field("lease_number", "Lease number", required=True, hint="Letters, digits, . _ -"),
            Field("direction", "Direction", "select", DIRECTION_CHOICES, required=True),
            Field("portfolio", "Portfolio", "select", PORTFOLIO_CHOICES),
            Field("counterparty", "Counterparty", required=True, hint="The landlord or tenant"),
            Field("department_code", "Department", "select"),
            Field("parcel_id", "Parcel", hint="Parcel id, as on the parcel page"),
            Field("building_id", "Building"),
            Field("premises", "Premises"),
            Field("leased_area_sq_ft", "Leased area (sq ft)", "number"),
            Field("approval_reference", "Approval reference"),
            Field("source_document", "Source document"),
        ),
    ),
    (
        "Term",
        (
            Field("commencement_date", "Commencement date", "date", required=True),
            Field("term_months", "Term (months)", "number", hint="Or give the end date"),
            Field("end_date", "End date", "date", hint="The term's last day"),
            Field("max_possible_term_months", "Maximum possible term (months)", "number"),
            Field("occupied", "Occupied", "checkbox"),
            Field("terminated_on", "Terminated on", "date"),
        ),
    ),
    (
        "Payments",
        (
            Field(
                "payment_frequency", "Payment frequency", "select", FREQUENCY_CHOICES, required=True
            ),
            Field("payment_timing", "Payment timing", "select", TIMING_CHOICES, required=True),
            Field("escalation_pct", "Yearly escalation (%)", "text", hint="A percent, e.g. 3"),
            Field("free_periods", "Free periods", "number"),
            Field("non_lease_amount", "Non-lease amount per payment", hint="e.g. 250.00"),
        ),
    ),
    (
        "Measurement",
        (
            Field(
                "discount_rate", "Discount rate", hint="An annual rate: 0.04, or 4% with the sign"
            ),
            Field("discount_rate_source", "Discount rate source", "select", RATE_SOURCE_CHOICES),
            Field("fair_value", "Fair value"),
            Field("residual_value", "Residual value guarantee"),
            Field("initial_direct_costs", "Initial direct costs"),
            Field("incentives", "Incentives"),
            Field("prepaid_at_commencement", "Prepaid at commencement"),
            Field("useful_life_months", "Useful life (months)", "number"),
            Field("fund_type", "Fund type", "select", FUND_CHOICES),
            Field("market_rent_annual", "Market rent (annual)"),
            Field("notes", "Notes", "textarea"),
        ),
    ),
)
LEASE_INPUTS: dict[str, Field] = {f.name: f for _, group in LEASE_GROUPS for f in group}
STEP_KEYS = ("periods", "amount")
OPTION_KEYS = ("kind", "holder", "months", "notice_months", "reasonably_certain")
_ROW_LABELS = {
    "payments": ("Payment step", {"periods": "periods", "amount": "amount"}),
    "options": (
        "Option",
        {
            "kind": "kind",
            "holder": "holder",
            "months": "months",
            "notice_months": "notice (months)",
            "reasonably_certain": "reasonably certain",
        },
    ),
}
#: Labels of the modification form's own inputs (its terms are the lease's).
MODIFICATION_LABELS = {
    "kind": "Kind of modification",
    "effective_date": "Effective date",
    "reason": "Reason",
    "added_months": "Months added",
    "end_date": "New end date",
    "termination_date": "Termination date",
    "payments": "Payment steps",
    "escalation_pct": "Yearly escalation (%)",
}
_OTHER_LABELS = {
    "payments": "Payment steps",
    "options": "Options",
    "file": "File",
    "kind": "Kind",
    "location": "Location",
    "source_notes": "Source notes",
}


# -- reading a posted form ---------------------------------------------------------------------


def _text(form: MultiDict[str, str], name: str) -> str:
    return form.get(name, "")


def rows_of(form: MultiDict[str, str], prefix: str, keys: Iterable[str]) -> list[dict[str, str]]:
    """The rows of a repeatable group as typed (blank rows included), at most `MAX_ROWS`."""
    keys = tuple(keys)
    rows = []
    for index in range(MAX_ROWS):
        if not any(f"{prefix}-{index}-{key}" in form for key in keys):
            break
        rows.append({key: _text(form, f"{prefix}-{index}-{key}").strip() for key in keys})
    return rows


def _filled(row: Mapping[str, str], keys: Iterable[str]) -> bool:
    return any(row.get(key) for key in keys if key != "reasonably_certain")


def steps_from_rows(rows: list[dict[str, str]]) -> tuple[list[dict[str, Any]], list[int]]:
    """The payment steps of the filled rows, and each step's row number on the form."""
    kept = [(i, row) for i, row in enumerate(rows) if _filled(row, STEP_KEYS)]
    steps = [
        {"periods": row["periods"] or None, "amount": row["amount"] or None} for _, row in kept
    ]
    return steps, [i for i, _ in kept]


def options_from_rows(rows: list[dict[str, str]]) -> tuple[list[dict[str, Any]], list[int]]:
    kept = [(i, row) for i, row in enumerate(rows) if _filled(row, OPTION_KEYS)]
    options = [
        {
            "kind": row["kind"] or None,
            "holder": row["holder"] or None,
            "months": row["months"] or None,
            "notice_months": row["notice_months"] or None,
            "reasonably_certain": row["reasonably_certain"] == "yes",
        }
        for _, row in kept
    ]
    return options, [i for i, _ in kept]


@dataclass
class LeaseForm:
    """A lease form as typed: the single inputs, the rows, and where each sent row came from."""

    values: dict[str, str]
    payments: list[dict[str, str]]
    options: list[dict[str, str]]
    row_numbers: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def from_post(cls, form: MultiDict[str, str]) -> LeaseForm:
        values = {name: _text(form, name).strip() for name in LEASE_INPUTS}
        values["occupied"] = "yes" if form.get("occupied") == "yes" else ""
        return cls(
            values,
            rows_of(form, "payments", STEP_KEYS),
            rows_of(form, "options", OPTION_KEYS),
        )

    @classmethod
    def from_lease(cls, lease: Mapping[str, Any] | None) -> LeaseForm:
        """The form showing a stored lease (as `lease_as_dict` gives it), or a new one's
        defaults."""
        if lease is None:
            values = {name: "" for name in LEASE_INPUTS}
            values.update(
                direction="in",
                payment_frequency="monthly",
                payment_timing="advance",
                fund_type="governmental",
                occupied="yes",
            )
            return cls(values, [], [])
        values = {name: _shown(lease.get(name)) for name in LEASE_INPUTS}
        values["occupied"] = "yes" if lease.get("occupied") is not False else ""
        payments = [
            {k: _shown(step.get(k)) for k in STEP_KEYS} for step in lease.get("payments") or []
        ]
        options = [
            {
                **{k: _shown(option.get(k)) for k in OPTION_KEYS},
                "reasonably_certain": "yes" if option.get("reasonably_certain") else "",
            }
            for option in lease.get("options") or []
        ]
        return cls(values, payments, options)

    def lease_data(self) -> dict[str, Any]:
        """Everything on the form as API fields (blank: not given), for a new lease."""
        data: dict[str, Any] = {
            name: value or None for name, value in self.values.items() if name != "occupied"
        }
        data["occupied"] = self.values.get("occupied") == "yes"
        steps, self.row_numbers["payments"] = steps_from_rows(self.payments)
        options, self.row_numbers["options"] = options_from_rows(self.options)
        data["payments"] = steps or None
        data["options"] = options
        return {key: value for key, value in data.items() if value is not None}

    def changes_from(self, shown: LeaseForm) -> dict[str, Any]:
        """Only what differs from the form as it was shown (a PATCH): an input left alone
        changes nothing, so a derived value (the end from the term, a maximum term that follows
        the options) is not pinned by being sent back."""
        data = self.lease_data()
        before = shown.lease_data()
        changed: dict[str, Any] = {}
        for name in (*LEASE_INPUTS, "payments", "options"):
            if data.get(name) != before.get(name):
                changed[name] = data.get(name)
        return changed

    def rows_with_blanks(self, name: str) -> list[dict[str, str]]:
        rows = self.payments if name == "payments" else self.options
        keys = STEP_KEYS if name == "payments" else OPTION_KEYS
        return [*rows, *({key: "" for key in keys} for _ in range(BLANK_ROWS))]


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# -- problems back on the form -----------------------------------------------------------------


@dataclass(frozen=True)
class ShownProblem:
    input_id: str  # the id of the input it belongs to ("" when none on the form)
    label: str
    message: str

    @property
    def text(self) -> str:
        return f"{self.label}: {self.message}"


_ROW_FIELD = re.compile(r"(payments|options)\[(\d+)\](?:\.(\w+))?")
_FIELD_WORD = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def _label_of(name: str, labels: Mapping[str, str]) -> str:
    if name in labels:
        return labels[name]
    if name in LEASE_INPUTS:
        return LEASE_INPUTS[name].label
    return _OTHER_LABELS.get(name, name.replace("_", " ").capitalize())


def in_words(message: str, labels: Mapping[str, str] | None = None) -> str:
    """A validation message with API field names replaced by their labels (lower case)."""
    labels = labels or {}

    def word(match: re.Match[str]) -> str:
        name = match.group(0)
        known = name in labels or name in LEASE_INPUTS or name in _OTHER_LABELS
        return _label_of(name, labels).lower() if known else name.replace("_", " ")

    return _FIELD_WORD.sub(word, message)


def shown_problems(
    problems: Iterable[FieldProblem],
    row_numbers: Mapping[str, list[int]],
    labels: Mapping[str, str] | None = None,
    prefix: str = "",
) -> list[ShownProblem]:
    """Each problem with the id of its input and its label. `prefix` ("terms.") is removed
    from the fields first (a modification's terms are named so)."""
    labels = labels or {}
    shown = []
    for problem in problems:
        name = problem.field.removeprefix(prefix)
        message = in_words(problem.message, labels)
        row = _ROW_FIELD.fullmatch(name)
        if row:
            group, sent, key = row.group(1), int(row.group(2)), row.group(3)
            numbers = row_numbers.get(group, [])
            index = numbers[sent] if sent < len(numbers) else sent
            title, keys = _ROW_LABELS[group]
            label = f"{title} {index + 1}" + (f": {keys.get(key, key)}" if key else "")
            input_id = f"{group}-{index}-{key or _first_key(group)}"
        elif name.split(".")[0].split("[")[0] in (*LEASE_INPUTS, *labels, "payments", "options"):
            base = name.split(".")[0].split("[")[0]
            label, input_id = _label_of(base, labels), _input_id(base)
        else:
            label, input_id = _label_of(name, labels), ""
        shown.append(ShownProblem(input_id, label, message))
    return shown


def _first_key(group: str) -> str:
    return STEP_KEYS[0] if group == "payments" else OPTION_KEYS[0]


def _input_id(name: str) -> str:
    if name in ("payments", "options"):
        return f"{name}-0-{_first_key(name)}"
    return name


def problems_by_input(problems: Iterable[ShownProblem]) -> dict[str, list[ShownProblem]]:
    by_input: dict[str, list[ShownProblem]] = {}
    for problem in problems:
        if problem.input_id:
            by_input.setdefault(problem.input_id, []).append(problem)
    return by_input
