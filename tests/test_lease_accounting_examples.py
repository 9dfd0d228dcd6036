"""Published GASB 87 worked examples, reproduced to the cent.

Sources (public web pages):

* Washington State Board for Community and Technical Colleges, ctcLink
  Accounting Manual 40.60.20 "Right-To-Use Lease Agreements as Lessee",
  amortization schedule example LA0001 (lessee, monthly in advance, 0.89 %).
* EZLease, "GASB 87 Lessee Lease Accounting Example" (copier, $250 a month in
  advance of which $41 is maintenance, 4 %, 3 years, 5-year useful life).
* EZLease, "GASB 87 Lessor Lease Accounting Example" (8-year office building,
  $10,000 then $12,000 a month, fair value $1.5M, unguaranteed residual $1M,
  implicit rate computed).

Where a source differs by a cent the test says why: the sources carry
unrounded balances and only display cents, while this engine rounds each row.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from registry.leases.accounting import LeaseTerms
from registry.leases.accounting import PaymentStep
from registry.leases.accounting import balances_at
from registry.leases.accounting import fiscal_year_balances
from registry.leases.accounting import lease_schedule
from registry.leases.accounting import maturity_table
from tests.lease_terms_builders import washington as sbctc_terms

D = Decimal


def test_sbctc_initial_measurement_and_amortization() -> None:
    schedule = lease_schedule(sbctc_terms())
    assert not schedule.short_term
    assert schedule.initial_measurement == D("1066109.82")
    assert schedule.right_of_use_asset == D("1066109.82")
    # 1,066,109.82 / 36 = 29,614.1617 -> 29,614.16 every month; the 0.06 left by
    # rounding is taken in the last month (29,614.22) so the asset ends at 0.00.
    rows = schedule.lessee_rows
    assert all(row.amortization == D("29614.16") for row in rows[:-1])
    assert rows[-1].amortization == D("29614.22")
    assert sum(row.amortization for row in rows) == D("1066109.82")


def test_sbctc_rows_match_the_published_table() -> None:
    rows = lease_schedule(sbctc_terms()).lessee_rows
    # Payment 1 at commencement is all principal: 1,066,109.82 - 30,000.
    assert (rows[0].interest, rows[0].principal, rows[0].balance) == (
        D("0.00"),
        D("30000.00"),
        D("1036109.82"),
    )
    # 1,036,109.82 x 0.0089 / 12 = 768.448 -> 768.45.
    assert (rows[1].interest, rows[1].principal, rows[1].balance) == (
        D("768.45"),
        D("29231.55"),
        D("1006878.27"),
    )
    assert (rows[2].interest, rows[2].principal, rows[2].balance) == (
        D("746.77"),
        D("29253.23"),
        D("977625.04"),
    )
    assert rows[3].interest == D("725.07")
    assert rows[3].balance == D("948350.11")
    assert rows[30].interest == D("133.15")
    assert rows[30].principal == D("29866.85")
    assert rows[30].balance == D("149666.83")
    # The manual shows 179,533.67 after payment 30 (it carries the unrounded
    # balance 179,533.6726); rounding interest per row gives 179,533.68 here,
    # and the two agree again after payment 31.
    assert rows[29].interest == D("155.29")
    assert rows[29].balance == D("179533.68")
    assert rows[-1].balance == D("0.00")
    assert [row.date for row in rows[:4]] == [
        date(2021, 4, 1),
        date(2021, 5, 1),
        date(2021, 6, 1),
        date(2021, 7, 1),
    ]


def test_sbctc_asset_balances() -> None:
    rows = lease_schedule(sbctc_terms()).lessee_rows
    # Published asset balances after payments 1-4.
    assert [row.asset_balance for row in rows[:4]] == [
        D("1036495.66"),
        D("1006881.50"),
        D("977267.34"),
        D("947653.18"),
    ]
    # The manual amortizes 29,614.1617 unrounded and shows 177,684.97 and
    # 148,070.81 after payments 30 and 31; with whole-cent monthly amortization
    # (29,614.16 x 30) the asset is 0.05 higher until the last month catches up.
    assert rows[29].asset_balance == D("177685.02")
    assert rows[30].asset_balance == D("148070.86")
    assert rows[-1].asset_balance == D("0.00")


def test_sbctc_fiscal_year_2021_end() -> None:
    schedule = lease_schedule(sbctc_terms())
    first = fiscal_year_balances(schedule)[0]
    assert first.fiscal_year == 2021
    assert (first.start, first.end) == (date(2020, 7, 1), date(2021, 6, 30))
    # Three payments made (April-June); June's interest (725.07, paid with the
    # July 1 payment) is accrued at June 30.
    assert first.balance == D("977625.04")
    assert first.accrued_interest == D("725.07")
    assert first.interest == D("768.45") + D("746.77") + D("725.07")
    assert first.amortization == D("29614.16") * 3
    # Same as the manual's asset balance after payment 3.
    assert first.right_of_use_asset_net == D("977267.34")


def copier_terms() -> LeaseTerms:
    return LeaseTerms(
        direction="in",
        commencement_date=date(2022, 7, 1),
        term_months=36,
        payment_frequency="monthly",
        payment_timing="advance",
        payments=(PaymentStep(36, D("250.00")),),
        non_lease_amount=D("41.00"),
        discount_rate=D("0.04"),
        useful_life_months=60,
    )


def test_ezlease_copier_lessee() -> None:
    schedule = lease_schedule(copier_terms())
    # Only the $209 lease component is measured; $41 maintenance is expensed.
    assert schedule.initial_measurement == D("7102.59")
    assert schedule.right_of_use_asset == D("7102.59")
    assert schedule.rows[0].payment == D("209.00")
    assert schedule.rows[0].principal == D("209.00")
    # First month's interest (6,893.59 x 4 % / 12 = 22.978) and amortization
    # over the 36-month term, shorter than the 5-year useful life.
    assert schedule.rows[1].interest == D("22.98")
    assert schedule.lessee_rows[0].amortization == D("197.29")


def test_ezlease_copier_current_portion_and_year_end_note() -> None:
    schedule = lease_schedule(copier_terms())
    due_in_first_year = sum(row.principal for row in schedule.rows[:12])
    # EZLease shows 2,289.69 current / 4,812.90 long-term at commencement; it
    # keeps fractions of a cent, row-rounded principal gives 2,289.68 / 4,812.91.
    assert due_in_first_year == D("2289.68")
    assert schedule.initial_measurement - due_in_first_year == D("4812.91")
    # Year-end note at June 30, 2023 (EZLease, whole dollars): future payments
    # $5,016, interest $203, present value $4,813.
    table = maturity_table(schedule, 2023)
    assert table.total_principal + table.total_interest == D("5016.00")
    assert table.total_interest == D("203.09")
    assert table.total_principal == D("4812.91")
    assert balances_at(schedule, date(2023, 6, 30)).balance == D("4812.91")


def office_terms() -> LeaseTerms:
    return LeaseTerms(
        direction="out",
        commencement_date=date(2022, 7, 1),
        term_months=96,
        payment_frequency="monthly",
        payment_timing="advance",
        payments=(PaymentStep(24, D("10000.00")), PaymentStep(72, D("12000.00"))),
        fair_value=D("1500000.00"),
        residual_value=D("1000000.00"),
        useful_life_months=600,
    )


def test_ezlease_office_building_lessor_implicit_rate() -> None:
    schedule = lease_schedule(office_terms())
    # Implicit rate solved so PV(rents) + PV(1,000,000 after 96 months) = 1.5M.
    assert schedule.discount_rate == D("0.0590148344")
    assert schedule.initial_measurement == D("875598.41")
    assert schedule.deferred_inflow == D("875598.41")
    assert schedule.rows[0].principal == D("10000.00")
    assert schedule.rows[24].payment == D("12000.00")
    # EZLease: current receivable 74,750.34 and a 6,061.50 reclassification
    # after month one; row rounding gives one cent less / more.
    assert sum(row.principal for row in schedule.rows[:12]) == D("74750.33")
    assert schedule.rows[12].principal == D("6061.51")
    # Lease revenue straight-line: 875,598.41 / 96 = 9,120.8168 -> 9,120.82.
    assert schedule.lessor_rows[0].inflow_recognized == D("9120.82")
    assert schedule.rows[-1].balance == D("0.00")
    assert schedule.lessor_rows[-1].deferred_inflow_balance == D("0.00")
