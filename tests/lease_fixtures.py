"""Lease test helpers: the worked example as API JSON, and the places and rates it refers to.

The worked example is the Washington State community colleges' (SBCTC) GASB 87 lessee example:
$30,000.00 monthly in advance from 2021-04-01, 36 payments, 0.89 % a year.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from geoalchemy2.shape import from_shape
from sqlalchemy.orm import Session

from registry.models import Building
from registry.models import IncrementalBorrowingRate
from tests.builders import department
from tests.builders import parcel
from tests.builders import square

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
