"""What the GASB 87 report and the journal read of each measured lease, from the stored schedules.

Why: both need every lease's running totals (`LeaseState`) at a few dates, the measurement in
force at a date and, for the notes, what falls due after the year end. Rebuilding each lease's
schedule in Python for that took about half a minute for a city of 5,000 leases; the engine's
schedules are stored when a lease is measured or modified (`registry.leases.stored_schedules`),
so here the states and the maturities are sums over stored rows in SQL
(`registry.leases.stored_states`), a few statements for the whole portfolio.

A lease whose stored schedules are missing or stale (written around the records, or a database
just upgraded) is computed by the engine instead, from its records (`LeaseHistory.state`,
`maturity_table`): never a wrong figure, only a slower one. Both sources give the same
`LeaseFigures`, so the report and the journal have one implementation each whatever the source;
the tests hold the two sources equal to the cent.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.db import planner_settings
from registry.fiscal_years import fiscal_year_bounds
from registry.leases.accounting import LeaseHistory
from registry.leases.accounting import LeaseSchedule
from registry.leases.accounting import MaturityTable
from registry.leases.accounting import lease_history
from registry.leases.accounting import maturity_table
from registry.leases.accounting.balances import LeaseState
from registry.leases.accounting.maturity import maturity_table_of
from registry.leases.accounting.money import ZERO
from registry.leases.records import leases_with_schedules
from registry.leases.rent_sql import without_jit
from registry.leases.stored_schedules import stale_lease_ids
from registry.leases.stored_states import stored_maturity_sql
from registry.leases.stored_states import stored_states_sql

#: A lease before its commencement: nothing owed, nothing accrued.
NOTHING = LeaseState(ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO)


@dataclass(frozen=True)
class Measurement:
    """What the reports read of one measurement (at commencement, or a remeasurement)."""

    in_force_from: dt.date
    short_term: bool
    discount_rate: Decimal | None
    initial_measurement: Decimal
    opening_recognizable: Decimal
    last_day: dt.date


@dataclass(frozen=True)
class LeaseFigures:
    """One measured lease: its record's report fields (`lease_number`, `counterparty`,
    `fund_type`, `portfolio`, `department_code`), its measurements in date order, its running
    totals at the end of each date asked for, and its maturity table when one was asked for."""

    record: Mapping[str, Any]
    direction: str
    measurements: tuple[Measurement, ...]
    states: Mapping[dt.date, LeaseState]
    maturity: MaturityTable | None = None

    @property
    def commencement_date(self) -> dt.date:
        return self.base.in_force_from

    @property
    def base(self) -> Measurement:
        return self.measurements[0]

    @property
    def latest(self) -> Measurement:
        return self.measurements[-1]

    def in_force(self, day: dt.date) -> Measurement:
        """The measurement a report at the end of `day` uses (the first one before it
        commenced), as `LeaseHistory.in_force`."""
        current = self.measurements[0]
        for measurement in self.measurements[1:]:
            if measurement.in_force_from <= day:
                current = measurement
        return current

    def state(self, day: dt.date) -> LeaseState:
        """Running totals at the end of `day` (one of the dates asked for)."""
        return self.states.get(day, NOTHING)


def lease_figures(
    session: Session,
    days: Iterable[dt.date],
    *,
    direction: str | None = None,
    fund_type: str | None = None,
    maturity_year: int | None = None,
    start_month: int = 7,
) -> Iterator[LeaseFigures]:
    """Every measured lease (of one direction / fund type when given) with its states at the
    end of each of `days` and, with `maturity_year`, its maturity table after that fiscal year:
    the stored schedules summed in SQL, the stale leases computed by the engine. Leases
    recorded incomplete are left out (`queries.unmeasured_leases` names them)."""
    wanted = sorted(set(days))
    stale = stale_lease_ids(session)
    stored, changed = _stored(
        session, wanted, stale, direction, fund_type, maturity_year, start_month
    )
    yield from stored
    if stale or changed:
        for record, source in leases_with_schedules(
            session, direction=direction, fund_type=fund_type, lease_ids=[*stale, *changed]
        ):
            yield engine_figures(record, lease_history(source), wanted, maturity_year, start_month)


def engine_figures(
    record: Mapping[str, Any],
    history: LeaseHistory,
    days: Sequence[dt.date],
    maturity_year: int | None = None,
    start_month: int = 7,
) -> LeaseFigures:
    """A lease's figures computed by the engine from its whole measurement history."""
    return LeaseFigures(
        record=record,
        direction=history.direction,
        measurements=tuple(_measurement_of(schedule) for schedule in history.schedules),
        states={day: history.state(day) for day in days},
        maturity=None
        if maturity_year is None
        else maturity_table(history, maturity_year, start_month),
    )


def _measurement_of(schedule: LeaseSchedule) -> Measurement:
    return Measurement(
        in_force_from=schedule.terms.commencement_date,
        short_term=schedule.short_term,
        discount_rate=schedule.discount_rate,
        initial_measurement=schedule.initial_measurement,
        opening_recognizable=schedule.opening_recognizable,
        last_day=schedule.terms.last_day,
    )


