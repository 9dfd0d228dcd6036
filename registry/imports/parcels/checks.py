"""Set-based checks of the staged rows against each other and against the registry.

Each check inserts its findings into `import_found`; nothing here writes to the registry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from registry.city.departments import DepartmentMatch
from registry.city.profile import CityProfile
from registry.geometry_limits import size_message_sql
from registry.imports.parcels.join import AttributeExtract
from registry.imports.parcels.mapping import EXPECTED_FIELDS
from registry.imports.parcels.mapping import FieldMapping
from registry.parcels.validation import OVERLAP_TOLERANCE_SQ_M
from registry.parcels.verification import REQUIRED_FOR_ATTRIBUTED
from registry.settings import STORAGE_SRID
from registry.settings import Settings
from registry.spatial import as_geography

_POLYGONAL = "('POLYGON', 'MULTIPOLYGON')"
_REPAIRED = "ST_Multi(ST_CollectionExtract(ST_MakeValid({shape}), 3))"
#: What a new parcel gets where the file gives no value (the columns' defaults).
INSERT_DEFAULTS = {"legal_interest": "'owned'", "status": "'in_use'"}


def _invalidity(shape: str) -> str:
    """Why `shape` is not valid, and where (in EPSG:4326), as jsonb."""
    return (
        f"jsonb_build_object('reason', (ST_IsValidDetail({shape})).reason, 'location', "
        f"ST_AsGeoJSON(ST_Transform(ST_SetSRID((ST_IsValidDetail({shape})).location, "
        f"{STORAGE_SRID}), 4326))::jsonb)"
    )


def _report(
    session: Session, condition: str, message: str, details: str = "NULL", severity: str = "error"
) -> None:
    """A geometry finding for each staged row `r` that meets `condition` (SQL, as are
    `message` and `details`)."""
    session.execute(
        text(f"""
        INSERT INTO import_found (row_number, record_id, field, severity, message, details)
        SELECT r.row_number, r.parcel_id_raw, 'geometry', '{severity}', {message}, {details}
          FROM import_rows r WHERE {condition}
    """)
    )


def check_geometry(
    session: Session,
    profile: CityProfile,
    repair: bool,
    geometry_expected: bool,
    settings: Settings,
) -> None:
    """Each check is a scan of the staged rows, cheap now that none validates a shape again
    (`valid` was computed as the row was written) nor asks GEOS whether it lies in the city.

    No shape, or a point (where the parcel is, not its shape), is missing data: the record is
    stored as a paper record. An empty shape, another kind of geometry, an invalid shape and
    one outside the city are errors. An invalid shape's ST_MakeValid repair is measured all the
    same (its area here, its overlaps by `check_overlaps`), so that one pass shows every
    problem; without `repair` the row is still refused.

    A shape over the size limits (`registry.geometry_limits`) is refused first, and taken out
    of every later check with the other refused kinds: it was never validated while staged, and
    is neither repaired, measured nor compared with any other."""
    if geometry_expected:
        _report(
            session,
            "r.geom IS NULL AND r.digitization_status IS DISTINCT FROM 'paper' "
            "AND r.digitization_status IS NOT NULL",
            "'is missing, but the digitization status is ' || r.digitization_status",
        )
        _report(
            session,
            "r.geom IS NULL AND r.digitization_status IS NULL AND NOT EXISTS "
            "(SELECT 1 FROM parcels p WHERE p.parcel_id = r.parcel_id "
            "AND p.geom IS NOT NULL)",
            "'is missing: the record is stored as a paper record, without a shape'",
            severity="warning",
        )
    # A non-empty polygon that staging left unvalidated (`valid` NULL) is over the size limits:
    # its corners were counted once, as it was written, and are counted again only in the message.
    too_large = (
        f"r.valid IS NULL AND GeometryType(r.geom) IN {_POLYGONAL} AND NOT ST_IsEmpty(r.geom)"
    )
    _report(session, too_large, size_message_sql("r.geom", settings))
    _report(session, "r.geom IS NOT NULL AND ST_IsEmpty(r.geom)", "'is empty'")
    point = "r.geom IS NOT NULL AND NOT ST_IsEmpty(r.geom) AND GeometryType(r.geom) = 'POINT'"
    _report(
        session,
        point,
        "'is a point (where the parcel is, not its shape): the record is "
        "stored as a paper record, without a shape'",
        severity="warning",
    )
    _report(session, f"{point} AND {_outside_city(profile)}", _outside_message(profile, "point"))
    _report(
        session,
        "r.geom IS NOT NULL AND NOT ST_IsEmpty(r.geom) "
        "AND GeometryType(r.geom) NOT IN ('POINT', 'POLYGON', 'MULTIPOLYGON')",
        "'must be a Polygon or MultiPolygon, not ' || initcap(GeometryType(r.geom))",
    )
    # take the rest out of the later checks, which expect polygons; a point's row may load
    session.execute(
        text(
            "UPDATE import_rows SET geom = NULL, "
            "ok = ok AND GeometryType(geom) = 'POINT' AND NOT ST_IsEmpty(geom) "
            "WHERE geom IS NOT NULL "
            f"AND (ST_IsEmpty(geom) OR GeometryType(geom) NOT IN {_POLYGONAL} OR valid IS NULL)"
        )
    )
    if repair:
        _repair(session)
    else:
        _measure_repairs(session)
    _report(
        session,
        f"r.geom IS NOT NULL AND {_outside_city(profile)}",
        _outside_message(profile, "shape"),
    )


def _outside_message(profile: CityProfile, what: str) -> str:
    name = profile.name.replace("'", "''")
    return (
        f"'lies outside the city ({name}''s extent): check the CRS (--srs) and the "
        f"coordinates{', or the geocoding' if what == 'point' else ''}'"
    )


def _outside_city(profile: CityProfile) -> str:
    """A shape not covered by the city's extent. For a rectangle, being covered is having every
    vertex inside it, so comparing the shape's exact (double precision) bounds says what
    ST_CoveredBy said, without GEOS; an empty shape is outside, as ST_CoveredBy had it."""
    xmin, ymin, xmax, ymax = profile.extent
    shape = "ST_Transform(r.geom, 4326)"
    inside = (
        f"ST_XMin({shape}) >= {xmin!r} AND ST_YMin({shape}) >= {ymin!r} "
        f"AND ST_XMax({shape}) <= {xmax!r} AND ST_YMax({shape}) <= {ymax!r}"
    )
    return f"({inside}) IS NOT TRUE"


def _measure_repairs(session: Session) -> None:
    """Each invalid shape is reported with GEOS's reason and location, and with its repair
    (kept in `import_repairs` for the overlap check): the repair's area and the area it shares
    with the other shapes of the file."""
    session.execute(
        text(f"""
        INSERT INTO import_repairs (row_number, parcel_id_raw, parcel_id, geom)
        SELECT row_number, parcel_id_raw, parcel_id, {_REPAIRED.format(shape="geom")}
          FROM import_rows WHERE NOT valid
    """)
    )
    shared = as_geography("ST_Intersection(fix.geom, other.geom)")
    session.execute(
        text(f"""
        INSERT INTO import_found (row_number, record_id, field, message, details)
        SELECT r.row_number, r.parcel_id_raw, 'geometry',
               'is not valid: ' || (ST_IsValidDetail(r.geom)).reason
               || '; its ST_MakeValid repair measures ' || m.area || ' m², of which '
               || m.shared || ' m² overlap other shapes of the file',
               {_invalidity("r.geom")} || jsonb_build_object('repair', jsonb_build_object(
                   'area_sq_m', m.area, 'overlap_sq_m', m.shared))
          FROM import_rows r JOIN import_repairs fix ON fix.row_number = r.row_number
          CROSS JOIN LATERAL (SELECT
               round(ST_Area({as_geography("fix.geom")})::numeric, 1) AS area,
               round(coalesce((
                   SELECT sum(ST_Area({shared})) FROM (
                       SELECT geom FROM import_rows WHERE valid
                       UNION ALL
                       SELECT geom FROM import_repairs WHERE row_number <> fix.row_number
                   ) other WHERE other.geom && fix.geom AND ST_Intersects(other.geom, fix.geom)
               ), 0)::numeric, 1) AS shared) m
    """)
    )


def _repair(session: Session) -> None:
    session.execute(
        text(f"""
        WITH repaired AS (
            UPDATE import_rows r
               SET geom = {_REPAIRED.format(shape="geom")}
              FROM (SELECT row_number, geom AS original, {_invalidity("geom")} AS details
                      FROM import_rows WHERE NOT valid) bad
             WHERE r.row_number = bad.row_number
         RETURNING r.row_number, r.parcel_id_raw, bad.details, bad.original, r.geom AS fixed
        )
        INSERT INTO import_found (row_number, record_id, field, severity, message, details)
        SELECT row_number, parcel_id_raw, 'geometry', 'repaired',
               'was not valid (' || (details->>'reason') || '); repaired with ST_MakeValid, '
               || 'area change ' || round((ST_Area({as_geography("fixed")})
               - ST_Area({as_geography("ST_Buffer(original, 0)")}))::numeric, 1) || ' m²',
               details || jsonb_build_object('area_change_sq_m', round((
                   ST_Area({as_geography("fixed")})
                   - ST_Area({as_geography("ST_Buffer(original, 0)")}))::numeric, 1))
          FROM repaired
    """)
    )


def check_duplicates(session: Session) -> None:
    """The repeated ids are found first (a hash aggregate), and their rows listed after: the
    ordered lists cost a sort, which only the repeated ids need."""
    session.execute(
        text("""
        INSERT INTO import_found (row_number, record_id, field, message, details)
        SELECT r.row_number, r.parcel_id_raw, 'parcel_id',
               'appears more than once in the file (rows ' || d.rows_text || ')',
               jsonb_build_object('rows', d.rows)
          FROM import_rows r
          JOIN (SELECT parcel_id, jsonb_agg(row_number ORDER BY row_number) AS rows,
                       string_agg(row_number::text, ', ' ORDER BY row_number) AS rows_text
                  FROM import_rows
                 WHERE parcel_id IN (SELECT parcel_id FROM import_rows WHERE parcel_id IS NOT NULL
                                      GROUP BY parcel_id HAVING count(*) > 1)
                 GROUP BY parcel_id) d ON d.parcel_id = r.parcel_id
    """)
    )


def check_unmapped(session: Session, mapping: FieldMapping) -> None:
    """Once for the file: an expected field no column maps to (every record lacks it)."""
    for field in EXPECTED_FIELDS:
        if field not in mapping.targets:
            session.execute(
                text(
                    "INSERT INTO import_found (field, severity, message) VALUES (:field, "
                    "'warning', "
                    "'no column of the file maps to it (use --map): every record is stored without "
                    "it, incomplete')"
                ),
                {"field": field},
            )


def check_unjoined(session: Session, extract: AttributeExtract) -> None:
    """A row of the --join table that no feature has the id of: its attributes go nowhere."""
    unjoined = extract.unjoined()
    if not unjoined:
        return
    session.execute(
        text("""
        INSERT INTO import_found (record_id, field, severity, message, details)
        SELECT u.id, 'parcel_id', 'warning',
               :file || ' row ' || u.row || ': no feature has this id; the row''s attributes '
               || 'are not imported', jsonb_build_object('join_file', :file, 'join_row', u.row)
          FROM unnest(CAST(:rows AS int[]), CAST(:ids AS text[])) AS u (row, id)
         ORDER BY u.row
    """),
        {
            "file": extract.file,
            "rows": [row for row, _ in unjoined],
            "ids": [id_ for _, id_ in unjoined],
        },
    )


def check_departments(session: Session, matches: Mapping[str, DepartmentMatch]) -> None:
    """A department value that names none is an error, with the nearest code, name or alias
    as a suggestion (never applied: an alias or a --map makes it so). A value with a doubt mark
    (`GSD?`) that names one is read, and flagged for confirmation (a warning)."""
    found = []
    for value, match in matches.items():
        if match.department_id is None:
            hint = f" — did you mean {match.nearest}?" if match.nearest else ""
            found.append(
                (
                    value,
                    "error",
                    f"{value!r} matches no department{hint}",
                    json.dumps({"suggestion": match.nearest}),
                )
            )
        elif match.uncertain:
            found.append(
                (
                    value,
                    "warning",
                    f"{value!r} is marked uncertain in the source: read "
                    f"as {match.code}, to be confirmed before the record can be verified",
                    json.dumps({"uncertain": True, "department_code": match.code}),
                )
            )
    if not found:
        return
    values, severities, messages, details = map(list, zip(*found, strict=True))
    session.execute(
        text("""
        INSERT INTO import_found (row_number, record_id, field, severity, message, details)
        SELECT r.row_number, r.parcel_id_raw, 'department_code', u.severity, u.message,
               jsonb_build_object('value', r.department_code) || jsonb_strip_nulls(u.details)
          FROM import_rows r
          JOIN unnest(CAST(:values AS text[]), CAST(:severities AS text[]),
                      CAST(:messages AS text[]), CAST(:details AS jsonb[]))
               AS u (value, severity, message, details) ON r.department_code = u.value
    """),
        {"values": values, "severities": severities, "messages": messages, "details": details},
    )


def _overlapping_pairs(interiors_first: bool) -> str:
    area = as_geography("ST_Intersection(a.geom, b.geom)")
    # '2********': the interiors share an area. Neighbours that only share an edge (most
    # pairs of a real city's parcels) are ruled out before any intersection is computed.
    meet = (
        "ST_Relate(a.geom, b.geom, '2********')"
        if interiors_first
        else "ST_Intersects(a.geom, b.geom)"
    )
    return f"""
        WITH pairs AS (
            SELECT a.row_number AS row_a, a.parcel_id_raw AS id_a, b.row_number AS row_b,
                   b.parcel_id_raw AS id_b, round(ST_Area({area})::numeric, 1) AS area,
                   false AS fixed_a, false AS fixed_b
              FROM import_rows a JOIN import_rows b
                ON a.row_number < b.row_number AND a.geom && b.geom AND {meet}
             WHERE a.valid AND b.valid
        )
        {_PAIR_FINDINGS}
    """


# The repairs of invalid shapes (measured, not kept) against the valid shapes and each other.
_REPAIRED_PAIRS = f"""
    WITH pairs AS (
        SELECT a.row_number AS row_a, a.parcel_id_raw AS id_a, b.row_number AS row_b,
               b.parcel_id_raw AS id_b,
               round(ST_Area({as_geography("ST_Intersection(a.geom, b.geom)")})::numeric, 1)
                   AS area, true AS fixed_a, false AS fixed_b
          FROM import_repairs a JOIN import_rows b
            ON b.geom && a.geom AND b.valid AND ST_Intersects(a.geom, b.geom)
        UNION ALL
        SELECT a.row_number, a.parcel_id_raw, b.row_number, b.parcel_id_raw,
               round(ST_Area({as_geography("ST_Intersection(a.geom, b.geom)")})::numeric, 1),
               true, true
          FROM import_repairs a JOIN import_repairs b
            ON a.row_number < b.row_number AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)
    )
    {{findings}}
