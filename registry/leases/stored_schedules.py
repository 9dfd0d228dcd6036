"""The GASB 87 schedules of the measured leases, kept in `lease_measurements` and
`lease_schedule_rows` (migration 0019) so that reports sum rows in SQL.

Why stored: the LSE KPIs and the GASB 87 figures need every lease's balances at a date; rebuilding
each schedule in Python on every request took half a minute on a city of 5,000 leases. The engine
(`registry.leases.accounting`) stays the one implementation that computes a schedule: this module
only writes what it computed (`write_schedules`, by binary COPY) and says which leases' stored
schedules no longer match their records (`STALE_LEASES_SQL`).

When they are written: `registry.leases.records` stores a lease's schedules in the transaction
that creates, changes or modifies it (deleting a lease deletes them by cascade), and the bulk
paths (the generated city, `db upgrade` on an existing database, `asset-registry leases
remeasure`) call `records.store_stale_schedules`. A stored measurement remembers the lease's
`version` and its modifications' "id:version" list (`modifications_key`), which the database
changes on every real change, so a stale or missing schedule is found by one query; readers
compute those few leases with the engine instead (never a wrong figure, only a slower one), since
they may be reading from a standby where nothing can be written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.db import copy_frame_binary
from registry.leases.accounting import LeaseModification
from registry.leases.accounting import LeaseSchedule
from registry.leases.accounting import lease_history
from registry.leases.accounting.maturity import bucket_index_sql

#: Each measured lease's version and its modifications' "id:version" list, as stored.
CURRENT_KEYS_CTE = """
    current_keys AS (
        SELECT l.id AS lease_id, l.version AS lease_version,
               coalesce(string_agg(m.id || ':' || m.version, ',' ORDER BY m.id), '')
                   AS modifications_key
          FROM leases l LEFT JOIN lease_modifications m ON m.lease_id = l.id
         WHERE l.measured
         GROUP BY l.id
    )
"""

#: Leases whose stored schedules are missing or stale (measured), or should not exist (a lease
#: no longer measured).
STALE_LEASES_SQL = f"""
    WITH {CURRENT_KEYS_CTE}
    SELECT c.lease_id FROM current_keys c
      LEFT JOIN lease_measurements s ON s.lease_id = c.lease_id AND s.measurement = 0
     WHERE s.lease_id IS NULL OR s.lease_version <> c.lease_version
        OR s.modifications_key <> c.modifications_key
    UNION
    SELECT s.lease_id FROM lease_measurements s JOIN leases l ON l.id = s.lease_id
     WHERE s.measurement = 0 AND NOT l.measured
"""

_MEASUREMENT_TYPES = {
    "lease_id": "int8",
    "measurement": "int2",
    "lease_version": "int4",
    "modifications_key": "text",
    "direction": "text",
    "commencement_date": "date",
    "in_force_until": "date",
    "paid_through": "date",
    "short_term": "bool",
    "discount_rate": "numeric",
    "initial_measurement": "numeric",
    "opening_recognizable": "numeric",
    "last_day": "date",
}
_ROW_TYPES = {
    "lease_id": "int8",
    "measurement": "int2",
    "period": "int4",
    "due_date": "date",
    "payment": "numeric",
    "interest": "numeric",
    "principal": "numeric",
    "balance": "numeric",
    "recognized": "numeric",
    "carrying": "numeric",
    "interest_from": "date",
    "recognition_from": "date",
    "recognition_to": "date",
}


@dataclass(frozen=True)
class ComputedLease:
    """A lease's schedule as the engine computed it, and the record state it came from."""

    lease_id: int
    lease_version: int
    modifications_key: str
    schedule: LeaseSchedule | LeaseModification


def stale_lease_ids(session: Session) -> list[int]:
    """Leases whose stored schedules do not match their records (see `STALE_LEASES_SQL`)."""
    return [int(lease_id) for lease_id in session.execute(text(STALE_LEASES_SQL)).scalars()]


def record_keys(session: Session, lease_ids: list[int]) -> dict[int, tuple[int, str]]:
    """(version, modifications key) of each measured lease among `lease_ids`, as stored."""
    rows = session.execute(
        text(f"WITH {CURRENT_KEYS_CTE} SELECT * FROM current_keys WHERE lease_id = ANY(:ids)"),
        {"ids": lease_ids},
    )
    return {row.lease_id: (row.lease_version, row.modifications_key) for row in rows}


def delete_schedules(session: Session, lease_ids: list[int]) -> None:
    """Forget the stored schedules of `lease_ids` (their rows go by cascade)."""
    if lease_ids:
        for table in ("lease_measurements", "lease_rent_periods"):
            session.execute(
                text(f"DELETE FROM {table} WHERE lease_id = ANY(:ids)"), {"ids": lease_ids}
            )


