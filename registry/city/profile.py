"""The city profile: name, extent (given, or taken from the city's boundary), parcel-id formats,
placeholder ids and the fiscal year's first month, kept in the database (migration 0009) and read
with the environment's overrides applied (`REGISTRY_CITY_EXTENT`, `REGISTRY_PARCEL_ID_PATTERN`,
`REGISTRY_FISCAL_YEAR_START_MONTH`, for deployments that pin them).

Writes go through a `unit_of_work`, so the audit triggers record who changed what.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import cast

from sqlalchemy import text
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from registry.city.districts import polygon_problems
from registry.city.ids import CONFIGURED_FORMAT
from registry.city.ids import IdFormat
from registry.city.ids import InvalidFormat
from registry.city.ids import check_format
from registry.fields import FieldProblem
from registry.fields import RecordInvalid
from registry.settings import STORAGE_SRID
from registry.settings import Settings

Extent = tuple[float, float, float, float]
#: The margin around a boundary's box that its extent gets: a parcel drawn on the city line is
#: in the city, and digitizing is never exact (about 500 m).
BOUNDARY_MARGIN_DEGREES = 0.005


class CityProfileInvalid(RecordInvalid):
    """A change to the city profile was refused; `problems` says why, field by field."""


@dataclass(frozen=True)
class CityProfile:
    """The city as every part of the registry sees it. `overridden` names the fields the
    environment set (`extent`, `id_formats`, `fiscal_year_start_month`): changing them in the
    database has no effect while the override stands."""

    name: str
    extent: Extent
    has_boundary: bool
    id_formats: tuple[IdFormat, ...]
    placeholder_ids: tuple[str, ...]
    fiscal_year_start_month: int
    overridden: frozenset[str] = frozenset()


_PROFILE = text(
    "SELECT name, ST_XMin(extent) AS west, ST_YMin(extent) AS south, ST_XMax(extent) AS east, "
    "ST_YMax(extent) AS north, boundary IS NOT NULL AS has_boundary, fiscal_year_start_month, "
    "placeholder_ids FROM city_profile WHERE id = 1"
)
_FORMATS = text(
    "SELECT name, examples, pattern, canonical FROM parcel_id_formats ORDER BY position, id"
)


def stored_profile(session: Session) -> CityProfile:
    """The profile as kept in the database, without the environment's overrides."""
    row = session.execute(_PROFILE).one()
    formats = tuple(
        IdFormat(f.name, tuple(f.examples), f.pattern, f.canonical)
        for f in session.execute(_FORMATS)
    )
    return CityProfile(
        name=row.name,
        extent=(row.west, row.south, row.east, row.north),
        has_boundary=bool(row.has_boundary),
        id_formats=formats,
        placeholder_ids=tuple(row.placeholder_ids),
        fiscal_year_start_month=row.fiscal_year_start_month,
    )


def with_overrides(profile: CityProfile, settings: Settings) -> CityProfile:
    """`profile` with the settings given in the environment put over it. A pattern given there
    becomes the one format, "configured format", whose example nobody gave."""
    changes: dict[str, object] = {}
    if "city_extent" in settings.overrides:
        changes["extent"] = settings.city_extent
    if "parcel_id_pattern" in settings.overrides:
        changes["id_formats"] = (IdFormat(CONFIGURED_FORMAT, (), settings.parcel_id_pattern),)
    if "fiscal_year_start_month" in settings.overrides:
        changes["fiscal_year_start_month"] = settings.fiscal_year_start_month
    return dataclasses.replace(
        profile,
        **changes,  # type: ignore[arg-type]
        overridden=frozenset(changes),
    )


def city_profile(session: Session, settings: Settings) -> CityProfile:
    """The city profile in force: the database's, with the environment's overrides."""
    return with_overrides(stored_profile(session), settings)


def _check_extent(extent: Extent, problems: list[FieldProblem]) -> None:
    west, south, east, north = extent
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        problems.append(
            FieldProblem(
                "extent",
                "must be west,south,east,north in degrees of longitude and latitude, "
                "west < east and south < north",
            )
        )


def update_city(
    session: Session,
    *,
    name: str | None = None,
    extent: Extent | None = None,
    fiscal_year_start_month: int | None = None,
) -> None:
    """Change what is given (None: leave as it is); every problem is reported at once."""
    problems: list[FieldProblem] = []
    if name is not None and not name.strip():
        problems.append(FieldProblem("name", "is required"))
    if extent is not None:
        _check_extent(extent, problems)
    if fiscal_year_start_month is not None and not 1 <= fiscal_year_start_month <= 12:
        problems.append(FieldProblem("fiscal_year_start_month", "must be a month from 1 to 12"))
    if problems:
        raise CityProfileInvalid(problems)
    session.execute(
        text(
            "UPDATE city_profile SET name = coalesce(:name, name), "
            "extent = CASE WHEN CAST(:west AS float8) IS NULL THEN extent "
            "ELSE ST_MakeEnvelope(:west, :south, :east, :north, 4326) END, "
            "fiscal_year_start_month = coalesce(:month, fiscal_year_start_month) WHERE id = 1"
        ),
        {
            "name": name.strip() if name else None,
            "month": fiscal_year_start_month,
            **dict(zip(("west", "south", "east", "north"), extent or (None,) * 4, strict=True)),
        },
    )


