"""Terms that are not a whole number of payment periods: a partial first or last period.

The convention (README "Partial periods", ``registry/leases/accounting/periods.py``):
periods are whole steps of the payment frequency from commencement, the remainder a
partial last period - unless the lease starts after the 1st and ends on a month's last
day, when periods are calendar periods ending with the term and the remainder is a
partial first period.  A partial period pays the full period's payment x days in it /
days in its full period (half up to the cent), bears interest at the period rate x the
same fraction, weighs that fraction in the straight-line, and an arrears payment for it
falls on the day after its last day.
"""

from __future__ import annotations

import itertools
from datetime import date
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from typing import Literal
from typing import cast

import pytest
from hypothesis import HealthCheck
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from registry.fiscal_years import fiscal_year_bounds
from registry.fiscal_years import fiscal_year_of
from registry.leases.accounting import LeaseModification
from registry.leases.accounting import LeaseTerms
from registry.leases.accounting import LeaseTermsError
from registry.leases.accounting import PaymentStep
from registry.leases.accounting import balances_at
from registry.leases.accounting import fiscal_year_balances
from registry.leases.accounting import lease_schedule
from registry.leases.accounting import lease_terms_from_dict
from registry.leases.accounting import maturity_table
from registry.leases.accounting import payment_stream
from registry.leases.accounting.periods import default_anchor
from registry.leases.accounting.periods import months_covering
from registry.leases.accounting.periods import payment_periods
from registry.leases.remeasurement import RecordedModification
from registry.leases.remeasurement import apply_modifications
from tests.lease_terms_builders import MAX_PERIODS
from tests.lease_terms_builders import MONTHS
from tests.lease_terms_builders import ZERO
from tests.lease_terms_builders import washington
from tests.lease_terms_builders import washington_values

D = Decimal

# The hand-worked lease: 1,000.00 a month in arrears at 5 % for 2 years and 15 days.
STUB: dict[str, Any] = {
    "direction": "in", "commencement_date": date(2024, 1, 1), "end_date": date(2026, 1, 15),
    "payment_frequency": "monthly", "payment_timing": "arrears",
    "payments": (PaymentStep(25, D("1000.00")),), "discount_rate": D("0.05"),
}  # fmt: skip


def stub_lease(**overrides: Any) -> LeaseTerms:
    return LeaseTerms(**{**STUB, **overrides})


STUB_TERMS = stub_lease()


