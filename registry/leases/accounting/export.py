"""CSV renderings for download and for auditors who re-foot the tables.

Columns carry the same names as the ``to_dict()`` keys and money is written as
plain two-place decimal strings, so a spreadsheet import is lossless.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence

from .balances import FiscalYearBalances
from .maturity import MaturityTable
from .schedule import LeaseSchedule

LESSEE_COLUMNS = (
    "period", "date", "payment", "interest", "principal", "balance",
    "amortization", "asset_balance",
)  # fmt: skip
LESSOR_COLUMNS = (
    "period", "date", "payment", "interest", "principal", "balance",
    "inflow_recognized", "deferred_inflow_balance",
)  # fmt: skip


def _to_csv(columns: Sequence[str], records: Iterable[Mapping[str, object]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for record in records:
        writer.writerow({key: "" if value is None else value for key, value in record.items()})
    return buffer.getvalue()


def schedule_to_csv(schedule: LeaseSchedule) -> str:
    """The schedule rows as CSV text (RFC 4180, CRLF line ends), header first."""
    columns = LESSEE_COLUMNS if schedule.direction == "in" else LESSOR_COLUMNS
    return _to_csv(columns, (row.to_dict() for row in schedule.rows))


def fiscal_years_to_csv(years: Sequence[FiscalYearBalances]) -> str:
    """Fiscal-year balances as CSV; lessee or lessor columns from the first year."""
    lessee = not years or years[0].direction == "in"
    columns = [
        "fiscal_year", "start", "end", "opening_balance", "payments", "interest",
        "principal", "balance", "accrued_interest",
    ]  # fmt: skip
    columns += (
        ["amortization", "right_of_use_asset_net"]
        if lessee
        else ["inflow_recognized", "deferred_inflow_balance"]
    )
    return _to_csv(columns, (year.to_dict() for year in years))


def maturity_table_to_csv(table: MaturityTable) -> str:
    """Maturity buckets as CSV: label, fiscal years, principal, interest, total."""
    columns = ["label", "first_fiscal_year", "last_fiscal_year", "principal", "interest", "total"]
    return _to_csv(columns, (bucket.to_dict() for bucket in table.buckets))