def write_schedules(session: Session, computed: Iterable[ComputedLease]) -> int:
    """Replace the stored schedules of these leases by what the engine computed, in the
    caller's transaction; how many leases were written."""
    leases = list(computed)
    delete_schedules(session, [lease.lease_id for lease in leases])
    measurements: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for lease in leases:
        for measurement in _measurements(lease):
            measurements.append(measurement)
        rows.extend(_rows(lease))
    copy_frame_binary(
        session, "lease_measurements", pd.DataFrame(measurements, dtype=object), _MEASUREMENT_TYPES
    )
    copy_frame_binary(session, "lease_schedule_rows", pd.DataFrame(rows, dtype=object), _ROW_TYPES)
    return len(leases)


def _measurements(lease: ComputedLease) -> Iterable[dict[str, Any]]:
    history = lease_history(lease.schedule)
    modifications = history.modifications
    for index, schedule in enumerate(history.schedules):
        following = modifications[index] if index < len(modifications) else None
        yield {
            "lease_id": lease.lease_id,
            "measurement": index,
            "lease_version": lease.lease_version,
            "modifications_key": lease.modifications_key,
            "direction": schedule.direction,
            "commencement_date": schedule.terms.commencement_date,
            "in_force_until": following and following.modification_date,
            "paid_through": following and following.paid_through,
            "short_term": schedule.short_term,
            "discount_rate": schedule.discount_rate,
            "initial_measurement": schedule.initial_measurement,
            "opening_recognizable": schedule.opening_recognizable,
            "last_day": schedule.terms.last_day,
        }


def _rows(lease: ComputedLease) -> Iterable[dict[str, Any]]:
    for index, schedule in enumerate(lease_history(lease.schedule).schedules):
        for row in schedule.rows:
            yield {
                "lease_id": lease.lease_id,
                "measurement": index,
                "period": row.period,
                "due_date": row.date,
                "payment": row.payment,
                "interest": row.interest,
                "principal": row.principal,
                "balance": row.balance,
                "recognized": row.recognized,
                "carrying": row.carrying,
                "interest_from": row.interest_from,
                "recognition_from": row.recognition_from,
                "recognition_to": row.recognition_to,
            }


#: Each stored lease's position at the end of `:balances_on` (a date), as `balances_at` gives
#: it (`LeaseHistory.state`): from the measurement in force that day, the balance is its initial
#: measurement less the principal of the rows due by then, and the carrying amount (right-to-use
#: asset, deferred inflow) its opening amount less the straight-line amounts recognized by then,
#: the row whose window straddles the day pro-rated by days and rounded half up to the cent
#: (`money.prorate`: amount × elapsed days / window days; numeric's round() rounds half away
#: from zero, as ROUND_HALF_UP does). Leases not commenced by then have no row.
STORED_BALANCES_CTE = """
    stored_balances AS (
        SELECT m.lease_id, min(m.direction) AS direction,
               min(m.initial_measurement)
                 - coalesce(sum(r.principal) FILTER (WHERE r.due_date <= :balances_on), 0)
                   AS balance,
               min(m.opening_recognizable) - coalesce(sum(
                   CASE WHEN r.recognition_to <= CAST(:balances_on AS date) + 1
                        THEN r.recognized
                        WHEN r.recognition_from >= CAST(:balances_on AS date) + 1 THEN 0
                        ELSE round(r.recognized
                                   * (CAST(:balances_on AS date) + 1 - r.recognition_from)
                                   / (r.recognition_to - r.recognition_from), 2)
                   END), 0) AS carrying
          FROM lease_measurements m
          LEFT JOIN lease_schedule_rows r
            ON r.lease_id = m.lease_id AND r.measurement = m.measurement
         WHERE m.commencement_date <= :balances_on
           AND (m.in_force_until IS NULL OR m.in_force_until > :balances_on)
         GROUP BY m.lease_id, m.measurement
    )
"""


def _prorated(amount: str, start: str, end: str, day: str) -> str:
    """`money.prorate` in SQL: the part of `amount` accruing evenly over [start, end) that has
    accrued by the end of `day`, the stub multiplied before dividing and rounded half away from
    zero to the cent as ROUND_HALF_UP does. A quotient of whole cents by a day count is never
    within numeric's 16 significant digits of a half cent without being one, so the rounding
    is the engine's exactly."""
    return f"""CASE WHEN {end} <= {day} + 1 THEN {amount}
                    WHEN {day} + 1 <= {start} THEN 0
                    ELSE round({amount} * ({day} + 1 - {start}) / ({end} - {start}), 2) END"""


def stored_states_sql(leases: str) -> str:
    """`STORED_STATES` for the leases `leases` (a SELECT of lease ids) selects."""
    return STORED_STATES.replace("{leases}", leases)


