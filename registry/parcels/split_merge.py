"""Splitting a parcel by a line and merging adjacent parcels, each as one audited change.

A split retires the parcel and creates its pieces under the ids the editor gives (west to east,
by the pieces' centres); a merge retires the parcels merged and gives their union to the one
whose record is kept (or to a new parcel id). Both run in the caller's transaction (one unit of
work: one actor, every touched parcel audited by the database, nothing written if any part is
refused), through the same checks and shape locks as an edit (`records.create_parcel`,
`records.update_parcel`), and record where each new shape came from in `parcel_lineage`, which a
parcel's history shows ("made by splitting …", "merged from …").

Money follows the land: a split shares the acquisition cost and disposition proceeds between the
pieces by area (to the cent, the remainder to the first piece); a merge adds them up, so the
portfolio's totals are the same before and after.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.errors import NotFound
from registry.errors import version_conflict
from registry.parcels.features import parcel_feature
from registry.parcels.records import ParcelChange
from registry.parcels.records import create_parcel
from registry.parcels.records import retire_parcel
from registry.parcels.records import update_parcel
from registry.parcels.validation import EDITABLE_PROPERTIES
from registry.parcels.validation import FieldProblem
from registry.parcels.validation import ParcelInvalid
from registry.settings import STORAGE_SRID
from registry.settings import Settings
from registry.spatial import as_geography

MAX_LINE_VERTICES = 1_000
MAX_PIECES = 20
MAX_MERGED = 50
# Pieces must add up to the parcel: within 0.01 m² or a millionth of its area, whichever is more.
AREA_TOLERANCE_SQ_M = 0.01
AREA_TOLERANCE_RATIO = 1e-6
_MONEY = ("acquisition_cost", "disposition_proceeds")


def _line_problem(line: Any) -> FieldProblem | None:
    if not isinstance(line, dict) or line.get("type") != "LineString":
        return FieldProblem("line", "must be a GeoJSON LineString (longitude, latitude)")
    coordinates = line.get("coordinates")
    if not isinstance(coordinates, list) or not 2 <= len(coordinates) <= MAX_LINE_VERTICES:
        return FieldProblem("line", f"must have from 2 to {MAX_LINE_VERTICES:,} points")
    for point in coordinates:
        if (
            not isinstance(point, list)
            or len(point) < 2
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in point[:2])
        ):
            return FieldProblem("line", "must have points of two numbers: longitude, latitude")
    return None


def _id_problems(new_ids: Any, parcel_id: str) -> list[FieldProblem]:
    if not isinstance(new_ids, list) or not all(isinstance(i, str) and i.strip() for i in new_ids):
        return [FieldProblem("parcel_ids", "must be a list of the new parcels' ids")]
    cleaned = [i.strip() for i in new_ids]
    if len(set(cleaned)) != len(cleaned):
        return [FieldProblem("parcel_ids", "must all differ")]
    if parcel_id in cleaned:
        return [
            FieldProblem("parcel_ids", f"must not reuse {parcel_id}: the parcel split is retired")
        ]
    return []


_PIECES_SQL = text(
    f"""
    WITH parcel AS (SELECT geom FROM parcels WHERE parcel_id = :id),
    cut AS (
        SELECT (ST_Dump(ST_Split(parcel.geom, ST_Transform(
                    ST_SetSRID(ST_GeomFromGeoJSON(:line), 4326), {STORAGE_SRID})))).geom AS g
          FROM parcel
    )
    SELECT ST_AsGeoJSON(ST_Transform(g, 4326), 9) AS geojson, ST_IsValid(g) AS valid,
           ST_Area({as_geography("g")}) AS area_sq_m,
           (SELECT ST_Area({as_geography("geom")}) FROM parcel) AS parcel_sq_m
      FROM cut
     ORDER BY ST_X(ST_Centroid(g)), ST_Y(ST_Centroid(g))
    """
)


@dataclass(frozen=True)
class _Piece:
    geometry: dict[str, Any]
    area_sq_m: float


def _pieces(session: Session, parcel_id: str, line: dict[str, Any]) -> list[_Piece]:
    rows = session.execute(_PIECES_SQL, {"id": parcel_id, "line": json.dumps(line)}).all()
    if len(rows) < 2:
        raise ParcelInvalid(
            [
                FieldProblem(
                    "line",
                    f"does not cut parcel {parcel_id} in two: draw it across the parcel, "
                    "from outside one side to outside the other",
                )
            ]
        )
    if len(rows) > MAX_PIECES:
        raise ParcelInvalid(
            [FieldProblem("line", f"cuts the parcel into more than {MAX_PIECES} pieces")]
        )
    if not all(row.valid for row in rows):
        raise ParcelInvalid([FieldProblem("line", "gives a piece that is not a valid polygon")])
    total, whole = sum(row.area_sq_m for row in rows), rows[0].parcel_sq_m
    if abs(total - whole) > max(AREA_TOLERANCE_SQ_M, AREA_TOLERANCE_RATIO * whole):
        raise ParcelInvalid(
            [
                FieldProblem(
                    "line",
                    f"gives pieces of {total:,.2f} m² in all, not the parcel's {whole:,.2f} m²",
                )
            ]
        )
    return [
        _Piece({"type": "MultiPolygon", "coordinates": [_polygon(row.geojson)]}, row.area_sq_m)
        for row in rows
    ]


def _polygon(geojson: str) -> Any:
    return json.loads(geojson)["coordinates"]


def _properties(session: Session, parcel_id: str) -> dict[str, Any]:
    """The parcel's editable values as the API gives them (a new parcel is created from them)."""
    feature = json.loads(parcel_feature(session, parcel_id).geojson)
    return {k: v for k, v in feature["properties"].items() if k in EDITABLE_PROPERTIES}


