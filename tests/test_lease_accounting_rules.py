"""Each measurement rule on a small lease whose figures are worked by hand.

The arithmetic is in the comments; present values were checked with 50-digit
Decimal arithmetic and rounded half up to the cent.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from registry.leases.accounting import LeaseTermsError
from registry.leases.accounting import PaymentStep
from registry.leases.accounting import implicit_rate
from registry.leases.accounting import is_short_term
from registry.leases.accounting import lease_schedule
from tests.lease_terms_builders import annual
from tests.lease_terms_builders import splits

D = Decimal


def test_arrears_annual_by_hand() -> None:
    # PV = 1000/1.05 + 1000/1.05^2 + 1000/1.05^3 = 2,723.2480 -> 2,723.25
    # 1: 2,723.25 x 5 % = 136.1625 -> 136.16; principal 863.84 -> 1,859.41
    # 2: 1,859.41 x 5 % =  92.9705 ->  92.97; principal 907.03 ->   952.38
    # 3:   952.38 x 5 % =  47.619  ->  47.62; principal 952.38 ->     0.00
    schedule = lease_schedule(annual())
    assert schedule.initial_measurement == D("2723.25")
    assert splits(annual()) == [
        (D("136.16"), D("863.84"), D("1859.41")),
        (D("92.97"), D("907.03"), D("952.38")),
        (D("47.62"), D("952.38"), D("0.00")),
    ]
    # Arrears payments fall at the end of each period.
    assert [row.date for row in schedule.rows] == [
        date(2022, 7, 1),
        date(2023, 7, 1),
        date(2024, 7, 1),
    ]


def test_advance_annual_by_hand_has_no_interest_in_period_one() -> None:
    # PV = 1000 + 1000/1.05 + 1000/1.05^2 = 2,859.4104 -> 2,859.41
    # 1: at commencement, all principal -> 1,859.41; then as in arrears.
    terms = annual(payment_timing="advance")
    assert lease_schedule(terms).initial_measurement == D("2859.41")
    assert splits(terms) == [
        (D("0.00"), D("1000.00"), D("1859.41")),
        (D("92.97"), D("907.03"), D("952.38")),
        (D("47.62"), D("952.38"), D("0.00")),
    ]
    assert lease_schedule(terms).rows[0].date == date(2021, 7, 1)


def test_quarterly_period_rate_is_annual_rate_over_four() -> None:
    # 8 quarterly payments of 2,500 in arrears at 8 % -> 2 % a quarter.
    # PV = 2,500 x (1 - 1.02^-8) / 0.02 = 18,313.7036 -> 18,313.70
    # first interest 18,313.70 x 0.02 = 366.274 -> 366.27
    terms = annual(
        term_months=24,
        payment_frequency="quarterly",
        payments=(PaymentStep(8, D("2500.00")),),
        discount_rate=D("0.08"),
    )
    schedule = lease_schedule(terms)
    assert schedule.initial_measurement == D("18313.70")
    assert schedule.rows[0].interest == D("366.27")
    assert schedule.rows[0].date == date(2021, 10, 1)


def test_implicit_rate_without_residual() -> None:
    # 1,100 and 1,210 in arrears are worth 1,000 + 1,000 at exactly 10 %.
    terms = annual(
        term_months=24,
        payments=(PaymentStep(1, D("1100.00")), PaymentStep(1, D("1210.00"))),
        discount_rate=None,
        fair_value=D("2000.00"),
    )
    assert implicit_rate(terms) == D("0.1000000000")
    assert lease_schedule(terms).initial_measurement == D("2000.00")


def test_implicit_rate_with_residual_value() -> None:
    # PV(110, 121) + PV(residual 1,210 after 2 years) = 100 + 100 + 1,000 at 10 %.
    terms = annual(
        direction="out",
        term_months=24,
        payments=(PaymentStep(1, D("110.00")), PaymentStep(1, D("121.00"))),
        discount_rate=None,
        fair_value=D("1200.00"),
        residual_value=D("1210.00"),
    )
    assert implicit_rate(terms) == D("0.1000000000")
    # The receivable excludes the residual the lessor keeps.
    assert lease_schedule(terms).initial_measurement == D("200.00")


def test_implicit_rate_rejects_an_impossible_fair_value() -> None:
    terms = annual(discount_rate=None, fair_value=D("5000.00"))
    with pytest.raises(LeaseTermsError) as caught:
        implicit_rate(terms)
    assert caught.value.errors[0][0] == "fair_value"


def test_stated_rate_wins_over_fair_value() -> None:
    terms = annual(fair_value=D("2500.00"))
    assert lease_schedule(terms).discount_rate == D("0.05")


def test_short_term_uses_the_maximum_possible_term() -> None:
    twelve = annual(
        term_months=12,
        payment_frequency="monthly",
        payments=(PaymentStep(12, D("1000.00")),),
    )
    assert is_short_term(twelve)
    schedule = lease_schedule(twelve)
    assert schedule.short_term
    assert schedule.initial_measurement == D("0.00")
    assert schedule.right_of_use_asset == D("0.00")
    # Rows still list the payments (expensed as paid) but carry no balances.
    assert [row.payment for row in schedule.rows] == [D("1000.00")] * 12
    flat = {(r.interest, r.principal, r.balance, r.amortization) for r in schedule.lessee_rows}
    assert flat == {(D("0.00"), D("0.00"), D("0.00"), D("0.00"))}
    # A 12-month term with a 12-month renewal option is not short-term.
    with_option = replace(twelve, max_possible_term_months=24)
    assert not is_short_term(with_option)
    assert lease_schedule(with_option).initial_measurement > 0


def test_short_term_lessor_and_no_rate_needed() -> None:
    schedule = lease_schedule(
        annual(
            direction="out",
            term_months=6,
            payment_frequency="monthly",
            payments=(PaymentStep(6, D("500.00")),),
            discount_rate=None,
        )
    )
    assert schedule.short_term
    assert schedule.discount_rate is None
    assert schedule.deferred_inflow == D("0.00")
    assert schedule.to_dict()["discount_rate"] is None


def test_right_to_use_asset_adds_prepaid_and_costs_less_incentives() -> None:
    # 2,723.25 liability + 500 prepaid + 100 direct costs - 250 incentives = 3,073.25
    # amortized 3,073.25 x 12/36 = 1,024.4167 -> 1,024.42, 1,024.42, last 1,024.41
    terms = annual(
        prepaid_at_commencement=D("500.00"),
        initial_direct_costs=D("100.00"),
        incentives=D("250.00"),
    )
    schedule = lease_schedule(terms)
    assert schedule.initial_measurement == D("2723.25")
    assert schedule.right_of_use_asset == D("3073.25")
    assert [row.amortization for row in schedule.lessee_rows] == [
        D("1024.42"),
        D("1024.42"),
        D("1024.41"),
    ]
    assert [row.asset_balance for row in schedule.lessee_rows] == [
        D("2048.83"),
        D("1024.41"),
        D("0.00"),
    ]


def test_incentives_larger_than_the_asset_are_rejected() -> None:
    with pytest.raises(LeaseTermsError) as caught:
        lease_schedule(annual(incentives=D("9000.00")))
    assert caught.value.errors[0][0] == "incentives"


def test_useful_life_shorter_than_term() -> None:
    # 36 monthly payments, useful life 24 months: 1/24 of the asset a month,
    # nothing after month 24.
    terms = annual(
        payment_frequency="monthly",
        payment_timing="advance",
        payments=(PaymentStep(36, D("1000.00")),),
        useful_life_months=24,
    )
    schedule = lease_schedule(terms)
    amounts = [row.amortization for row in schedule.lessee_rows]
    assert sum(amounts[:24]) == schedule.right_of_use_asset
    assert amounts[24:] == [D("0.00")] * 12
    assert schedule.lessee_rows[23].asset_balance == D("0.00")


def test_useful_life_inside_a_quarter_is_pro_rated_by_month() -> None:
    # 8 quarters, useful life 16 months: quarters 1-5 take 3/16 each and
    # quarter 6 takes the last 1/16 (plus rounding residue).
    terms = annual(
        term_months=24,
        payment_frequency="quarterly",
        payments=(PaymentStep(8, D("1600.00")),),
        discount_rate=D("0"),
        useful_life_months=16,
    )
    schedule = lease_schedule(terms)
    # At 0 % the asset is the undiscounted 12,800.00: 2,400.00 a quarter, 800.00.
    assert schedule.right_of_use_asset == D("12800.00")
    assert [row.amortization for row in schedule.lessee_rows] == [D("2400.00")] * 5 + [
        D("800.00"),
        D("0.00"),
        D("0.00"),
    ]


def test_lessor_deferred_inflow_and_interest_revenue() -> None:
    # Receivable 2,723.25; deferred inflow = receivable + 400 received in advance
    # - 100 incentive paid = 3,023.25, recognised 1,007.75 a year over the term
    # (the lessor's initial direct costs and the asset's useful life do not enter).
    terms = annual(
        direction="out",
        prepaid_at_commencement=D("400.00"),
        incentives=D("100.00"),
        initial_direct_costs=D("75.00"),
        useful_life_months=12,
    )
    schedule = lease_schedule(terms)
    assert schedule.initial_measurement == D("2723.25")
    assert schedule.deferred_inflow == D("3023.25")
    assert schedule.right_of_use_asset is None
    assert [row.inflow_recognized for row in schedule.lessor_rows] == [D("1007.75")] * 3
    assert [row.deferred_inflow_balance for row in schedule.lessor_rows] == [
        D("2015.50"),
        D("1007.75"),
        D("0.00"),
    ]
    assert [row.interest for row in schedule.rows] == [D("136.16"), D("92.97"), D("47.62")]


def test_half_cent_ties_round_up() -> None:
    # At 0 % the liability is the undiscounted 500.00 + 500.05 = 1,000.05, and
    # the first year's amortization 1,000.05 x 12/24 = 500.025 rounds half up
    # to 500.03 (banker's rounding would give 500.02); the last year takes 500.02.
    terms = annual(
        term_months=24,
        payment_timing="advance",
        payments=(PaymentStep(1, D("500.00")), PaymentStep(1, D("500.05"))),
        discount_rate=D("0"),
    )
    schedule = lease_schedule(terms)
    assert schedule.right_of_use_asset == D("1000.05")
    assert [row.amortization for row in schedule.lessee_rows] == [D("500.03"), D("500.02")]
