"""A lease's whole measurement history: the schedule at commencement, then each remeasurement.

Why a history and not just the latest remeasurement: GASB 87 (paras. 71-73)
remeasures a modified lease from the modification date and never restates what
was booked before it.  A lease modified twice has three schedules, each in
force over its own stretch of time, and a balance, a fiscal year or a maturity
table at a date before the latest modification must read the schedule that was
in force then, with cumulative amounts (interest, straight-line recognition,
payments, principal) summed over every schedule before it.

Each measurement is in force from its own commencement (the modification date)
until the day before the next modification.  The rows it books are those the
next modification kept (``LeaseModification.original``): for a lease paid in
arrears that includes the payment due on the modification date, which settles
the period ending that day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from .balances import LeaseState
from .balances import schedule_state
from .money import ZERO
from .rows import ScheduleRow
from .schedule import LeaseSchedule
from .schedule import lease_schedule
from .terms import LeaseTerms

if TYPE_CHECKING:
    from .modification import LeaseModification


@dataclass(frozen=True)
class LeaseHistory:
    """The schedule at commencement (``base``) and every remeasurement in date order.

    Build one with ``lease_history(schedule_or_modification)``, or take the
    ``history`` of ``modify_lease(...)``; the engine's balance, fiscal-year and
    maturity functions all accept it. (Modifying lives in ``modification``, which
    builds on this module, never the other way round.)
    """

    base: LeaseSchedule
    modifications: tuple[LeaseModification, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.modifications, tuple):
            object.__setattr__(self, "modifications", tuple(self.modifications))
        previous = self.base
        for index, modification in enumerate(self.modifications):
            # Each remeasurement must start from the schedule the previous one
            # left, or the composed balances would mix two different leases.
            if (
                modification.original_full.terms != previous.terms
                or modification.modification_date <= previous.terms.commencement_date
            ):
                raise ValueError(
                    f"modification {index} ({modification.modification_date}) does not "
                    "remeasure the schedule in force before it; build the history by "
                    "chaining modify_lease on the previous modification"
                )
            previous = modification.remeasured

    @property
    def history(self) -> LeaseHistory:
        """The history itself, so every source exposes ``.history`` alike."""
        return self

    @property
    def direction(self) -> str:
        """``"in"`` (city is lessee) or ``"out"`` (city is lessor)."""
        return self.base.direction

    @property
    def commencement_date(self) -> date:
        """Commencement of the lease as first measured."""
        return self.base.terms.commencement_date

    @property
    def schedules(self) -> tuple[LeaseSchedule, ...]:
        """Every measurement: the base schedule, then each remeasured schedule."""
        return (self.base, *(m.remeasured for m in self.modifications))

    @property
    def latest(self) -> LeaseSchedule:
        """The schedule in force after the last modification."""
        return self.modifications[-1].remeasured if self.modifications else self.base

    @property
    def latest_terms(self) -> LeaseTerms:
        """Terms of the latest measurement (remaining term, payments and rate)."""
        return self.latest.terms

    def _active(self, day: date) -> int:
        """How many modifications have taken effect by the end of ``day``."""
        return sum(1 for m in self.modifications if m.modification_date <= day)

    def in_force(self, day: date) -> LeaseSchedule:
        """The schedule a report at the end of ``day`` uses."""
        return self.schedules[self._active(day)]

    def state(self, as_of: date) -> LeaseState:
        """Totals at the end of ``as_of``: balance, accrued interest and carrying
        amount from the schedule in force; interest, recognition, payments and
        principal summed over every earlier measurement up to its modification
        date and the one in force up to ``as_of``."""
        active = self._active(as_of)
        interest = recognized = payments = principal = ZERO
        for modification in self.modifications[:active]:
            before = modification.state_before()
            interest += before.interest
            recognized += before.recognized
            payments += before.payments
            principal += before.principal
        current = schedule_state(self.schedules[active], as_of)
        return LeaseState(
            balance=current.balance,
            accrued_interest=current.accrued_interest,
            carrying=current.carrying,
            interest=interest + current.interest,
            recognized=recognized + current.recognized,
            payments=payments + current.payments,
            principal=principal + current.principal,
        )

    def booked_rows(self) -> tuple[tuple[int, ScheduleRow], ...]:
        """``(measurement, row)`` for every row booked, in date order.

        Measurement 0 is the schedule at commencement, ``k`` the k-th
        remeasurement; each contributes the rows the next modification kept,
        the last one all of its rows.  Rows are never restated.
        """
        booked: list[tuple[int, ScheduleRow]] = []
        for index, modification in enumerate(self.modifications):
            booked += [(index, row) for row in modification.original.rows]
        booked += [(len(self.modifications), row) for row in self.latest.rows]
        return tuple(booked)


def lease_history(
    source: LeaseTerms | LeaseSchedule | LeaseModification | LeaseHistory,
    modifications: Iterable[LeaseModification] = (),
) -> LeaseHistory:
    """The whole history of ``source``.

    A ``LeaseModification`` carries every modification before it, so its
    history reaches back to commencement; a schedule (or terms) with
    ``modifications`` builds the history from them (they must be chained).
    """
    if isinstance(source, LeaseTerms):
        source = lease_schedule(source)
    if isinstance(source, LeaseSchedule):
        return LeaseHistory(source, tuple(modifications))
    if tuple(modifications):
        raise ValueError("a modification or history already holds its modifications")
    return source.history
