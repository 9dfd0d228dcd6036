"""Sample occupancy and O&M costs for the shipped portfolio: ``python -m sample_parcels.operations``
rewrites ``occupancy.csv`` and ``costs.csv`` next to this module.

Three fiscal years, FY2024..FY2026 (named by the calendar year they end in), seeded, with the
story the reform programme tells: at the start of FY2025 the city consolidated a few half-empty
office buildings into others of the same department, so those buildings keep only a skeleton
staff and their operations, utilities and janitorial costs fall by more than half; a few more
office buildings stay under the 60 % utilization threshold all along; costs elsewhere rise with
inflation. Vacant lots the city owns cost a little to secure and clear. Columns name records by
their public ids (APN, building id, department code), as the import files do.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP
from decimal import Decimal
from pathlib import Path
from typing import Any

DIRECTORY = Path(__file__).resolve().parent
OCCUPANCY_CSV = DIRECTORY / "occupancy.csv"
COSTS_CSV = DIRECTORY / "costs.csv"
SEED = 2026
FISCAL_YEARS = (2024, 2025, 2026)
FIRST_DAY = dt.date(2023, 7, 1)  # FY2024 begins
CONSOLIDATION_DAY = dt.date(2024, 7, 1)  # FY2025 begins
CONSOLIDATED_BUILDINGS = 5
UNDERUSED_OFFICES = 4
INFLATION = Decimal("0.035")
OCCUPANCY_COLUMNS = (
    "building_id",
    "department_code",
    "period_start",
    "period_end",
    "headcount",
    "usable_sq_ft_occupied",
)
COST_COLUMNS = ("parcel_id", "building_id", "fiscal_year", "category", "amount", "note")

_OCCUPIED_TYPES = ("office", "library", "community", "public_safety")
_COSTED_TYPES = (*_OCCUPIED_TYPES, "yard_warehouse", "recreation")
# FY2024 cost per gross sq ft (low, high) by category, and which asset types carry it
_RATES: dict[str, tuple[float, float, tuple[str, ...]]] = {
    "operations": (3.50, 6.50, _COSTED_TYPES),
    "maintenance": (1.80, 4.20, _COSTED_TYPES),
    "utilities": (2.20, 3.60, _COSTED_TYPES),
    "janitorial": (1.40, 2.60, ("office", "library", "community")),
    "security": (0.80, 1.60, ("office", "public_safety")),
}
# What is left of a consolidated building's cost from FY2025 on
_AFTER_CONSOLIDATION = {
    "operations": Decimal("0.40"),
    "utilities": Decimal("0.35"),
    "janitorial": Decimal("0.25"),
    "security": Decimal("0.50"),
    "maintenance": Decimal("0.60"),
}


@dataclass(frozen=True)
class _Building:
    building_id: str
    parcel_id: str
    department: str
    asset_type: str
    gsf: int
    usf: int
    replacement_value: Decimal
    owned: bool


def _money(value: Decimal | float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _read_buildings() -> tuple[list[_Building], list[dict[str, Any]]]:
    """The shipped files' costed buildings and idle owned parcels (see `costed_places`)."""
    with (DIRECTORY / "parcels.geojson").open() as handle:
        parcels = {
            f["properties"]["parcel_id"]: f["properties"] for f in json.load(handle)["features"]
        }
    with (DIRECTORY / "buildings.geojson").open() as handle:
        features = [f["properties"] for f in json.load(handle)["features"]]
    return costed_places(parcels, features)


