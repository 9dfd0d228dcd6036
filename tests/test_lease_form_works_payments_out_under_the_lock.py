"""The modification form's payment rows, left as its work-out filled them, are worked out again
under the lease's lock when the modification is recorded (`record_modification`), as the API's
are: another writer's payment change recorded meanwhile is followed, not the rows worked out
from the rent before it (they were recorded as sent, stale). Real PostGIS, a second connection
holding the lease."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from app.database import session_factory
from registry.leases.records import lease_as_dict
from tests.auth_fixtures import SignedInClient
from tests.lease_fixtures import sent_while_another_writer_changes_the_rent
from tests.test_lease_modification_payments import lease  # noqa: F401  (the fixture)

NUMBER = "L-2024-011"  # 2024-01-01, 24 months: 12 x 1,000.00, then 12 x 1,100.00
FORM = f"/leases/{NUMBER}/modifications/new"
#: An extension to 2026-12-31 as the form's work-out filled it: the 1,100.00 in force.
EXTENSION = {
    "kind": "extension", "effective_date": "2025-01-01", "end_date": "2026-12-31",
    "added_months": "", "reason": "renewal", "payments-0-periods": "24",
    "payments-0-amount": "1100.00", "worked_out": "24x1100.00", "action": "record",
}  # fmt: skip


@pytest.mark.usefixtures("lease")
def test_rows_as_the_work_out_filled_them_follow_a_payment_change_recorded_meanwhile(
    app: Flask, signed_in: Callable[..., SignedInClient]
) -> None:
    finance = signed_in("finance")
    response = sent_while_another_writer_changes_the_rent(
        app, NUMBER, lambda: finance.post(FORM, data=EXTENSION)
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context(), session_factory()() as session:
        latest = lease_as_dict(session, NUMBER)["modifications"][-1]
    assert latest["effective_date"] == "2025-01-01"
    assert latest["terms"]["payments"] == [{"periods": 24, "amount": "1250.00"}]
