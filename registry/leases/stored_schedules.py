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
from registry.leases.stored_states import prorated_sql

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


_RECOGNIZED_BY_THEN = prorated_sql(
    "r.recognized", "r.recognition_from", "r.recognition_to", "CAST(:balances_on AS date)"
)
#: Each stored lease's position at the end of `:balances_on` (a date), as `balances_at` gives
#: it (`LeaseHistory.state`): from the measurement in force that day, the balance is its initial
#: measurement less the principal of the rows due by then, and the carrying amount (right-to-use
#: asset, deferred inflow) its opening amount less the straight-line amounts recognized by then,
#: the row whose window straddles the day pro-rated by days and rounded half up to the cent
#: (`money.prorate`: amount × elapsed days / window days; numeric's round() rounds half away
#: from zero, as ROUND_HALF_UP does). Leases not commenced by then have no row.
STORED_BALANCES_CTE = f"""
    stored_balances AS (
        SELECT m.lease_id, min(m.direction) AS direction,
               min(m.initial_measurement)
                 - coalesce(sum(r.principal) FILTER (WHERE r.due_date <= :balances_on), 0)
                   AS balance,
               min(m.opening_recognizable) - coalesce(sum({_RECOGNIZED_BY_THEN}), 0)
                   AS carrying
          FROM lease_measurements m
          LEFT JOIN lease_schedule_rows r
            ON r.lease_id = m.lease_id AND r.measurement = m.measurement
         WHERE m.commencement_date <= :balances_on
           AND (m.in_force_until IS NULL OR m.in_force_until > :balances_on)
         GROUP BY m.lease_id, m.measurement
    )
"""