#: Each stored lease (those `{leases}` selects) at the end of each of `:state_days` (a date[]), as
#: `LeaseHistory.state` gives it: balance, accrued interest and carrying amount from the
#: measurement in force that day; interest, straight-line recognition, payments and principal
#: summed over every measurement up to then, a measurement a modification superseded counted as
#: `LeaseModification.state_before` does (accruals to the day before the modification, payments
#: through its `paid_through`). A lease not commenced by a day has no row for it.
#:
#: Why two ways: pro-rating every row at every day costs rows × days numeric sums (a year's
#: journal asks for 13 days: 11 s at 5,000 leases). A measurement in force on every day asked
#: (nearly all of them) is read in one pass instead: each row is placed at the first day from
#: which it counts whole (`width_bucket` over the sorted days), those sums are added up day by
#: day (a running sum), and only the few rows whose window holds a day are pro-rated there. The
#: measurements superseded by one of the days (a modified lease's earlier ones) are summed day
#: by day as the engine's definition reads.
STORED_STATES = f"""
    WITH day_list AS (
        SELECT array_agg(DISTINCT d ORDER BY d) AS days
          FROM unnest(CAST(:state_days AS date[])) AS d
    ), day AS (
        SELECT d.day, CAST(d.i AS int) AS i
          FROM day_list, unnest(day_list.days) WITH ORDINALITY AS d(day, i)
    ), asked AS (
        SELECT m.*, m.in_force_until IS NULL OR m.in_force_until > days[cardinality(days)]
                   AS throughout
          FROM lease_measurements m, day_list
         WHERE m.lease_id IN ({{leases}}) AND m.commencement_date <= days[cardinality(days)]
    ), placed AS (  -- the rows of the measurements in force throughout, and when each counts
        SELECT r.lease_id, r.measurement, r.payment, r.principal, r.interest, r.recognized,
               r.interest_from, r.due_date, r.recognition_from, r.recognition_to,
               width_bucket(r.due_date - 1, days) + 1 AS paid_at,
               width_bucket(r.due_date - 2, days) + 1 AS interest_whole_at,
               width_bucket(r.interest_from - 1, days) + 1 AS interest_begins_at,
               width_bucket(r.recognition_to - 2, days) + 1 AS recognized_whole_at,
               width_bucket(r.recognition_from - 1, days) + 1 AS recognition_begins_at
          FROM asked a
          JOIN lease_schedule_rows r ON r.lease_id = a.lease_id AND r.measurement = a.measurement
         CROSS JOIN day_list
         WHERE a.throughout  -- rows that count by the last day
           AND (r.due_date <= days[cardinality(days)]
                OR r.interest_from <= days[cardinality(days)]
                OR r.recognition_from <= days[cardinality(days)])
    ), step AS (  -- what counts whole from day i on
        SELECT lease_id, measurement, paid_at AS i, sum(payment) AS payments,
               sum(principal) AS principal, sum(interest) AS paid_interest,
               0 AS interest, 0 AS recognized
          FROM placed GROUP BY 1, 2, 3
        UNION ALL
        SELECT lease_id, measurement, interest_whole_at, 0, 0, 0, sum(interest), 0
          FROM placed GROUP BY 1, 2, 3
        UNION ALL
        SELECT lease_id, measurement, recognized_whole_at, 0, 0, 0, 0, sum(recognized)
          FROM placed GROUP BY 1, 2, 3
        UNION ALL  -- every day from commencement on, so that each has its running sum
        SELECT a.lease_id, a.measurement, d.i, 0, 0, 0, 0, 0
          FROM asked a JOIN day d ON d.day >= a.commencement_date WHERE a.throughout
    ), running AS (
        SELECT lease_id, measurement, i,
               sum(sum(payments)) OVER w AS payments, sum(sum(principal)) OVER w AS principal,
               sum(sum(paid_interest)) OVER w AS paid_interest,
               sum(sum(interest)) OVER w AS interest, sum(sum(recognized)) OVER w AS recognized
          FROM step GROUP BY lease_id, measurement, i
        WINDOW w AS (PARTITION BY lease_id, measurement ORDER BY i)
    ), stub AS (  -- the rows whose window holds a day, pro-rated at that day
        SELECT p.lease_id, p.measurement, d.i,
               sum(CASE WHEN d.i >= p.interest_begins_at AND d.i < p.interest_whole_at
                        THEN {_prorated("p.interest", "p.interest_from", "p.due_date", "d.day")}
                        ELSE 0 END) AS interest,
               sum(CASE WHEN d.i >= p.recognition_begins_at AND d.i < p.recognized_whole_at
                        THEN {
    _prorated("p.recognized", "p.recognition_from", "p.recognition_to", "d.day")
}
                        ELSE 0 END) AS recognized
          FROM placed p
         CROSS JOIN LATERAL generate_series(
                   least(p.interest_begins_at, p.recognition_begins_at),
                   greatest(p.interest_whole_at, p.recognized_whole_at) - 1) AS held(i)
          JOIN day d ON d.i = held.i
         WHERE p.interest_begins_at < p.interest_whole_at
            OR p.recognition_begins_at < p.recognized_whole_at
         GROUP BY 1, 2, 3
    ), measured AS (  -- the measurements superseded by one of the days, day by day
        SELECT a.lease_id, a.measurement, d.day, a.initial_measurement, a.opening_recognizable,
               a.in_force_until <= d.day AS superseded,
               CASE WHEN a.in_force_until <= d.day THEN a.in_force_until - 1 ELSE d.day END
                   AS accrued_to,
               CASE WHEN a.in_force_until <= d.day THEN a.paid_through ELSE d.day END
                   AS settled_by
          FROM asked a JOIN day d ON a.commencement_date <= d.day
         WHERE NOT a.throughout
    ), by_measurement AS (
        SELECT a.lease_id, d.day, false AS superseded, a.initial_measurement,
               a.opening_recognizable, r.interest + coalesce(s.interest, 0) AS interest,
               r.recognized + coalesce(s.recognized, 0) AS recognized, r.payments,
               r.principal, r.paid_interest
          FROM running r
          JOIN asked a ON a.lease_id = r.lease_id AND a.measurement = r.measurement
          JOIN day d ON d.i = r.i AND d.day >= a.commencement_date
          LEFT JOIN stub s
            ON s.lease_id = r.lease_id AND s.measurement = r.measurement AND s.i = r.i
        UNION ALL
        SELECT s.lease_id, s.day, s.superseded,
               min(s.initial_measurement), min(s.opening_recognizable),
               coalesce(sum({
    _prorated("r.interest", "r.interest_from", "r.due_date", "s.accrued_to")
}), 0),
               coalesce(sum({
    _prorated("r.recognized", "r.recognition_from", "r.recognition_to", "s.accrued_to")
}), 0),
               coalesce(sum(r.payment) FILTER (WHERE r.due_date <= s.settled_by), 0),
               coalesce(sum(r.principal) FILTER (WHERE r.due_date <= s.settled_by), 0),
               coalesce(sum(r.interest) FILTER (WHERE r.due_date <= s.settled_by), 0)
          FROM measured s
          LEFT JOIN lease_schedule_rows r
            ON r.lease_id = s.lease_id AND r.measurement = s.measurement
           AND (r.interest_from <= s.accrued_to OR r.recognition_from <= s.accrued_to
                OR r.due_date <= s.settled_by)  -- the rows that count by then
         GROUP BY s.lease_id, s.measurement, s.day, s.superseded
    )
    SELECT lease_id, day,
           sum(initial_measurement - principal) FILTER (WHERE NOT superseded) AS balance,
           sum(interest - paid_interest) FILTER (WHERE NOT superseded) AS accrued_interest,
           sum(opening_recognizable - recognized) FILTER (WHERE NOT superseded) AS carrying,
           sum(interest) AS interest, sum(recognized) AS recognized,
           sum(payments) AS payments, sum(principal) AS principal
      FROM by_measurement GROUP BY lease_id, day
"""


