"""Set-based checks of the staged rows against each other and against the registry.

Each check inserts its findings into `import_found`; nothing here writes to the registry.
"""

from __future__ import annotations

import difflib

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from registry.parcels.validation import OVERLAP_TOLERANCE_SQ_M
from registry.settings import STORAGE_SRID, Settings
from registry.spatial import as_geography

_POLYGONAL = "('POLYGON', 'MULTIPOLYGON')"


def _invalidity(shape: str) -> str:
    """Why `shape` is not valid, and where (in EPSG:4326), as jsonb."""
    return (f"jsonb_build_object('reason', (ST_IsValidDetail({shape})).reason, 'location', "
            f"ST_AsGeoJSON(ST_Transform(ST_SetSRID((ST_IsValidDetail({shape})).location, "
            f"{STORAGE_SRID}), 4326))::jsonb)")


def _report(session: Session, condition: str, message: str, details: str = "NULL") -> None:
    """A geometry finding for each staged row `r` that meets `condition` (SQL, as are
    `message` and `details`)."""
    session.execute(text(f"""
        INSERT INTO import_found (row_number, record_id, field, message, details)
        SELECT r.row_number, r.parcel_id_raw, 'geometry', {message}, {details}
          FROM import_rows r WHERE {condition}
    """))


def check_geometry(session: Session, settings: Settings, repair: bool,
                   geometry_expected: bool) -> None:
    """Each check is a scan of the staged rows, cheap now that none validates a shape again
    (`valid` was computed as the row was written) nor asks GEOS whether it lies in the city."""
    if geometry_expected:
        # a record the file itself calls a paper record has no shape yet, rightly
        _report(session, "r.geom IS NULL AND r.digitization_status IS DISTINCT FROM 'paper'",
                "'is missing'")
    _report(session, "r.geom IS NOT NULL AND ST_IsEmpty(r.geom)", "'is empty'")
    _report(session, "r.geom IS NOT NULL AND NOT ST_IsEmpty(r.geom) "
                     f"AND GeometryType(r.geom) NOT IN {_POLYGONAL}",
            "'must be a Polygon or MultiPolygon, not ' || initcap(GeometryType(r.geom))")
    # take the non-polygons out of the later checks, which expect polygons
    session.execute(text(
        "UPDATE import_rows SET geom = NULL, ok = false WHERE geom IS NOT NULL "
        f"AND (ST_IsEmpty(geom) OR GeometryType(geom) NOT IN {_POLYGONAL})"
    ))
    if repair:
        _repair(session)
    else:
        _report(session, "NOT r.valid", "'is not valid: ' || (ST_IsValidDetail(r.geom)).reason",
                _invalidity("r.geom"))
    _report(session, f"r.geom IS NOT NULL AND {_outside_city(settings)}",
            "'lies outside the city''s extent: check the CRS (--srs) and the coordinates'")


def _outside_city(settings: Settings) -> str:
    """A shape not covered by the city's extent. For a rectangle, being covered is having every
    vertex inside it, so comparing the shape's exact (double precision) bounds says what
    ST_CoveredBy said, without GEOS; an empty shape is outside, as ST_CoveredBy had it."""
    xmin, ymin, xmax, ymax = settings.city_extent
    shape = "ST_Transform(r.geom, 4326)"
    inside = (f"ST_XMin({shape}) >= {xmin} AND ST_YMin({shape}) >= {ymin} "
              f"AND ST_XMax({shape}) <= {xmax} AND ST_YMax({shape}) <= {ymax}")
    return f"({inside}) IS NOT TRUE"


def _repair(session: Session) -> None:
    session.execute(text(f"""
        WITH repaired AS (
            UPDATE import_rows r
               SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), 3))
              FROM (SELECT row_number, geom AS original, {_invalidity('geom')} AS details
                      FROM import_rows WHERE NOT valid) bad
             WHERE r.row_number = bad.row_number
         RETURNING r.row_number, r.parcel_id_raw, bad.details, bad.original, r.geom AS fixed
        )
        INSERT INTO import_found (row_number, record_id, field, severity, message, details)
        SELECT row_number, parcel_id_raw, 'geometry', 'repaired',
               'was not valid (' || (details->>'reason') || '); repaired with ST_MakeValid, '
               || 'area change ' || round((ST_Area({as_geography('fixed')})
               - ST_Area({as_geography('ST_Buffer(original, 0)')}))::numeric, 1) || ' m²',
               details || jsonb_build_object('area_change_sq_m', round((
                   ST_Area({as_geography('fixed')})
                   - ST_Area({as_geography('ST_Buffer(original, 0)')}))::numeric, 1))
          FROM repaired
    """))