def test_hand_worked_partial_last_period() -> None:
    """2024-01-01 to 2026-01-15, 1,000.00 a month in arrears, 5 %, city as lessee.

    i = 0.05 / 12 = 0.00416667 a month.  Whole months run from commencement: 24 of
    them (January 2024 - December 2025), paid on the 1st of the next month; the partial
    last period runs 2026-01-01 - 2026-01-15, 15 of January's 31 days, f = 15/31.

    * its payment: 1,000.00 x 15/31 = 483.870 -> 483.87, due 2026-01-16 (the day
      after the end date); payments in all 24,483.87.
    * term_months = 25 (the partial month counted whole): not short-term.
    * PV of the 24 whole payments: 1,000 x (1 - 1.00416667^-24) / 0.00416667
      = 1,000 x (1 - 0.90502542) / 0.00416667 = 1,000 x 22.79389839 = 22,793.8984.
    * PV of the partial payment, discounted 24 months and then 15/31 of a month at
      simple interest: 483.87 x 0.90502542 / (1 + 0.00416667 x 15/31)
      = 437.9146 / 1.00201613 = 437.0335.
    * liability = 22,793.8984 + 437.0335 = 23,230.9319 -> 23,230.93 (asset the same).
    * row 1, 2024-02-01: interest 23,230.9319 x 0.00416667 = 96.7955 -> 96.80,
      principal 903.20, balance 22,327.73.
    * row 2, 2024-03-01: interest on the exact balance 22,327.7275 x 0.00416667
      = 93.0322 -> 93.03, principal 906.97, balance 21,420.76.
    * row 24, 2026-01-01: the exact balance before it is the PV of the last two
      payments, (1,000 + 482.8964) / 1.00416667 = 1,476.7434; interest x 0.00416667
      = 6.1531 -> 6.15, principal 993.85, balance 482.91 (exact: 483.87 / 1.00201613
      = 482.8964; the 1.4 cents are the rounding of 24 rows).
    * row 25, 2026-01-16: 483.87 settles the balance: principal 482.91, interest 0.96
      (482.8964 x 0.00416667 x 15/31 = 0.9736, less the 1.4-cent residue), balance 0.00.
    * totals: principal 23,230.93 + interest 1,252.94 = payments 24,483.87.
    * amortization over 24 + 15/31 = 759/31 months: 23,230.93 x 31/759 = 948.8259
      -> 948.83 a month; the partial month takes the rest, 23,230.93 - 24 x 948.83
      = 459.01 (its exact share 23,230.93 x 15/759 = 459.1093).
    """
    terms = stub_lease()
    assert terms.term_months == 25 and terms.period_count == 25 and not terms.is_short_term
    stream = payment_stream(terms)
    assert stream[-1].fraction == Fraction(15, 31)
    assert (stream[-1].period_start, stream[-1].due_date, stream[-1].gross_amount) == (
        date(2026, 1, 1),
        date(2026, 1, 16),
        D("483.87"),
    )
    schedule = lease_schedule(terms)
    assert schedule.initial_measurement == D("23230.93") == schedule.right_of_use_asset
    rows = schedule.lessee_rows
    assert [(r.date, r.payment, r.interest, r.principal, r.balance) for r in rows[:2]] == [
        (date(2024, 2, 1), D("1000.00"), D("96.80"), D("903.20"), D("22327.73")),
        (date(2024, 3, 1), D("1000.00"), D("93.03"), D("906.97"), D("21420.76")),
    ]
    assert rows[22].balance == D("1476.76")
    assert (rows[23].date, rows[23].interest, rows[23].principal, rows[23].balance) == (
        date(2026, 1, 1),
        D("6.15"),
        D("993.85"),
        D("482.91"),
    )
    assert (rows[24].date, rows[24].payment, rows[24].interest, rows[24].principal,
            rows[24].balance) == (date(2026, 1, 16), D("483.87"), D("0.96"), D("482.91"),
                                  D("0.00"))  # fmt: skip
    assert sum(r.payment for r in rows) == D("24483.87")
    assert sum(r.principal for r in rows) == D("23230.93")
    assert sum(r.interest for r in rows) == D("1252.94")
    assert {r.amortization for r in rows[:24]} == {D("948.83")}
    assert rows[24].amortization == D("459.01") and rows[24].asset_balance == ZERO


def test_hand_worked_balances_fiscal_years_and_maturity() -> None:
    """The same lease at dates inside and around its partial period.

    * 2026-01-10, 10 of the partial period's 15 days gone: liability 482.91 (the last
      payment is not due yet), accrued interest 0.96 x 10/15 = 0.64, asset
      459.01 - 459.01 x 10/15 (306.0067 -> 306.01) = 153.00.
    * FY2026 (2025-07-01 - 2026-06-30) pays 7 x 1,000.00 + 483.87 = 7,483.87 and
      closes at 0.00; FY2025 closes with a liability of 7,353.84.
    * the maturity table at FY2025 puts all of it in FY2026: principal 7,353.84 (the
      liability) + interest 130.03 = 7,483.87, the payments still to make.
    """
    schedule = lease_schedule(stub_lease())
    inside = balances_at(schedule, date(2026, 1, 10))
    assert (inside.balance, inside.accrued_interest, inside.right_of_use_asset_net) == (
        D("482.91"),
        D("0.64"),
        D("153.00"),
    )
    years = {year.fiscal_year: year for year in fiscal_year_balances(schedule)}
    assert sorted(years) == [2024, 2025, 2026]
    assert (years[2026].payments, years[2026].balance) == (D("7483.87"), ZERO)
    assert years[2025].balance == D("7353.84")
    table = maturity_table(schedule, 2025)
    first = table.buckets[0]
    assert (first.label, first.principal, first.interest, first.total) == (
        "2026",
        D("7353.84"),
        D("130.03"),
        D("7483.87"),
    )
    assert all(bucket.total == ZERO for bucket in table.buckets[1:])