def stored_maturity_sql(leases: str) -> str:
    """`STORED_MATURITY` for the leases `leases` (a SELECT of lease ids) selects."""
    return STORED_MATURITY.replace("{leases}", leases)


#: Principal and interest of each stored lease (those `{leases}` selects) falling due after
#: `:year_end`, the end of fiscal year `:fiscal_year`, by maturity bucket (`maturity_table`):
#: from the measurement in force at the year end, nothing when it has not commenced by then.
STORED_MATURITY = f"""
    WITH in_force AS (
        SELECT DISTINCT ON (lease_id) lease_id, measurement, commencement_date
          FROM lease_measurements
         WHERE lease_id IN ({{leases}})
           AND (measurement = 0 OR commencement_date <= :year_end)
         ORDER BY lease_id, measurement DESC
    )
    SELECT f.lease_id,
           {
    bucket_index_sql("r.due_date", "CAST(:fiscal_year AS int)", "CAST(:start_month AS int)")
} AS bucket,
           sum(r.principal) AS principal, sum(r.interest) AS interest
      FROM in_force f
      JOIN lease_schedule_rows r ON r.lease_id = f.lease_id AND r.measurement = f.measurement
     WHERE f.commencement_date <= :year_end AND r.due_date > :year_end
     GROUP BY 1, 2
"""
