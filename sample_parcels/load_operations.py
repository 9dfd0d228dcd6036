"""Load the sample occupancy and O&M costs (after parcels, buildings and leases).

Set-based: each file is one statement. Loading twice changes nothing and audits nothing: an
occupancy record is keyed by its unique (building, department, period start); an O&M cost has
no unique key in the schema (two costs of one category and year may be separate invoices), so
the sample's own key (parcel, building, fiscal year, category) is matched by hand: insert the
missing, update the different, leave the identical untouched.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.parcels.bulk_load import UpsertCounts
from sample_parcels.operations import COSTS_CSV
from sample_parcels.operations import OCCUPANCY_CSV


def _rows(path: Path) -> str:
    with path.open(newline="") as handle:
        return json.dumps(
            [{k: (v or None) for k, v in row.items()} for row in csv.DictReader(handle)]
        )


def _counts(changed: list[bool], total: int) -> UpsertCounts:
    inserted = sum(1 for was_inserted in changed if was_inserted)
    return UpsertCounts(inserted, len(changed) - inserted, total - len(changed))


_OCCUPANCY_SQL = """
    INSERT INTO occupancy AS o (building_id, department_id, period_start, period_end,
                                headcount, usable_sq_ft_occupied)
    SELECT b.id, d.id, CAST(x.period_start AS date), CAST(x.period_end AS date),
           CAST(x.headcount AS integer), CAST(x.usable_sq_ft_occupied AS integer)
      FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
               building_id text, department_code text, period_start text, period_end text,
               headcount text, usable_sq_ft_occupied text)
      JOIN buildings b ON b.building_id = x.building_id
      JOIN departments d ON d.code = x.department_code
    ON CONFLICT (building_id, department_id, period_start) DO UPDATE
       SET period_end = EXCLUDED.period_end, headcount = EXCLUDED.headcount,
           usable_sq_ft_occupied = EXCLUDED.usable_sq_ft_occupied
     WHERE (o.period_end, o.headcount, o.usable_sq_ft_occupied) IS DISTINCT FROM
           (EXCLUDED.period_end, EXCLUDED.headcount, EXCLUDED.usable_sq_ft_occupied)
    RETURNING (xmax = 0)
"""

_COSTS_SQL = """
    WITH incoming AS (
        SELECT p.id AS parcel_id, b.id AS building_id, CAST(x.fiscal_year AS integer) AS fy,
               x.category, CAST(x.amount AS numeric) AS amount, x.note
          FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
                   parcel_id text, building_id text, fiscal_year text, category text,
                   amount text, note text)
          JOIN parcels p ON p.parcel_id = x.parcel_id
          LEFT JOIN buildings b ON b.building_id = x.building_id
    ), updated AS (
        UPDATE om_costs c SET amount = i.amount, note = i.note FROM incoming i
         WHERE c.parcel_id = i.parcel_id AND c.building_id IS NOT DISTINCT FROM i.building_id
           AND c.fiscal_year = i.fy AND c.category = i.category
           AND (c.amount, c.note) IS DISTINCT FROM (i.amount, i.note)
        RETURNING false AS inserted
    ), inserted AS (
        INSERT INTO om_costs (parcel_id, building_id, fiscal_year, category, amount, note)
        SELECT i.parcel_id, i.building_id, i.fy, i.category, i.amount, i.note FROM incoming i
         WHERE NOT EXISTS (
               SELECT 1 FROM om_costs c
                WHERE c.parcel_id = i.parcel_id
                  AND c.building_id IS NOT DISTINCT FROM i.building_id
                  AND c.fiscal_year = i.fy AND c.category = i.category)
        RETURNING true AS inserted
    )
    SELECT inserted FROM updated UNION ALL SELECT inserted FROM inserted
"""


def _as_json(rows: list[dict[str, Any]]) -> str:
    """Generated rows as the CSV files hold them: every value a string, None for empty."""
    return json.dumps([{k: None if v is None else str(v) for k, v in row.items()} for row in rows])


def _upsert(session: Session, sql: str, rows: str) -> UpsertCounts:
    changed = [bool(r[0]) for r in session.execute(text(sql), {"rows": rows})]
    return _counts(changed, len(json.loads(rows)))


def upsert_sample_occupancy(session: Session, path: Path = OCCUPANCY_CSV) -> UpsertCounts:
    """The sample's occupancy records; identical ones untouched."""
    return _upsert(session, _OCCUPANCY_SQL, _rows(path))


def upsert_sample_costs(session: Session, path: Path = COSTS_CSV) -> UpsertCounts:
    """The sample's O&M costs by (parcel, building, fiscal year, category); identical ones
    untouched. A cost recorded twice under one key (by an import, say) is updated as one."""
    return _upsert(session, _COSTS_SQL, _rows(path))


def upsert_occupancy_rows(session: Session, rows: list[dict[str, Any]]) -> UpsertCounts:
    """Generated occupancy rows (a generated city's), through the same statement as the file."""
    return _upsert(session, _OCCUPANCY_SQL, _as_json(rows))


def upsert_cost_rows(session: Session, rows: list[dict[str, Any]]) -> UpsertCounts:
    """Generated cost rows (a generated city's), through the same statement as the file."""
    return _upsert(session, _COSTS_SQL, _as_json(rows))