def test_hand_worked_partial_first_period() -> None:
    """2024-01-15 to 2025-12-31, 2,000.00 a month in advance, 6 %, city as lessee.

    It starts after the 1st and ends on a month's last day, so the months are calendar
    months and the first period is partial: 2024-01-15 - 2024-01-31, 17 of 31 days.

    * payments: 2,000 x 17/31 = 1,096.774 -> 1,096.77 on 2024-01-15, then 23 x 2,000.00
      on the 1st, February 2024 - December 2025: 24 periods, term_months 24.
    * i = 0.005.  PV = 1,096.77 + 2,000 x a(23, due) / (1 + 0.005 x 17/31), where
      a(23, due) = (1 - 1.005^-23) / (1 - 1.005^-1) = 21.78405896:
      1,096.77 + 43,568.1179 / 1.00274194 = 1,096.77 + 43,448.9836 = 44,545.75.
    * row 1, 2024-01-15: at commencement, no interest: principal 1,096.77,
      balance 43,448.98.
    * row 2, 2024-02-01: interest over the 17-day period, 43,448.9836 x 0.005 x 17/31
      = 119.1343 -> 119.13; principal 1,880.87; balance 41,568.11.
    * row 3, 2024-03-01: a whole month, (43,448.9836 x 1.00274194 - 2,000) x 0.005
      = 41,568.1179 x 0.005 = 207.8406 -> 207.84.
    * amortization over 17/31 + 23 = 730/31 months: the first period 44,545.75 x 17/730
      = 1,037.3668 -> 1,037.37, each whole month 44,545.75 x 31/730 = 1,891.6688
      -> 1,891.67, the last the rest: 44,545.75 - 1,037.37 - 22 x 1,891.67 = 1,891.64.
    """
    terms = LeaseTerms(direction="in", commencement_date=date(2024, 1, 15),
                       end_date=date(2025, 12, 31), payment_frequency="monthly",
                       payment_timing="advance", payments=(PaymentStep(24, D("2000.00")),),
                       discount_rate=D("0.06"))  # fmt: skip
    assert terms.term_months == 24 and terms.anchor == date(2026, 1, 1)
    schedule = lease_schedule(terms)
    assert schedule.initial_measurement == D("44545.75")
    rows = schedule.lessee_rows
    assert [(r.date, r.payment, r.interest, r.principal, r.balance) for r in rows[:3]] == [
        (date(2024, 1, 15), D("1096.77"), ZERO, D("1096.77"), D("43448.98")),
        (date(2024, 2, 1), D("2000.00"), D("119.13"), D("1880.87"), D("41568.11")),
        (date(2024, 3, 1), D("2000.00"), D("207.84"), D("1792.16"), D("39775.95")),
    ]
    assert (rows[-1].date, rows[-1].balance) == (date(2025, 12, 1), ZERO)
    assert rows[0].amortization == D("1037.37")
    assert {r.amortization for r in rows[1:-1]} == {D("1891.67")}
    assert rows[-1].amortization == D("1891.64")


@pytest.mark.parametrize(("start", "end", "frequency", "first", "last"), [
    # The two shapes of the city's real lease list, monthly.
    (date(2015, 1, 15), date(2025, 6, 30), "monthly",
     (date(2015, 1, 15), date(2015, 2, 1), Fraction(17, 31)),
     (date(2025, 6, 1), date(2025, 7, 1), Fraction(1))),
    (date(2019, 3, 1), date(2024, 2, 14), "monthly",
     (date(2019, 3, 1), date(2019, 4, 1), Fraction(1)),
     (date(2024, 2, 1), date(2024, 2, 15), Fraction(14, 29))),
    # Quarterly from the 1st: whole quarters from March; the last runs Dec 1 - Feb 14.
    (date(2019, 3, 1), date(2024, 2, 14), "quarterly",
     (date(2019, 3, 1), date(2019, 6, 1), Fraction(1)),
     (date(2023, 12, 1), date(2024, 2, 15), Fraction(76, 91))),
    # Annual, mid-month to June 30: fiscal years, the first one partial.
    (date(2015, 1, 15), date(2025, 6, 30), "annual",
     (date(2015, 1, 15), date(2015, 7, 1), Fraction(167, 365)),
     (date(2024, 7, 1), date(2025, 7, 1), Fraction(1))),
    # Mid-month to mid-month: periods from commencement, the last one partial.
    (date(2020, 5, 20), date(2021, 8, 9), "monthly",
     (date(2020, 5, 20), date(2020, 6, 20), Fraction(1)),
     (date(2021, 7, 20), date(2021, 8, 10), Fraction(21, 31))),
])  # fmt: skip
def test_the_dates_pick_the_partial_period(
    start: date,
    end: date,
    frequency: str,
    first: tuple[date, date, Fraction],
    last: tuple[date, date, Fraction],
) -> None:
    periods = payment_periods(
        start,
        end + timedelta(days=1),
        MONTHS[frequency],
        default_anchor(start, end + timedelta(days=1), MONTHS[frequency]),
    )
    assert (periods[0].start, periods[0].end, periods[0].fraction) == first
    assert (periods[-1].start, periods[-1].end, periods[-1].fraction) == last
    assert all(not period.is_partial for period in periods[1:-1])
    assert all(a.end == b.start for a, b in itertools.pairwise(periods))