def _inherited(properties: dict[str, Any], parcel_id: str) -> dict[str, Any]:
    """A new parcel's values from its parent's: a verified record is verified again by a second
    person (the pieces are new shapes nobody has checked), so it starts attributed."""
    values = {**properties, "parcel_id": parcel_id}
    if values.get("digitization_status") == "verified":
        values["digitization_status"] = "attributed"
    return values


def _shares(amount: Any, weights: list[float]) -> list[str | None]:
    """`amount` (text, as the API gives money) shared by `weights`, to the cent; None stays."""
    if amount is None:
        return [None] * len(weights)
    whole, total = Decimal(str(amount)), sum(weights)
    parts = [(whole * Decimal(w / total)).quantize(Decimal("0.01")) for w in weights]
    parts[0] += whole - sum(parts)
    return [f"{part:.2f}" for part in parts]


def _record_lineage(
    session: Session, children: list[str], parents: list[str], operation: str
) -> None:
    session.execute(
        text(
            "INSERT INTO parcel_lineage (child_id, parent_id, operation) "
            "SELECT c.id, p.id, :operation FROM parcels c, parcels p "
            "WHERE c.parcel_id = ANY(:children) AND p.parcel_id = ANY(:parents) AND c.id <> p.id"
        ),
        {"children": children, "parents": parents, "operation": operation},
    )


def _current(session: Session, parcel_id: str, expected_version: int) -> Any:
    row = session.execute(
        text(
            "SELECT version, retired_at, geom IS NOT NULL AS has_shape "
            "FROM parcels WHERE parcel_id = :id"
        ),
        {"id": parcel_id},
    ).one_or_none()
    if row is None:
        raise NotFound("parcel", parcel_id)
    if row.version != expected_version:
        raise version_conflict(session, "parcel", parcel_id)
    if row.retired_at is not None:
        raise ParcelInvalid([FieldProblem("parcel_id", f"{parcel_id} is retired")])
    if not row.has_shape:
        raise ParcelInvalid([FieldProblem("geometry", f"parcel {parcel_id} has no shape yet")])
    return row


def split_parcel(
    session: Session,
    parcel_id: str,
    expected_version: int,
    line: Any,
    new_ids: Any,
    settings: Settings,
) -> list[str]:
    """Cut the parcel by `line` into pieces named `new_ids` (west to east); the parcel is
    retired. The new parcels' ids. Raises ParcelInvalid (nothing written) when the line does not
    cut it, the ids do not match the pieces, or a piece fails an edit's checks."""
    problems = [p for p in (_line_problem(line),) if p] + _id_problems(new_ids, parcel_id)
    if problems:
        raise ParcelInvalid(problems)
    ids = [i.strip() for i in new_ids]
    _current(session, parcel_id, expected_version)
    pieces = _pieces(session, parcel_id, line)
    if len(pieces) != len(ids):
        raise ParcelInvalid(
            [
                FieldProblem(
                    "parcel_ids",
                    f"the line cuts parcel {parcel_id} into {len(pieces)} pieces: "
                    f"give {len(pieces)} new parcel ids (west to east), not {len(ids)}",
                )
            ]
        )
    properties = _properties(session, parcel_id)
    shares = {name: _shares(properties.get(name), [p.area_sq_m for p in pieces]) for name in _MONEY}
    retire_parcel(session, parcel_id, expected_version)
    for index, (piece, new_id) in enumerate(zip(pieces, ids, strict=True)):
        values = _inherited(properties, new_id)
        values.update((name, shares[name][index]) for name in _MONEY)
        create_parcel(session, ParcelChange(values, piece.geometry), settings)
    _record_lineage(session, ids, [parcel_id], "split")
    return ids


