"""A lease's whole measurement history as one document (JSON, CSV, chart series).

Rows of every measurement are listed in date order, each flagged with the `measurement` it
belongs to: 0 is the measurement at commencement, 1 the first remeasurement, … Earlier rows are
never restated, so an auditor sees exactly what was booked before each modification.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from registry.leases.accounting import LeaseModification
from registry.leases.accounting import LeaseSchedule
from registry.leases.accounting import lease_history
from registry.leases.accounting.export import LESSEE_COLUMNS
from registry.leases.accounting.export import LESSOR_COLUMNS
from registry.leases.accounting.rows import ScheduleRow
from registry.leases.remeasurement import RecordedModification

Remeasurements = Sequence[tuple[RecordedModification, LeaseModification]]


def measured_rows(
    base: LeaseSchedule, remeasurements: Remeasurements
) -> list[tuple[int, ScheduleRow]]:
    """(measurement, row) for every row booked: each schedule up to the next modification
    (the engine's `LeaseHistory.booked_rows`, so the page, JSON and CSV agree with it)."""
    history = lease_history(base, [result for _, result in remeasurements])
    return list(history.booked_rows())


def _remeasurement_dict(
    index: int, recorded: RecordedModification, result: LeaseModification
) -> dict[str, Any]:
    bridge = {k: v for k, v in result.to_dict().items() if k not in ("original", "remeasured")}
    rate = result.remeasured.discount_rate
    return {
        "measurement": index,
        "id": recorded.id,
        "reason": recorded.reason,
        "terms": dict(recorded.terms),
        **bridge,
        "discount_rate": None if rate is None else f"{rate:f}",
    }


def schedule_document(
    lease_number: str, base: LeaseSchedule, remeasurements: Remeasurements = ()
) -> dict[str, Any]:
    """The API's schedule answer: `short_term`, `discount_rate`, `initial_measurement`,
    `right_of_use_asset` (lessee) or `deferred_inflow` (lessor) of the measurement at
    commencement, every booked `rows` entry flagged by `measurement`, and `remeasurements`."""
    document: dict[str, Any] = {"lease_number": lease_number, "direction": base.direction}
    document.update(base.to_dict())
    document["rows"] = [
        {**row.to_dict(), "measurement": index}
        for index, row in measured_rows(base, remeasurements)
    ]
    document["remeasurements"] = [
        _remeasurement_dict(index, recorded, result)
        for index, (recorded, result) in enumerate(remeasurements, start=1)
    ]
    return document


def schedule_csv(base: LeaseSchedule, remeasurements: Remeasurements = ()) -> str:
    """The rows as CSV with the same column names as the JSON (and `measurement` first)."""
    columns = ["measurement", *(LESSEE_COLUMNS if base.direction == "in" else LESSOR_COLUMNS)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for index, row in measured_rows(base, remeasurements):
        writer.writerow({**row.to_dict(), "measurement": index})
    return buffer.getvalue()


def balance_series(
    base: LeaseSchedule, remeasurements: Remeasurements = ()
) -> dict[str, list[tuple[dt.date, Decimal]]]:
    """Liability or receivable, and the right-to-use asset or deferred inflow, after each payment
    from commencement (the opening amounts first): the points of the lease page's chart."""
    lessee = base.direction == "in"
    balance_name = "Lease liability" if lessee else "Lease receivable"
    carrying_name = "Right-to-use asset" if lessee else "Deferred inflow"
    start = base.terms.commencement_date
    balance = [(start, base.initial_measurement)]
    carrying = [(start, base.opening_recognizable)]
    for _, row in measured_rows(base, remeasurements):
        balance.append((row.date, row.balance))
        carrying.append((row.recognition_to, row.carrying))
    return {balance_name: balance, carrying_name: carrying}