def test_partial_periods_pay_their_fraction_and_escalate_on_anniversaries() -> None:
    # 36,500 a year in advance, 2 % a year, 2015-01-15 to 2025-06-30: the first period is
    # January 15 - June 30 2015, 167 of 365 days: 36,500 x 167/365 = 16,700.00.  Each
    # period beginning on or after an anniversary of commencement steps up: July 1, 2015
    # is still year 0, July 1, 2016 year 1 (37,230.00), July 1, 2024 year 9 (43,620.88).
    terms = LeaseTerms(direction="out", commencement_date=date(2015, 1, 15),
                       end_date=date(2025, 6, 30), payment_frequency="annual",
                       payment_timing="advance", payments=(PaymentStep(11, D("36500.00")),),
                       escalation_pct=D("2"), non_lease_amount=D("3650.00"),
                       discount_rate=D("0.04"))  # fmt: skip
    stream = payment_stream(terms)
    assert [(p.due_date, p.gross_amount) for p in stream[:3]] == [
        (date(2015, 1, 15), D("16700.00")),
        (date(2015, 7, 1), D("36500.00")),
        (date(2016, 7, 1), D("37230.00")),
    ]
    assert (stream[-1].due_date, stream[-1].gross_amount) == (date(2024, 7, 1), D("43620.88"))
    # The non-lease component is pro-rated with it: 3,650 x 167/365 = 1,670.00.
    assert (stream[0].non_lease_amount, stream[0].lease_amount) == (D("1670.00"), D("15030.00"))


@pytest.mark.parametrize(("end", "short_term"), [
    (date(2024, 12, 31), True),   # 11 months and 17 days
    (date(2025, 1, 14), True),    # exactly 12 months
    (date(2025, 1, 15), False),   # 12 months and a day: the partial month counts
])  # fmt: skip
def test_the_short_term_test_counts_a_partial_month(end: date, short_term: bool) -> None:
    periods = len(
        payment_periods(
            date(2024, 1, 15),
            end + timedelta(days=1),
            1,
            default_anchor(date(2024, 1, 15), end + timedelta(days=1), 1),
        )
    )
    terms = LeaseTerms(direction="in", commencement_date=date(2024, 1, 15), end_date=end,
                       payment_frequency="monthly", payment_timing="advance",
                       payments=(PaymentStep(periods, D("500.00")),),
                       discount_rate=None if short_term else D("0.05"))  # fmt: skip
    assert terms.is_short_term is short_term
    schedule = lease_schedule(terms)
    assert schedule.short_term is short_term
    assert (schedule.initial_measurement == ZERO) is short_term


def test_a_whole_term_given_by_dates_is_the_term_given_in_months() -> None:
    by_dates = LeaseTerms(**washington_values(term_months=0, end_date=date(2024, 3, 31)))
    assert by_dates == washington() and by_dates.end_date is None
    assert lease_schedule(by_dates).initial_measurement == D("1066109.82")


