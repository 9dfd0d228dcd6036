"""Lease test helpers: the worked example as API JSON, and the places and rates it refers to.

The worked example is the Washington State community colleges' (SBCTC) GASB 87 lessee example:
$30,000.00 monthly in advance from 2021-04-01, 36 payments, 0.89 % a year.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import Flask
from geoalchemy2.shape import from_shape
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.database import session_factory
from registry.db import unit_of_work
from registry.leases.records import add_modification
from registry.leases.records import create_lease
from registry.models import Building
from registry.models import IncrementalBorrowingRate
from tests.builders import department
from tests.builders import parcel
from tests.builders import square
from tests.sql import scalar

PARCEL = "5555-012-034"
OTHER_PARCEL = "5555-012-035"
BUILDING = "5555-012-034-B1"


def worked_example(**overrides: Any) -> dict[str, Any]:
    """The SBCTC lessee lease as a POST body (money and rates as strings)."""
    body: dict[str, Any] = {
        "lease_number": "L-2021-001",
        "direction": "in",
        "counterparty": "Spring Street Towers LLC",
        "parcel_id": PARCEL,
        "department_code": "GSD",
        "premises": "Suite 1200",
        "leased_area_sq_ft": 12500,
        "commencement_date": "2021-04-01",
        "term_months": 36,
        "payment_frequency": "monthly",
        "payment_timing": "advance",
        "payments": [{"periods": 36, "amount": "30000.00"}],
        "discount_rate": "0.0089",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def lessor_example(**overrides: Any) -> dict[str, Any]:
    """A city-as-lessor lease: a cell site, $2,400 a quarter in arrears for 5 years at 4 %."""
    return worked_example(
        **{
            "lease_number": "R-2022-007",
            "direction": "out",
            "portfolio": "receivable",
            "counterparty": "Pacific Wireless Inc.",
            "premises": "Rooftop cell site",
            "commencement_date": "2022-07-01",
            "term_months": 60,
            "payment_frequency": "quarterly",
            "payment_timing": "arrears",
            "payments": [{"periods": 20, "amount": "2400.00"}],
            "discount_rate": "0.04",
            "leased_area_sq_ft": None,
            "department_code": None,
            **overrides,
        }
    )


def seed_places(session: Session) -> None:
    """Departments GSD and RAP, two parcels (one with a building) and a small IBR table."""
    session.add_all([department(), department("RAP", "Recreation and Parks")])
    first = parcel(PARCEL)
    second = parcel(OTHER_PARCEL, geometry=square(lon=-118.26))
    session.add_all([first, second])
    session.flush()
    session.add(
        Building(
            building_id=BUILDING,
            parcel_id=first.id,
            name="Tower",
            footprint=from_shape(square(size=0.0005), srid=4326),
        )
    )
    session.add_all(
        [
            IncrementalBorrowingRate(
                effective_date=dt.date(2020, 7, 1),
                max_term_months=60,
                rate=Decimal("0.0150"),
                source="Treasurer FY2021",
            ),
            IncrementalBorrowingRate(
                effective_date=dt.date(2020, 7, 1),
                max_term_months=120,
                rate=Decimal("0.0210"),
                source="Treasurer FY2021",
            ),
            IncrementalBorrowingRate(
                effective_date=dt.date(2022, 7, 1),
                max_term_months=60,
                rate=Decimal("0.0380"),
                source="Treasurer FY2023",
            ),
        ]
    )
    session.flush()


def _waiting_for_a_lock(app: Flask) -> bool:
    return bool(
        scalar(
            app.config["DATABASE_URL"],
            "SELECT count(*) > 0 FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
    )


def sent_while_another_writer_changes_the_rent(
    app: Flask, lease_number: str, send: Callable[[], Any]
) -> Any:
    """`send()`'s answer, sent from another thread while a second connection holds the lease
    and records a payment change (18 x 1,250.00 from 2024-07-01), committed once `send`'s
    request waits for the lease: what a writer working out payments before the lock misses."""
    answers: list[Any] = []
    with app.app_context(), unit_of_work(session_factory(), "other-writer") as session:
        session.execute(
            text("SELECT 1 FROM leases WHERE lease_number = :n FOR UPDATE"), {"n": lease_number}
        )
        add_modification(
            session,
            lease_number,
            "2024-07-01",
            {"payments": [{"periods": 18, "amount": "1250.00"}]},
        )
        sender = threading.Thread(target=lambda: answers.append(send()))
        sender.start()
        deadline = time.monotonic() + 30
        while not _waiting_for_a_lock(app):
            assert time.monotonic() < deadline, "the request never waited for the lease"
            assert sender.is_alive(), "the request did not wait for the lease"
            time.sleep(0.05)
    sender.join(30)
    [answer] = answers
    return answer


def create_stepped_lease(session: Session, lease_number: str) -> None:
    """A lease to modify: from 2024-01-01, 24 months: 12 x 1,000.00, then 12 x 1,100.00, at 4 %
    (`worked_example` otherwise)."""
    create_lease(
        session,
        worked_example(
            lease_number=lease_number,
            commencement_date="2024-01-01",
            term_months=24,
            payments=[
                {"periods": 12, "amount": "1000.00"},
                {"periods": 12, "amount": "1100.00"},
            ],
            discount_rate="0.04",
        ),
    )