"""

# Each pair over the tolerance is a finding on both of its rows; an area measured on a repair
# says so.
_PAIR_FINDINGS = f"""
    INSERT INTO import_found (row_number, record_id, field, message, details)
    SELECT side.row_self, side.id_self, 'geometry',
           'overlaps row ' || side.row_other || ' (' || coalesce(side.id_other, '?')
           || ') by ' || pairs.area || ' m²'
           || CASE WHEN side.fixed_self AND side.fixed_other
                   THEN ', measured on the ST_MakeValid repairs of both shapes'
                   WHEN side.fixed_self THEN ', measured on this shape''s ST_MakeValid repair'
                   WHEN side.fixed_other THEN ', measured on that row''s ST_MakeValid repair'
                   ELSE '' END,
           jsonb_build_object('row', side.row_other, 'parcel_id', side.id_other,
                              'area_sq_m', pairs.area)
           || CASE WHEN side.fixed_self OR side.fixed_other THEN jsonb_build_object(
                  'measured_on_repair', CASE WHEN side.fixed_self AND side.fixed_other
                  THEN 'both' WHEN side.fixed_self THEN 'this' ELSE 'other' END)
              ELSE '{{}}'::jsonb END
      FROM pairs CROSS JOIN LATERAL (
               VALUES (row_a, id_a, fixed_a, row_b, id_b, fixed_b),
                      (row_b, id_b, fixed_b, row_a, id_a, fixed_a))
           AS side (row_self, id_self, fixed_self, row_other, id_other, fixed_other)
     WHERE pairs.area > {OVERLAP_TOLERANCE_SQ_M}
