"""``LeaseTerms`` builders shared by the lease accounting tests.

Each builder takes keyword overrides for any ``LeaseTerms`` field.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from registry.leases.accounting import LeaseTerms
from registry.leases.accounting import PaymentStep
from registry.leases.accounting import lease_schedule

D = Decimal
ZERO = D("0.00")
MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}
MAX_PERIODS = {"monthly": 120, "quarterly": 40, "annual": 25}

# Three annual payments of 1,000.00 in arrears at 5 % from July 1, 2021, city as lessee.
ANNUAL: dict[str, Any] = {
    "direction": "in", "commencement_date": date(2021, 7, 1), "term_months": 36,
    "payment_frequency": "annual", "payment_timing": "arrears",
    "payments": (PaymentStep(3, D("1000.00")),), "discount_rate": D("0.05"),
}  # fmt: skip
# The Washington SBCTC lessee example (ctcLink LA0001): 36 x 30,000 monthly in advance at
# 0.89 % from 2021-04-01.
WASHINGTON: dict[str, Any] = {
    "direction": "in", "commencement_date": date(2021, 4, 1), "term_months": 36,
    "payment_frequency": "monthly", "payment_timing": "advance",
    "payments": (PaymentStep(36, D("30000.00")),), "discount_rate": D("0.0089"),
}  # fmt: skip
# City as lessor: 2,400 a quarter in arrears for 5 years at 4 % from 2022-07-01.
CELL_SITE: dict[str, Any] = {
    "direction": "out", "commencement_date": date(2022, 7, 1), "term_months": 60,
    "payment_frequency": "quarterly", "payment_timing": "arrears",
    "payments": (PaymentStep(20, D("2400.00")),), "discount_rate": D("0.04"),
}  # fmt: skip


def annual(**overrides: Any) -> LeaseTerms:
    """:data:`ANNUAL` with ``overrides``."""
    return LeaseTerms(**{**ANNUAL, **overrides})


def washington_values(**overrides: Any) -> dict[str, Any]:
    """The fields of :func:`washington`, with ``overrides`` applied."""
    return {**WASHINGTON, **overrides}


def washington(**overrides: Any) -> LeaseTerms:
    """:data:`WASHINGTON` with ``overrides``."""
    return LeaseTerms(**washington_values(**overrides))


def cell_site(**overrides: Any) -> LeaseTerms:
    """:data:`CELL_SITE` with ``overrides``."""
    return LeaseTerms(**{**CELL_SITE, **overrides})


def splits(terms: LeaseTerms) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(interest, principal, balance) of each row of ``terms``' schedule."""
    return [(row.interest, row.principal, row.balance) for row in lease_schedule(terms).rows]
