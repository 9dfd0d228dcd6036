"""Example request bodies of the JSON API, one per input schema: what a client sends, in the
sample city's terms (its parcel-id format, departments and records). Schemathesis sends each
once before generating data of its own, so the tests prove that every example is accepted."""

from __future__ import annotations

from typing import Any

_SQUARE = [[-118.25, 34.05], [-118.249, 34.05], [-118.249, 34.051], [-118.25, 34.051]]

EXAMPLES: dict[str, Any] = {
    "ParcelFeatureInput": {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[*_SQUARE, _SQUARE[0]]]},
        "properties": {
            "parcel_id": "5555-012-034",
            "address": "200 N Spring St",
            "use": "City Hall",
            "status": "in_use",
            "legal_interest": "owned",
            "asset_type": "office",
            "digitization_status": "digitized",
            "department_code": "GSD",
            "council_district": 14,
            "acquisition_date": "1928-04-26",
            "acquisition_cost": "1250000.10",
        },
    },
    "RepairRequest": {
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [_SQUARE[0], _SQUARE[2], _SQUARE[1], _SQUARE[3], _SQUARE[0]]  # a bow tie
            ],
        }
    },
    "LeaseInput": {
        "lease_number": "LI-2026-0999",
        "direction": "in",
        "portfolio": "payable",
        "counterparty": "Harbor Yard Holdings LLC",
        "parcel_id": "2001-016-025",
        "department_code": "GSD",
        "commencement_date": "2026-07-01",
        "term_months": 60,
        "payment_frequency": "monthly",
        "payment_timing": "advance",
        "payments": [{"periods": 60, "amount": "12500.00"}],
        "escalation_pct": "3",
        "discount_rate": "0.0325",
        "discount_rate_source": "stated",
    },
    "LeaseModification": {
        "effective_date": "2020-01-01",
        "terms": {"payments": [{"periods": 84, "amount": "30000.00"}]},
        "reason": "Rent reduced by amendment 2",
    },
    "OccupancyInput": {
        "building_id": "2001-016-025-B1",
        "department_code": "RAP",
        "period_start": "2026-07-01",
        "headcount": 12,
        "usable_sq_ft_occupied": 5000,
    },
    "CostInput": {
        "parcel_id": "2001-016-025",
        "fiscal_year": 2026,
        "category": "utilities",
        "amount": "1250.00",
        "note": "water and power",
    },
}