_SET_BOUNDARY = text(f"""
    WITH shape AS (
        SELECT ST_Multi(ST_Union(ST_Transform(ST_GeomFromWKB(w, CAST(:srid AS int)),
                                              {STORAGE_SRID}))) AS g
          FROM unnest(CAST(:wkbs AS bytea[])) AS w
    )
    UPDATE city_profile SET boundary = shape.g,
           extent = ST_SetSRID(ST_Expand(Box2D(ST_Transform(shape.g, 4326)), :margin)::geometry,
                               4326)
      FROM shape WHERE id = 1
    RETURNING ST_XMin(extent), ST_YMin(extent), ST_XMax(extent), ST_YMax(extent)
""")


def set_boundary(session: Session, polygons: Sequence[bytes | None], srid: int) -> Extent:
    """Keep the city's boundary (the union of `polygons`, WKB in `srid`, features numbered from
    1 in messages) and take the extent from it (its box and a margin of
    BOUNDARY_MARGIN_DEGREES); the new extent. CityProfileInvalid names every feature that is
    not a valid polygon."""
    if not polygons:
        raise CityProfileInvalid([FieldProblem("boundary", "the file holds no polygon")])
    problems = polygon_problems(session, list(enumerate(polygons, start=1)), srid)
    if problems:
        raise CityProfileInvalid(problems)
    row = session.execute(
        _SET_BOUNDARY, {"wkbs": list(polygons), "srid": srid, "margin": BOUNDARY_MARGIN_DEGREES}
    ).one()
    return (row[0], row[1], row[2], row[3])


def add_id_format(
    session: Session, name: str, examples: Sequence[str], pattern: str, canonical: str | None = None
) -> IdFormat:
    """Accept one more parcel-id format, tried after the existing ones."""
    name = name.strip()
    id_format = IdFormat(
        name, tuple(e.strip() for e in examples if e.strip()), pattern, canonical or None
    )
    problems: list[FieldProblem] = []
    if not name:
        problems.append(FieldProblem("name", "is required"))
    elif name == CONFIGURED_FORMAT:
        problems.append(FieldProblem("name", f"{name!r} is kept for REGISTRY_PARCEL_ID_PATTERN"))
    if not id_format.examples:
        problems.append(FieldProblem("examples", "give at least one example of the format"))
    try:
        check_format(id_format)
    except InvalidFormat as invalid:
        problems.append(FieldProblem("pattern", str(invalid)))
    if (
        name
        and session.execute(
            text("SELECT 1 FROM parcel_id_formats WHERE name = :name"), {"name": name}
        ).first()
    ):
        problems.append(FieldProblem("name", f"there is a format {name} already"))
    if problems:
        raise CityProfileInvalid(problems)
    session.execute(
        text(
            "INSERT INTO parcel_id_formats (position, name, examples, pattern, canonical) "
            "SELECT coalesce(max(position), 0) + 1, :name, :examples, :pattern, :canonical "
            "FROM parcel_id_formats"
        ),
        {
            "name": name,
            "examples": list(id_format.examples),
            "pattern": pattern,
            "canonical": id_format.canonical,
        },
    )
    return id_format


def remove_id_format(session: Session, name: str) -> None:
    """Stop accepting the format `name` (ids already kept are left as they are)."""
    removed = session.execute(
        text("DELETE FROM parcel_id_formats WHERE name = :name"), {"name": name.strip()}
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise CityProfileInvalid([FieldProblem("name", f"there is no format {name.strip()}")])


def add_placeholder(session: Session, value: str) -> None:
    """Treat `value` as "no id" (any case): an import reports it instead of keeping it."""
    value = value.strip()
    if not value:
        raise CityProfileInvalid([FieldProblem("placeholder", "is required")])
    _set_placeholders(session, "placeholder_ids || CAST(:value AS text)", f"NOT {_HELD}", value)


def remove_placeholder(session: Session, value: str) -> None:
    value = value.strip()
    kept = "ARRAY(SELECT p FROM unnest(placeholder_ids) p WHERE upper(p) <> upper(:value))"
    if not _set_placeholders(session, kept, _HELD, value):
        raise CityProfileInvalid([FieldProblem("placeholder", f"{value!r} is not a placeholder")])


# the placeholders hold :value, in any case
_HELD = "upper(:value) = ANY (SELECT upper(p) FROM unnest(placeholder_ids) p)"


def _set_placeholders(session: Session, placeholders: str, where: str, value: str) -> int:
    """Set the placeholders to `placeholders` (SQL of `placeholder_ids` and :value) if `where`
    holds; 1 if they were set, else 0."""
    result = session.execute(
        text(f"UPDATE city_profile SET placeholder_ids = {placeholders} WHERE id = 1 AND {where}"),
        {"value": value},
    )
    return cast(CursorResult[Any], result).rowcount
