"""Balances at a date, fiscal-year balances and the maturity table."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

import pytest

from registry.fiscal_years import fiscal_year_bounds
from registry.fiscal_years import fiscal_year_of
from registry.leases.accounting import PaymentStep
from registry.leases.accounting import balances_at
from registry.leases.accounting import fiscal_year_balances
from registry.leases.accounting import lease_schedule
from registry.leases.accounting import maturity_table
from tests.lease_terms_builders import annual

D = Decimal


def test_fiscal_year_naming() -> None:
    assert fiscal_year_bounds(2026) == (date(2025, 7, 1), date(2026, 6, 30))
    assert fiscal_year_of(date(2025, 7, 1)) == 2026
    assert fiscal_year_of(date(2026, 6, 30)) == 2026
    assert fiscal_year_of(date(2026, 7, 1)) == 2027
    # Calendar and federal (October) fiscal years are parameters, not globals.
    assert fiscal_year_bounds(2022, 1) == (date(2022, 1, 1), date(2022, 12, 31))
    assert fiscal_year_of(date(2022, 12, 31), 1) == 2022
    assert fiscal_year_bounds(2026, 10) == (date(2025, 10, 1), date(2026, 9, 30))
    assert fiscal_year_of(date(2025, 10, 1), 10) == 2026
    with pytest.raises(ValueError, match=r"month number 1\.\.12"):
        fiscal_year_bounds(2026, 13)


def test_fiscal_years_accrue_interest_before_an_arrears_payment() -> None:
    # Liability 2,723.25 (see test_lease_accounting_rules); the first payment is
    # due July 1, 2022, one day after FY2022 ends, so FY2022 accrues the whole
    # first-year interest (136.16) and the liability is still 2,723.25.
    # Amortization: 2,723.25 / 3 = 907.75 a year exactly.
    years = fiscal_year_balances(lease_schedule(annual()))
    assert [year.fiscal_year for year in years] == [2022, 2023, 2024, 2025]
    summary = [
        (y.opening_balance, y.payments, y.interest, y.principal, y.balance, y.accrued_interest)
        for y in years
    ]
    assert summary == [
        (D("0.00"), D("0.00"), D("136.16"), D("0.00"), D("2723.25"), D("136.16")),
        (D("2723.25"), D("1000.00"), D("92.97"), D("863.84"), D("1859.41"), D("92.97")),
        (D("1859.41"), D("1000.00"), D("47.62"), D("907.03"), D("952.38"), D("47.62")),
        (D("952.38"), D("1000.00"), D("0.00"), D("952.38"), D("0.00"), D("0.00")),
    ]
    assert [y.amortization for y in years] == [D("907.75")] * 3 + [D("0.00")]
    assert [y.right_of_use_asset_net for y in years] == [
        D("1815.50"),
        D("907.75"),
        D("0.00"),
        D("0.00"),
    ]
    assert all(y.inflow_recognized is None and y.deferred_inflow_balance is None for y in years)


def test_balances_inside_a_period_are_pro_rated_by_day() -> None:
    schedule = lease_schedule(annual())
    # December 31, 2021: 184 of 365 days of the first year have elapsed.
    # accrued interest 136.16 x 184/365 = 68.6396 -> 68.64
    # amortization     907.75 x 184/365 = 457.6055 -> 457.61; asset 2,265.64
    mid = balances_at(schedule, date(2021, 12, 31))
    assert mid.balance == D("2723.25")
    assert mid.accrued_interest == D("68.64")
    assert mid.right_of_use_asset_net == D("2265.64")
    assert mid.deferred_inflow_balance is None
    # On a payment date the payment has been made and interest restarts.
    paid = balances_at(schedule, date(2022, 7, 1))
    assert paid.balance == D("1859.41")
    assert paid.accrued_interest == D("0.25")  # 92.97 x 1/365 = 0.2547
    before = balances_at(schedule, date(2021, 6, 30))
    assert (before.balance, before.accrued_interest, before.right_of_use_asset_net) == (
        D("0.00"),
        D("0.00"),
        D("0.00"),
    )


def test_lessor_fiscal_years_recognise_inflow_and_interest_revenue() -> None:
    years = fiscal_year_balances(lease_schedule(annual(direction="out")))
    assert [y.inflow_recognized for y in years] == [D("907.75")] * 3 + [D("0.00")]
    assert [y.deferred_inflow_balance for y in years][:2] == [D("1815.50"), D("907.75")]
    assert [y.interest for y in years] == [D("136.16"), D("92.97"), D("47.62"), D("0.00")]
    assert all(y.amortization is None and y.right_of_use_asset_net is None for y in years)
    assert years[0].to_dict()["deferred_inflow_balance"] == "1815.50"


def test_calendar_fiscal_years() -> None:
    years = fiscal_year_balances(lease_schedule(annual()), fiscal_year_start_month=1)
    assert [y.fiscal_year for y in years] == [2021, 2022, 2023, 2024]
    # Calendar 2022 contains the July 1, 2022 payment.
    assert years[1].payments == D("1000.00")
    assert sum(y.interest for y in years) == D("276.75")


def test_fiscal_year_totals_equal_schedule_totals() -> None:
    terms = annual(
        commencement_date=date(2021, 4, 15),
        term_months=60,
        payment_frequency="monthly",
        payments=(PaymentStep(24, D("2000.00")), PaymentStep(36, D("2100.00"))),
        free_periods=3,
        escalation_pct=D("2"),
        useful_life_months=50,
    )
    schedule = lease_schedule(terms)
    years = fiscal_year_balances(schedule)
    assert sum(y.interest for y in years) == sum(row.interest for row in schedule.rows)
    assert sum(y.amortization or 0 for y in years) == schedule.right_of_use_asset
    assert sum(y.payments for y in years) == sum(row.payment for row in schedule.rows)
    assert years[-1].balance == D("0.00")
    for previous, current in itertools.pairwise(years):
        assert current.opening_balance == previous.balance


def test_maturity_table_single_years_then_five_year_buckets() -> None:
    # 12 annual payments of 1,000 in arrears at 5 % from July 1, 2021; reporting
    # at the end of FY2022 (June 30, 2022) nothing has been paid yet.
    # PV = 1,000 x (1 - 1.05^-12) / 0.05 = 8,863.2516 -> 8,863.25
    # FY2023 payment: interest 8,863.25 x 5 % = 443.1625 -> 443.16, principal 556.84
    terms = annual(term_months=144, payments=(PaymentStep(12, D("1000.00")),))
    schedule = lease_schedule(terms)
    table = maturity_table(schedule, 2022)
    assert [b.label for b in table.buckets] == [
        "2023",
        "2024",
        "2025",
        "2026",
        "2027",
        "2028-2032",
        "2033-2037",
    ]
    assert [b.total for b in table.buckets] == [D("1000.00")] * 5 + [D("5000.00"), D("2000.00")]
    assert (table.buckets[0].principal, table.buckets[0].interest) == (D("556.84"), D("443.16"))
    assert table.total_principal == D("8863.25")
    assert table.total_principal == balances_at(schedule, date(2022, 6, 30)).balance
    assert table.to_dict()["total"] == "12000.00"


def test_maturity_table_after_some_payments_and_short_leases() -> None:
    schedule = lease_schedule(annual(term_months=144, payments=(PaymentStep(12, D("1000.00")),)))
    later = maturity_table(schedule, 2030)
    # FY2031 .. FY2034 hold the last four payments; FY2035 is listed with zero.
    assert [b.total for b in later.buckets] == [D("1000.00")] * 4 + [D("0.00")]
    assert later.total_principal == balances_at(schedule, date(2030, 6, 30)).balance
    short = lease_schedule(annual())
    assert maturity_table(short, 2025).total_principal == D("0.00")
    assert len(maturity_table(short, 2025).buckets) == 5