#: The stored leases read (of a direction and fund type when given), by a condition rather than
#: a list of ids: the planner then joins the stored rows by hash, not 5,000 index probes.
_WANTED = """
    SELECT l.id FROM leases l
     WHERE l.measured AND l.id <> ALL(:stale)
       AND (CAST(:direction AS text) IS NULL OR l.direction = :direction)
       AND (CAST(:fund_type AS text) IS NULL OR l.fund_type = :fund_type)
"""
_STORED_LEASES_SQL = f"""
    SELECT l.id, l.lease_number, l.counterparty, l.fund_type, l.portfolio,
           d.code AS department_code, m.direction, m.measurement, m.commencement_date,
           m.short_term, m.discount_rate, m.initial_measurement, m.opening_recognizable,
           m.last_day, m.lease_version, m.modifications_key
      FROM leases l
      JOIN lease_measurements m ON m.lease_id = l.id
      LEFT JOIN departments d ON d.id = l.department_id
     WHERE l.id IN ({_WANTED})
     ORDER BY l.id, m.measurement
"""
#: What each stored lease was computed from, to see that no lease was remeasured between the
#: statements that read it.
_STAMPS_SQL = f"""
    SELECT lease_id, lease_version, modifications_key FROM lease_measurements
     WHERE measurement = 0 AND lease_id IN ({_WANTED})
"""


def _stored(
    session: Session,
    days: list[dt.date],
    stale: list[int],
    direction: str | None,
    fund_type: str | None,
    maturity_year: int | None,
    start_month: int,
) -> tuple[list[LeaseFigures], set[int]]:
    """The stored leases' figures, and the leases remeasured while they were read (their
    figures left out: the caller computes them with the engine).

    Why the check: the leases, their states and their maturities are three statements, each
    seeing what was committed when it began; a modification committed between them would pair
    one measurement's fields with another's sums. The stamps read last say which leases moved."""
    records: dict[int, dict[str, Any]] = {}
    measurements: dict[int, list[Measurement]] = defaultdict(list)
    wanted = {"stale": stale, "direction": direction, "fund_type": fund_type}
    rows = session.execute(text(_STORED_LEASES_SQL), wanted).mappings()
    for row in rows:
        records.setdefault(row["id"], dict(row))
        measurements[row["id"]].append(
            Measurement(
                in_force_from=row["commencement_date"],
                short_term=row["short_term"],
                discount_rate=row["discount_rate"],
                initial_measurement=row["initial_measurement"],
                opening_recognizable=row["opening_recognizable"],
                last_day=row["last_day"],
            )
        )
    if not records:
        return [], set()
    without_jit(session)  # compiling these sums cost more than running them
    # The sums of a few hundred thousand rows by lease and day: in memory, not spilled to disk,
    # and joined by hash. Why no nested loops: the planner cannot see how many schedule rows the
    # asked days select (it guessed 222 of 170,000 once the tables had statistics) and joined
    # the pro-rated stubs to the running sums by a nested loop, 10 million comparisons: 4.5 s
    # of a 100,000-parcel city's report.
    states: dict[int, dict[dt.date, LeaseState]] = defaultdict(dict)
    with planner_settings(session, work_mem="64MB", enable_nestloop="off"):
        found = session.execute(
            text(stored_states_sql(_WANTED)), {"state_days": days, **wanted}
        ).all()
    for state in found:
        states[state.lease_id][state.day] = LeaseState(
            balance=state.balance,
            accrued_interest=state.accrued_interest,
            carrying=state.carrying,
            interest=state.interest,
            recognized=state.recognized,
            payments=state.payments,
            principal=state.principal,
        )
    maturities = (
        {} if maturity_year is None else _maturities(session, wanted, maturity_year, start_month)
    )
    stamps = {tuple(row) for row in session.execute(text(_STAMPS_SQL), wanted)}
    changed = {
        lease_id
        for lease_id, record in records.items()
        if (lease_id, record["lease_version"], record["modifications_key"]) not in stamps
    }
    figures = [
        LeaseFigures(
            record=record,
            direction=record["direction"],
            measurements=tuple(measurements[lease_id]),
            states=states.get(lease_id, {}),
            maturity=None
            if maturity_year is None
            else maturities.get(lease_id, maturity_table_of(maturity_year, {}, {})),
        )
        for lease_id, record in records.items()
        if lease_id not in changed
    ]
    return figures, changed


def _maturities(
    session: Session, wanted: dict[str, Any], fiscal_year: int, start_month: int
) -> dict[int, MaturityTable]:
    _start, year_end = fiscal_year_bounds(fiscal_year, start_month)
    principal: dict[int, dict[int, Decimal]] = defaultdict(dict)
    interest: dict[int, dict[int, Decimal]] = defaultdict(dict)
    rows = session.execute(
        text(stored_maturity_sql(_WANTED)),
        {
            **wanted,
            "year_end": year_end,
            "fiscal_year": fiscal_year,
            "start_month": start_month,
        },
    )
    for row in rows:
        principal[row.lease_id][row.bucket] = row.principal
        interest[row.lease_id][row.bucket] = row.interest
    return {
        lease_id: maturity_table_of(fiscal_year, principal[lease_id], interest[lease_id])
        for lease_id in principal
    }
