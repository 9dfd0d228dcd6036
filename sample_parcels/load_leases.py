"""Load the sample leases and incremental-borrowing-rate table (after parcels and buildings).

Through `lease_records`, the same validation as the API, so a shipped lease that the rules
refuse fails the load loudly. Loading twice changes nothing: an unchanged lease is not
rewritten (no new version, no history), a recorded modification is not recorded again.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.fields import FieldProblem
from registry.fields import RecordInvalid
from registry.leases.records import add_modification
from registry.leases.records import clean_lease
from registry.leases.records import create_lease
from registry.leases.records import lease_as_dict
from registry.leases.records import update_lease
from registry.parcels.bulk_load import UpsertCounts
from sample_parcels.leases import LEASES_CSV
from sample_parcels.leases import RATES_CSV

_JSON_COLUMNS = ("payments", "options", "modifications")


def _rows(path: Path) -> list[dict[str, Any]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def upsert_borrowing_rates(session: Session, path: Path = RATES_CSV) -> UpsertCounts:
    """The rate table, keyed by effective date and term bucket; identical rows untouched."""
    rows = _rows(path)
    changed = session.execute(
        text(
            "INSERT INTO incremental_borrowing_rates AS r (effective_date, max_term_months, rate, "
            "source) SELECT CAST(d AS date), CAST(m AS integer), CAST(v AS numeric), s "
            "FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(d text, m text, v text, s text) "
            "ON CONFLICT (effective_date, max_term_months) DO UPDATE SET rate = EXCLUDED.rate, "
            "source = EXCLUDED.source WHERE (r.rate, r.source) IS DISTINCT FROM "
            "(EXCLUDED.rate, EXCLUDED.source) RETURNING (xmax = 0)"
        ),
        {
            "rows": json.dumps(
                [
                    {
                        "d": r["effective_date"],
                        "m": r["max_term_months"],
                        "v": r["rate"],
                        "s": r["source"],
                    }
                    for r in rows
                ]
            )
        },
    ).all()
    inserted = sum(1 for (was_inserted,) in changed if was_inserted)
    return UpsertCounts(inserted, len(changed) - inserted, len(rows) - len(changed))


def _lease_data(row: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {key: (value if value != "" else None) for key, value in row.items()}
    for key in _JSON_COLUMNS:
        data[key] = json.loads(data[key]) if data.get(key) else None
    return data


def _load_one(session: Session, data: dict[str, Any], counts: UpsertCounts) -> None:
    number = str(data["lease_number"])
    modifications = data.pop("modifications") or []
    exists = session.execute(
        text("SELECT 1 FROM leases WHERE lease_number = :n"), {"n": number}
    ).first()
    if exists is None:
        create_lease(session, data)
        counts.inserted += 1
    else:
        current = lease_as_dict(session, number)
        stored = clean_lease(session, {}, current)
        if clean_lease(session, data, current) == stored:
            counts.unchanged += 1
        else:
            update_lease(session, number, current["version"], data)
            counts.updated += 1
    recorded = {m["effective_date"] for m in lease_as_dict(session, number)["modifications"]}
    for modification in modifications:
        if modification["effective_date"] not in recorded:
            add_modification(
                session,
                number,
                modification["effective_date"],
                modification["terms"],
                modification.get("reason"),
            )


def load_sample_leases(session: Session, path: Path = LEASES_CSV) -> UpsertCounts:
    """Every lease of the sample file, inside the caller's transaction."""
    counts = UpsertCounts()
    for line, row in enumerate(_rows(path), start=2):
        data = _lease_data(row)
        try:
            _load_one(session, data, counts)
        except RecordInvalid as invalid:
            raise RecordInvalid(
                [
                    FieldProblem(
                        p.field,
                        f"{path.name} line {line}, lease {data['lease_number']}: {p.message}",
                    )
                    for p in invalid.problems
                ]
            ) from invalid
    return counts