def costed_places(
    parcels: dict[str, dict[str, Any]], features: list[dict[str, Any]]
) -> tuple[list[_Building], list[dict[str, Any]]]:
    """Buildings of parcels in use, owned or leased in (the ones with staff; the owned ones
    also carry running costs), and the owned parcels with no current use.

    Takes plain records (parcel properties by APN, building properties), so the shipped files
    and a generated city read back from the database go through the same rule."""
    buildings = []
    for props in features:
        parcel = parcels[props["parcel_id"]]
        if (
            parcel["status"] == "in_use"
            and props["asset_type"] in _COSTED_TYPES
            and props.get("gross_sq_ft")
        ):
            buildings.append(
                _Building(
                    props["building_id"],
                    props["parcel_id"],
                    parcel["department_code"],
                    props["asset_type"],
                    int(props["gross_sq_ft"]),
                    int(props.get("usable_sq_ft") or props["gross_sq_ft"]),
                    Decimal(props.get("replacement_value") or 0),
                    parcel["legal_interest"] == "owned",
                )
            )
    idle = [
        p
        for p in parcels.values()
        if p["legal_interest"] == "owned" and p["status"] == "no_current_use"
    ]
    return sorted(buildings, key=lambda b: b.building_id), idle


class _Operations:
    """Builds both files' rows; one instance per generation, seeded."""

    def __init__(
        self,
        buildings: list[_Building],
        consolidated: int = CONSOLIDATED_BUILDINGS,
        underused: int = UNDERUSED_OFFICES,
    ) -> None:
        self.random = random.Random(SEED)
        self.buildings = buildings
        offices = [b for b in buildings if b.asset_type == "office" and b.owned and b.usf >= 5_000]
        picked = self.random.sample(offices, min(len(offices), consolidated + underused))
        self.consolidated = {b.building_id for b in picked[:consolidated]}
        self.underused = {b.building_id for b in picked[consolidated:]}
        self.receivers = self._receivers(offices)
        self.occupancy: list[dict[str, Any]] = []
        self.costs: list[dict[str, Any]] = []

    def _receivers(self, offices: list[_Building]) -> dict[str, _Building]:
        """Each consolidated building's staff moves to the largest other office of its
        department (else of the city), one that is neither consolidated nor underused."""
        others = [b for b in offices if b.building_id not in self.consolidated | self.underused]
        chosen: dict[str, _Building] = {}
        for building in (b for b in offices if b.building_id in self.consolidated):
            same = [b for b in others if b.department == building.department] or others
            chosen[building.building_id] = max(same, key=lambda b: (b.usf, b.building_id))
        return chosen

    def _utilization(self, building: _Building) -> float:
        if building.building_id in self.underused:
            return self.random.uniform(0.30, 0.55)
        if building.building_id in self.consolidated:
            return self.random.uniform(0.45, 0.58)
        return self.random.uniform(0.70, 1.05)

    def build_occupancy(self) -> None:
        moved: dict[str, dict[str, int]] = {}  # receiver → department → headcount
        for building in self.buildings:
            if building.asset_type not in _OCCUPIED_TYPES:
                continue
            if building.asset_type == "office":
                headcount = round(self._utilization(building) * building.usf / 150)
            else:
                headcount = round(building.usf / self.random.uniform(250, 600))
            row = {
                "building_id": building.building_id,
                "department_code": building.department,
                "period_start": FIRST_DAY,
                "period_end": None,
                "headcount": max(headcount, 1),
                "usable_sq_ft_occupied": building.usf,
            }
            if building.building_id in self.consolidated:
                row["period_end"] = CONSOLIDATION_DAY - dt.timedelta(days=1)
                skeleton = max(2, headcount // 10)  # records staff and a front counter
                self.occupancy.append(row)
                row = {
                    **row,
                    "period_start": CONSOLIDATION_DAY,
                    "period_end": None,
                    "headcount": skeleton,
                    "usable_sq_ft_occupied": building.usf // 10,
                }
                receiver = self.receivers[building.building_id].building_id
                arrivals = moved.setdefault(receiver, {})
                arrivals[building.department] = (
                    arrivals.get(building.department, 0) + headcount - skeleton
                )
            self.occupancy.append(row)
        by_id = {b.building_id: b for b in self.buildings}
        for receiver, arrivals in sorted(moved.items()):
            for department, headcount in sorted(arrivals.items()):
                self.occupancy.append(
                    {
                        "building_id": receiver,
                        "department_code": department,
                        "period_start": CONSOLIDATION_DAY,
                        "period_end": None,
                        "headcount": headcount,
                        "usable_sq_ft_occupied": min(by_id[receiver].usf, headcount * 150),
                    }
                )

    def build_costs(self, idle: list[dict[str, Any]]) -> None:
        for building in (b for b in self.buildings if b.owned):
            for category, (low, high, types) in _RATES.items():
                if building.asset_type not in types:
                    continue
                rate = Decimal(str(round(self.random.uniform(low, high), 2)))
                for index, year in enumerate(FISCAL_YEARS):
                    grown = rate * (1 + INFLATION) ** index
                    noise = Decimal(str(round(self.random.uniform(0.96, 1.04), 3)))
                    amount = grown * building.gsf * noise
                    note = None
                    if building.building_id in self.consolidated and year >= 2025:
                        amount *= _AFTER_CONSOLIDATION[category]
                        note = (
                            "consolidated in FY2025: staff moved to "
                            f"{self.receivers[building.building_id].building_id}"
                        )
                    self._cost(
                        building.parcel_id, building.building_id, year, category, amount, note
                    )
            for year in FISCAL_YEARS:
                if building.replacement_value and self.random.random() < 0.06:
                    share = Decimal(str(round(self.random.uniform(0.01, 0.03), 4)))
                    self._cost(
                        building.parcel_id,
                        building.building_id,
                        year,
                        "capital",
                        building.replacement_value * share,
                        "roof and HVAC renewal",
                    )
        for parcel in sorted(idle, key=lambda p: p["parcel_id"]):
            for category, low, high in (("security", 2_000, 9_000), ("maintenance", 800, 6_000)):
                base = self.random.uniform(low, high)
                for index, year in enumerate(FISCAL_YEARS):
                    amount = Decimal(str(round(base, 2))) * (1 + INFLATION) ** index
                    self._cost(
                        parcel["parcel_id"],
                        None,
                        year,
                        category,
                        amount,
                        "vacant lot: fencing, patrols, brush clearance",
                    )

    def _cost(
        self,
        parcel_id: str,
        building_id: str | None,
        year: int,
        category: str,
        amount: Decimal,
        note: str | None,
    ) -> None:
        self.costs.append(
            {
                "parcel_id": parcel_id,
                "building_id": building_id,
                "fiscal_year": year,
                "category": category,
                "amount": _money(amount),
                "note": note,
            }
        )


def generate_operations() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(occupancy rows, cost rows) of the shipped sample, the same on every run."""
    buildings, idle = _read_buildings()
    operations = _Operations(buildings)
    operations.build_occupancy()
    operations.build_costs(idle)
    return operations.occupancy, operations.costs


def generate_city_operations(
    parcels: dict[str, dict[str, Any]], features: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(occupancy rows, cost rows) for a generated city read back as records: the shipped
    story (consolidations, underused offices, inflation, idle lots) with the number of
    consolidated and underused offices scaled to the city's office count, so a large city
    tells the same story in the same proportions rather than in 9 buildings out of thousands."""
    buildings, idle = costed_places(parcels, features)
    offices = sum(1 for b in buildings if b.asset_type == "office" and b.owned and b.usf >= 5_000)
    operations = _Operations(
        buildings,
        consolidated=max(CONSOLIDATED_BUILDINGS, offices // 25),
        underused=max(UNDERUSED_OFFICES, offices // 30),
    )
    operations.build_occupancy()
    operations.build_costs(idle)
    return operations.occupancy, operations.costs


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {key: "" if value is None else str(value) for key, value in row.items()}
            )


def main() -> None:
    occupancy, costs = generate_operations()
    _write(OCCUPANCY_CSV, OCCUPANCY_COLUMNS, occupancy)
    _write(COSTS_CSV, COST_COLUMNS, costs)
    print(f"{OCCUPANCY_CSV.name}: {len(occupancy)} records; {COSTS_CSV.name}: {len(costs)} costs")


if __name__ == "__main__":
    main()
