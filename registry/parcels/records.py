"""Parcel edits: validate → write → (the database audits). One transaction each, no partial write.

Optimistic locking: every edit names the version it was made against; the UPDATE only matches
that version, so of concurrent editors exactly one wins and the others get `VersionConflict`
(with who changed the parcel and when), however their requests interleave.

A field an import flagged as uncertain (`needs_confirmation`, e.g. `department_code` from
`GSD?`) is confirmed by an edit that sends it (the same value or a corrected one), or that names
it in `confirm` (`{"confirm": ["department_code"]}`) to keep the value as it stands.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.errors import NotFound
from registry.errors import version_conflict
from registry.parcels.shape_locks import lock_shape_write
from registry.parcels.validation import EDITABLE_PROPERTIES
from registry.parcels.validation import READ_ONLY_PROPERTIES
from registry.parcels.validation import FieldProblem
from registry.parcels.validation import ParcelInvalid
from registry.parcels.validation import check_geometry
from registry.parcels.validation import clean_properties
from registry.parcels.validation import overlap_problem
from registry.parcels.validation import overlapped_by_stored_shape
from registry.parcels.validation import shape_form_problem
from registry.parcels.verification import workflow_problems
from registry.record_rows import update_at_version
from registry.record_rows import write_unique
from registry.settings import STORAGE_SRID
from registry.settings import Settings

_UNSET: Any = object()
CONFIRM = "confirm"  # the edit's list of flagged fields confirmed as they stand


@dataclass(frozen=True)
class ParcelChange:
    """What a create or an edit asks for; `geometry` is _UNSET when the shape is not touched."""

    properties: dict[str, Any]
    geometry: Any = _UNSET

    @classmethod
    def from_feature(cls, feature: Any) -> ParcelChange:
        if not isinstance(feature, dict):
            raise ParcelInvalid([FieldProblem("body", "must be a GeoJSON Feature object")])
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            raise ParcelInvalid([FieldProblem("properties", "must be an object")])
        geometry = feature.get("geometry", _UNSET)
        if isinstance(geometry, dict) and "crs" in feature and "crs" not in geometry:
            geometry = {**geometry, "crs": feature["crs"]}  # checked with the shape
        return cls(dict(properties), geometry)


def _validated(
    session: Session,
    change: ParcelChange,
    settings: Settings,
    current_id: str | None,
    current_overlap_reason: str | None = None,
    problems: list[FieldProblem] | None = None,
) -> dict[str, Any]:
    values, found = clean_properties(session, change.properties, settings, current_id)
    problems = [*(problems or []), *found]
    if change.geometry is None:  # `"geometry": null`: the parcel has no shape (any more)
        values["geom"] = None
        values.setdefault("overlap_accepted_reason", None)
    elif change.geometry is not _UNSET:
        # Geometry checks read other parcels: two editors must not both pass the overlap check
        # and then overlap each other. Only writes whose shapes could overlap wait (shape_locks);
        # a shape refused without reading it (too large, not a polygon) takes no lock.
        if shape_form_problem(change.geometry, settings) is None:
            lock_shape_write(session, change.geometry, current_id)
        check = check_geometry(session, change.geometry, settings, current_id)
        problems.extend(check.problems)
        if "overlap_accepted_reason" in values:  # accepted (or not) with this very change
            accepted = bool(values["overlap_accepted_reason"])
        else:  # an earlier acceptance covers only the overlaps it was given for
            accepted = (
                bool(current_overlap_reason)
                and current_id is not None
                and {overlap["parcel_id"] for overlap in check.overlaps}
                <= overlapped_by_stored_shape(session, current_id)
            )
        if check.overlaps and not accepted:
            problems.append(overlap_problem(check.overlaps))
        if not check.overlaps and "overlap_accepted_reason" not in change.properties:
            values["overlap_accepted_reason"] = None  # nothing overlaps any more
        values["geom"] = change.geometry
    if problems:
        raise ParcelInvalid(problems)
    return values


# GeoJSON may carry an altitude; the registry stores 2-D shapes (the column has no Z).
_GEOMETRY_FROM_GEOJSON = (
    "CASE WHEN CAST(:geom AS text) IS NULL THEN NULL ELSE ST_Multi(ST_Force2D(ST_Transform("
    f"ST_SetSRID(ST_GeomFromGeoJSON(CAST(:geom AS text)), 4326), {STORAGE_SRID}))) END"
)


def _column_values(values: dict[str, Any]) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """(column, SQL expression) pairs and their bound parameters."""
    columns, params = [], {}
    for name, value in values.items():
        if name == "geom":
            columns.append(("geom", _GEOMETRY_FROM_GEOJSON))
            params["geom"] = None if value is None else json.dumps(value)
        else:
            columns.append((name, f":{name}"))
            params[name] = value
    return columns, params


def _write_row(session: Session, statement: str, params: dict[str, Any]) -> Any:
    """Run the INSERT or UPDATE; a parcel id two editors both took is one field problem."""
    return write_unique(session, statement, params, "uq_parcels_parcel_id", "parcel_id")


def create_parcel(session: Session, change: ParcelChange, settings: Settings) -> str:
    required = (
        [] if "parcel_id" in change.properties else [FieldProblem("parcel_id", "is required")]
    )
    values = _validated(session, change, settings, current_id=None, problems=required)
    columns, params = _column_values(values)
    _write_row(
        session,
        f"INSERT INTO parcels ({', '.join(name for name, _ in columns)}) "
        f"VALUES ({', '.join(expression for _, expression in columns)}) RETURNING parcel_id",
        params,
    )
    _check_workflow_after_write(session, str(values["parcel_id"]), values)
    return str(values["parcel_id"])


def _check_workflow_after_write(session: Session, parcel_id: str, values: dict[str, Any]) -> None:
    """digitized / attributed are judged on the record as written (all of the edit applied)."""
    target = values.get("digitization_status")
    if target is None:
        return
    problems = workflow_problems(session, parcel_id, target, set())
    if problems:
        raise ParcelInvalid(problems)


def _verification_values(session: Session, parcel_id: str, change: ParcelChange) -> dict[str, Any]:
    """Verifying is judged on the record as it stands: nothing else may change with it."""
    others = set(change.properties) - {"digitization_status"} - READ_ONLY_PROPERTIES
    if change.geometry is not _UNSET:
        others.add("geometry")
    problems = workflow_problems(session, parcel_id, "verified", others)
    if problems:
        raise ParcelInvalid(problems)
    actor = session.execute(
        text("SELECT coalesce(nullif(current_setting('registry.actor', true), ''), session_user)")
    ).scalar_one()
    return {"verified_by": actor, "verified_at": dt.datetime.now(dt.UTC)}


def _current(session: Session, parcel_id: str) -> Any:
    row = session.execute(
        text(
            "SELECT version, overlap_accepted_reason, retired_at, digitization_status, "
            "needs_confirmation FROM parcels WHERE parcel_id = :id"
        ),
        {"id": parcel_id},
    ).one_or_none()
    if row is None:
        raise NotFound("parcel", parcel_id)
    return row


def update_parcel(
    session: Session,
    parcel_id: str,
    expected_version: int,
    change: ParcelChange,
    settings: Settings,
    retired_at: Any = _UNSET,
) -> int:
    """Apply `change` if the parcel is still at `expected_version`; the new version.

    `retired_at` (for a restore) is written by the same UPDATE: one change, one version.
    """
    current = _current(session, parcel_id)
    if current.version != expected_version:
        raise version_conflict(session, "parcel", parcel_id)
    change, confirmed, problems = _confirmations(change)
    values = _validated(
        session, change, settings, parcel_id, current.overlap_accepted_reason, problems
    )
    still = [
        name
        for name in current.needs_confirmation
        if name not in confirmed and name not in change.properties
    ]
    if still != list(current.needs_confirmation):
        values["needs_confirmation"] = still
    if (
        current.digitization_status == "paper"
        and values.get("geom") is not None
        and "digitization_status" not in change.properties
    ):
        # A paper record that gains its shape is digitized, whoever sends it (editor, API, import)
        values["digitization_status"] = "digitized"
    becomes = values.get("digitization_status")
    if becomes == current.digitization_status:
        becomes = None
    if becomes == "verified":
        values.update(_verification_values(session, parcel_id, change))
    if retired_at is not _UNSET:
        values["retired_at"] = retired_at
    if not values:
        return int(current.version)
    columns, params = _column_values(values)
    assignments = ", ".join(f"{name} = {expression}" for name, expression in columns)
    new_version = update_at_version(
        session,
        _write_row,
        "parcels",
        assignments,
        ("parcel_id", parcel_id),
        expected_version,
        params,
        "parcel",
    )
    if becomes not in (None, "verified"):
        _check_workflow_after_write(
            session, str(values.get("parcel_id") or parcel_id), {"digitization_status": becomes}
        )
    return new_version


def replace_parcel(
    session: Session,
    parcel_id: str,
    expected_version: int,
    change: ParcelChange,
    settings: Settings,
) -> int:
    """Replace the parcel's record as a whole (OGC API – Features Part 4 `PUT`): every editable
    field the change does not give is cleared, so a required one left out is a problem, and the
    shape must be given (null for none). Same checks, versioned write and audit as an edit;
    the id stays (a replacement naming another id is refused). The new version."""
    given = change.properties.get("parcel_id")
    problems = []
    if given is not None and str(given).strip() != parcel_id:
        problems.append(
            FieldProblem("parcel_id", f"must be {parcel_id}, the id of the parcel replaced")
        )
    if change.geometry is _UNSET:
        problems.append(FieldProblem("geometry", "is required (null for a parcel with no shape)"))
    if problems:
        raise ParcelInvalid(problems)
    properties: dict[str, Any] = dict.fromkeys(EDITABLE_PROPERTIES - {"parcel_id"})
    properties.update((k, v) for k, v in change.properties.items() if k != "parcel_id")
    return update_parcel(
        session, parcel_id, expected_version, ParcelChange(properties, change.geometry), settings
    )


def _confirmations(change: ParcelChange) -> tuple[ParcelChange, set[str], list[FieldProblem]]:
    """The change without its `confirm` list, the fields that list names, and its problems."""
    if CONFIRM not in change.properties:
        return change, set(), []
    properties = dict(change.properties)
    names = properties.pop(CONFIRM)
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        return (
            ParcelChange(properties, change.geometry),
            set(),
            [FieldProblem(CONFIRM, 'must be a list of field names, e.g. ["department_code"]')],
        )
    return ParcelChange(properties, change.geometry), set(names), []


def retire_parcel(session: Session, parcel_id: str, expected_version: int) -> None:
    """Take a parcel off the map and out of lists; the row and its history stay."""
    current = _current(session, parcel_id)
    if current.version != expected_version:
        raise version_conflict(session, "parcel", parcel_id)
    if current.retired_at is not None:
        return
    update_at_version(
        session,
        _write_row,
        "parcels",
        "retired_at = now()",
        ("parcel_id", parcel_id),
        expected_version,
        {},
        "parcel",
    )