def test_the_term_by_months_still_needs_whole_periods_and_the_dates_must_agree() -> None:
    with pytest.raises(LeaseTermsError) as caught:
        LeaseTerms(
            **washington_values(
                payment_frequency="quarterly",
                term_months=35,
                payments=(PaymentStep(12, D("1.00")),),
            )
        )
    assert "give end_date" in dict(caught.value.errors)["term_months"]
    quarterly = LeaseTerms(
        **washington_values(
            payment_frequency="quarterly",
            term_months=0,
            end_date=date(2024, 2, 29),
            payments=(PaymentStep(12, D("90000.00")),),
        )
    )  # 35 months: the last quarter has 2
    assert quarterly.term_months == 35 and quarterly.periods[-1].fraction == Fraction(60, 91)
    for overrides, field in [
        ({"term_months": 35, "end_date": date(2024, 3, 15)}, "term_months"),
        ({"term_months": 0, "end_date": date(2021, 3, 31)}, "end_date"),
        ({"term_months": 0, "end_date": date(2024, 3, 15)}, "payments"),  # 36 periods, 37 paid
    ]:
        with pytest.raises(LeaseTermsError) as caught:
            LeaseTerms(**washington_values(payments=(PaymentStep(37, D("1.00")),), **overrides))
        assert field in dict(caught.value.errors), caught.value.errors


def test_lease_terms_from_json_with_an_end_date() -> None:
    terms = lease_terms_from_dict(
        {
            "direction": "in",
            "commencement_date": "2024-01-01",
            "end_date": "2026-01-15",
            "payment_frequency": "monthly",
            "payment_timing": "arrears",
            "payments": [{"periods": 25, "amount": "1000.00"}],
            "discount_rate": "0.05",
        }
    )
    assert terms == stub_lease()
    with pytest.raises(LeaseTermsError) as caught:
        lease_terms_from_dict(
            {
                **{k: v for k, v in STUB.items() if k != "end_date"},
                "commencement_date": "2024-01-01",
            }
        )
    assert "term_months" in dict(caught.value.errors)


# --- remeasurement across a partial period ------------------------------------------------


def remeasure(
    effective: date, changes: dict[str, Any], terms: LeaseTerms | None = None
) -> LeaseModification:
    base = lease_schedule(terms or stub_lease())
    return apply_modifications(base, [RecordedModification(effective, changes)])[-1]


def test_a_carried_modification_keeps_the_partial_last_period() -> None:
    # From 2025-01-01 at 6 %: the 12 remaining months and the partial January 2026,
    # re-prorated exactly as before (1,000.00 x 15/31 = 483.87 on 2026-01-16).
    result = remeasure(date(2025, 1, 1), {"discount_rate": "0.06"})
    rows = result.remeasured.rows
    assert len(rows) == 13 and (rows[-1].date, rows[-1].payment) == (date(2026, 1, 16), D("483.87"))
    assert rows[-1].balance == ZERO
    booked = [row for _, row in result.history.booked_rows()]
    assert [row.date for row in booked] == [row.date for row in lease_schedule(STUB_TERMS).rows]
    assert sum(row.payment for row in booked) == D("24483.87")
    # Unchanged terms remeasure to what was carried, give or take rounding.
    assert remeasure(date(2025, 1, 1), {}).adjustment == D("-0.01")


def test_a_term_extension_from_a_partial_last_period() -> None:
    # On 2025-07-01 the lease is extended from 2026-01-15 to 2027-01-15 at 1,050.00: 18
    # whole months and a new partial January 2027, 1,050 x 15/31 = 508.06 on 2027-01-16;
    # the old partial January 2026 becomes a whole month.
    result = remeasure(
        date(2025, 7, 1),
        {"end_date": "2027-01-15", "payments": [{"periods": 19, "amount": "1050.00"}]},
    )
    rows = result.remeasured.rows
    assert [row.payment for row in rows] == [D("1050.00")] * 18 + [D("508.06")]
    assert rows[6].date == date(2026, 2, 1) and rows[-1].date == date(2027, 1, 16)
    assert rows[-1].balance == ZERO and result.remeasured.terms.term_months == 19
    assert result.balance_before == D("6384.48")  # after the 2025-07-01 payment
    assert result.adjustment == result.remeasured.initial_measurement - D("6384.48")
    years = fiscal_year_balances(result)
    assert [year.fiscal_year for year in years] == [2024, 2025, 2026, 2027]
    assert sum(year.payments for year in years) == 18 * D("1000.00") + 18 * D("1050.00") + D(
        "508.06"
    )
    table = maturity_table(result, 2026)
    assert table.total_principal + table.total_interest == 7 * D("1050.00") + D("508.06")


