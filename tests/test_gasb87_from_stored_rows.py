"""The GASB 87 report and the journal read the stored schedules in SQL
(`registry.leases.gasb87.figures`) and give, to the cent and field by field, what the engine
gives rebuilding every schedule in Python: for every sample lease over every fiscal year of its
life, for leases modified twice each way (lessee in advance, lessor quarterly in arrears), and
with some leases stale (computed by the engine) beside stored ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Iterator
from decimal import Decimal
from typing import TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from registry.db import unit_of_work
from registry.fiscal_years import fiscal_year_of
from registry.leases.gasb87 import figures
from registry.leases.gasb87.journal import journal_entries
from registry.leases.gasb87.report import gasb87_report
from registry.leases.records import add_modification
from registry.leases.stored_schedules import stale_lease_ids
from tests.plans import explained
from tests.test_gasb87_export import add_leases
from tests.test_gasb87_export import lease
from tests.test_gasb87_export import modified_twice_each_way  # noqa: F401 (a fixture)
from tests.test_journal_entries import ALL_LEASES

T = TypeVar("T")


def from_engine(session: Session, build: Callable[[], T]) -> T:
    """`build()` with every stored schedule gone, so every lease is stale and computed by the
    engine from its records; the stored rows come back afterwards."""
    savepoint = session.begin_nested()
    try:
        session.execute(text("DELETE FROM lease_measurements"))
        assert stale_lease_ids(session), "every measured lease is stale now"
        return build()
    finally:
        savepoint.rollback()


def assert_every_year_as_the_engine(session: Session, years: range) -> None:
    """The GASB 87 report and the year's journal of each of `years`, from stored rows, equal
    the engine's field by field, and every journal entry balances."""
    for year in years:
        ours = gasb87_report(session, year), journal_entries(session, year)
        theirs = from_engine(
            session,
            lambda year=year: (gasb87_report(session, year), journal_entries(session, year)),
        )
        assert ours == theirs, f"FY{year}"
        assert ours[1].unbalanced_entries() == []


