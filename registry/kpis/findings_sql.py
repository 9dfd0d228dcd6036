"""The data-quality findings behind DIG-5, one row each, in SQL: the work queue of the milestone
page (`registry.milestones.findings`) lists them, and DIG-5 leaves out the ones people closed.

`FINDINGS_CTES` (for a WITH clause) ends in `finding`: kind, parcel (`parcel_pk`, `parcel_id`),
lease (`lease_pk`, `lease_number`), detail, department code, council district and `finding_key`,
the MD5 of kind, parcel id, lease number and detail that names a finding in `finding_reviews`:
when the records change so that a finding reads differently (an overlap grows, another field
goes missing), it is another finding, open again.

The rules are DIG-5's (registry/kpis/digitization.py counts them per record in the same way):
each missing required field, an invalid shape, an overlap with another parcel over the
tolerance (a finding on both parcels, unless an editor accepted it), a duplicate parcel id, a
lease that ends before it starts; and of a lease recorded incomplete, each term it lacks (with
the source's text for it), each value it took from a source that doubted it (to confirm), and
the point that placed it in no parcel.

Overlaps are read from `parcel_overlaps`, the pairs kept by the database as shapes change
(migration 0027), through `OVERLAP_PAIRS_CTE`: the pair search over every parcel was most of
DIG-5's time.
"""

from __future__ import annotations

from registry.parcels.validation import OVERLAP_TOLERANCE_SQ_M
from registry.parcels.verification import MISSING_FIELDS_SQL
from registry.spatial import as_geography

# True while the database refuses a parcel shape that is not valid (the CHECK of migration 0001,
# validated): every stored shape passed ST_IsValid when written, so the rule "invalid shape" need
# not ask GEOS again for each parcel (~40 % of DIG-5's time at 100,000). Any other definition, or
# none, and the rule asks as before. (A GEOS upgrade that judged an old shape differently would
# also make its row unwritable until corrected.)
STORED_SHAPES_VALID_SQL = """EXISTS (
    SELECT 1 FROM pg_constraint c
     WHERE c.conrelid = CAST('parcels' AS regclass) AND c.contype = 'c' AND c.convalidated
       AND pg_get_constraintdef(c.oid) = 'CHECK (((geom IS NULL) OR st_isvalid(geom)))')"""
# True while a unique index, checked at once, holds parcel ids (uq_parcels_parcel_id): no two
# parcels share one, so the rule "duplicate parcel id" need not count each id's records.
PARCEL_IDS_UNIQUE_SQL = """EXISTS (
    SELECT 1 FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
     WHERE i.indrelid = CAST('parcels' AS regclass) AND i.indisunique AND i.indisvalid
       AND i.indimmediate AND i.indnkeyatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL
       AND a.attname = 'parcel_id')"""

# `overlap_pair` (for a WITH clause): every pair of parcels (`a_id` < `b_id`, internal ids) whose
# shapes intersect with an area, with that `area` in m², whatever else the parcels record
# (retired, overlap accepted: the reader filters). The pairs kept in `parcel_overlaps` of parcels
# not listed as changed since (`parcel_overlaps_stale`), and the pairs of the listed parcels
# computed here from their shapes as they stand: exact in any snapshot, on a replica too, even
# before a writer folds the list in. The area is the one expression the table is filled with.
OVERLAP_PAIRS_CTE = f"""
    overlap_pair AS (
        SELECT o.low_id AS a_id, o.high_id AS b_id, o.area FROM parcel_overlaps o
         WHERE NOT EXISTS (SELECT 1 FROM parcel_overlaps_stale s WHERE s.parcel_id = o.low_id)
           AND NOT EXISTS (SELECT 1 FROM parcel_overlaps_stale s WHERE s.parcel_id = o.high_id)
        UNION ALL
        SELECT low_id, high_id, area FROM (
            SELECT low_id, high_id, (  -- by id, however many parcels the planner guesses listed
                SELECT ST_Area({as_geography("ST_Intersection(a.geom, b.geom)")})
                  FROM parcels a, parcels b WHERE a.id = low_id AND b.id = high_id
                   AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)) AS area
              FROM (SELECT DISTINCT least(c.id, n.id) AS low_id, greatest(c.id, n.id) AS high_id
                      FROM parcel_overlaps_stale s JOIN parcels c ON c.id = s.parcel_id
                      JOIN parcels n ON n.geom && c.geom AND n.id <> c.id) AS candidate
             OFFSET 0  -- each pair measured once, not again for every test of its area
            ) AS fresh
         WHERE area > 0
    )"""

