"""Council districts as polygons, and the district of a parcel derived from its shape.

The polygons come from a GIS file (read by `geo.polygon_file`, which hands over WKB and the
file's SRID) and replace the districts kept before in one transaction. Once districts exist the
database derives `parcels.council_district` from each parcel's shape: the district that holds the
largest part of it (migration 0009's trigger on every parcel write, and one set-based UPDATE of
every parcel here when the districts change). A parcel without a shape, or whose shape lies in no
district, keeps the district it was given; with no district polygons at all nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.fields import FieldProblem
from registry.fields import RecordInvalid
from registry.settings import STORAGE_SRID
from registry.settings import Settings

MAX_DISTRICT = 99  # parcels.council_district's CHECK
#: Fields a district file names its district by, when the user names none (any case).
DISTRICT_FIELDS = (
    "DISTRICT",
    "COUNCIL_DISTRICT",
    "COUNCIL_DI",
    "DISTRICT_NUMBER",
    "DIST_NUM",
    "DIST",
    "CD",
    "WARD",
)
_LABEL = re.compile(
    r"(?:council\s*district|district|dist|cd|ward)?\s*#?\s*0*(\d{1,2})", re.IGNORECASE
)


class DistrictsInvalid(RecordInvalid):
    """The district (or boundary) polygons were refused; every problem names its feature."""


@dataclass(frozen=True)
class DistrictShape:
    """One feature of a district file: its number in the file (from 1), the district as the
    file writes it ("1", "CD 11", "District 4"), its name if the file has one, its shape (WKB)."""

    feature: int
    label: str | None
    wkb: bytes | None
    name: str | None = None


@dataclass(frozen=True)
class DistrictImport:
    districts: int
    parcels_changed: int


def district_number(label: str | None) -> int | None:
    """The district number a label names ("CD 11" → 11), or None."""
    found = _LABEL.fullmatch((label or "").strip())
    number = int(found.group(1)) if found else 0
    return number if 1 <= number <= MAX_DISTRICT else None


_POLYGON_FACTS = text("""
    SELECT t.feature, GeometryType(g) AS kind, ST_IsEmpty(g) AS empty,
           ST_IsValid(g) AS valid, ST_IsValidReason(g) AS reason
      FROM unnest(CAST(:features AS int[]), CAST(:wkbs AS bytea[])) AS t(feature, wkb),
           LATERAL (SELECT ST_GeomFromWKB(t.wkb, CAST(:srid AS int)) AS g) AS shape
     ORDER BY t.feature
""")


def polygon_problems(
    session: Session, shapes: Sequence[tuple[int, bytes | None]], srid: int
) -> list[FieldProblem]:
    """What is wrong with the (feature number, WKB) shapes in `srid`: an unknown SRID, a
    missing shape, one that is not a polygon, an empty or an invalid one (with GEOS's
    reason)."""
    if not session.execute(
        text("SELECT 1 FROM spatial_ref_sys WHERE srid = :srid"), {"srid": srid}
    ).first():
        return [
            FieldProblem("srs", f"EPSG:{srid} is not a coordinate reference system PostGIS knows")
        ]
    problems = []
    rows = session.execute(
        _POLYGON_FACTS,
        {
            "features": [feature for feature, _ in shapes],
            "wkbs": [wkb for _, wkb in shapes],
            "srid": srid,
        },
    )
    for row in rows:
        where = f"feature {row.feature}"
        if row.kind is None:
            problems.append(FieldProblem(where, "has no shape"))
        elif row.kind not in ("POLYGON", "MULTIPOLYGON"):
            problems.append(FieldProblem(where, f"is a {row.kind.lower()}, not a polygon"))
        elif row.empty:
            problems.append(FieldProblem(where, "has an empty shape"))
        elif not row.valid:
            problems.append(FieldProblem(where, f"is not a valid polygon: {row.reason}"))
    return problems


_UPSERT_DISTRICTS = text(f"""
    WITH incoming AS (
        SELECT t.district, min(t.name) AS name,
               ST_Multi(ST_CollectionExtract(ST_Union(
                   ST_Transform(ST_GeomFromWKB(t.wkb, CAST(:srid AS int)), {STORAGE_SRID})),
                   3)) AS geom
          FROM unnest(CAST(:districts AS int[]), CAST(:names AS text[]),
                      CAST(:wkbs AS bytea[])) AS t(district, name, wkb)
         GROUP BY t.district
    )
    INSERT INTO council_districts AS d (district, name, geom)
    SELECT district, name, geom FROM incoming
    ON CONFLICT (district) DO UPDATE SET name = EXCLUDED.name, geom = EXCLUDED.geom
     WHERE d.name IS DISTINCT FROM EXCLUDED.name OR d.geom IS DISTINCT FROM EXCLUDED.geom
