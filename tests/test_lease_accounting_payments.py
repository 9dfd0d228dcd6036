"""The payment stream: escalation, free rent, non-lease components, steps, dates.

Hand-worked figures are in the comments (50-digit Decimal, half up to the cent).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from registry.leases.accounting import PaymentStep
from registry.leases.accounting import lease_schedule
from registry.leases.accounting import payment_stream
from tests.lease_terms_builders import annual
from tests.lease_terms_builders import splits

D = Decimal


def test_escalation_compounds_each_lease_year() -> None:
    # 3 % a year on 1,000: year 2 pays 1,030.00, year 3 1,000 x 1.03^2 = 1,060.90.
    terms = annual(
        payment_frequency="monthly",
        payment_timing="advance",
        payments=(PaymentStep(36, D("1000.00")),),
        escalation_pct=D("3"),
    )
    amounts = [payment.lease_amount for payment in payment_stream(terms)]
    assert amounts[:12] == [D("1000.00")] * 12
    assert amounts[12:24] == [D("1030.00")] * 12
    assert amounts[24:] == [D("1060.90")] * 12


def test_escalation_applies_per_lease_year_for_quarterly_payments() -> None:
    terms = annual(
        term_months=24,
        payment_frequency="quarterly",
        payments=(PaymentStep(8, D("2500.00")),),
        escalation_pct=D("2.5"),
    )
    amounts = [payment.lease_amount for payment in payment_stream(terms)]
    # Quarters 1-4 are lease year 1, quarters 5-8 lease year 2: 2,500 x 1.025.
    assert amounts == [D("2500.00")] * 4 + [D("2562.50")] * 4


def test_free_rent_periods_accrue_interest_into_the_balance() -> None:
    # 24 monthly arrears payments of 1,000 at 6 %, first two months free.
    # PV = sum(1000 / 1.005^k, k = 3..24) = 20,577.7668 -> 20,577.77
    # 1: interest 20,577.77 x 0.005 = 102.889 -> 102.89, nothing paid, so the
    #    principal is -102.89 and the balance grows to 20,680.66
    # 2: 20,680.66 x 0.005 = 103.403 -> 103.40; balance 20,784.06
    terms = annual(
        term_months=24,
        payment_frequency="monthly",
        payments=(PaymentStep(24, D("1000.00")),),
        discount_rate=D("0.06"),
        free_periods=2,
    )
    schedule = lease_schedule(terms)
    assert schedule.initial_measurement == D("20577.77")
    assert [row.payment for row in schedule.rows[:3]] == [D("0.00"), D("0.00"), D("1000.00")]
    assert splits(terms)[:2] == [
        (D("102.89"), D("-102.89"), D("20680.66")),
        (D("103.40"), D("-103.40"), D("20784.06")),
    ]
    assert schedule.rows[-1].balance == D("0.00")


def test_non_lease_component_is_excluded_from_measurement() -> None:
    gross = annual(payments=(PaymentStep(3, D("1200.00")),), non_lease_amount=D("200.00"))
    # 1,200 billed - 200 services = the same 1,000 lease stream as annual().
    assert lease_schedule(gross).initial_measurement == D("2723.25")
    stream = payment_stream(gross)
    assert [(p.gross_amount, p.non_lease_amount, p.lease_amount) for p in stream] == [
        (D("1200.00"), D("200.00"), D("1000.00"))
    ] * 3
    assert lease_schedule(gross).rows[0].payment == D("1000.00")


def test_payment_steps_follow_in_order() -> None:
    # 1,000 then 2,000 in arrears at 5 %:
    # PV = 1000/1.05 + 2000/1.05^2 + 2000/1.05^3 = 952.3810 + 1,814.0590 + 1,727.6752
    #    = 4,494.1152 -> 4,494.12
    terms = annual(payments=(PaymentStep(1, D("1000.00")), PaymentStep(2, D("2000.00"))))
    schedule = lease_schedule(terms)
    assert [row.payment for row in schedule.rows] == [D("1000.00"), D("2000.00"), D("2000.00")]
    assert schedule.initial_measurement == D("4494.12")


def test_trailing_zero_payments_leave_the_balance_settled() -> None:
    # The last non-zero payment settles the balance; later zero rows stay at 0.00.
    terms = annual(payments=(PaymentStep(2, D("1000.00")), PaymentStep(1, D("0.00"))))
    rows = lease_schedule(terms).rows
    assert rows[1].balance == D("0.00")
    assert (rows[2].interest, rows[2].principal, rows[2].balance) == (
        D("0.00"),
        D("0.00"),
        D("0.00"),
    )


def test_month_end_commencement_keeps_the_day_of_month() -> None:
    terms = annual(
        commencement_date=date(2024, 1, 31),
        term_months=24,
        payment_frequency="monthly",
        payments=(PaymentStep(24, D("100.00")),),
    )
    dates = [row.date for row in lease_schedule(terms).rows[:3]]
    assert dates == [date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)]