def count_sql_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many leases each report read from stored rows (proof the SQL path ran)."""
    seen: list[int] = []
    stored = figures._stored

    def counting(*args: object, **kwargs: object) -> tuple[list[figures.LeaseFigures], set[int]]:
        found, changed = stored(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(len(found))
        return found, changed

    monkeypatch.setattr(figures, "_stored", counting)
    return seen


def _sample_years(session: Session) -> range:
    first, last = session.execute(
        text("SELECT min(commencement_date), max(end_date) FROM leases WHERE measured")
    ).one()
    return range(fiscal_year_of(first) - 1, fiscal_year_of(last) + 2)


def test_every_fiscal_year_of_the_sample_equals_the_engine(
    sample_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = sample_session
    assert stale_lease_ids(session) == []
    years = _sample_years(session)
    reads = count_sql_reads(monkeypatch)
    stored = [gasb87_report(session, year) for year in years]
    assert min(reads) > 100, "the reports read the stored rows"
    engine = from_engine(session, lambda: [gasb87_report(session, year) for year in years])
    assert len(years) > 10
    for ours, theirs in zip(stored, engine, strict=True):
        assert ours == theirs, f"FY{ours.fiscal_year}"
    assert any(report.leases for report in stored)


def test_a_year_of_the_sample_with_a_modification_journals_as_the_engine(
    sample_session: Session,
) -> None:
    session = sample_session
    modified = session.execute(
        text("SELECT min(commencement_date) FROM lease_measurements WHERE measurement > 0")
    ).scalar_one()
    year = fiscal_year_of(modified)
    ours = journal_entries(session, year)
    theirs = from_engine(session, lambda: journal_entries(session, year))
    assert ours.lines and ours == theirs
    assert any(line.account == "remeasurement_gain_loss" for line in ours.lines) or any(
        "remeasurement" in line.memo for line in ours.lines
    )


def test_leases_modified_twice_each_way_equal_the_engine_in_every_year_and_month(
    modified_twice_each_way: Session,  # noqa: F811 (the imported fixture)
) -> None:
    session = modified_twice_each_way
    assert_every_year_as_the_engine(session, range(2019, 2027))
    one_month = journal_entries(session, 2021, month=9)  # March 2021: MOD2's second modification
    assert one_month == from_engine(session, lambda: journal_entries(session, 2021, month=9))
    assert one_month.lines


def test_a_stale_lease_beside_stored_ones_is_computed_by_the_engine(
    sample_session: Session,
) -> None:
    """A lease written around the records (its stored schedule no longer matches: a new
    discount rate) is computed by the engine from its records while the others are read from
    SQL: the report is what the engine gives for all of them, not the stale stored figures."""
    session = sample_session
    year = fiscal_year_of(dt.date.today())
    before = gasb87_report(session, year)
    savepoint = session.begin_nested()
    try:
        session.execute(
            text(
                "UPDATE leases SET discount_rate = discount_rate + 0.01 WHERE id IN "
                "(SELECT lease_id FROM lease_measurements WHERE measurement > 0 LIMIT 1)"
                " OR id = (SELECT min(l.id) FROM leases l JOIN lease_measurements m"
                "          ON m.lease_id = l.id WHERE NOT m.short_term AND l.measured"
                "          AND l.direction = 'in')"
            )
        )
        assert len(stale_lease_ids(session)) == 2
        mixed = gasb87_report(session, year)
        all_engine = from_engine(session, lambda: gasb87_report(session, year))
    finally:
        savepoint.rollback()
    assert mixed == all_engine
    assert mixed != before, "the stale leases were computed from their records"
    assert gasb87_report(session, year) == before


MID_MONTH = [
    *ALL_LEASES,
    lease(  # quarterly in arrears from mid-month: several month ends inside each window
        "MID-Q",
        direction="out",
        portfolio="receivable",
        commencement_date="2020-11-17",
        term_months=45,
        payment_frequency="quarterly",
        payment_timing="arrears",
        payments=[{"periods": 15, "amount": "7777.77"}],
        discount_rate="0.0437",
    ),
]


@pytest.fixture
def mid_month_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with unit_of_work(session_factory, "tests") as session:
        add_leases(session, MID_MONTH)
    with session_factory() as session:
        yield session


def test_windows_holding_month_ends_are_prorated_as_the_engine_does(
    mid_month_session: Session,
) -> None:
    """Leases paid annually, quarterly and from the middle of a month: a month end falls inside
    their interest and straight-line windows, which the stored states pro-rate by day; every
    month of every year journals as the engine does, and every year reports as it does."""
    assert_every_year_as_the_engine(mid_month_session, range(2019, 2026))


def test_a_lease_remeasured_while_the_report_reads_is_computed_from_its_new_records(
    session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report reads leases, states and maturities in separate statements; a modification
    committed between them (here: written on the report's connection between two of its
    statements, which each see it from then on, as READ COMMITTED statements see a commit) must
    not pair one measurement's fields with another's sums: the lease that moved is computed by
    the engine from its records as they now stand."""
    mod2 = lease(
        "MOD2",
        commencement_date="2019-07-01",
        term_months=60,
        payments=[{"periods": 60, "amount": "4000.00"}],
        discount_rate="0.04",
    )
    with unit_of_work(session_factory, "tests") as session:
        add_leases(session, [*ALL_LEASES, mod2])
        add_modification(
            session, "MOD2", "2020-09-01", {"payments": [{"periods": 46, "amount": "4200.00"}]}
        )
    read_maturities = figures._maturities

    def modified_meanwhile(*args: object, **kwargs: object) -> object:
        with unit_of_work(session_factory, "someone else") as other:
            add_modification(
                other,
                "MOD2",
                "2021-03-01",
                {"payments": [{"periods": 40, "amount": "3900.00"}], "discount_rate": "0.05"},
            )
        monkeypatch.setattr(figures, "_maturities", read_maturities)
        return read_maturities(*args, **kwargs)  # type: ignore[arg-type]

    with session_factory() as session:
        monkeypatch.setattr(figures, "_maturities", modified_meanwhile)
        during = gasb87_report(session, 2021)
        after = from_engine(session, lambda: gasb87_report(session, 2021))
    assert during == after
    (mod,) = [row for row in during.leases if row.lease_number == "MOD2"]
    assert mod.discount_rate == Decimal("0.05")


def test_the_states_of_every_lease_are_joined_without_nested_loops(
    sample_session: Session,
) -> None:
    """The planner cannot see how many schedule rows the asked days select (it guessed 222 of
    170,000 in a 100,000-parcel city) and joined the pro-rated stubs to the running sums by a
    nested loop: 10 million comparisons, 4.5 s of the report. The statement is planned without
    nested loops where another join can be made (a join on a range of days cannot), whatever
    the statistics say."""
    session = sample_session
    session.execute(text("ANALYZE lease_measurements, lease_schedule_rows, leases"))
    with explained(session) as plans:
        report = gasb87_report(session, fiscal_year_of(dt.date.today()) - 1)
    assert report.leases
    states = [plan for plan in plans if "WITH day_list AS" in plan]
    assert len(states) == 1
    assert "Nested Loop Left Join" not in states[0], states[0]
    assert session.execute(text("SELECT current_setting('enable_nestloop')")).scalar() == "on"
