"""What the city uses its land for, who holds it, and what gets built on it."""

from __future__ import annotations

from dataclasses import dataclass

DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("GSD", "General Services"),
    ("RAP", "Recreation and Parks"),
    ("LAPD", "Police"),
    ("LAFD", "Fire"),
    ("LADOT", "Transportation"),
    ("LAPL", "Library"),
    ("LAHD", "Housing"),
    ("LASAN", "Sanitation and Environment"),
    ("StreetsLA", "Street Services"),
    ("BOE", "Engineering"),
    ("DCA", "Cultural Affairs"),
    ("LAAS", "Animal Services"),
    ("LADOA", "Aging"),
    ("EWDD", "Economic and Workforce Development"),
    ("ZOO", "Zoo"),
    ("ELP", "El Pueblo de Los Angeles"),
)

ASSET_TYPES = (
    "office",
    "public_safety",
    "library",
    "park",
    "recreation",
    "parking",
    "yard_warehouse",
    "housing",
    "vacant_land",
    "community",
    "infrastructure",
    "other",
)


@dataclass(frozen=True)
class Use:
    """One kind of city use. ``on`` weighs the use on each slot kind (lot, lot group,
    half block, block, superblock), so fire stations land on lot groups and parks on
    blocks. Building slots split the parcel's buildable area; ``footprint`` is the share
    of a slot (per axis) that the building covers."""

    name: str
    asset_type: str
    departments: tuple[tuple[str, float], ...]
    on: tuple[float, float, float, float, float]
    buildings: tuple[int, int] = (0, 0)
    floors: tuple[int, int] = (1, 1)
    footprint: tuple[float, float] = (0.55, 0.9)
    cost_per_sq_ft: tuple[float, float] = (350.0, 650.0)
    names: tuple[str, ...] = ()
    leasable: bool = False  # the city sometimes leases this kind of space in

    @property
    def vacant(self) -> bool:
        return self.asset_type == "vacant_land"


