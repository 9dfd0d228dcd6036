"""The registry's controlled vocabularies, in one place for the models, validation and the map."""

from __future__ import annotations

PARCEL_STATUSES = ("in_use", "no_current_use", "leased_out", "surplus", "disposed")
LEGAL_INTERESTS = ("owned", "leased")
DIGITIZATION_STATUSES = ("paper", "digitized", "attributed", "verified")
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
USER_ROLES = ("viewer", "editor", "finance", "admin")

# A status reads as its own words ("no_current_use": "No current use"), so no label can drift.
STATUS_LABELS = {status: status.replace("_", " ").capitalize() for status in PARCEL_STATUSES}
# Colour-blind-safe (Okabe-Ito) so the legend reads for every asset manager.
STATUS_COLOURS = {
    "in_use": "#0072B2",
    "no_current_use": "#E69F00",
    "leased_out": "#009E73",
    "surplus": "#CC79A7",
    "disposed": "#7f7f7f",
}


def sql_in_list(values: tuple[str, ...]) -> str:
    """Render a vocabulary as a SQL IN list for CHECK constraints (values are our own constants)."""
    return ", ".join(f"'{value}'" for value in values)


LEASE_DIRECTIONS = ("in", "out")  # in: the city is lessee; out: the city is lessor
LEASE_PORTFOLIOS = ("payable", "receivable", "non_profit")
PAYMENT_FREQUENCIES = ("monthly", "quarterly", "annual")
PAYMENT_TIMINGS = ("advance", "arrears")
FUND_TYPES = ("governmental", "business_type")
DISCOUNT_RATE_SOURCES = ("stated", "implicit", "ibr_table")
COST_CATEGORIES = ("operations", "maintenance", "utilities", "security", "janitorial", "capital")
