"""Schedule rows: one payment period each, lessee or lessor flavour.

Both carry the accrual windows (not rendered) that ``balances`` uses to
pro-rate interest and straight-line amounts at a date inside a period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from .money import ZERO, money_str


@dataclass(frozen=True)
class _RowBase:
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

    def _common_dict(self) -> dict[str, object]:
        return {
            "period": self.period,
            "date": self.date.isoformat(),
            "payment": money_str(self.payment),
            "interest": money_str(self.interest),
            "principal": money_str(self.principal),
            "balance": money_str(self.balance),
        }


@dataclass(frozen=True)
class LesseeRow(_RowBase):
    """A lessee row: the payment splits into interest and principal of the liability."""

    amortization: Decimal = ZERO
    asset_balance: Decimal = ZERO

    @property
    def recognized(self) -> Decimal:
        """Straight-line amount of the row (amortization of the right-to-use asset)."""
        return self.amortization

    @property
    def carrying(self) -> Decimal:
        """Right-to-use asset left after this row."""
        return self.asset_balance

    def to_dict(self) -> dict[str, object]:
        """Row as JSON-ready values; money as two-place decimal strings."""
        return {
            **self._common_dict(),
            "amortization": money_str(self.amortization),
            "asset_balance": money_str(self.asset_balance),
        }


@dataclass(frozen=True)
class LessorRow(_RowBase):
    """A lessor row: the receipt splits into interest revenue and receivable principal."""

    inflow_recognized: Decimal = ZERO
    deferred_inflow_balance: Decimal = ZERO

    @property
    def recognized(self) -> Decimal:
        """Straight-line amount of the row (lease revenue from the deferred inflow)."""
        return self.inflow_recognized

    @property
    def carrying(self) -> Decimal:
        """Deferred inflow of resources left after this row."""
        return self.deferred_inflow_balance

    def to_dict(self) -> dict[str, object]:
        """Row as JSON-ready values; money as two-place decimal strings."""
        return {
            **self._common_dict(),
            "inflow_recognized": money_str(self.inflow_recognized),
            "deferred_inflow_balance": money_str(self.deferred_inflow_balance),
        }


ScheduleRow = LesseeRow | LessorRow
