"""DIG-1..DIG-5: how much of the portfolio is digitized, verified, complete and clean.

One query: a `facts` CTE with a row per parcel, per lease and per open finding, each carrying
its breakdown, aggregated once with GROUPING SETS. Stock KPIs read the records as they stand,
limited to what existed at the as-of date (not retired before it; verified on or before it).
DIG-6 (the milestone forecast) needs the verification history: see `milestone_forecast`.

DIG-5 counts one finding per parcel and problem: a missing field is one finding per field, an
overlap is a finding on each of the two parcels (unless an editor accepted it with a reason).
A lease recorded incomplete counts one missing required field per term it lacks, per value it
took from a source that doubted it (not established until confirmed) and for the parcel its point
lies in none of (not linked), as the work queue (`registry.milestones.findings`) lists them.
Findings people closed with a note (`finding_reviews`) are not open: they are left out.

The overlapping pairs come from the ones the database keeps (`findings_sql.OVERLAP_PAIRS_CTE`,
migration 0027), not from a pair search over every parcel; an invalid shape and a shared parcel
id are not looked for parcel by parcel while the schema rules them out (`findings_sql`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.kpis.common_sql import DIMS
from registry.kpis.common_sql import FILTER_SQL
from registry.kpis.common_sql import LEASE_DIMS_SQL
from registry.kpis.common_sql import LEASE_JOINS_SQL
from registry.kpis.common_sql import PARCEL_DIMS_SQL
from registry.kpis.common_sql import PARCEL_IN_REGISTRY_SQL
from registry.kpis.findings_sql import FINDINGS_CTES
from registry.kpis.findings_sql import OVERLAP_PAIRS_CTE
from registry.kpis.findings_sql import PARCEL_IDS_UNIQUE_SQL
from registry.kpis.findings_sql import STORED_SHAPES_VALID_SQL
from registry.kpis.values import KpiValue
from registry.kpis.values import Period
from registry.kpis.values import grouped_rows
from registry.kpis.values import grouping_select
from registry.kpis.values import make_value
from registry.kpis.values import nothing
from registry.kpis.values import ratio
from registry.parcels.validation import OVERLAP_TOLERANCE_SQ_M
from registry.parcels.verification import MISSING_FIELDS_SQL
from registry.parcels.verification import REQUIRED_FOR_ATTRIBUTED

REQUIRED_FIELD_COUNT = len(REQUIRED_FOR_ATTRIBUTED)

_LEASE_ABSTRACTED = """(
    nullif(btrim(l.counterparty), '') IS NOT NULL AND l.commencement_date IS NOT NULL
    AND l.term_months IS NOT NULL AND jsonb_array_length(l.payments) > 0
    AND l.leased_area_sq_ft IS NOT NULL AND l.parcel_id IS NOT NULL
    AND nullif(btrim(l.source_document), '') IS NOT NULL)"""


def _in_registry(alias: str) -> str:
    """PARCEL_IN_REGISTRY_SQL for a parcels alias other than `p`."""
    return PARCEL_IN_REGISTRY_SQL.replace("p.", f"{alias}.")


def _sql() -> str:
    select, grouping = grouping_select(DIMS)
    return f"""
    WITH parcel AS (
        SELECT p.id, p.parcel_id, p.geom, p.digitization_status, p.verified_at,
               {PARCEL_DIMS_SQL}, cardinality({MISSING_FIELDS_SQL}) AS missing
          FROM parcels p LEFT JOIN departments d ON d.id = p.department_id
         WHERE {PARCEL_IN_REGISTRY_SQL}
    ), {OVERLAP_PAIRS_CTE}, overlap AS (
        SELECT pair.a_id, pair.b_id FROM overlap_pair pair
          JOIN parcels a ON a.id = pair.a_id JOIN parcels b ON b.id = pair.b_id
         WHERE pair.area > {OVERLAP_TOLERANCE_SQ_M}
           AND a.overlap_accepted_reason IS NULL AND b.overlap_accepted_reason IS NULL
           AND {_in_registry("a")} AND {_in_registry("b")}
    ), overlap_count AS (
        SELECT id, count(*) AS n FROM (SELECT a_id AS id FROM overlap
                                       UNION ALL SELECT b_id FROM overlap) AS o GROUP BY id
    ), duplicate AS (  -- narrow rows grouped, not the parcel rows sorted for a window
        SELECT p.parcel_id FROM parcels p
         WHERE NOT {PARCEL_IDS_UNIQUE_SQL} AND {PARCEL_IN_REGISTRY_SQL}
         GROUP BY p.parcel_id HAVING count(*) > 1
    ), facts AS (
        SELECT dim_department, dim_district, dim_asset_type, 1 AS parcels,
               (geom IS NOT NULL)::int AS with_geometry,
               (digitization_status = 'verified' AND verified_at IS NOT NULL
                AND CAST(verified_at AS date) <= :as_of)::int AS verified,
               {REQUIRED_FIELD_COUNT} - missing AS fields_filled,
               0 AS leases, 0 AS abstracted,
               missing
               + (parcel.geom IS NOT NULL AND NOT shapes.valid
                  AND NOT ST_IsValid(parcel.geom))::int
               + (duplicate.parcel_id IS NOT NULL)::int
               + coalesce(overlap_count.n, 0) AS findings
          FROM parcel CROSS JOIN (SELECT {STORED_SHAPES_VALID_SQL} AS valid) AS shapes
          LEFT JOIN overlap_count ON overlap_count.id = parcel.id
          LEFT JOIN duplicate ON duplicate.parcel_id = parcel.parcel_id
        UNION ALL
        SELECT {LEASE_DIMS_SQL}, 0, 0, 0, 0, 1, {_LEASE_ABSTRACTED}::int,
               coalesce((l.end_date < l.commencement_date
                         OR l.terminated_on < l.commencement_date)::int, 0)
               + cardinality(l.missing) + cardinality(l.needs_confirmation)
               + (l.location IS NOT NULL AND l.parcel_id IS NULL)::int
          FROM {LEASE_JOINS_SQL}
    )
    SELECT {select},
           sum(parcels) AS parcels, sum(with_geometry) AS with_geometry,
           sum(verified) AS verified, sum(fields_filled) AS fields_filled,
           sum(leases) AS leases, sum(abstracted) AS abstracted, sum(findings) AS findings
      FROM facts WHERE {FILTER_SQL} GROUP BY {grouping}
    """


def _closed_sql() -> str:
    """Findings closed with a note that still stand, per breakdown (a finding's dimensions
    are its record's, as in `_sql`: a lease's department first, else its parcel's)."""
    select, grouping = grouping_select(DIMS)
    return f"""
    WITH {FINDINGS_CTES}, facts AS (
        SELECT {LEASE_DIMS_SQL}
          FROM finding f
          JOIN finding_reviews r ON r.finding_key = f.finding_key AND r.closed_at IS NOT NULL
          LEFT JOIN leases l ON l.id = f.lease_pk
          LEFT JOIN parcels p ON p.id = f.parcel_pk
          LEFT JOIN departments d ON d.id = p.department_id
          LEFT JOIN departments ld ON ld.id = l.department_id
    )
    SELECT {select}, count(*) AS closed FROM facts WHERE {FILTER_SQL} GROUP BY {grouping}
    """


def _closed_findings(session: Session, period: Period) -> dict[tuple[str, Any], int]:
    """What DIG-5 leaves out, by (breakdown, value): findings people closed with a note. The
    findings are computed only when some were closed (most registries: none, no cost)."""
    if not session.execute(
        text("SELECT EXISTS (SELECT 1 FROM finding_reviews WHERE closed_at IS NOT NULL)")
    ).scalar():
        return {}
    return {
        (row["breakdown"], row["breakdown_value"]): int(row["closed"])
        for row in grouped_rows(session, _closed_sql(), period)
    }


def digitization_kpis(session: Session, period: Period) -> list[KpiValue]:
    """DIG-1..DIG-5 for the city and each breakdown value; DIG-5 counts the open findings,
    leaving out those closed with a note (`registry.milestones.findings`)."""
    rows = grouped_rows(session, _sql(), period)
    if not rows:
        reason = "no parcels or leases in the registry"
        return [
            nothing(kpi, period, reason) for kpi in ("DIG-1", "DIG-2", "DIG-3", "DIG-4", "DIG-5")
        ]
    closed = _closed_findings(session, period)
    if closed:
        rows = [
            {
                **row,
                "findings": row["findings"]
                - closed.get((row["breakdown"], row["breakdown_value"]), 0),
            }
            for row in rows
        ]
    out: list[KpiValue] = []
    for build in _BUILDERS:
        out.extend(value for row in rows if (value := build(period, row)) is not None)
    return out


def _shown(row: Any, denominator: Any) -> bool:
    """A breakdown value appears where it has records; the city row always (empty, with why)."""
    return bool(row["breakdown"] == "city" or denominator)


def _dig1(period: Period, row: Any) -> KpiValue | None:
    if not _shown(row, row["parcels"]):
        return None
    return ratio("DIG-1", period, row, row["with_geometry"], row["parcels"], "no parcels")


def _dig2(period: Period, row: Any) -> KpiValue | None:
    if not _shown(row, row["parcels"]):
        return None
    return ratio("DIG-2", period, row, row["verified"], row["parcels"], "no parcels")


def _dig3(period: Period, row: Any) -> KpiValue | None:
    if not _shown(row, row["parcels"]):
        return None
    return ratio(
        "DIG-3",
        period,
        row,
        row["fields_filled"],
        REQUIRED_FIELD_COUNT * row["parcels"],
        "no parcels",
    )


def _dig4(period: Period, row: Any) -> KpiValue | None:
    if not _shown(row, row["leases"]):
        return None
    return ratio("DIG-4", period, row, row["abstracted"], row["leases"], "no leases recorded")


def _dig5(period: Period, row: Any) -> KpiValue | None:
    if not _shown(row, row["parcels"] + row["leases"]):
        return None
    return make_value("DIG-5", period, row, row["findings"], row["findings"], None)


_BUILDERS = (_dig1, _dig2, _dig3, _dig4, _dig5)
# DIG-1..3 from a row of parcel sums alone (`registry.kpis.snapshots` back-fills them)
PARCEL_BUILDERS = (_dig1, _dig2, _dig3)