FINDINGS_CTES = f"""
    {OVERLAP_PAIRS_CTE}, parcel AS (
        SELECT p.id, p.parcel_id, p.geom, p.overlap_accepted_reason, d.code AS department,
               p.council_district, {MISSING_FIELDS_SQL} AS missing
          FROM parcels p LEFT JOIN departments d ON d.id = p.department_id
         WHERE p.retired_at IS NULL
    ), overlap AS (
        SELECT a.id AS a_id, b.id AS b_id, a.parcel_id AS a_parcel, b.parcel_id AS b_parcel,
               pair.area
          FROM overlap_pair pair JOIN parcels a ON a.id = pair.a_id
          JOIN parcels b ON b.id = pair.b_id
         WHERE a.overlap_accepted_reason IS NULL AND b.overlap_accepted_reason IS NULL
           AND a.retired_at IS NULL AND b.retired_at IS NULL
    ), raw_finding AS (
        SELECT 'missing field' AS kind, id AS parcel_pk, parcel_id,
               CAST(NULL AS bigint) AS lease_pk, CAST(NULL AS text) AS lease_number,
               field || ' is missing' AS detail, department, council_district
          FROM parcel, unnest(missing) AS field
        UNION ALL
        SELECT 'invalid geometry', id, parcel_id, NULL, NULL, ST_IsValidReason(geom),
               department, council_district
          FROM parcel
         WHERE NOT {STORED_SHAPES_VALID_SQL} AND geom IS NOT NULL AND NOT ST_IsValid(geom)
        UNION ALL
        SELECT 'overlap', parcel.id, parcel.parcel_id, NULL, NULL,
               'overlaps ' || CASE WHEN parcel.id = o.a_id THEN o.b_parcel ELSE o.a_parcel END
               || ' by ' || round(CAST(o.area AS numeric), 1) || ' m²',
               parcel.department, parcel.council_district
          FROM overlap o JOIN parcel ON parcel.id IN (o.a_id, o.b_id)
         WHERE o.area > {OVERLAP_TOLERANCE_SQ_M}
        UNION ALL
        SELECT 'duplicate parcel id', id, parcel_id, NULL, NULL,
               count(*) OVER (PARTITION BY parcel_id) || ' records share this id', department,
               council_district
          FROM parcel WHERE NOT {PARCEL_IDS_UNIQUE_SQL}
        UNION ALL
        SELECT 'lease ends before it starts', p.id, p.parcel_id, l.id, l.lease_number,
               'lease ' || l.lease_number || ' starts ' || l.commencement_date || ', ends '
               || least(l.end_date, coalesce(l.terminated_on, l.end_date)),
               coalesce(ld.code, d.code), p.council_district
          FROM leases l LEFT JOIN parcels p ON p.id = l.parcel_id
          LEFT JOIN departments d ON d.id = p.department_id
          LEFT JOIN departments ld ON ld.id = l.department_id
         WHERE l.end_date < l.commencement_date OR l.terminated_on < l.commencement_date
        UNION ALL
        SELECT 'incomplete lease', p.id, p.parcel_id, l.id, l.lease_number,
               'lease ' || l.lease_number || ': ' || field || ' is missing'
               || coalesce(' (the source says ' || quote_literal(l.source_notes ->> field) || ')',
                           ''),
               coalesce(ld.code, d.code), p.council_district
          FROM leases l CROSS JOIN LATERAL unnest(l.missing) AS field
          LEFT JOIN parcels p ON p.id = l.parcel_id
          LEFT JOIN departments d ON d.id = p.department_id
          LEFT JOIN departments ld ON ld.id = l.department_id
        UNION ALL
        SELECT 'lease value to confirm', p.id, p.parcel_id, l.id, l.lease_number,
               'lease ' || l.lease_number || ': ' || field
               || ' was doubted in the source; confirm it', coalesce(ld.code, d.code),
               p.council_district
          FROM leases l CROSS JOIN LATERAL unnest(l.needs_confirmation) AS field
          LEFT JOIN parcels p ON p.id = l.parcel_id
          LEFT JOIN departments d ON d.id = p.department_id
          LEFT JOIN departments ld ON ld.id = l.department_id
        UNION ALL
        SELECT 'lease not linked', NULL, NULL, l.id, l.lease_number,
               'lease ' || l.lease_number || ': its point lies in no parcel of the registry',
               ld.code, NULL
          FROM leases l LEFT JOIN departments ld ON ld.id = l.department_id
         WHERE l.location IS NOT NULL AND l.parcel_id IS NULL
    ), finding AS (
        SELECT raw_finding.*,
               md5(concat_ws('|', kind, coalesce(parcel_id, ''), coalesce(lease_number, ''),
                             detail)) AS finding_key
          FROM raw_finding
         WHERE kind <> 'duplicate parcel id' OR detail NOT LIKE '1 %'
    )"""
