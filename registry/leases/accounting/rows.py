"""Schedule rows: one payment period each, lessee or lessor flavour.

Both carry the accrual windows (not rendered) that ``balances`` uses to
pro-rate interest and straight-line amounts at a date inside a period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import ClassVar

from .money import ZERO
from .money import money_str


@dataclass(frozen=True)
class _RowBase:
    """What both flavours share; a flavour only names its two straight-line fields."""

    #: The flavour's field names for the straight-line amount of the row and the carrying
    #: amount left after it, which are also its rendered keys (`recognized`, `carrying`).
    FLAVOUR_FIELDS: ClassVar[tuple[str, str]]

    period: int
    date: dt.date
    payment: Decimal
    interest: Decimal
    principal: Decimal
    balance: Decimal
    #: Interest of this row accrues over [interest_from, date).
    interest_from: dt.date = field(repr=False, kw_only=True)
    #: The straight-line amount of this row accrues over [recognition_from, recognition_to).
    recognition_from: dt.date = field(repr=False, kw_only=True)
    recognition_to: dt.date = field(repr=False, kw_only=True)

    @classmethod
    def flavoured(cls, recognized: Decimal, carrying: Decimal) -> dict[str, Decimal]:
        """The flavour's own fields as keyword arguments, so one call builds either flavour."""
        recognized_field, carrying_field = cls.FLAVOUR_FIELDS
        return {recognized_field: recognized, carrying_field: carrying}

    @property
    def recognized(self) -> Decimal:
        """Straight-line amount of the row: amortization of the right-to-use asset (lessee) or
        lease revenue from the deferred inflow (lessor)."""
        value: Decimal = getattr(self, self.FLAVOUR_FIELDS[0])
        return value

    @property
    def carrying(self) -> Decimal:
        """Right-to-use asset (lessee) or deferred inflow of resources (lessor) left after this
        row."""
        value: Decimal = getattr(self, self.FLAVOUR_FIELDS[1])
        return value

    def to_dict(self) -> dict[str, object]:
        """Row as JSON-ready values; money as two-place decimal strings."""
        recognized_field, carrying_field = self.FLAVOUR_FIELDS
        return {
            "period": self.period,
            "date": self.date.isoformat(),
            "payment": money_str(self.payment),
            "interest": money_str(self.interest),
            "principal": money_str(self.principal),
            "balance": money_str(self.balance),
            recognized_field: money_str(self.recognized),
            carrying_field: money_str(self.carrying),
        }


@dataclass(frozen=True)
class LesseeRow(_RowBase):
    """A lessee row: the payment splits into interest and principal of the liability."""

    FLAVOUR_FIELDS = ("amortization", "asset_balance")

    amortization: Decimal = ZERO
    asset_balance: Decimal = ZERO


@dataclass(frozen=True)
class LessorRow(_RowBase):
    """A lessor row: the receipt splits into interest revenue and receivable principal."""

    FLAVOUR_FIELDS = ("inflow_recognized", "deferred_inflow_balance")

    inflow_recognized: Decimal = ZERO
    deferred_inflow_balance: Decimal = ZERO


ScheduleRow = LesseeRow | LessorRow