def check_duplicates(session: Session) -> None:
    """The repeated ids are found first (a hash aggregate), and their rows listed after: the
    ordered lists cost a sort, which only the repeated ids need."""
    session.execute(text("""
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
    """))


def check_departments(session: Session) -> None:
    """A department the registry does not know (staging resolved the known ones), with the
    nearest code or name as a suggestion."""
    unknown = session.execute(text(
        "SELECT DISTINCT department_code FROM import_rows "
        "WHERE department_code IS NOT NULL AND department_id IS NULL"
    )).scalars().all()
    if not unknown:
        return
    known = session.execute(text("SELECT code, name FROM departments")).all()
    names = [row.code for row in known] + [row.name for row in known]
    messages, suggestions = [], []
    for value in unknown:
        nearest = difflib.get_close_matches(value.strip("?! "), names, n=1, cutoff=0.5)
        messages.append(f"no department {value!r}"
                        + (f"; did you mean {nearest[0]!r}?" if nearest else ""))
        suggestions.append(nearest[0] if nearest else None)
    session.execute(text("""
        INSERT INTO import_found (row_number, record_id, field, message, details)
        SELECT r.row_number, r.parcel_id_raw, 'department_code', u.message,
               jsonb_build_object('value', r.department_code, 'suggestion', u.suggestion)
          FROM import_rows r
          JOIN unnest(CAST(:values AS text[]), CAST(:messages AS text[]),
                      CAST(:suggestions AS text[])) AS u (value, message, suggestion)
            ON r.department_code = u.value
         WHERE r.department_id IS NULL
    """), {"values": unknown, "messages": messages, "suggestions": suggestions})


def _overlapping_pairs(interiors_first: bool) -> str:
    area = as_geography("ST_Intersection(a.geom, b.geom)")
    # '2********': the interiors share an area. Neighbours that only share an edge (most
    # pairs of a real city's parcels) are ruled out before any intersection is computed.
    meet = ("ST_Relate(a.geom, b.geom, '2********')" if interiors_first
            else "ST_Intersects(a.geom, b.geom)")
    return f"""
        WITH pairs AS (
            SELECT a.row_number AS row_a, a.parcel_id_raw AS id_a, b.row_number AS row_b,
                   b.parcel_id_raw AS id_b, round(ST_Area({area})::numeric, 1) AS area
              FROM import_rows a JOIN import_rows b
                ON a.row_number < b.row_number AND a.geom && b.geom AND {meet}
             WHERE a.valid AND b.valid
        )
        INSERT INTO import_found (row_number, record_id, field, message, details)
        SELECT side.row_self, side.id_self, 'geometry',
               'overlaps row ' || side.row_other || ' (' || coalesce(side.id_other, '?')
               || ') by ' || pairs.area || ' m²',
               jsonb_build_object('row', side.row_other, 'parcel_id', side.id_other,
                                  'area_sq_m', pairs.area)
          FROM pairs CROSS JOIN LATERAL (VALUES (row_a, id_a, row_b, id_b),
                                                (row_b, id_b, row_a, id_a))
               AS side (row_self, id_self, row_other, id_other)
         WHERE pairs.area > {OVERLAP_TOLERANCE_SQ_M}
    """


def check_overlaps(session: Session) -> None:
    """Overlaps of more than the tolerance between two features of the file, and between a
    feature and a parcel already in the registry (other than the one it updates).

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
    area = as_geography("ST_Intersection(a.geom, p.geom)")
    session.execute(text(f"""
        INSERT INTO import_found (row_number, record_id, field, message, details)
        SELECT a.row_number, a.parcel_id_raw, 'geometry',
               'overlaps parcel ' || p.parcel_id || ' in the registry by '
               || round(o.area::numeric, 1) || ' m²',
               jsonb_build_object('parcel_id', p.parcel_id, 'area_sq_m', round(o.area::numeric, 1))
          FROM import_rows a
          JOIN parcels p ON p.geom && a.geom AND ST_Intersects(p.geom, a.geom)
          CROSS JOIN LATERAL (SELECT ST_Area({area}) AS area) o
         WHERE p.retired_at IS NULL AND a.valid
           AND NOT EXISTS (SELECT 1 FROM import_rows same WHERE same.parcel_id = p.parcel_id)
           AND o.area > {OVERLAP_TOLERANCE_SQ_M}
    """))


def mark_rejected_rows(session: Session) -> None:
    session.execute(text(
        "UPDATE import_rows SET ok = false WHERE row_number IN "
        "(SELECT row_number FROM import_found WHERE severity = 'error' AND row_number IS NOT NULL)"
    ))
