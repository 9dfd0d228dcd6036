"""Recorded lease modifications turned into the engine's remeasurements (no database here).

A modification stores only what changed (`terms`), described from its effective date on: the
remaining `term_months` or a new `end_date`, the `payments` from then on, a new `discount_rate`, …
Whatever it does not change is carried from the terms in force: the end date, the remaining payments
as they would have been paid (escalation and free rent already applied, so `escalation_pct` and
`free_periods` of a modification count from its effective date and default to 0; a partial last
period re-prorated as before), the rate in force and the remaining useful life. An effective date
inside a payment period keeps the periods' dates: the new terms' first period is the rest of that
period and carries its payment as it was billed (none left if paid in advance, all of it at the
period's end if in arrears); given `payments` describe the periods after it, and the frequency and
timing can change only on a period's first day. Costs, incentives and prepayments of the
modification itself default to 0. Modifications apply in date order, each on the schedule the
previous one left, and each result carries the ones before it, so the last one's `history` is the
whole lease. A lease paid in arrears is modified like any other: the engine keeps the payment due on
the effective date with the earlier schedule (it settles the period ending that day).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import Any

from registry.fields import Problems
from registry.fields import to_choice
from registry.fields import to_date
from registry.fields import to_decimal
from registry.fields import to_int
from registry.fields import to_money
from registry.leases.accounting import LeaseHistory
from registry.leases.accounting import LeaseModification
from registry.leases.accounting import LeaseSchedule
from registry.leases.accounting import LeaseTerms
from registry.leases.accounting import LeaseTermsError
from registry.leases.accounting import PaymentStep
from registry.leases.accounting import ScheduledPayment
from registry.leases.accounting import modify_lease
from registry.leases.accounting import payment_stream
from registry.leases.accounting.money import ZERO
from registry.leases.accounting.money import add_months
from registry.leases.accounting.periods import payment_periods
from registry.leases.accounting.periods import whole_months
from registry.leases.fields import to_payment_steps
from registry.leases.fields import to_rate
from registry.vocabulary import PAYMENT_FREQUENCIES
from registry.vocabulary import PAYMENT_TIMINGS

MODIFICATION_FIELDS: tuple[str, ...] = (
    "term_months", "end_date", "payment_frequency", "payment_timing", "payments", "escalation_pct",
    "free_periods", "non_lease_amount", "discount_rate", "initial_direct_costs", "incentives",
    "prepaid_at_commencement", "useful_life_months",
)  # fmt: skip


@dataclass(frozen=True)
class RecordedModification:
    """One row of `lease_modifications`: the changed terms as stored (JSON-ready)."""

    effective_date: dt.date
    terms: Mapping[str, Any]
    reason: str | None = None
    id: int | None = None
    recorded_at: dt.datetime | None = field(default=None, compare=False)


def modification_order(modification: RecordedModification) -> tuple[dt.date, bool, int]:
    """Date order; of two on one date the one recorded first (a new, unsaved one last)."""
    return modification.effective_date, modification.id is None, modification.id or 0


class ModificationInvalid(LeaseTermsError):
    """The modification at `index` (in date order) cannot be applied; `errors` name
    `effective_date` or `terms.<field>`."""

    def __init__(self, index: int, errors: list[tuple[str, str]]) -> None:
        super().__init__(errors)
        self.index = index


def clean_modification_terms(problems: Problems, terms: Any) -> dict[str, Any]:
    """The changed terms typed and normalised for storage (money and rates as strings)."""
    if not isinstance(terms, Mapping):
        problems.add("terms", "must be an object of the changed lease terms")
        return {}
    clean: dict[str, Any] = {}
    for name, value in terms.items():
        here = f"terms.{name}"
        if name not in MODIFICATION_FIELDS:
            problems.add(
                here,
                f"cannot be changed by a modification (allowed: {', '.join(MODIFICATION_FIELDS)})",
            )
        elif name in ("term_months", "useful_life_months"):
            clean[name] = to_int(problems, here, value, minimum=1)
        elif name == "end_date":
            end = to_date(problems, here, value)
            clean[name] = None if end is None else end.isoformat()
        elif name == "free_periods":
            clean[name] = to_int(problems, here, value, minimum=0)
        elif name == "payment_frequency":
            clean[name] = to_choice(problems, here, value, PAYMENT_FREQUENCIES)
        elif name == "payment_timing":
            clean[name] = to_choice(problems, here, value, PAYMENT_TIMINGS)
        elif name == "payments":
            clean[name] = to_payment_steps(problems, here, value)
        elif name == "discount_rate":
            rate = to_rate(problems, here, value)
            clean[name] = None if rate is None else f"{rate:f}"
        elif name == "escalation_pct":
            pct = to_decimal(
                problems,
                here,
                value,
                places=4,
                minimum=Decimal(0),
                maximum=Decimal(100),
                what="a yearly percent",
            )
            clean[name] = None if pct is None else f"{pct:f}"
        else:
            amount = to_money(problems, here, value)
            clean[name] = None if amount is None else f"{amount:.2f}"
    if "term_months" in clean and "end_date" in clean:
        problems.add("terms.end_date", "give the remaining term_months or the end_date, not both")
    return {name: value for name, value in clean.items() if value is not None}


def outside_the_term(
    in_force: LeaseTerms, effective: dt.date, *, after_modification: bool
) -> str | None:
    """Why `effective` cannot start a modification of the terms `in_force`, if it cannot: it
    must fall inside their term. Terms in force since a modification began on its effective
    date, which is named as such (it was called "the commencement date", which finance read as
    the lease's own)."""
    if in_force.commencement_date < effective < in_force.term_end:
        return None
    start = (
        f"the modification before it, effective {in_force.commencement_date},"
        if after_modification
        else f"the commencement date {in_force.commencement_date}"
    )
    return (
        f"{effective} must fall after {start} and before the term ends "
        f"({in_force.last_day} is its last day)"
    )


def _period_index(
    old: LeaseTerms,
    stream: Sequence[ScheduledPayment],
    effective: dt.date,
    *,
    after_modification: bool = False,
) -> int:
    """The payment period `effective` falls in: on its first day, or inside it."""
    outside = outside_the_term(old, effective, after_modification=after_modification)
    if outside:
        raise LeaseTermsError([("effective_date", outside)])
    return next(index for index, p in enumerate(stream) if p.period_end > effective)


def _steps(amounts: Sequence[Decimal]) -> tuple[PaymentStep, ...]:
    steps: list[PaymentStep] = []
    for amount in amounts:
        if steps and steps[-1].amount == amount:
            steps[-1] = PaymentStep(steps[-1].periods + 1, amount)
        else:
            steps.append(PaymentStep(1, amount))
    return tuple(steps)


def _new_end(old: LeaseTerms, effective: dt.date, changes: Mapping[str, Any]) -> dt.date:
    """The day after the last day of the term from `effective` on."""
    if "end_date" in changes:
        return dt.date.fromisoformat(str(changes["end_date"])) + dt.timedelta(days=1)
    if "term_months" in changes:
        return add_months(effective, int(changes["term_months"]))
    return old.term_end


def remeasurement_terms(
    in_force: LeaseSchedule,
    effective: dt.date,
    changes: Mapping[str, Any],
    *,
    after_modification: bool = False,
) -> LeaseTerms:
    """The engine's terms for the lease from `effective` on (see the module docstring);
    `after_modification` when `in_force` is a modification's remeasured schedule."""
    old = in_force.terms
    stream = payment_stream(old)
    index = _period_index(old, stream, effective, after_modification=after_modification)
    inside = stream[index].period_start != effective
    frequency = changes.get("payment_frequency", old.payment_frequency)
    timing = changes.get("payment_timing", old.payment_timing)
    for name, value in (("payment_frequency", frequency), ("payment_timing", timing)):
        if inside and value != getattr(old, name):
            raise LeaseTermsError(
                [
                    (
                        f"terms.{name}",
                        (
                            "cannot change inside a payment period: make the modification "
                            "effective on the "
                            f"first day of one ({stream[index].period_end})"
                        ),
                    )
                ]
            )
    regular = old.is_regular and not inside and "end_date" not in changes
    remaining = old.term_months - index * old.months_per_period
    end = _new_end(old, effective, changes)
    new_term = (
        int(changes.get("term_months", remaining)) != remaining if regular else end != old.term_end
    )
    payments: tuple[PaymentStep, ...]
    if "payments" in changes:
        payments = tuple(
            PaymentStep(int(s["periods"]), Decimal(s["amount"])) for s in changes["payments"]
        )
    elif new_term or frequency != old.payment_frequency or timing != old.payment_timing:
        raise LeaseTermsError(
            [
                (
                    "terms.payments",
                    (
                        "give the payment steps for the new term "
                        f"(to {end - dt.timedelta(days=1)}, {frequency}); only an unchanged "
                        f"remaining term (to {old.last_day}) and payment timing carry the old "
                        "payments"
                    ),
                )
            ]
        )
    else:
        payments = _steps([p.billed_in_full for p in stream[index + inside :]])
    life = changes.get("useful_life_months")
    if life is None and old.useful_life_months is not None:
        elapsed = (
            index * old.months_per_period
            if regular
            else whole_months(old.commencement_date, effective)
        )
        life = max(1, old.useful_life_months - elapsed)
    rate = changes.get("discount_rate", in_force.discount_rate)

    def money(name: str, default: Decimal = Decimal("0.00")) -> Decimal:
        return Decimal(changes[name]) if name in changes else default

    common: dict[str, Any] = dict(
        direction=old.direction,
        commencement_date=effective,
        payment_frequency=frequency,
        payment_timing=timing,
        escalation_pct=money("escalation_pct", Decimal(0)),
        free_periods=int(changes.get("free_periods", 0)),
        non_lease_amount=money("non_lease_amount", old.non_lease_amount),
        discount_rate=None if rate is None else Decimal(rate),
        initial_direct_costs=money("initial_direct_costs"),
        incentives=money("incentives"),
        prepaid_at_commencement=money("prepaid_at_commencement"),
        useful_life_months=life,
    )
    try:
        if regular:
            term = int(changes.get("term_months", remaining))
            return LeaseTerms(
                **common, term_months=term, max_possible_term_months=term, payments=payments
            )
        share = None
        if inside:
            payments = _with_current_period(old, stream[index], effective, end, payments)
            share = stream[index].billed_share if old.payment_timing == "arrears" else None
        return LeaseTerms(
            **common,
            end_date=end - dt.timedelta(days=1),
            first_period_share=share,
            period_anchor=old.anchor if frequency == old.payment_frequency else None,
            payments=payments,
        )
    except LeaseTermsError as error:
        raise LeaseTermsError(
            [(_terms_field(_shifted(name, inside)), message) for name, message in error.errors]
        ) from error


def _with_current_period(
    old: LeaseTerms,
    current: ScheduledPayment,
    effective: dt.date,
    end: dt.date,
    later: tuple[PaymentStep, ...],
) -> tuple[PaymentStep, ...]:
    """The payments from a date inside a period: that period's payment as it was billed (none
    left if paid in advance, all of it if in arrears), then `later`, which must cover the
    periods after it."""
    after = len(payment_periods(effective, end, old.months_per_period, old.anchor)) - 1
    given = sum(step.periods for step in later)
    if given != after:
        raise LeaseTermsError(
            [
                (
                    "terms.payments",
                    (
                        f"periods sum to {given} but the term has {after} payment periods "
                        "after the one "
                        f"the modification falls in ({current.period_start} to "
                        f"{current.period_end - dt.timedelta(days=1)}), whose payment stays "
                        "as it was"
                    ),
                )
            ]
        )
    owed = ZERO if old.payment_timing == "advance" else current.billed_in_full
    return (PaymentStep(1, owed), *later)


def _shifted(name: str, inside: bool) -> str:
    """An engine problem's field in the payments the modification gave (without the current
    period's payment put in front of them for one effective inside a period)."""
    match = re.match(r"payments\[(\d+)\](.*)", name)
    if not inside or match is None:
        return name
    index = int(match[1]) - 1
    return "payments" if index < 0 else f"payments[{index}]{match[2]}"


def _terms_field(name: str) -> str:
    return name if name.startswith("terms.") or name == "effective_date" else f"terms.{name}"


def apply_modifications(
    base: LeaseSchedule, modifications: Sequence[RecordedModification]
) -> list[LeaseModification]:
    """Each modification remeasured on the schedule in force before it, in date order.

    Each is chained on the previous result (not just its schedule) so it carries the earlier
    ones: `balances_at` & co. on the last one then reach back to commencement."""
    results: list[LeaseModification] = []
    previous: LeaseSchedule | LeaseModification = base
    ordered = sorted(modifications, key=modification_order)
    for index, recorded in enumerate(ordered):
        in_force = previous if isinstance(previous, LeaseSchedule) else previous.remeasured
        try:
            terms = remeasurement_terms(
                in_force,
                recorded.effective_date,
                recorded.terms,
                after_modification=isinstance(previous, LeaseModification),
            )
            result = modify_lease(previous, terms)
        except LeaseTermsError as error:
            raise ModificationInvalid(
                index, [(_terms_field(name), message) for name, message in error.errors]
            ) from error
        results.append(result)
        previous = result
    return results


def modification_history(
    base: LeaseSchedule, modifications: Sequence[RecordedModification]
) -> LeaseHistory:
    """The engine's whole history of a lease: `base` and every recorded modification applied."""
    applied = apply_modifications(base, modifications)
    return applied[-1].history if applied else LeaseHistory(base)


def clean_modification(
    effective_date: Any, terms: Any
) -> tuple[dt.date | None, dict[str, Any], Problems]:
    """Convert a modification request; the problems name `effective_date` and `terms.*`."""
    problems = Problems()
    effective = to_date(problems, "effective_date", effective_date)
    if effective is None and "effective_date" not in problems.failed:
        problems.add("effective_date", "is required")
    return effective, clean_modification_terms(problems, terms), problems
