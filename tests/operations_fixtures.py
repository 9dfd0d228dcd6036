"""Operations test helpers: two departments, two parcels, buildings with known usable sq ft."""

from __future__ import annotations

from geoalchemy2.shape import from_shape
from sqlalchemy.orm import Session

from registry.models import Building
from tests.builders import department
from tests.builders import parcel
from tests.builders import square

PARCEL = "5555-012-034"
OTHER_PARCEL = "5555-012-035"
TOWER = "5555-012-034-B1"
ANNEX = "5555-012-034-B2"
YARD = "5555-012-035-B1"


def seed_operations_places(session: Session) -> None:
    """GSD and RAP; parcel PARCEL with the Tower (40,000 usable sq ft) and the Annex (no area
    recorded), OTHER_PARCEL with the Yard (5,000 usable sq ft)."""
    session.add_all([department(), department("RAP", "Recreation and Parks")])
    first = parcel(PARCEL)
    second = parcel(OTHER_PARCEL, geometry=square(lon=-118.26))
    session.add_all([first, second])
    session.flush()
    session.add_all(
        [
            Building(
                building_id=TOWER,
                parcel_id=first.id,
                name="Tower",
                gross_sq_ft=50_000,
                usable_sq_ft=40_000,
                footprint=from_shape(square(size=0.0005), srid=4326),
            ),
            Building(building_id=ANNEX, parcel_id=first.id, name="Annex"),
            Building(
                building_id=YARD,
                parcel_id=second.id,
                name="Yard",
                gross_sq_ft=6_000,
                usable_sq_ft=5_000,
            ),
        ]
    )
    session.flush()


def occupancy_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "building_id": TOWER,
        "department_code": "GSD",
        "period_start": "2024-07-01",
        "period_end": "2025-06-30",
        "headcount": 120,
        "usable_sq_ft_occupied": 30_000,
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


def cost_body(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "parcel_id": PARCEL,
        "fiscal_year": 2025,
        "category": "utilities",
        "amount": "84210.50",
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}