def test_a_modification_inside_a_period_paid_in_arrears() -> None:
    """Effective 2025-03-16, inside March (paid 2025-04-01), at 6 %.

    The March payment stays as it was: the whole 1,000.00 on April 1 belongs to the
    new measurement, whose first period is March 16-31, 16 of 31 days.  Before the
    date the old schedule owes 10,237.85 plus 15 of March's 31 days of interest,
    42.66 x 15/31 = 20.64.  The new liability is 10,214.22, so its first row's
    interest is 10,214.22 x 0.005 x 16/31 = 26.36.  With the rate unchanged the
    adjustment is -0.06: simple interest for 15 days, then for 16 days on the grown
    balance, is not quite 31 days' (10,237.85 x i^2 x 15/31 x 16/31 = 0.05) plus a
    rounded cent.
    """
    result = remeasure(date(2025, 3, 16), {"discount_rate": "0.06"})
    assert (result.balance_before, result.accrued_interest_before) == (D("10237.85"), D("20.64"))
    assert result.remeasured.initial_measurement == D("10214.22")
    first = result.remeasured.rows[0]
    assert (first.date, first.payment, first.interest) == (
        date(2025, 4, 1),
        D("1000.00"),
        D("26.36"),
    )
    assert result.remeasured.rows[-1].payment == D("483.87")
    booked = [row for _, row in result.history.booked_rows()]
    assert [row.date for row in booked] == [row.date for row in lease_schedule(STUB_TERMS).rows]
    assert sum(row.payment for row in booked) == D("24483.87")
    assert remeasure(date(2025, 3, 16), {}).adjustment == D("-0.06")


def test_a_modification_inside_a_period_paid_in_advance() -> None:
    # Paid in advance, March's payment was made on March 1: nothing more is due for it,
    # so the new measurement's first row, on the modification date, pays 0.00.
    advance = stub_lease(payment_timing="advance")
    result = remeasure(date(2025, 3, 16), {}, advance)
    first = result.remeasured.rows[0]
    assert (first.date, first.payment, first.interest) == (date(2025, 3, 16), ZERO, ZERO)
    assert result.remeasured.rows[1].date == date(2025, 4, 1)
    booked = [row for _, row in result.history.booked_rows()]
    assert sum(row.payment for row in booked) == D("24483.87")
    assert abs(result.adjustment) <= D("0.05")


def test_a_modification_inside_a_period_cannot_change_how_it_is_paid() -> None:
    base = lease_schedule(stub_lease())
    cases: list[tuple[dict[str, Any], str]] = [
        ({"payment_timing": "advance"}, "terms.payment_timing"),
        ({"payments": [{"periods": 11, "amount": "1.00"}]}, "terms.payments"),  # 10 are left
        ({}, "effective_date"),  # the day after the term
    ]
    for changes, field in cases:
        effective = date(2026, 1, 16) if field == "effective_date" else date(2025, 3, 16)
        with pytest.raises(LeaseTermsError) as caught:
            apply_modifications(base, [RecordedModification(effective, changes)])
        assert field in dict(caught.value.errors), caught.value.errors


# --- any term given by dates ---------------------------------------------------------------