""")


def replace_districts(
    session: Session, shapes: Sequence[DistrictShape], srid: int
) -> DistrictImport:
    """The city's council districts become `shapes` (WKB in `srid`, reprojected to the storage
    SRID; features of one district are united), and every parcel's district is derived again.
    A district kept before and absent from `shapes` is removed. All or nothing: every problem
    is reported with its feature."""
    problems = [
        FieldProblem(
            f"feature {shape.feature}",
            f"{shape.label!r} is not a district number from 1 to {MAX_DISTRICT}",
        )
        for shape in shapes
        if district_number(shape.label) is None
    ]
    if not shapes:
        problems.append(FieldProblem("districts", "the file holds no feature"))
    else:
        problems += polygon_problems(session, [(s.feature, s.wkb) for s in shapes], srid)
    if problems:
        raise DistrictsInvalid(problems)
    numbers = [district_number(shape.label) for shape in shapes]
    session.execute(
        _UPSERT_DISTRICTS,
        {
            "districts": numbers,
            "srid": srid,
            "wkbs": [shape.wkb for shape in shapes],
            "names": [
                shape.name or f"District {number}"
                for shape, number in zip(shapes, numbers, strict=True)
            ],
        },
    )
    session.execute(
        text("DELETE FROM council_districts WHERE NOT district = ANY (:kept)"),
        {"kept": sorted({n for n in numbers if n is not None})},
    )
    return DistrictImport(len(set(numbers)), derive_parcel_districts(session))


_DERIVE = text("""
    WITH best AS (
        SELECT DISTINCT ON (p.id) p.id, d.district
          FROM parcels p
          JOIN council_districts d ON d.geom && p.geom AND ST_Intersects(d.geom, p.geom)
         ORDER BY p.id, ST_Area(ST_Intersection(d.geom, p.geom)) DESC, d.district
    )
    UPDATE parcels p SET council_district = best.district
      FROM best
     WHERE p.id = best.id AND p.council_district IS DISTINCT FROM best.district
""")


def derive_parcel_districts(session: Session) -> int:
    """Set every parcel's district to the one holding the largest part of its shape, in one
    statement; how many parcels changed. (The per-row trigger, which would only repeat the
    work, stands aside meanwhile.)"""
    session.execute(text("SELECT set_config('registry.deriving_districts', 'on', true)"))
    changed = session.execute(_DERIVE).rowcount  # type: ignore[attr-defined]
    session.execute(text("SELECT set_config('registry.deriving_districts', '', true)"))
    return int(changed)


@dataclass(frozen=True)
class District:
    district: int
    name: str
    parcels: int


def list_districts(session: Session) -> list[District]:
    """The districts kept as polygons, with their live parcels."""
    rows = session.execute(
        text(
            "SELECT d.district, d.name, (SELECT count(*) FROM parcels p WHERE p.retired_at IS NULL "
            "AND p.council_district = d.district) AS parcels FROM council_districts d "
            "ORDER BY d.district"
        )
    )
    return [District(int(r.district), r.name, int(r.parcels)) for r in rows]


def district_numbers(session: Session, settings: Settings) -> tuple[int, ...]:
    """The city's council districts: those kept as polygons, else 1 to
    REGISTRY_COUNCIL_DISTRICTS (the registry's rule before it kept district polygons)."""
    kept = tuple(
        session.execute(text("SELECT district FROM council_districts ORDER BY district")).scalars()
    )
    return kept or tuple(range(1, settings.council_districts + 1))