"""


def check_overlaps(session: Session) -> None:
    """Overlaps of more than the tolerance between two features of the file, and between a
    feature and a parcel already in the registry (other than the one it updates). An invalid
    shape's overlaps are measured on its ST_MakeValid repair (`import_repairs`).

    An overlap of more than the tolerance is an area the interiors share, so testing that
    first (ST_Relate) finds the same pairs. GEOS's relate can fail on near-degenerate shapes
    where its overlay does not: then the pairs are found as before, by ST_Intersects."""
    try:
        with session.begin_nested():
            session.execute(text(_overlapping_pairs(interiors_first=True)))
    except DBAPIError as error:
        if "GEOS" not in str(error):
            raise
        session.execute(text(_overlapping_pairs(interiors_first=False)))
    session.execute(text(_REPAIRED_PAIRS.format(findings=_PAIR_FINDINGS)))
    for shapes, valid, note in (
        ("import_rows", "a.valid", "''"),
        ("import_repairs", "true", "', measured on this shape''s ST_MakeValid repair'"),
    ):
        _registry_overlaps(session, shapes, valid, note)


def _registry_overlaps(session: Session, shapes: str, valid: str, note: str) -> None:
    area = as_geography("ST_Intersection(a.geom, p.geom)")
    session.execute(
        text(f"""
        INSERT INTO import_found (row_number, record_id, field, message, details)
        SELECT a.row_number, a.parcel_id_raw, 'geometry',
               'overlaps parcel ' || p.parcel_id || ' in the registry by '
               || round(o.area::numeric, 1) || ' m²' || {note},
               jsonb_build_object('parcel_id', p.parcel_id, 'area_sq_m', round(o.area::numeric, 1))
          FROM {shapes} a
          JOIN parcels p ON p.geom && a.geom AND ST_Intersects(p.geom, a.geom)
          CROSS JOIN LATERAL (SELECT ST_Area({area}) AS area) o
         WHERE p.retired_at IS NULL AND {valid}
           AND NOT EXISTS (SELECT 1 FROM import_rows same WHERE same.parcel_id = p.parcel_id)
           AND o.area > {OVERLAP_TOLERANCE_SQ_M}
    """)
    )


def incomplete_rows(session: Session) -> int:
    """Accepted rows whose record will lack a field verification needs (the file's value, else
    the registry's, else the default a new record gets)."""
    missing = " OR ".join(
        f"coalesce(r.{column}, p.{column}, {INSERT_DEFAULTS.get(column, 'NULL')}) IS NULL"
        for column in REQUIRED_FOR_ATTRIBUTED
    )
    return int(
        session.execute(
            text(
                "SELECT count(*) FROM import_rows r LEFT JOIN parcels p ON p.parcel_id = "
                "r.parcel_id "
                f"WHERE r.ok AND ({missing})"
            )
        ).scalar_one()
    )


def mark_rejected_rows(session: Session) -> None:
    session.execute(
        text(
            "UPDATE import_rows SET ok = false WHERE row_number IN "
            "(SELECT row_number FROM import_found WHERE severity = 'error' AND row_number IS "
            "NOT NULL)"
        )
    )
