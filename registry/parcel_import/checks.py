"""Set-based checks of the staged rows against each other and against the registry.

Each check inserts its findings into `import_found`; nothing here writes to the registry.
"""

from __future__ import annotations

import difflib

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.sql import as_geography
from registry.parcel_validation import OVERLAP_TOLERANCE_SQ_M
from registry.settings import STORAGE_SRID, Settings


def prepare_geometry(session: Session, source_srid: int) -> None:
    session.execute(text(
        "UPDATE import_rows SET geom = ST_Transform(ST_SetSRID(ST_GeomFromWKB("
        f"decode(geom_hex, 'hex')), {int(source_srid)}), {STORAGE_SRID}) "
        "WHERE geom_hex IS NOT NULL"
    ))


def check_geometry(session: Session, settings: Settings, repair: bool,
                   geometry_expected: bool) -> None:
    statements = []
    if geometry_expected:
        statements.append(
            "INSERT INTO import_found (row_number, record_id, field, message) "
            "SELECT row_number, parcel_id_raw, 'geometry', 'is missing' FROM import_rows "
            # a record the file itself calls a paper record has no shape yet, rightly
            "WHERE geom IS NULL AND digitization_status IS DISTINCT FROM 'paper'"
        )
    statements += [
        "INSERT INTO import_found (row_number, record_id, field, message) "
        "SELECT row_number, parcel_id_raw, 'geometry', 'is empty' FROM import_rows "
        "WHERE geom IS NOT NULL AND ST_IsEmpty(geom)",
        "INSERT INTO import_found (row_number, record_id, field, message) "
        "SELECT row_number, parcel_id_raw, 'geometry', "
        "'must be a Polygon or MultiPolygon, not ' || initcap(GeometryType(geom)) "
        "FROM import_rows WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom) "
        "AND GeometryType(geom) NOT IN ('POLYGON', 'MULTIPOLYGON')",
        # take the non-polygons out of the later checks, which expect polygons
        "UPDATE import_rows SET geom = NULL, ok = false WHERE geom IS NOT NULL "
        "AND (ST_IsEmpty(geom) OR GeometryType(geom) NOT IN ('POLYGON', 'MULTIPOLYGON'))",
    ]
    for statement in statements:
        session.execute(text(statement))
    detail = (
        "jsonb_build_object('reason', (ST_IsValidDetail(geom)).reason, 'location', "
        "ST_AsGeoJSON(ST_Transform(ST_SetSRID((ST_IsValidDetail(geom)).location, "
        f"{STORAGE_SRID}), 4326))::jsonb)"
    )
    if repair:
        session.execute(text(f"""
            WITH repaired AS (
                UPDATE import_rows r
                   SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), 3))
                  FROM (SELECT row_number, geom AS original, {detail} AS details
                          FROM import_rows WHERE geom IS NOT NULL AND NOT ST_IsValid(geom)) bad
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
    else:
        session.execute(text(f"""
            INSERT INTO import_found (row_number, record_id, field, message, details)
            SELECT row_number, parcel_id_raw, 'geometry',
                   'is not valid: ' || (ST_IsValidDetail(geom)).reason, {detail}
              FROM import_rows WHERE geom IS NOT NULL AND NOT ST_IsValid(geom)
        """))
    xmin, ymin, xmax, ymax = settings.city_extent
    session.execute(text(f"""
        INSERT INTO import_found (row_number, record_id, field, message)
        SELECT row_number, parcel_id_raw, 'geometry',
               'lies outside the city''s extent: check the CRS (--srs) and the coordinates'
          FROM import_rows WHERE geom IS NOT NULL AND NOT ST_CoveredBy(
              ST_Transform(geom, 4326), ST_MakeEnvelope({xmin}, {ymin}, {xmax}, {ymax}, 4326))
    """))


def check_duplicates(session: Session) -> None:
    session.execute(text("""
        INSERT INTO import_found (row_number, record_id, field, message, details)
        SELECT r.row_number, r.parcel_id_raw, 'parcel_id',
               'appears more than once in the file (rows ' || d.rows_text || ')',
               jsonb_build_object('rows', d.rows)
          FROM import_rows r
          JOIN (SELECT parcel_id, jsonb_agg(row_number ORDER BY row_number) AS rows,
                       string_agg(row_number::text, ', ' ORDER BY row_number) AS rows_text
                  FROM import_rows WHERE parcel_id IS NOT NULL
                 GROUP BY parcel_id HAVING count(*) > 1) d ON d.parcel_id = r.parcel_id
    """))


def check_departments(session: Session) -> None:
    session.execute(text("""
        UPDATE import_rows r SET department_id = d.id FROM departments d
         WHERE r.department_code IS NOT NULL
           AND lower(r.department_code) IN (lower(d.code), lower(d.name))
    """))
    known = session.execute(text("SELECT code, name FROM departments")).all()
    names = [row.code for row in known] + [row.name for row in known]
    unknown = session.execute(text(
        "SELECT DISTINCT department_code FROM import_rows "
        "WHERE department_code IS NOT NULL AND department_id IS NULL"
    )).scalars().all()
    for value in unknown:
        nearest = difflib.get_close_matches(value.strip("?! "), names, n=1, cutoff=0.5)
        hint = f"; did you mean {nearest[0]!r}?" if nearest else ""
        session.execute(
            text(
                "INSERT INTO import_found (row_number, record_id, field, message, details) "
                "SELECT row_number, parcel_id_raw, 'department_code', :message, "
                "jsonb_build_object('value', department_code, "
                "'suggestion', CAST(:nearest AS text)) "
                "FROM import_rows WHERE department_code = :value AND department_id IS NULL"
            ),
            {"value": value, "message": f"no department {value!r}{hint}",
             "nearest": nearest[0] if nearest else None},
        )


def check_overlaps(session: Session) -> None:
    """Overlaps of more than the tolerance between two features of the file, and between a
    feature and a parcel already in the registry (other than the one it updates)."""
    session.execute(text("ANALYZE import_rows"))
    area = as_geography("ST_Intersection(a.geom, b.geom)")
    session.execute(text(f"""
        WITH pairs AS (
            SELECT a.row_number AS row_a, a.parcel_id_raw AS id_a, b.row_number AS row_b,
                   b.parcel_id_raw AS id_b, round(ST_Area({area})::numeric, 1) AS area
              FROM import_rows a JOIN import_rows b
                ON a.row_number < b.row_number AND a.geom && b.geom
               AND ST_Intersects(a.geom, b.geom)
             WHERE ST_IsValid(a.geom) AND ST_IsValid(b.geom)
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
    """))
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
         WHERE p.retired_at IS NULL AND ST_IsValid(a.geom)
           AND NOT EXISTS (SELECT 1 FROM import_rows same WHERE same.parcel_id = p.parcel_id)
           AND o.area > {OVERLAP_TOLERANCE_SQ_M}
    """))


def mark_rejected_rows(session: Session) -> None:
    session.execute(text(
        "UPDATE import_rows SET ok = false WHERE row_number IN "
        "(SELECT row_number FROM import_found WHERE severity = 'error' AND row_number IS NOT NULL)"
    ))
