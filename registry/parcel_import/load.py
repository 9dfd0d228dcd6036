"""One set-based upsert of the accepted rows. Unchanged parcels are not touched (no new version,
no history); changed ones are updated and audited by the database's triggers."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.bulk_load import UpsertCounts

_COPIED = ("address", "council_district", "use", "asset_type", "legal_interest", "status",
           "acquisition_date", "acquisition_cost", "disposition_date", "disposition_proceeds")


def upsert_rows(session: Session, mapped: set[str], with_geometry: bool) -> UpsertCounts:
    """Write the `ok` rows; only the fields the file maps are written, so a file that lacks a
    column never blanks out what the registry knows."""
    columns = [name for name in _COPIED if name in mapped]
    values = [f"r.{name}" for name in columns]
    if "department_code" in mapped:
        columns.append("department_id")
        values.append("r.department_id")
    if with_geometry:
        columns.append("geom")
        values.append("ST_Multi(r.geom)")
    if "digitization_status" in mapped:
        columns.append("digitization_status")
        values.append("r.digitization_status")
        digitization_update = "digitization_status = EXCLUDED.digitization_status"
    else:
        # a paper record whose shape arrives becomes digitized; nothing else is assumed
        columns.append("digitization_status")
        values.append("CASE WHEN r.geom IS NULL THEN 'paper' ELSE 'digitized' END")
        digitization_update = (
            "digitization_status = CASE WHEN p.digitization_status = 'paper' "
            "AND EXCLUDED.geom IS NOT NULL THEN 'digitized' ELSE p.digitization_status END"
        )
    updated = [name for name in columns if name != "digitization_status"]
    assignments = [f"{name} = EXCLUDED.{name}" for name in updated] + [digitization_update]
    compared = ", ".join(f"p.{name}" for name in updated) or "NULL"
    incoming = ", ".join(f"EXCLUDED.{name}" for name in updated) or "NULL"
    rows = session.execute(text(f"""
        INSERT INTO parcels AS p (parcel_id, {", ".join(columns)})
        SELECT r.parcel_id, {", ".join(values)} FROM import_rows r WHERE r.ok
        ON CONFLICT (parcel_id) DO UPDATE SET {", ".join(assignments)}
        WHERE ROW({compared}) IS DISTINCT FROM ROW({incoming})
           OR (p.digitization_status = 'paper' AND EXCLUDED.geom IS NOT NULL)
        RETURNING (xmax = 0)
    """)).all()
    accepted = session.execute(text("SELECT count(*) FROM import_rows WHERE ok")).scalar_one()
    inserted = sum(1 for (was_inserted,) in rows if was_inserted)
    return UpsertCounts(inserted, len(rows) - inserted, int(accepted) - len(rows))
