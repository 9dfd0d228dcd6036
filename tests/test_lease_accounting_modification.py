"""Lease modifications: remeasurement, asset adjustment and kept history.

The base lease is the Washington SBCTC example (36 x 30,000 monthly in advance
at 0.89 % from April 1, 2021).  Just before April 1, 2022, after 12 payments:
liability 713,367.70, March interest accrued 529.08 (713,367.70 x 0.0089 / 12
= 529.08), asset 1,066,109.82 - 12 x 29,614.16 = 710,739.90.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from registry.leases.accounting import LeaseTermsError
from registry.leases.accounting import PaymentStep
from registry.leases.accounting import balances_at
from registry.leases.accounting import fiscal_year_balances
from registry.leases.accounting import lease_schedule
from registry.leases.accounting import maturity_table
from registry.leases.accounting import modify_lease
from tests.lease_terms_builders import washington as original

D = Decimal
MODIFIED_ON = date(2022, 4, 1)


def remaining(months: int = 24, amount: str = "32000.00", rate: str = "0.02", **overrides: Any):
    return original(
        commencement_date=MODIFIED_ON,
        term_months=months,
        payments=(PaymentStep(months, D(amount)),),
        discount_rate=D(rate),
        **overrides,
    )


def test_unchanged_terms_remeasure_to_the_carrying_amount() -> None:
    result = modify_lease(original(), remaining(amount="30000.00", rate="0.0089"))
    assert result.balance_before == D("713367.70")
    assert result.accrued_interest_before == D("529.08")
    assert result.carrying_before == D("710739.90")
    # PV of the 24 remaining payments is 713,896.77: one cent of rounding drift.
    assert result.remeasured.initial_measurement == D("713896.77")
    assert result.adjustment == D("-0.01")


def test_rent_increase_and_new_rate_adjust_the_asset() -> None:
    result = modify_lease(original(), remaining())
    # PV of 24 x 32,000 in advance at 2 % / 12 = 753,482.25
    # adjustment = 753,482.25 - (713,367.70 + 529.08) = 39,585.47
    assert result.remeasured.initial_measurement == D("753482.25")
    assert result.adjustment == D("39585.47")
    assert result.carrying_after == D("750325.37")  # 710,739.90 + 39,585.47
    assert result.remeasured.right_of_use_asset == D("750325.37")
    assert result.remeasured.discount_rate == D("0.02")
    # Remaining asset amortized over the 24 remaining months: 31,263.557 -> .56
    assert result.remeasured.lessee_rows[0].amortization == D("31263.56")
    assert result.remeasured.lessee_rows[-1].asset_balance == D("0.00")
    assert result.remeasured.rows[-1].balance == D("0.00")
    assert result.gain_or_loss == D("0.00")


def test_history_is_kept() -> None:
    unmodified = lease_schedule(original())
    result = modify_lease(original(), remaining())
    assert result.original.initial_measurement == D("1066109.82")
    assert result.original.rows == unmodified.rows[:12]
    assert all(row.date < MODIFIED_ON for row in result.original.rows)
    assert result.remeasured.rows[0].date == MODIFIED_ON
    rendered = result.to_dict()
    assert rendered["original"]["initial_measurement"] == "1066109.82"  # type: ignore[index]
    assert rendered["remeasured"]["initial_measurement"] == "753482.25"  # type: ignore[index]
    assert rendered["right_of_use_asset_after"] == "750325.37"
    assert rendered["adjustment"] == "39585.47"


def test_balances_switch_schedules_on_the_modification_date() -> None:
    result = modify_lease(original(), remaining())
    before = balances_at(result, date(2022, 3, 31))
    assert (before.balance, before.accrued_interest, before.right_of_use_asset_net) == (
        D("713367.70"),
        D("529.08"),
        D("710739.90"),
    )
    on = balances_at(result, MODIFIED_ON)
    assert on.balance == D("721482.25")  # 753,482.25 less the April 1 payment
    years = fiscal_year_balances(result)
    interest = (
        sum(row.interest for row in result.original.rows)
        + result.accrued_interest_before
        + sum(row.interest for row in result.remeasured.rows)
    )
    assert sum(year.interest for year in years) == interest
    amortized = (D("1066109.82") - result.carrying_before) + result.carrying_after
    assert sum(year.amortization or 0 for year in years) == amortized
    assert years[-1].balance == D("0.00")
    assert years[-1].right_of_use_asset_net == D("0.00")


def test_maturity_table_uses_the_schedule_in_force() -> None:
    result = modify_lease(original(), remaining())
    assert maturity_table(result, 2021).total_principal == D("977625.04")
    assert (
        maturity_table(result, 2022).total_principal
        == balances_at(result, date(2022, 6, 30)).balance
    )


def test_partial_termination_beyond_the_asset_is_a_gain() -> None:
    # Only one more payment of 1,000: the liability falls by 712,896.78, more
    # than the 710,739.90 asset, so the asset stops at 0 and 2,156.88 is a gain.
    result = modify_lease(original(), remaining(months=1, amount="1000.00", rate="0.0089"))
    assert result.adjustment == D("-712896.78")
    assert result.carrying_after == D("0.00")
    assert result.gain_or_loss == D("2156.88")
    # One month left is not re-tested as a short-term lease.
    assert not result.remeasured.short_term


def test_lessor_modification_adjusts_the_deferred_inflow() -> None:
    result = modify_lease(original(direction="out"), remaining(direction="out"))
    assert result.carrying_before == D("710739.90")
    assert result.carrying_after == D("750325.37")
    assert result.remeasured.deferred_inflow == D("750325.37")
    assert result.to_dict()["deferred_inflow_after"] == "750325.37"


def test_mid_period_modification_carries_accrued_interest() -> None:
    # Annual arrears lease (liability 2,723.25 at 5 %) modified on Jan 1, 2022:
    # 184 of 365 days accrued, 136.16 x 184/365 = 68.64.
    base = original(
        commencement_date=date(2021, 7, 1),
        payment_frequency="annual",
        payment_timing="arrears",
        payments=(PaymentStep(3, D("1000.00")),),
        discount_rate=D("0.05"),
    )
    new_terms = replace(
        base,
        commencement_date=date(2022, 1, 1),
        term_months=30,
        payment_frequency="monthly",
        payments=(PaymentStep(30, D("100.00")),),
    )
    result = modify_lease(base, new_terms)
    assert result.balance_before == D("2723.25")
    assert result.accrued_interest_before == D("68.64")
    new_balance = result.remeasured.initial_measurement
    assert result.adjustment == new_balance - D("2723.25") - D("68.64")


def test_modification_extras_move_the_asset() -> None:
    plain = modify_lease(original(), remaining())
    extras = modify_lease(
        original(),
        remaining(initial_direct_costs=D("1000.00"), incentives=D("300.00")),
    )
    assert extras.carrying_after == plain.carrying_after + D("700.00")


def test_short_term_original_is_measured_afresh() -> None:
    short = original(term_months=12, payments=(PaymentStep(12, D("30000.00")),))
    on = date(2021, 10, 1)
    still_short = replace(remaining(months=6, amount="30000.00"), commencement_date=on)
    result = modify_lease(short, still_short)
    assert result.original.short_term
    assert len(result.original.rows) == 6
    assert result.balance_before == D("0.00")
    assert result.remeasured.short_term
    # Extended by two years: now a lease to recognise, measured from the
    # modification date like a new lease.
    extended = modify_lease(short, replace(remaining(), commencement_date=on))
    assert not extended.remeasured.short_term
    assert extended.remeasured.initial_measurement == D("753482.25")
    assert extended.carrying_after == extended.remeasured.right_of_use_asset


def test_invalid_modifications_name_the_field() -> None:
    with pytest.raises(LeaseTermsError) as caught:
        modify_lease(original(), remaining(direction="out"))
    assert ("direction", "must match the original lease") in caught.value.errors
    with pytest.raises(LeaseTermsError) as caught:
        modify_lease(original(), replace(remaining(), commencement_date=date(2024, 4, 1)))
    assert caught.value.errors[0][0] == "commencement_date"
    with pytest.raises(LeaseTermsError):
        modify_lease(original(), replace(remaining(), commencement_date=date(2021, 4, 1)))
