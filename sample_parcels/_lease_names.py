"""Names for the sample leases: downtown towers, landlords, tenants (all fictitious companies
on real Los Angeles streets; the carriers' names are used as a city lease register would)."""

from __future__ import annotations

# (address, building name) of downtown towers where the city rents floors
TOWERS: tuple[tuple[str, str], ...] = (
    ("221 N Figueroa St", "Figueroa Plaza"),
    ("350 S Grand Ave", "Two California Plaza"),
    ("633 W 5th St", "Library Tower"),
    ("444 S Flower St", "Flower Street Center"),
    ("555 W 5th St", "Fifth Street Tower"),
    ("1149 S Broadway", "Broadway Trade Center"),
    ("201 N Los Angeles St", "Civic Center North"),
    ("100 W 1st St", "First Street Building"),
)
IN_LANDLORDS: tuple[str, ...] = (
    "Figueroa Plaza Owner LLC",
    "Bunker Hill Towers LP",
    "Grand Avenue Office Partners LLC",
    "Flower Street Holdings LLC",
    "Fifth & Grand Associates",
    "Broadway Trade Center LLC",
    "Civic Center Properties Inc.",
    "First Street Realty Trust",
    "Valley Office Partners LP",
    "San Fernando Commercial LLC",
    "Harbor Gateway Properties LLC",
    "Pico-Union Realty Co.",
    "Crenshaw Plaza Investors LLC",
    "Westside Municipal Offices LLC",
)
YARD_LANDLORDS: tuple[str, ...] = (
    "Alameda Industrial Partners LLC",
    "Sun Valley Logistics LP",
    "Harbor Yard Holdings LLC",
    "Vernon Avenue Properties LLC",
    "Pacoima Industrial Park LLC",
    "Wilmington Terminal Land Co.",
)
RETAIL_TENANTS: tuple[str, ...] = (
    "Grand Central Coffee Co.",
    "Eastside Deli LLC",
    "Pico Union Market Inc.",
    "Sunset Auto Detailing",
    "Mariachi Plaza Cafe",
    "Leimert Books & Gifts",
    "Van Nuys Tire & Brake",
    "Harbor Fish Market LLC",
    "Canoga Storage Partners",
    "Silver Lake Flowers",
    "Boyle Heights Panaderia",
    "Venice Surf Rentals LLC",
    "Park & Ride Concessions Inc.",
    "Downtown Parking Services LLC",
    "Metro Lot Operators LLC",
    "Valley Storage & Moving",
    "Chatsworth Nursery Supply",
    "Wilmington Auto Salvage LLC",
)
CELL_CARRIERS: tuple[str, ...] = (
    "Los Angeles SMSA LP (Verizon Wireless)",
    "T-Mobile West LLC",
    "New Cingular Wireless PCS LLC (AT&T)",
    "Crown Castle Towers LLC",
    "American Tower Asset Sub LLC",
)
NON_PROFITS: tuple[str, ...] = (
    "Boys & Girls Club of the Valley",
    "Los Angeles Conservation Corps",
    "Meals on Wheels West LA",
    "Heart of Los Angeles Youth",
    "Plaza de la Raza Inc.",
    "Watts Labor Community Action Committee",
    "LA Community Garden Council",
    "Pacoima Beautiful",
    "Harbor Area Senior Services",
    "Youth Policy Institute",
    "Little Tokyo Service Center",
    "Koreatown Youth and Community Center",
    "Venice Family Clinic",
    "East LA Community Corporation",
    "Hollywood Food Coalition",
    "Skid Row Housing Trust",
    "Abode Communities",
    "West Angeles Community Development Corp.",
)
