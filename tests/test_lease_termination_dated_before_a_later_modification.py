"""A modification dated before one recorded later (`record_modification`): whether it is a
termination is judged against the end in force on its effective date, not the end after every
recorded modification; and a termination that a later modification, applied again on top of it,
would undo is refused rather than recorded with `terminated_on` before the lease's real end.

The lease: 2024-01-01 for 24 months (ends 2025-12-31), extended from 2025-06-01 to 2027-12-31.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from app.database import session_factory
from registry.leases.records import lease_as_dict
from tests.auth_fixtures import SignedInClient
from tests.test_lease_modification_payments import lease  # noqa: F401  (the fixture)

OTHER = "L-2024-011"
API = f"/api/leases/{OTHER}/modifications"


def _lease(app: Flask) -> dict[str, Any]:
    with app.app_context(), session_factory()() as session:
        return lease_as_dict(session, OTHER)


@pytest.fixture
def extended(app: Flask, lease: None, signed_in: Callable[..., SignedInClient]) -> SignedInClient:  # noqa: F811
    finance = signed_in("finance")
    body = {"kind": "extension", "effective_date": "2025-06-01",
            "terms": {"end_date": "2027-12-31"}}  # fmt: skip
    response = finance.post(API, json=body)
    assert response.status_code == 201, response.get_json()
    assert _lease(app)["current_end_date"] == "2027-12-31"
    return finance


def test_an_end_moved_later_than_the_end_then_in_force_is_no_termination(
    app: Flask, extended: SignedInClient
) -> None:
    """2026-06-30 is before the end after the later extension (2027-12-31) but after the end in
    force on 2025-02-01 (2025-12-31): it was taken for a termination, and the lease was shown
    terminated on 2026-06-30 while its schedule, the extension applied on top, ran to 2027."""
    body = {"effective_date": "2025-02-01", "terms": {"end_date": "2026-06-30"}}
    response = extended.post(API, json=body)
    assert response.status_code == 201, response.get_json()
    stored = _lease(app)
    assert stored["current_end_date"] == "2027-12-31"
    assert stored["terminated_on"] is None


def test_a_termination_a_later_modification_would_undo_is_refused(
    app: Flask, extended: SignedInClient
) -> None:
    body = {"kind": "termination", "effective_date": "2025-02-01",
            "terms": {"end_date": "2025-09-30"}}  # fmt: skip
    response = extended.post(API, json=body)
    assert response.status_code == 422, response.get_json()
    [error] = response.get_json()["errors"]
    assert error["field"] == "terms.end_date"
    assert "2025-06-01" in error["message"] and "2027-12-31" in error["message"]
    stored = _lease(app)
    assert len(stored["modifications"]) == 1 and stored["terminated_on"] is None
