"""Bulk edit: the same change of a few attributes for a selection of parcels.

Each parcel goes through `records.update_parcel`, the path of a single edit: the same validation,
its own versioned UPDATE and so its own audit event and version. All of them run in the caller's
one transaction (`unit_of_work`): one invalid parcel or one stale version and nothing is written.
Every parcel is tried (each in a savepoint) so the refusal lists every parcel at fault at once.

The preview is the same run, rolled back: what each parcel's fields are now and would become,
and whatever would refuse the change, from the very code that applies it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.errors import NotFound
from registry.errors import VersionConflict
from registry.parcels.records import ParcelChange
from registry.parcels.records import update_parcel
from registry.parcels.validation import ParcelInvalid
from registry.settings import Settings

MAX_BULK = 500
# the attributes a selection may be given together, with their names on the form
BULK_FIELDS = {
    "department_code": "Department",
    "council_district": "Council district",
    "use": "Use",
    "asset_type": "Asset type",
    "status": "Status",
    "legal_interest": "Legal interest",
}
_CURRENT_SQL = """
SELECT p.parcel_id, p.version, d.code AS department_code, p.council_district, p.use,
       p.asset_type, p.status, p.legal_interest
  FROM parcels p LEFT JOIN departments d ON d.id = p.department_id
 WHERE p.parcel_id = ANY(:ids)
"""


@dataclass(frozen=True)
class ParcelOutcome:
    parcel_id: str
    version: int  # before the change (preview) or after it (applied)
    before: dict[str, Any]
    after: dict[str, Any]

    @property
    def changes(self) -> bool:
        return self.before != self.after


class BulkEditRefused(Exception):
    """Nothing was written; `problems` says, per parcel, why (in the form's words)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def check_request(ids: list[str], values: Mapping[str, Any]) -> list[str]:
    """What is wrong with the request itself (before any parcel is read)."""
    problems = []
    if not ids:
        problems.append("Select at least one parcel.")
    if len(ids) > MAX_BULK:
        problems.append(f"A bulk edit changes at most {MAX_BULK} parcels; {len(ids)} are selected.")
    if not values:
        problems.append("Choose at least one attribute to change.")
    unknown = set(values) - set(BULK_FIELDS)
    if unknown:
        problems.append(
            "Only department, district, use, asset type, status and legal interest "
            "can be changed together."
        )
    return problems


def _current(session: Session, ids: list[str]) -> dict[str, dict[str, Any]]:
    rows = session.execute(text(_CURRENT_SQL), {"ids": ids}).mappings()
    return {row["parcel_id"]: dict(row) for row in rows}


def _run(
    session: Session,
    versions: Mapping[str, int],
    values: Mapping[str, Any],
    settings: Settings,
) -> list[ParcelOutcome]:
    problems = check_request(list(versions), values)
    if problems:
        raise BulkEditRefused(problems)
    ids = list(versions)
    before = _current(session, ids)
    new_versions: dict[str, int] = {}
    for parcel_id, version in versions.items():
        savepoint = session.begin_nested()
        try:
            new_versions[parcel_id] = update_parcel(
                session, parcel_id, version, ParcelChange(dict(values)), settings
            )
            savepoint.commit()
        except ParcelInvalid as invalid:
            savepoint.rollback()
            problems.extend(
                f"{parcel_id}: {BULK_FIELDS.get(p.field, p.field.replace('_', ' '))} {p.message}"
                for p in invalid.problems
            )
        except VersionConflict as conflict:
            savepoint.rollback()
            problems.append(
                f"{parcel_id}: changed by {conflict.changed_by or 'someone'} since you chose it "
                f"(now version {conflict.current_version}); preview again."
            )
        except NotFound:
            savepoint.rollback()
            problems.append(f"{parcel_id}: there is no such parcel in the registry.")
    if problems:
        raise BulkEditRefused(problems)
    after = _current(session, ids)
    return [
        ParcelOutcome(
            parcel_id,
            new_versions[parcel_id],
            {name: before[parcel_id][name] for name in values},
            {name: after[parcel_id][name] for name in values},
        )
        for parcel_id in ids
    ]


def current_versions(session: Session, ids: list[str]) -> dict[str, int]:
    """Each selected parcel's version now (the preview is made against these)."""
    rows = session.execute(
        text("SELECT parcel_id, version FROM parcels WHERE parcel_id = ANY(:ids)"), {"ids": ids}
    ).all()
    found = {row.parcel_id: int(row.version) for row in rows}
    return {parcel_id: found.get(parcel_id, 0) for parcel_id in ids}


def preview_bulk_edit(
    session: Session,
    versions: Mapping[str, int],
    values: Mapping[str, Any],
    settings: Settings,
) -> list[ParcelOutcome]:
    """What applying would do to each parcel (`version`: the one the apply must still find);
    raises BulkEditRefused as applying would. Nothing is kept: run in a savepoint rolled back."""
    savepoint = session.begin_nested()
    try:
        outcomes = _run(session, versions, values, settings)
    finally:
        savepoint.rollback()
    return [ParcelOutcome(o.parcel_id, versions[o.parcel_id], o.before, o.after) for o in outcomes]


def apply_bulk_edit(
    session: Session,
    versions: Mapping[str, int],
    values: Mapping[str, Any],
    settings: Settings,
) -> list[ParcelOutcome]:
    """Change every parcel at the version given, in the caller's transaction; on
    BulkEditRefused the caller's transaction must be rolled back (unit_of_work does)."""
    return _run(session, versions, values, settings)
