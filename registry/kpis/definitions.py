# ruff: noqa: E501  (the definitions are the KPI set's table, word for word, one row per line)
"""The reform KPI set, version 1 (../shared/kpi-set.md), as data: the registry of definitions the
engine, the exports' definitions sheet and the dashboard all read, so the wording exists once.

`DEFAULT_TARGETS` holds the targets the KPI set anchors (the 60 % utilization threshold and the
150 usable sq ft per person benchmark of PL 118-272 §2302, full digitization, no open findings);
a KPI without one is reported with an empty target and status.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

KPI_SET_VERSION = 1


@dataclass(frozen=True)
class KpiDefinition:
    id: str
    name: str
    definition: str
    unit: str
    better: str  # "higher", "lower" or "—" (no direction: a balance, a count to watch)


KPI_DEFINITIONS: tuple[KpiDefinition, ...] = (
    KpiDefinition("DIG-1", "Geometry digitized", "parcels whose geometry is captured ÷ all registry parcels", "%", "higher"),
    KpiDefinition("DIG-2", "Records verified", "parcels whose record was verified by a second person ÷ all parcels", "%", "higher"),
    KpiDefinition("DIG-3", "Attribute completeness", "required parcel fields filled ÷ (required fields × parcels). Required: parcel id (APN), address, owning department, use, legal interest, status, geometry", "%", "higher"),
    KpiDefinition("DIG-4", "Leases abstracted", "leases with all key terms (parties, dates, payments, area, parcel) and a source document reference ÷ all leases", "%", "higher"),
    KpiDefinition("DIG-5", "Open data-quality findings", "count of open findings: invalid geometry, overlap with another parcel > 1 m², duplicate parcel id, missing required field, lease ending before it starts", "count", "lower"),
    KpiDefinition("DIG-6", "Milestone forecast", "date at which DIG-2 reaches its target at the pace of the last 8 weeks, and days ahead (+) or behind (−) the milestone's target date", "date, days", "higher"),
    KpiDefinition("UTL-1", "No current use", "parcels with status vacant / no current use: count, and their land area ÷ all owned land area", "count, %", "lower"),
    KpiDefinition("UTL-2", "Office building utilization", "150 × occupancy ÷ USF, per office building and for the portfolio (150 × Σ occupancy ÷ Σ USF); buildings under 60 % are flagged", "%", "higher"),
    KpiDefinition("UTL-3", "USF per person", "Σ USF ÷ Σ headcount over occupied buildings", "sq ft/person", "lower"),
    KpiDefinition("UTL-4", "Underutilized assets", "office buildings under 60 % utilization + parcels with no current use", "count", "lower"),
    KpiDefinition("UTL-5", "Leased-in share", "sq ft leased in ÷ (sq ft leased in + owned GSF in use)", "%", "lower"),
    KpiDefinition("CST-1", "O&M cost per sq ft", "(annual operations + annual maintenance cost) ÷ GSF, owned buildings, per asset type", "$/sq ft", "lower"),
    KpiDefinition("CST-2", "Rent per sq ft", "annual rent paid on leases in ÷ sq ft leased in", "$/sq ft", "lower"),
    KpiDefinition("CST-3", "Total occupancy cost", "operations + maintenance + rent paid, in the period", "$", "lower"),
    KpiDefinition("CST-4", "Cost change vs baseline", "(CST-3 of the period − CST-3 of the baseline fiscal year) ÷ baseline", "%", "lower"),
    KpiDefinition("CST-5", "Condition index", "(1 − Σ repair needs ÷ Σ replacement value) × 100 over owned buildings", "0–100", "higher"),
    KpiDefinition("REV-1", "Lease-out revenue", "rent receivable on leases out in the period", "$", "higher"),
    KpiDefinition("REV-2", "Nominal-rent leases", "leases out at or below a nominal rent ($1/year by default, configurable) or below a set share of market rent where market rent is known", "count", "—"),
    KpiDefinition("REV-3", "Disposal proceeds", "sale proceeds of parcels disposed in the period", "$", "higher"),
    KpiDefinition("LSE-1", "Leases expiring soon", "leases whose term ends within 12 months of the as-of date, and holdovers (end date passed, still occupied): count and annual rent", "count, $", "lower"),
    KpiDefinition("LSE-2", "GASB 87 balances", "at the period end: lessee lease liability and right-to-use asset (net); lessor lease receivable and deferred inflow of resources", "$", "—"),
)  # fmt: skip

DEFINITIONS_BY_ID = {definition.id: definition for definition in KPI_DEFINITIONS}

DEFAULT_TARGETS: dict[str, Decimal] = {
    "DIG-1": Decimal(100),
    "DIG-2": Decimal(100),
    "DIG-3": Decimal(100),
    "DIG-4": Decimal(100),
    "DIG-5": Decimal(0),
    "UTL-2": Decimal(60),
    "UTL-3": Decimal(150),
}
