"""SQL fragments the KPI families share: each record's breakdown dimensions and "at the as-of
date" filters, so every family groups and dates its records the same way. A lease's rent, end
and whether it is in force come from `registry.leases.rent_sql`, shared with the other readers."""

from __future__ import annotations

from registry.kpis.values import NONE_LABEL

DIMS = {
    "department": "dim_department",
    "council_district": "dim_district",
    "asset_type": "dim_asset_type",
}

# The subset a caller asked for (`KpiFilters`: `:f_department`, `:f_district`, `:f_asset_type`,
# NULL = all), applied to a family's facts before they are grouped: a WHERE condition on the
# dimension columns, so one query serves the whole city and any combination of dimensions.
FILTER_SQL = """(
    (CAST(:f_department AS text) IS NULL OR dim_department = CAST(:f_department AS text))
    AND (CAST(:f_district AS text) IS NULL OR dim_district = CAST(:f_district AS text))
    AND (CAST(:f_asset_type AS text) IS NULL OR dim_asset_type = CAST(:f_asset_type AS text)))"""

# A parcel's breakdown: its owning department's code, its council district, its asset type.
PARCEL_DIMS_SQL = f"""
    coalesce(d.code, '{NONE_LABEL}') AS dim_department,
    coalesce(CAST(p.council_district AS text), '{NONE_LABEL}') AS dim_district,
    coalesce(p.asset_type, '{NONE_LABEL}') AS dim_asset_type
"""
# A building's: its parcel's department and district, its own asset type (else the parcel's).
BUILDING_DIMS_SQL = f"""
    coalesce(d.code, '{NONE_LABEL}') AS dim_department,
    coalesce(CAST(p.council_district AS text), '{NONE_LABEL}') AS dim_district,
    coalesce(b.asset_type, p.asset_type, '{NONE_LABEL}') AS dim_asset_type
"""
# A lease's: its own department (else its parcel's), its parcel's district and asset type.
LEASE_DIMS_SQL = f"""
    coalesce(ld.code, d.code, '{NONE_LABEL}') AS dim_department,
    coalesce(CAST(p.council_district AS text), '{NONE_LABEL}') AS dim_district,
    coalesce(p.asset_type, '{NONE_LABEL}') AS dim_asset_type
"""
LEASE_JOINS_SQL = """
    leases l LEFT JOIN parcels p ON p.id = l.parcel_id
    LEFT JOIN departments d ON d.id = p.department_id
    LEFT JOIN departments ld ON ld.id = l.department_id
"""
# In the registry at the as-of date: not retired by then (the current record is what is read).
PARCEL_IN_REGISTRY_SQL = "(p.retired_at IS NULL OR CAST(p.retired_at AS date) > :as_of)"
# Owned at the as-of date: legal interest owned and not disposed of by then.
PARCEL_OWNED_SQL = (
    "(p.legal_interest = 'owned' AND p.status <> 'disposed' "
    "AND (p.disposition_date IS NULL OR p.disposition_date > :as_of))"
)
# An occupancy record current at the as-of date.
OCCUPANCY_CURRENT_SQL = (
    "(o.period_start <= :as_of AND (o.period_end IS NULL OR o.period_end >= :as_of))"
)