@st.composite
def dated_terms(draw: st.DrawFn) -> LeaseTerms:
    """A valid lease whose term is given by dates, often with a partial first or last
    period (or both, on an anchor of its own), and payments of 100.00 or more."""
    frequency = cast(
        Literal["monthly", "quarterly", "annual"], draw(st.sampled_from(sorted(MONTHS)))
    )
    months = MONTHS[frequency]
    start = draw(st.dates(date(2000, 1, 1), date(2040, 12, 31)))
    end = start + timedelta(days=draw(st.integers(0, MAX_PERIODS[frequency] * months * 30)))
    anchor = draw(st.none() | st.dates(start - timedelta(days=400), start + timedelta(days=400)))
    finish = end + timedelta(days=1)
    periods = len(
        payment_periods(start, finish, months, anchor or default_anchor(start, finish, months))
    )
    cuts = sorted(draw(st.sets(st.integers(1, periods - 1), max_size=2)) if periods > 1 else [])
    bounds = [0, *cuts, periods]
    amounts = [draw(st.decimals(D("100.00"), D("100000.00"), places=2)) for _ in bounds[1:]]
    covering = months_covering(start, finish)
    direction = cast(Literal["in", "out"], draw(st.sampled_from(["in", "out"])))
    prepaid = draw(st.decimals(D("0"), D("5000.00"), places=2))
    return LeaseTerms(
        direction=direction,
        commencement_date=start,
        end_date=end,
        period_anchor=anchor,
        first_period_share=draw(st.none() | st.fractions(Fraction(1, 400), 1)),
        max_possible_term_months=covering + draw(st.integers(0, 24)),
        payment_frequency=frequency,
        payment_timing=cast(
            Literal["advance", "arrears"], draw(st.sampled_from(["advance", "arrears"]))
        ),
        payments=tuple(
            PaymentStep(b - a, amount)
            for a, b, amount in zip(bounds, bounds[1:], amounts, strict=False)
        ),
        escalation_pct=draw(st.decimals(min_value=0, max_value=10, places=1)),
        free_periods=draw(st.integers(0, periods - 1)),
        non_lease_amount=draw(st.decimals(D("0"), min(amounts) / 2, places=2)),
        discount_rate=draw(st.decimals(min_value=0, max_value=D("0.15"), places=4)),
        prepaid_at_commencement=prepaid,
        incentives=draw(st.decimals(D("0"), prepaid, places=2)),
        useful_life_months=draw(st.none() | st.integers(1, covering + 24)),
    )


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)  # CI machines may be busy
@given(dated_terms(), st.integers(min_value=-400, max_value=12 * 400))
def test_any_dated_term_settles_and_its_reports_agree(terms: LeaseTerms, offset: int) -> None:
    schedule = lease_schedule(terms)
    rows = schedule.rows
    assert len(rows) == terms.period_count
    assert rows[0].interest_from == terms.commencement_date
    assert max(row.recognition_to for row in rows) <= terms.term_end
    assert sum((row.principal for row in rows), ZERO) == schedule.initial_measurement
    assert rows[-1].balance == ZERO
    assert all(row.balance >= 0 for row in rows)
    assert sum((row.recognized for row in rows), ZERO) == schedule.opening_recognizable
    assert all(row.recognized >= 0 and row.carrying >= 0 for row in rows)
    assert rows[-1].carrying == ZERO
    if not schedule.short_term:
        assert all(row.interest + row.principal == row.payment for row in rows)
    years = fiscal_year_balances(schedule)
    assert sum((y.payments for y in years), ZERO) == sum((r.payment for r in rows), ZERO)
    assert sum((y.interest for y in years), ZERO) == sum((r.interest for r in rows), ZERO)
    assert years[-1].balance == ZERO and years[-1].accrued_interest == ZERO
    fiscal_year = fiscal_year_of(terms.commencement_date + timedelta(days=offset))
    _, year_end = fiscal_year_bounds(fiscal_year)
    table = maturity_table(schedule, fiscal_year)
    assert table.total_principal == balances_at(schedule, year_end).balance
    if not schedule.short_term and terms.commencement_date <= year_end:
        still_due = sum((row.payment for row in rows if row.date > year_end), ZERO)
        assert table.total_principal + table.total_interest == still_due


@settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(dated_terms(), st.fractions(Fraction(1, 1000), Fraction(999, 1000)))
def test_a_carried_modification_on_any_day_loses_no_payment(
    terms: LeaseTerms, at: Fraction
) -> None:
    """Unchanged terms from any day inside the term: every payment booked once, the lease
    settled, and an adjustment no bigger than the interest compounded at the date (at
    most balance x period rate^2 / 4) plus a cent of rounding a row."""
    base = lease_schedule(terms)
    days = (terms.term_end - terms.commencement_date).days
    effective = terms.commencement_date + timedelta(days=max(1, int(days * at)))
    assume(not base.short_term and effective < terms.term_end)
    result = apply_modifications(base, [RecordedModification(effective, {})])[-1]
    booked = [row for _, row in result.history.booked_rows()]
    assert sum((r.payment for r in booked), ZERO) == sum((r.payment for r in base.rows), ZERO)
    years = fiscal_year_balances(result)
    assert years[-1].balance == ZERO and years[-1].accrued_interest == ZERO
    assert base.discount_rate is not None
    rate = base.discount_rate / terms.periods_per_year
    owed = result.balance_before + result.accrued_interest_before
    assert abs(result.adjustment) <= owed * rate * rate / 4 + D("0.01") * (len(base.rows) + 1)
