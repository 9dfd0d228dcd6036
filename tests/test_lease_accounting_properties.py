"""Invariants that must hold for any valid lease (Hypothesis property tests)."""

from __future__ import annotations

import itertools
from datetime import date
from datetime import timedelta
from decimal import Decimal
from typing import Literal
from typing import cast

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from registry.fiscal_years import fiscal_year_bounds
from registry.fiscal_years import fiscal_year_of
from registry.leases.accounting import LeaseSchedule
from registry.leases.accounting import LeaseTerms
from registry.leases.accounting import PaymentStep
from registry.leases.accounting import balances_at
from registry.leases.accounting import fiscal_year_balances
from registry.leases.accounting import lease_schedule
from registry.leases.accounting import maturity_table
from tests.lease_terms_builders import MAX_PERIODS
from tests.lease_terms_builders import MONTHS
from tests.lease_terms_builders import ZERO

D = Decimal


def money(low: str, high: str) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=D(low), max_value=D(high), places=2)


@st.composite
def lease_terms(draw: st.DrawFn) -> LeaseTerms:
    """Any valid lease with realistic (>= 100.00) payments and rates of 0-15 %."""
    frequency = cast(
        Literal["monthly", "quarterly", "annual"], draw(st.sampled_from(sorted(MONTHS)))
    )
    periods = draw(st.integers(min_value=1, max_value=MAX_PERIODS[frequency]))
    cuts = sorted(draw(st.sets(st.integers(1, periods - 1), max_size=2)) if periods > 1 else [])
    bounds = [0, *cuts, periods]
    amounts = [draw(money("100.00", "100000.00")) for _ in bounds[1:]]
    steps = tuple(
        PaymentStep(end - start, amount)
        for start, end, amount in zip(bounds, bounds[1:], amounts, strict=False)
    )
    term = periods * MONTHS[frequency]
    prepaid = draw(money("0", "5000.00"))
    costs = draw(money("0", "5000.00"))
    direction = cast(Literal["in", "out"], draw(st.sampled_from(["in", "out"])))
    # Incentives never exceed what they are netted against (a lessor's direct
    # costs are expensed, so only its advance receipts absorb incentives).
    incentive_cap = prepaid + costs if direction == "in" else prepaid
    return LeaseTerms(
        direction=direction,
        commencement_date=draw(st.dates(date(2000, 1, 1), date(2040, 12, 31))),
        term_months=term,
        max_possible_term_months=term + draw(st.integers(0, 24)),
        payment_frequency=frequency,
        payment_timing=cast(
            Literal["advance", "arrears"], draw(st.sampled_from(["advance", "arrears"]))
        ),
        payments=steps,
        escalation_pct=draw(st.decimals(min_value=0, max_value=10, places=1)),
        free_periods=draw(st.integers(0, periods - 1)),
        non_lease_amount=draw(money("0", str(min(amounts)))),
        discount_rate=draw(st.decimals(min_value=0, max_value=D("0.15"), places=4)),
        initial_direct_costs=costs,
        prepaid_at_commencement=prepaid,
        incentives=draw(money("0", str(incentive_cap))),
        useful_life_months=draw(st.none() | st.integers(1, term + 24)),
    )


def recognized(schedule: LeaseSchedule) -> list[Decimal]:
    return [row.recognized for row in schedule.rows]


def carrying(schedule: LeaseSchedule) -> list[Decimal]:
    return [row.carrying for row in schedule.rows]


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)  # CI machines may be busy
@given(lease_terms())
def test_schedule_invariants(terms: LeaseTerms) -> None:
    schedule = lease_schedule(terms)
    rows = schedule.rows
    assert len(rows) == terms.period_count
    assert sum((row.principal for row in rows), ZERO) == schedule.initial_measurement
    assert rows[-1].balance == ZERO
    assert all(row.balance >= 0 for row in rows)
    assert sum(recognized(schedule), ZERO) == schedule.opening_recognizable
    assert all(amount >= 0 for amount in recognized(schedule))
    assert all(value >= 0 for value in carrying(schedule))
    assert carrying(schedule)[-1] == ZERO
    for row in rows:
        assert row.payment >= 0
        assert row.interest.as_tuple().exponent == -2
        if not schedule.short_term:
            assert row.interest + row.principal == row.payment
    if terms.payment_timing == "advance" and not schedule.short_term:
        assert rows[0].interest == ZERO
    if schedule.short_term:
        assert schedule.initial_measurement == ZERO
    if terms.direction == "in":
        assert schedule.right_of_use_asset is not None and schedule.deferred_inflow is None
    else:
        assert schedule.deferred_inflow is not None and schedule.right_of_use_asset is None


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)  # CI machines may be busy
@given(lease_terms(), st.sampled_from([1, 7, 10]))
def test_fiscal_years_add_up(terms: LeaseTerms, start_month: int) -> None:
    schedule = lease_schedule(terms)
    years = fiscal_year_balances(schedule, fiscal_year_start_month=start_month)
    assert sum((y.interest for y in years), ZERO) == sum((r.interest for r in schedule.rows), ZERO)
    assert sum((y.payments for y in years), ZERO) == sum((r.payment for r in schedule.rows), ZERO)
    lessee = terms.direction == "in"
    straight_line = [y.amortization if lessee else y.inflow_recognized for y in years]
    assert sum((amount or ZERO for amount in straight_line), ZERO) == schedule.opening_recognizable
    assert years[-1].balance == ZERO
    assert years[-1].accrued_interest == ZERO
    assert all(y.balance >= 0 for y in years)
    for previous, current in itertools.pairwise(years):
        assert current.fiscal_year == previous.fiscal_year + 1
        assert current.opening_balance == previous.balance
        assert current.start == previous.end + timedelta(days=1)


@settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)  # CI machines may be busy
@given(lease_terms(), st.integers(min_value=-400, max_value=12 * 400))
def test_balances_and_maturity_agree(terms: LeaseTerms, offset_days: int) -> None:
    schedule = lease_schedule(terms)
    as_of = terms.commencement_date + timedelta(days=offset_days)
    position = balances_at(schedule, as_of)
    assert position.balance >= 0
    net = (
        position.right_of_use_asset_net
        if terms.direction == "in"
        else position.deferred_inflow_balance
    )
    assert net is not None and 0 <= net <= schedule.opening_recognizable
    fiscal_year = fiscal_year_of(as_of)
    _, year_end = fiscal_year_bounds(fiscal_year)
    table = maturity_table(schedule, fiscal_year)
    assert table.total_principal == balances_at(schedule, year_end).balance
    assert len(table.buckets) >= 5
    assert all(bucket.principal + bucket.interest == bucket.total for bucket in table.buckets)
