"""When each parcel reached digitized and when it reached verified: the dated history both the
milestone's burn-up (`registry.milestones.progress`) and the KPI back-fill
(`registry.kpis.snapshots`) read, so the two never tell different pasts.

A parcel's dates are the earliest of its audited versions in those states, each dated by the
`digitized_at` / `verified_at` the version carries when it does (work keyed in later counts from
when it was done, and a city loaded in one day keeps the years its records say), else by when
the version was written. "Reaching" counts once even if a later edit revoked it.
"""

from __future__ import annotations

DIGITIZED_OR_BEYOND = ("digitized", "attributed", "verified")

#: `reached (parcel_id, digitized_at, verified_at)`: one row per parcel of the registry not
#: retired by `:as_of` (the caller binds it), either date NULL when never reached.
REACHED_CTE = f"""
    reached AS (
        SELECT a.row_key AS parcel_id,
               min(coalesce(CAST(a.after->>'digitized_at' AS timestamptz), a.occurred_at))
                   FILTER (WHERE a.after->>'digitization_status'
                   IN ({", ".join(f"'{status}'" for status in DIGITIZED_OR_BEYOND)}))
                   AS digitized_at,
               min(coalesce(CAST(a.after->>'verified_at' AS timestamptz), a.occurred_at))
                   FILTER (WHERE a.after->>'digitization_status' = 'verified') AS verified_at
          FROM audit_events a JOIN parcels p ON p.parcel_id = a.row_key
         WHERE a.table_name = 'parcels' AND a.action IN ('INSERT', 'UPDATE')
           AND (p.retired_at IS NULL OR CAST(p.retired_at AS date) > :as_of)
         GROUP BY a.row_key
    )"""
