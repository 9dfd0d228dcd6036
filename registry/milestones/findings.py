"""The work queue of open data-quality findings: the records behind KPI DIG-5.

The same rules as DIG-5 (registry/kpis/digitization.py), one row per finding instead of a
count, so the queue's length is the KPI's value: each missing required field, an invalid
shape, an overlap with another parcel over the tolerance (a finding on both parcels, unless
an editor accepted it), a duplicate parcel id, a lease that ends before it starts; and of a
lease recorded incomplete, each term it lacks (with the source's text for it), each value it
took from a source that doubted it (to confirm), and the point that placed it in no parcel.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.parcels.validation import OVERLAP_TOLERANCE_SQ_M
from registry.parcels.verification import MISSING_FIELDS_SQL
from registry.spatial import as_geography

_FINDINGS_SQL = f"""
    WITH parcel AS (
        SELECT p.id, p.parcel_id, p.geom, p.overlap_accepted_reason, d.code AS department,
               p.council_district, {MISSING_FIELDS_SQL} AS missing
          FROM parcels p LEFT JOIN departments d ON d.id = p.department_id
         WHERE p.retired_at IS NULL
    ), overlap AS (
        SELECT a.id AS a_id, b.id AS b_id, a.parcel_id AS a_parcel, b.parcel_id AS b_parcel,
               ST_Area({as_geography("ST_Intersection(a.geom, b.geom)")}) AS area
          FROM parcels a JOIN parcels b  -- the table, with its GiST index (not the CTE)
            ON a.id < b.id AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)
         WHERE a.overlap_accepted_reason IS NULL AND b.overlap_accepted_reason IS NULL
           AND a.retired_at IS NULL AND b.retired_at IS NULL
    ), finding AS (
        SELECT 'missing field' AS kind, parcel_id, NULL AS lease_number,
               field || ' is missing' AS detail, department, council_district
          FROM parcel, unnest(missing) AS field
        UNION ALL
        SELECT 'invalid geometry', parcel_id, NULL, ST_IsValidReason(geom), department,
               council_district
          FROM parcel WHERE geom IS NOT NULL AND NOT ST_IsValid(geom)
        UNION ALL
        SELECT 'overlap', parcel.parcel_id, NULL,
               'overlaps ' || CASE WHEN parcel.id = o.a_id THEN o.b_parcel ELSE o.a_parcel END
               || ' by ' || round(CAST(o.area AS numeric), 1) || ' m²',
               parcel.department, parcel.council_district
          FROM overlap o JOIN parcel ON parcel.id IN (o.a_id, o.b_id)
         WHERE o.area > {OVERLAP_TOLERANCE_SQ_M}
        UNION ALL
        SELECT 'duplicate parcel id', parcel_id, NULL,
               count(*) OVER (PARTITION BY parcel_id) || ' records share this id', department,
               council_district
          FROM parcel
        UNION ALL
        SELECT 'lease ends before it starts', p.parcel_id, l.lease_number,
               'lease ' || l.lease_number || ' starts ' || l.commencement_date || ', ends '
               || least(l.end_date, coalesce(l.terminated_on, l.end_date)),
               coalesce(ld.code, d.code), p.council_district
          FROM leases l LEFT JOIN parcels p ON p.id = l.parcel_id
          LEFT JOIN departments d ON d.id = p.department_id
          LEFT JOIN departments ld ON ld.id = l.department_id
         WHERE l.end_date < l.commencement_date OR l.terminated_on < l.commencement_date
        UNION ALL
        SELECT 'incomplete lease', p.parcel_id, l.lease_number,
               'lease ' || l.lease_number || ': ' || field || ' is missing'
               || coalesce(' (the source says ' || quote_literal(l.source_notes ->> field) || ')',
                           ''),
               coalesce(ld.code, d.code), p.council_district
          FROM leases l CROSS JOIN LATERAL unnest(l.missing) AS field
          LEFT JOIN parcels p ON p.id = l.parcel_id
          LEFT JOIN departments d ON d.id = p.department_id
          LEFT JOIN departments ld ON ld.id = l.department_id
        UNION ALL
        SELECT 'lease value to confirm', p.parcel_id, l.lease_number,
               'lease ' || l.lease_number || ': ' || field
               || ' was doubted in the source; confirm it', coalesce(ld.code, d.code),
               p.council_district
          FROM leases l CROSS JOIN LATERAL unnest(l.needs_confirmation) AS field
          LEFT JOIN parcels p ON p.id = l.parcel_id
          LEFT JOIN departments d ON d.id = p.department_id
          LEFT JOIN departments ld ON ld.id = l.department_id
        UNION ALL
        SELECT 'lease not linked', NULL, l.lease_number,
               'lease ' || l.lease_number || ': its point lies in no parcel of the registry',
               ld.code, NULL
          FROM leases l LEFT JOIN departments ld ON ld.id = l.department_id
         WHERE l.location IS NOT NULL AND l.parcel_id IS NULL
    )
    SELECT kind, parcel_id, lease_number, detail, department, council_district, count(*) OVER ()
      FROM finding
     WHERE (kind <> 'duplicate parcel id' OR detail NOT LIKE '1 %')
       AND (CAST(:department AS text) IS NULL OR department = :department)
       AND (CAST(:district AS integer) IS NULL OR council_district = :district)
     ORDER BY kind, department NULLS LAST, parcel_id NULLS LAST, detail
     LIMIT :limit
"""


@dataclass(frozen=True)
class Finding:
    """One open finding; `parcel_id` is None only for a lease that names no parcel."""

    kind: str
    parcel_id: str | None
    lease_number: str | None
    detail: str
    department: str | None
    council_district: int | None


@dataclass(frozen=True)
class FindingsPage:
    findings: list[Finding]
    total: int  # all matching findings, of which the first `limit` are listed


def open_findings(
    session: Session,
    department: str | None = None,
    district: int | None = None,
    limit: int = 500,
) -> FindingsPage:
    """Open findings of the current registry, optionally of one department (code) or council
    district, grouped by kind; `total` counts them all even where `limit` cuts the list."""
    rows = session.execute(
        text(_FINDINGS_SQL),
        {"department": department, "district": district, "limit": limit},
    ).all()
    findings = [Finding(*row[:6]) for row in rows]
    return FindingsPage(findings, int(rows[0][6]) if rows else 0)
