"""Lease modifications: remeasure from the modification date, keep the history.

GASB 87 (paras. 71-73): the liability / receivable is remeasured at the
present value of the remaining payments under the new terms (new rate), and
the right-to-use asset / deferred inflow is adjusted by the same change.  The
earlier measurement is not restated, so the result holds the original schedule
up to the modification date next to the remeasured one.

Initial direct costs, prepayments and incentives given in the new terms move
the asset / deferred inflow as they do at commencement.  If the asset (or
deferred inflow) would go below zero - the liability fell by
more than the asset carried, as in a partial termination - it stops at zero
and the excess is a gain (lessee) or a loss (lessor) in ``gain_or_loss``.

Which rows the earlier measurement keeps: every row due before the modification
date and, for a lease paid in arrears, the row due on it - that payment settles
the period ending that day, while the new terms' first payment settles the
first period after it.  (Keeping only rows due *before* the date lost that
payment: modifying a 2,400-a-quarter arrears lease with unchanged terms gave
an adjustment of -2,399.99.)  An advance payment due on the date pays for the
period starting then, so it belongs to the new terms.

Modifying a ``LeaseModification`` (or a ``LeaseHistory``) remeasures its
latest schedule and carries every earlier modification in ``earlier``, so the
result's ``history`` - and ``balances_at`` & co. on it - reaches back to
commencement.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import date
from decimal import Decimal

from registry.fiscal_years import ONE_DAY

from .balances import LeaseState
from .balances import schedule_state
from .history import LeaseHistory
from .measurement import initial_measurement
from .measurement import resolve_discount_rate
from .money import ZERO
from .money import money_str
from .schedule import LeaseSchedule
from .schedule import build_schedule
from .schedule import lease_schedule
from .terms import LeaseTerms
from .terms import LeaseTermsError


@dataclass(frozen=True)
class LeaseModification:
    """Both measurements of a modified lease and the bridge between them.

    ``original`` lists the rows of the earlier schedule that stay booked (due
    before ``modification_date``, or on it for a lease paid in arrears);
    ``remeasured`` starts at it.  ``earlier`` holds the modifications before
    this one (oldest first), so ``history`` is the whole chain.  ``adjustment``
    is the remeasured liability (receivable) less the carrying liability plus
    accrued interest just before the modification; ``carrying_before`` /
    ``carrying_after`` are the right-to-use asset (lessee) or deferred inflow
    (lessor) around it.
    """

    modification_date: date
    original: LeaseSchedule
    remeasured: LeaseSchedule
    balance_before: Decimal
    accrued_interest_before: Decimal
    carrying_before: Decimal
    adjustment: Decimal
    carrying_after: Decimal
    gain_or_loss: Decimal
    original_full: LeaseSchedule = field(repr=False)
    earlier: tuple[LeaseModification, ...] = field(default=(), repr=False)

    @property
    def direction(self) -> str:
        """``"in"`` (city is lessee) or ``"out"`` (city is lessor)."""
        return self.remeasured.direction

    @property
    def history(self) -> LeaseHistory:
        """The schedule at commencement, every earlier modification and this one."""
        base = self.earlier[0].original_full if self.earlier else self.original_full
        return LeaseHistory(base, (*self.earlier, self))

    @property
    def paid_through(self) -> date:
        """Last due date whose payment belongs to the earlier schedule."""
        return _paid_through(self.original_full, self.modification_date)

    def state_before(self) -> LeaseState:
        """Totals of the earlier schedule (from its own commencement) just before the
        modification: accruals to the day before, payments through ``paid_through``."""
        return _state_before(self.original_full, self.modification_date)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready rendering of both schedules and the remeasurement bridge."""
        carrying = "right_of_use_asset" if self.direction == "in" else "deferred_inflow"
        return {
            "modification_date": self.modification_date.isoformat(),
            "balance_before": money_str(self.balance_before),
            "accrued_interest_before": money_str(self.accrued_interest_before),
            "balance_after": money_str(self.remeasured.initial_measurement),
            "adjustment": money_str(self.adjustment),
            f"{carrying}_before": money_str(self.carrying_before),
            f"{carrying}_after": money_str(self.carrying_after),
            "gain_or_loss": money_str(self.gain_or_loss),
            "original": self.original.to_dict(),
            "remeasured": self.remeasured.to_dict(),
        }