_CLUSTERS_SQL = text(
    """
    SELECT count(*) AS clusters,
           (SELECT ST_AsGeoJSON(ST_Transform(ST_Multi(ST_Union(geom)), 4326), 9)
              FROM parcels WHERE parcel_id = ANY(:ids)) AS merged
      FROM (SELECT unnest(ST_ClusterIntersecting(geom)) AS cluster
              FROM parcels WHERE parcel_id = ANY(:ids)) clusters
    """
)


def merge_parcels(
    session: Session,
    versions: dict[str, int],
    keep: str,
    settings: Settings,
    new_id: str | None = None,
) -> str:
    """Merge the parcels of `versions` (id → the version edited) into one shape: the record of
    `keep` takes it (or a new parcel `new_id`, with `keep`'s values), the others are retired.
    They must touch or overlap each other, in one piece. The merged parcel's id."""
    problems = []
    if not 2 <= len(versions) <= MAX_MERGED:
        problems.append(FieldProblem("parcels", f"name from 2 to {MAX_MERGED} parcels to merge"))
    if keep not in versions:
        problems.append(FieldProblem("keep", "must be one of the parcels merged"))
    if new_id is not None and new_id in versions:
        problems.append(FieldProblem("parcel_id", "leave it out to keep that parcel's id"))
    if problems:
        raise ParcelInvalid(problems)
    ids = sorted(versions)
    for parcel_id in ids:
        _current(session, parcel_id, versions[parcel_id])
    row = session.execute(_CLUSTERS_SQL, {"ids": ids}).one()
    if row.clusters != 1:
        raise ParcelInvalid(
            [
                FieldProblem(
                    "parcels",
                    f"{', '.join(ids)} do not all touch: merge only parcels that share a boundary",
                )
            ]
        )
    geometry = json.loads(row.merged)
    all_values = {parcel_id: _properties(session, parcel_id) for parcel_id in ids}
    totals = {name: _total(v.get(name) for v in all_values.values()) for name in _MONEY}
    gone = [parcel_id for parcel_id in ids if new_id is not None or parcel_id != keep]
    for parcel_id in gone:
        retire_parcel(session, parcel_id, versions[parcel_id])
    if new_id is None:
        update_parcel(session, keep, versions[keep], ParcelChange(totals, geometry), settings)
        merged = keep
    else:
        values = {**_inherited(all_values[keep], new_id), **totals}
        merged = create_parcel(session, ParcelChange(values, geometry), settings)
    _record_lineage(session, [merged], gone, "merge")
    return merged


def _total(amounts: Any) -> str | None:
    given = [Decimal(str(a)) for a in amounts if a is not None]
    return f"{sum(given):.2f}" if given else None


@dataclass(frozen=True)
class LineageEntry:
    """One line of a parcel's lineage: `made` (this parcel came from `others`) or `became`
    (this parcel was split or merged into `others`)."""

    direction: str  # "made" | "became"
    operation: str  # "split" | "merge"
    others: tuple[str, ...]
    made_at: dt.datetime
    made_by: str

    def sentence(self, when: str) -> str:
        names = ", ".join(self.others)
        if self.direction == "made":
            how = f"Made by splitting {names}" if self.operation == "split" else "Merged from "
            how = how if self.operation == "split" else how + names
        else:
            how = f"Split into {names}" if self.operation == "split" else f"Merged into {names}"
        return f"{how} on {when} by {self.made_by}"


_LINEAGE_SQL = text(
    """
    SELECT 'made' AS direction, l.operation, array_agg(p.parcel_id ORDER BY p.parcel_id) AS others,
           l.made_at, l.made_by
      FROM parcel_lineage l JOIN parcels c ON c.id = l.child_id JOIN parcels p ON p.id = l.parent_id
     WHERE c.parcel_id = :id
     GROUP BY l.operation, l.made_at, l.made_by
    UNION ALL
    SELECT 'became', l.operation, array_agg(c.parcel_id ORDER BY c.parcel_id), l.made_at, l.made_by
      FROM parcel_lineage l JOIN parcels c ON c.id = l.child_id JOIN parcels p ON p.id = l.parent_id
     WHERE p.parcel_id = :id
     GROUP BY l.operation, l.made_at, l.made_by
     ORDER BY made_at
    """
)


def parcel_lineage(session: Session, parcel_id: str) -> list[LineageEntry]:
    """Where the parcel came from and what it became, oldest first."""
    return [
        LineageEntry(row.direction, row.operation, tuple(row.others), row.made_at, row.made_by)
        for row in session.execute(_LINEAGE_SQL, {"id": parcel_id})
    ]
