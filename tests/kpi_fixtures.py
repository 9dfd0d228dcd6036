"""The KPI desk's small portfolio, shared by the desk's tests and its trends' tests: GSD owns P1
(district 1, office, drawn, verified), P2 (district 1, office, on paper) and P3 (district 2,
office, drawn); LAPL owns P4 (district 1, library, drawn)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.database import session_factory
from registry.db import unit_of_work
from registry.models import AuditEvent
from tests.auth_fixtures import SignedInClient
from tests.builders import department
from tests.builders import parcel
from tests.builders import square

VERIFIED_AT = dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC)


def _portfolio(session: Session) -> None:
    gsd, lapl = department("GSD", "General Services"), department("LAPL", "Library")
    common = {"legal_interest": "owned", "status": "in_use", "use": "Office"}
    session.add_all(
        [
            parcel(
                "1111-001-001", department=gsd, council_district=1, asset_type="office",
                geometry=square(-118.250), digitization_status="verified",
                verified_by="second", verified_at=VERIFIED_AT, **common,
            ),
            parcel(
                "1111-001-002", department=gsd, council_district=1, asset_type="office",
                geometry=None, digitization_status="paper", **common,
            ),
            parcel(
                "1111-001-003", department=gsd, council_district=2, asset_type="office",
                geometry=square(-118.230), digitization_status="digitized", **common,
            ),
            parcel(
                "1111-001-004", department=lapl, council_district=1, asset_type="library",
                geometry=square(-118.210), digitization_status="digitized", **common,
            ),
        ]
    )  # fmt: skip


@pytest.fixture
def desk_app(app: Flask) -> Flask:
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        _portfolio(session)
    return app


@pytest.fixture
def viewer(desk_app: Flask, signed_in: Callable[..., SignedInClient]) -> SignedInClient:
    return signed_in("viewer")


def parcel_version(app: Flask, parcel_id: str, when: dt.date, **changes: object) -> None:
    """An older version of a parcel in the audit trail, as the trigger writes one."""
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        after = session.execute(
            text(
                "SELECT after FROM audit_events WHERE table_name = 'parcels' "
                "AND action = 'INSERT' AND after ->> 'parcel_id' = :parcel_id "
                "ORDER BY id LIMIT 1"
            ),
            {"parcel_id": parcel_id},
        ).scalar_one()
        after = {**after, **changes}
        session.add(
            AuditEvent(
                occurred_at=dt.datetime.combine(when, dt.time(12), tzinfo=dt.UTC),
                actor="editor@city.example",
                table_name="parcels",
                row_key=str(after["id"]),
                action="INSERT",
                after=after,
            )
        )