def _paid_through(schedule: LeaseSchedule, cutoff: date) -> date:
    """An arrears payment due on ``cutoff`` settles the period ending then (kept);
    an advance one pays for the period starting then (replaced by the new terms)."""
    return cutoff if schedule.terms.payment_timing == "arrears" else cutoff - ONE_DAY


def _state_before(schedule: LeaseSchedule, cutoff: date) -> LeaseState:
    return schedule_state(schedule, cutoff - ONE_DAY, paid_through=_paid_through(schedule, cutoff))


def modify_lease(
    original: LeaseTerms | LeaseSchedule | LeaseModification | LeaseHistory,
    new_terms: LeaseTerms,
) -> LeaseModification:
    """Remeasure ``original`` under ``new_terms`` from ``new_terms.commencement_date``.

    ``original`` may be the terms or schedule at commencement, or a previous
    modification / history, whose latest schedule is remeasured and whose
    earlier modifications are carried along (the new date must follow them).

    ``new_terms`` describe the lease from the modification date on: remaining
    term, remaining (new) payments, new discount rate, remaining useful life.
    The short-term exception is not re-tested (it is judged at commencement),
    except for a lease that was short-term to begin with, which is measured
    afresh under ``new_terms``.
    """
    earlier: tuple[LeaseModification, ...] = ()
    if isinstance(original, LeaseTerms):
        full = lease_schedule(original)
    elif isinstance(original, LeaseSchedule):
        full = original
    else:
        history = original.history
        full, earlier = history.latest, history.modifications
    cutoff = new_terms.commencement_date
    _check_modification(full.terms, new_terms)
    paid_through = _paid_through(full, cutoff)
    kept = replace(full, rows=tuple(row for row in full.rows if row.date <= paid_through))
    if full.short_term:
        remeasured = lease_schedule(new_terms)
        return LeaseModification(
            modification_date=cutoff,
            original=kept,
            remeasured=remeasured,
            balance_before=ZERO,
            accrued_interest_before=ZERO,
            carrying_before=ZERO,
            adjustment=remeasured.initial_measurement,
            carrying_after=remeasured.opening_recognizable,
            gain_or_loss=ZERO,
            original_full=full,
            earlier=earlier,
        )
    before = _state_before(full, cutoff)
    rate = resolve_discount_rate(new_terms)
    if rate is None:
        raise LeaseTermsError([("discount_rate", "is required to remeasure the lease")])
    new_balance = initial_measurement(new_terms, rate)
    adjustment = new_balance - before.balance - before.accrued_interest
    carrying_after = before.carrying + adjustment + _modification_extras(new_terms)
    gain_or_loss = ZERO
    if carrying_after < 0:
        # Lessee: liability dropped by more than the asset -> gain.
        # Lessor: receivable dropped by more than the deferred inflow -> loss.
        gain_or_loss = -carrying_after if full.direction == "in" else carrying_after
        carrying_after = ZERO
    remeasured = build_schedule(
        new_terms, opening_override=carrying_after, apply_short_term_test=False
    )
    return LeaseModification(
        modification_date=cutoff,
        original=kept,
        remeasured=remeasured,
        balance_before=before.balance,
        accrued_interest_before=before.accrued_interest,
        carrying_before=before.carrying,
        adjustment=adjustment,
        carrying_after=carrying_after,
        gain_or_loss=gain_or_loss,
        original_full=full,
        earlier=earlier,
    )


def _modification_extras(new_terms: LeaseTerms) -> Decimal:
    """Costs, prepayments and incentives of the modification itself.

    They move the asset / deferred inflow exactly as they do at commencement:
    a lessee adds initial direct costs and prepayments and deducts incentives;
    a lessor adds payments received in advance and deducts incentives paid.
    """
    extras = Decimal(new_terms.prepaid_at_commencement) - Decimal(new_terms.incentives)
    if new_terms.direction == "in":
        extras += Decimal(new_terms.initial_direct_costs)
    return extras


def _check_modification(original: LeaseTerms, new_terms: LeaseTerms) -> None:
    errors: list[tuple[str, str]] = []
    if new_terms.direction != original.direction:
        errors.append(("direction", "must match the original lease"))
    end = original.term_end
    if not original.commencement_date < new_terms.commencement_date < end:
        errors.append(
            (
                "commencement_date",
                "the modification date must fall after commencement and before the "
                f"original term ends ({end.isoformat()})",
            )
        )
    if errors:
        raise LeaseTermsError(errors)
