"""Initial measurement: short-term test, discount rate (stated or implicit) and the
opening liability / receivable, right-to-use asset and deferred inflow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP
from decimal import Decimal

from .cashflows import fractions_of
from .cashflows import payment_stream
from .cashflows import period_rate
from .cashflows import present_value
from .cashflows import term_discount_factor
from .money import ZERO
from .money import add_months
from .money import exact_context
from .money import round_cents
from .terms import LeaseTerms
from .terms import LeaseTermsError

#: Decimal places kept for a solved implicit annual rate.  Ten places move the
#: present value of a 100-year, $1M-a-month lease by well under a cent.
IMPLICIT_RATE_PLACES = Decimal("1e-10")
#: The implicit rate is searched in [0, 100 %) per year.
IMPLICIT_RATE_CEILING = Decimal(1)
_BISECTION_STEPS = 60


@dataclass(frozen=True)
class LeaseMeasurement:
    """Amounts recognised at commencement (all zero for a short-term lease)."""

    direction: str
    short_term: bool
    discount_rate: Decimal | None
    initial_measurement: Decimal
    right_of_use_asset: Decimal | None
    deferred_inflow: Decimal | None
    recognition_months: int


def is_short_term(terms: LeaseTerms) -> bool:
    """True when the maximum possible term, every option included, is 12 months or less."""
    return terms.is_short_term


def implicit_rate(terms: LeaseTerms) -> Decimal:
    """Annual rate at which PV(lease payments) + PV(residual) equals the fair value.

    Solved by bisection entirely in ``Decimal`` (the present value falls as the
    rate rises, so the root is unique) and kept to ten decimal places.
    """
    if terms.fair_value is None:
        raise LeaseTermsError([("fair_value", "is required to solve the implicit rate")])
    fair_value = Decimal(terms.fair_value)
    residual = Decimal(terms.residual_value or 0)
    stream = payment_stream(terms)
    amounts = [payment.lease_amount for payment in stream]
    fractions = fractions_of(stream)
    periods_per_year = Decimal(terms.periods_per_year)

    def excess(annual: Decimal) -> Decimal:
        per_period = annual / periods_per_year
        pv = present_value(amounts, per_period, terms.payment_timing, fractions)
        end = term_discount_factor(per_period, len(stream), fractions)
        return pv + residual * end - fair_value

    with exact_context():
        low, high = Decimal(0), IMPLICIT_RATE_CEILING
        if excess(low) < 0:
            raise LeaseTermsError(
                [("fair_value", "exceeds the undiscounted payments plus residual value")]
            )
        if excess(high) > 0:
            raise LeaseTermsError(
                [("fair_value", "is too low: the implicit rate would exceed 100 % a year")]
            )
        for _ in range(_BISECTION_STEPS):
            middle = (low + high) / 2
            if excess(middle) > 0:
                low = middle
            else:
                high = middle
        return ((low + high) / 2).quantize(IMPLICIT_RATE_PLACES, rounding=ROUND_HALF_UP)


def resolve_discount_rate(terms: LeaseTerms) -> Decimal | None:
    """The stated rate when given, else the implicit rate; ``None`` only for a
    short-term lease with neither (no discounting is needed then)."""
    if terms.discount_rate is not None:
        return Decimal(terms.discount_rate)
    if terms.fair_value is not None:
        return implicit_rate(terms)
    return None


def recognition_months(terms: LeaseTerms) -> int:
    """Months over which the asset (lessee) or deferred inflow (lessor) is recognised.

    A lessee amortises over the shorter of the lease term and the useful life;
    a lessor recognises the deferred inflow over the lease term.  (For a term
    with partial periods the schedule recognises up to ``recognition_end``.)
    """
    if terms.direction == "in" and terms.useful_life_months is not None:
        return min(terms.term_months, terms.useful_life_months)
    return terms.term_months


def recognition_end(terms: LeaseTerms) -> date:
    """The day after the last day of straight-line recognition (term or useful life)."""
    end = terms.term_end
    if terms.direction == "in" and terms.useful_life_months is not None:
        return min(end, add_months(terms.commencement_date, terms.useful_life_months))
    return end


def initial_measurement(terms: LeaseTerms, annual_rate: Decimal) -> Decimal:
    """Present value of the lease payments in the term, rounded half up to the cent."""
    stream = payment_stream(terms)
    amounts = [payment.lease_amount for payment in stream]
    return round_cents(
        present_value(
            amounts, period_rate(annual_rate, terms), terms.payment_timing, fractions_of(stream)
        )
    )


def opening_balance_sheet_amount(terms: LeaseTerms, liability: Decimal) -> Decimal:
    """Right-to-use asset (lessee) or deferred inflow of resources (lessor).

    Lessee: liability + payments made at or before commencement + initial
    direct costs - incentives received.  Lessor: receivable + payments received
    at or before commencement for future periods - incentives paid (a lessor's
    initial direct costs are expensed, so they are ignored here).
    """
    prepaid = Decimal(terms.prepaid_at_commencement)
    incentives = Decimal(terms.incentives)
    if terms.direction == "in":
        amount = liability + prepaid + Decimal(terms.initial_direct_costs) - incentives
        if amount < 0:
            raise LeaseTermsError(
                [("incentives", "exceed the lease liability plus prepaid payments and costs")]
            )
    else:
        amount = liability + prepaid - incentives
        if amount < 0:
            raise LeaseTermsError(
                [("incentives", "exceed the lease receivable plus payments received in advance")]
            )
    return round_cents(amount)


def measure_lease(
    terms: LeaseTerms,
    *,
    apply_short_term_test: bool = True,
    opening_override: Decimal | None = None,
) -> LeaseMeasurement:
    """Measure ``terms`` at commencement; a short-term lease recognises nothing.

    ``apply_short_term_test=False`` and ``opening_override`` serve remeasurement
    of a modified lease: the short-term exception is judged once, at
    commencement, and the asset / deferred inflow is carried forward rather
    than rebuilt from the commencement formula.
    """
    rate = resolve_discount_rate(terms)
    months = recognition_months(terms)
    if not apply_short_term_test and rate is None:
        raise LeaseTermsError([("discount_rate", "is required to remeasure the lease")])
    if (apply_short_term_test and terms.is_short_term) or rate is None:
        short_term, liability, opening = True, ZERO, ZERO
    else:
        short_term, liability = False, initial_measurement(terms, rate)
        opening = (
            opening_balance_sheet_amount(terms, liability)
            if opening_override is None
            else opening_override
        )
    return LeaseMeasurement(
        direction=terms.direction,
        short_term=short_term,
        discount_rate=rate,
        initial_measurement=liability,
        right_of_use_asset=opening if terms.direction == "in" else None,
        deferred_inflow=opening if terms.direction == "out" else None,
        recognition_months=months,
    )