USES: tuple[Use, ...] = (
    Use(
        "Vacant Land",
        "vacant_land",
        (
            ("GSD", 0.35),
            ("BOE", 0.2),
            ("StreetsLA", 0.15),
            ("LAHD", 0.12),
            ("LASAN", 0.1),
            ("EWDD", 0.05),
            ("LADOT", 0.03),
        ),
        (30, 10, 8, 8, 6),
    ),
    Use(
        "Remnant Parcel",
        "vacant_land",
        (("BOE", 0.5), ("StreetsLA", 0.4), ("LADOT", 0.1)),
        (8, 0, 0, 0, 0),
    ),
    Use(
        "Parking Lot", "parking", (("LADOT", 0.85), ("GSD", 0.15)), (14, 16, 8, 0, 0), leasable=True
    ),
    Use(
        "Parking Structure",
        "parking",
        (("LADOT", 0.9), ("GSD", 0.1)),
        (0, 2, 6, 2, 0),
        (1, 1),
        (3, 6),
        (0.8, 0.95),
        (300, 380),
        ("{hood} Parking Structure",),
    ),
    Use(
        "Affordable Housing Site",
        "housing",
        (("LAHD", 1.0),),
        (14, 14, 8, 4, 0),
        (0, 2),
        (2, 5),
        (0.5, 0.85),
        (350, 550),
        ("{hood} Apartments", "{hood} Apartments Building B"),
    ),
    Use(
        "Single-Family Residence",
        "housing",
        (("LAHD", 0.7), ("GSD", 0.3)),
        (6, 0, 0, 0, 0),
        (1, 1),
        (1, 2),
        (0.4, 0.7),
        (300, 450),
        ("Residence at {address}",),
    ),
    Use(
        "Park",
        "park",
        (("RAP", 1.0),),
        (6, 6, 14, 34, 55),
        (0, 2),
        (1, 1),
        (0.08, 0.25),
        (400, 600),
        ("{hood} Park Recreation Building", "{hood} Park Restrooms"),
    ),
    Use("Community Garden", "park", (("RAP", 1.0),), (4, 1, 0, 0, 0)),
    Use(
        "Pump Station",
        "infrastructure",
        (("LASAN", 1.0),),
        (6, 2, 0, 0, 0),
        (1, 1),
        (1, 1),
        (0.3, 0.6),
        (500, 700),
        ("{hood} Sewer Pumping Plant",),
    ),
    Use(
        "Communication Tower Site",
        "infrastructure",
        (("GSD", 1.0),),
        (2, 1, 0, 0, 0),
        (1, 1),
        (1, 1),
        (0.2, 0.35),
        (500, 700),
        ("{hood} Radio Equipment Building",),
    ),
    Use(
        "Fire Station",
        "public_safety",
        (("LAFD", 1.0),),
        (0, 9, 4, 0, 0),
        (1, 2),
        (1, 2),
        (0.55, 0.9),
        (500, 700),
        ("Fire Station {station}", "Fire Station {station} Apparatus Storage"),
    ),
    Use(
        "Police Station",
        "public_safety",
        (("LAPD", 1.0),),
        (0, 1, 6, 0, 0),
        (1, 2),
        (2, 3),
        (0.5, 0.85),
        (550, 700),
        ("{hood} Community Police Station", "{hood} Police Vehicle Garage"),
    ),
    Use(
        "Branch Library",
        "library",
        (("LAPL", 1.0),),
        (0, 9, 3, 0, 0),
        (1, 1),
        (1, 2),
        (0.5, 0.85),
        (450, 650),
        ("{hood} Branch Library",),
        leasable=True,
    ),
    Use(
        "Community Center",
        "community",
        (("RAP", 0.5), ("EWDD", 0.2), ("LADOA", 0.2), ("DCA", 0.1)),
        (0, 8, 4, 2, 0),
        (1, 1),
        (1, 2),
        (0.5, 0.85),
        (400, 600),
        ("{hood} Community Center",),
        leasable=True,
    ),
    Use(
        "Senior Center",
        "community",
        (("LADOA", 0.75), ("RAP", 0.25)),
        (0, 5, 2, 0, 0),
        (1, 1),
        (1, 2),
        (0.5, 0.85),
        (400, 600),
        ("{hood} Senior Center",),
        leasable=True,
    ),
    Use(
        "Cultural Arts Center",
        "community",
        (("DCA", 1.0),),
        (0, 3, 2, 1, 0),
        (1, 2),
        (1, 2),
        (0.45, 0.8),
        (450, 650),
        ("{hood} Cultural Arts Center", "{hood} Arts Studio"),
    ),
    Use(
        "WorkSource Center",
        "office",
        (("EWDD", 1.0),),
        (0, 3, 1, 0, 0),
        (1, 1),
        (1, 3),
        (0.5, 0.85),
        (400, 600),
        ("{hood} WorkSource Center",),
        leasable=True,
    ),
    Use(
        "Office",
        "office",
        (
            ("GSD", 0.6),
            ("LADOT", 0.08),
            ("LAHD", 0.06),
            ("LASAN", 0.06),
            ("BOE", 0.06),
            ("EWDD", 0.05),
            ("StreetsLA", 0.04),
            ("DCA", 0.03),
            ("LADOA", 0.02),
        ),
        (0, 10, 12, 8, 0),
        (1, 1),
        (2, 8),
        (0.55, 0.9),
        (450, 700),
        ("{hood} Municipal Building",),
        leasable=True,
    ),
    Use(
        "Historic Site",
        "other",
        (("DCA", 1.0),),
        (0, 2, 1, 0, 0),
        (1, 2),
        (1, 2),
        (0.35, 0.7),
        (550, 700),
        ("{hood} Historic House", "{hood} Carriage House"),
    ),
    Use(
        "Maintenance Yard",
        "yard_warehouse",
        (("GSD", 0.35), ("StreetsLA", 0.3), ("LASAN", 0.2), ("LADOT", 0.1), ("RAP", 0.05)),
        (0, 2, 14, 14, 15),
        (1, 3),
        (1, 1),
        (0.45, 0.85),
        (300, 450),
        ("{hood} Yard Shop", "{hood} Yard Warehouse", "{hood} Fleet Garage"),
        leasable=True,
    ),
    Use(
        "Recreation Center",
        "recreation",
        (("RAP", 1.0),),
        (0, 1, 12, 18, 10),
        (1, 3),
        (1, 2),
        (0.25, 0.6),
        (400, 600),
        ("{hood} Recreation Center", "{hood} Gymnasium", "{hood} Pool Building"),
    ),
    Use(
        "Animal Shelter",
        "other",
        (("LAAS", 1.0),),
        (0, 0, 4, 3, 0),
        (1, 3),
        (1, 1),
        (0.4, 0.8),
        (450, 650),
        ("{hood} Animal Services Center", "{hood} Kennel Building", "{hood} Veterinary Clinic"),
    ),
    Use(
        "Wastewater Pumping Plant",
        "infrastructure",
        (("LASAN", 1.0),),
        (0, 0, 2, 4, 7),
        (1, 3),
        (1, 2),
        (0.3, 0.7),
        (500, 700),
        (
            "{hood} Wastewater Pumping Plant",
            "{hood} Plant Control Building",
            "{hood} Odor Control Facility",
        ),
    ),
    Use(
        "Pitch and Putt Golf Course",
        "recreation",
        (("RAP", 1.0),),
        (0, 0, 0, 0, 8),
        (1, 1),
        (1, 1),
        (0.08, 0.2),
        (400, 550),
        ("{hood} Golf Clubhouse",),
    ),
    Use(
        "Zoo Support Facility",
        "yard_warehouse",
        (("ZOO", 1.0),),
        (0, 0, 1, 1, 0),
        (1, 2),
        (1, 1),
        (0.4, 0.8),
        (350, 500),
        ("Zoo Commissary", "Zoo Animal Holding Building"),
    ),
)

USE_INDEX = {u.name: i for i, u in enumerate(USES)}
DEPARTMENT_CODES = tuple(code for code, _ in DEPARTMENTS)

# Status mixes: vacant land sits idle or goes surplus far more often than a fire station.
STATUSES = ("in_use", "no_current_use", "leased_out", "surplus", "disposed")
STATUS_P_VACANT = (0.73, 0.12, 0.05, 0.085, 0.015)
STATUS_P_OTHER = (0.895, 0.04, 0.04, 0.017, 0.008)
DIGITIZATION = ("paper", "digitized", "attributed", "verified")
DIGITIZATION_P = (0.06, 0.30, 0.30, 0.34)
