from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from click.testing import Result
from shapely import affinity
from shapely.geometry import MultiPolygon
from shapely.geometry import Point
from shapely.geometry import Polygon
from shapely.geometry import box

from cli.imports.parcels import import_parcels_command
from tests.sql import execute
from tests.sql import query

LON, LAT = -118.30, 34.05
DEG = 0.0005  # ~50 m


def lot(i: int, j: int = 0, size: float = DEG * 0.8) -> Polygon:
    return box(LON + i * DEG, LAT + j * DEG, LON + i * DEG + size, LAT + j * DEG + size)


BOW_TIE = Polygon(
    [
        (LON, LAT + 0.01),
        (LON + DEG, LAT + 0.01 + DEG),
        (LON + DEG, LAT + 0.01),
        (LON, LAT + 0.01 + DEG),
    ]
)


def record(parcel_id: str, geometry: Any, **attributes: Any) -> dict[str, Any]:
    return {
        "APN": parcel_id,
        "SITE_ADDR": attributes.pop("address", f"{parcel_id} Main St"),
        "DEPT": attributes.pop("department", "GSD"),
        "STATUS": attributes.pop("status", "In Use"),
        "ACQ_DATE": attributes.pop("acquired", "1998-07-01"),
        "geometry": geometry,
        **attributes,
    }


def state(url: str) -> tuple[Any, ...]:
    """Everything an import may change: the parcels and the audit trail."""
    return tuple(
        query(
            url,
            "SELECT (SELECT count(*) FROM parcels), "
            "(SELECT count(*) FROM audit_events), "
            "(SELECT coalesce(sum(version), 0) FROM parcels)",
        )[0]
    )


def run(*args: str) -> Result:
    return CliRunner().invoke(import_parcels_command, list(args), catch_exceptions=False)


def write(
    tmp_path: Path,
    rows: list[dict[str, Any]],
    name: str = "parcels.gpkg",
    crs: str | None = "EPSG:4326",
) -> Path:
    path = tmp_path / name
    gpd.GeoDataFrame(rows, geometry="geometry", crs=crs).to_file(path)
    return path


def report(tmp_path: Path) -> dict[str, Any]:
    return json.loads((tmp_path / "report.json").read_text())


def problems_of(report_: dict[str, Any], field: str) -> list[dict[str, Any]]:
    return [p for p in report_["problems"] if p["field"] == field]


@pytest.fixture
def messy_file(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        [
            record("5555-001-001", lot(0)),  # row 1: good
            record("5555-001-002", BOW_TIE),  # 2: self-intersection
            record("5555-001-003", Point(LON, LAT)),  # 3: a point, no shape
            record("5555-001-004", lot(2)),  # 4: duplicate id …
            record("5555-001-004", lot(3)),  # 5: … of row 4
            record("---", lot(4)),  # 6: placeholder id
            record("6.03E+09", lot(5)),  # 7: scientific notation
            record("5555-001-008", lot(6, size=DEG * 1.5)),  # 8: overlaps row 9
            record("5555-001-009", lot(7)),  # 9: overlapped
            record("5555-001-010", lot(9), address=None),  # 10: address missing
            record("5555-001-011", lot(10), acquired="Lease in process"),  # 11: text, no date
            record("5555-001-012", lot(11), department="Genral Services"),  # 12: department typo
            record("5555-001-013", lot(12), status="Borrowed"),  # 13: unknown status
        ],
    )


def test_a_file_with_problems_is_rejected_whole_and_every_problem_is_reported(
    database: str, messy_file: Path, tmp_path: Path
) -> None:
    before = state(database)
    result = run(str(messy_file), "--report", str(tmp_path / "report.json"))
    assert result.exit_code == 1
    assert "nothing written" in result.output
    assert state(database) == before
    found = {(p["row"], p["field"]) for p in report(tmp_path)["problems"]}
    assert found == {
        (2, "geometry"),
        (3, "geometry"),
        (4, "parcel_id"),
        (5, "parcel_id"),
        (6, "parcel_id"),
        (7, "parcel_id"),
        (8, "geometry"),
        (9, "geometry"),
        (10, "address"),
        (11, "acquisition_date"),
        (12, "department_code"),
        (13, "status"),
    }
    messages = {p["row"]: p for p in report(tmp_path)["problems"]}
    # missing data is a warning (stored, incomplete), not a refusal
    assert {row for row, p in messages.items() if p["severity"] == "warning"} == {3, 10, 11}
    assert messages[11]["value"] == "Lease in process"  # kept as written in the report
    assert "Self-intersection" in messages[2]["message"]
    assert messages[2]["details"]["location"]["type"] == "Point"
    assert "is a point" in messages[3]["message"]
    assert "scientific notation" in messages[7]["message"]
    assert messages[7]["record_id"] == "6.03E+09"  # reported as written, never converted
    assert "placeholder" in messages[6]["message"]
    assert "matches no department — did you mean General Services?" in messages[12]["message"]
    assert "5555-001-009" in messages[8]["message"]
    assert "row 2 " in result.output or "row 2 parcel" in result.output


def test_the_batch_and_its_report_are_kept_even_when_rejected(
    database: str, messy_file: Path
) -> None:
    run(str(messy_file))
    ((outcome, counts, problems),) = query(
        database,
        "SELECT outcome, counts, (SELECT count(*) FROM import_problems) FROM import_batches",
    )
    assert outcome == "rejected"
    assert counts["read"] == 13 and counts["invalid"] == 9 and counts["warnings"] == 3
    assert problems >= 12


def test_skip_invalid_loads_the_good_features_and_reports_the_rest(
    database: str, messy_file: Path
) -> None:
    result = run(str(messy_file), "--skip-invalid")
    assert result.exit_code == 1, result.output  # some features were refused
    assert "parcels: 4 inserted, 0 updated, 0 unchanged" in result.output
    loaded = query(
        database,
        "SELECT parcel_id, address, acquisition_date, "
        "digitization_status FROM parcels ORDER BY parcel_id",
    )
    assert loaded == [
        ("5555-001-001", "5555-001-001 Main St", dt.date(1998, 7, 1), "digitized"),
        ("5555-001-003", "5555-001-003 Main St", dt.date(1998, 7, 1), "paper"),
        ("5555-001-010", None, dt.date(1998, 7, 1), "digitized"),  # incomplete
        ("5555-001-011", "5555-001-011 Main St", None, "digitized"),
    ]
    ((actor,),) = query(
        database, "SELECT DISTINCT actor FROM audit_events WHERE table_name = 'parcels'"
    )
    assert actor.startswith("cli (import #")


def test_a_dry_run_writes_nothing_but_the_batch(database: str, tmp_path: Path) -> None:
    path = write(tmp_path, [record("5555-001-001", lot(0))])
    before = state(database)
    result = run(str(path), "--dry-run")
    assert result.exit_code == 0
    assert state(database) == before
    assert query(database, "SELECT outcome FROM import_batches")[0][0] == "dry_run"


def test_repair_fixes_invalid_shapes_and_reports_the_area_change(
    database: str, tmp_path: Path
) -> None:
    path = write(tmp_path, [record("5555-001-002", BOW_TIE)])
    result = run(str(path), "--repair", "--report", str(tmp_path / "report.json"))
    assert result.exit_code == 0, result.output
    (repair,) = problems_of(report(tmp_path), "geometry")
    assert repair["severity"] == "repaired"
    assert "area change" in repair["message"]
    assert query(database, "SELECT ST_IsValid(geom), ST_NumGeometries(geom) FROM parcels")[0] == (
        True,
        2,
    )


def test_importing_the_same_file_twice_changes_nothing_the_second_time(
    database: str, tmp_path: Path
) -> None:
    path = write(tmp_path, [record("5555-001-001", lot(0)), record("5555-001-002", lot(1))])
    assert run(str(path)).exit_code == 0
    after_first = state(database)
    result = run(str(path))
    assert result.exit_code == 0
    assert "parcels: 0 inserted, 0 updated, 2 unchanged" in result.output
    assert state(database) == after_first


def test_a_changed_feature_is_updated_and_audited(database: str, tmp_path: Path) -> None:
    run(str(write(tmp_path, [record("5555-001-001", lot(0))])))
    moved = write(
        tmp_path,
        [record("5555-001-001", affinity.translate(lot(0), DEG / 10), address="9 New St")],
        name="moved.gpkg",
    )
    result = run(str(moved))
    assert "1 updated" in result.output
    ((changed,),) = query(database, "SELECT changed_fields FROM audit_events WHERE action='UPDATE'")
    assert {"address", "geom"} <= set(changed)


def test_a_paper_record_whose_shape_arrives_becomes_digitized_and_others_keep_their_status(
    database: str, tmp_path: Path
) -> None:
    execute(
        database,
        "INSERT INTO parcels (parcel_id, address, digitization_status) VALUES "
        "('5555-001-001', '5555-001-001 Main St', 'paper')",
    )
    run(str(write(tmp_path, [record("5555-001-002", lot(1))], name="first.gpkg")))
    execute(
        database,
        "UPDATE parcels SET digitization_status = 'verified' WHERE parcel_id = '5555-001-002'",
    )
    result = run(
        str(
            write(
                tmp_path,
                [
                    record("5555-001-001", lot(0)),
                    record("5555-001-002", lot(1)),
                    record("5555-001-003", lot(2)),
                ],
            )
        )
    )
    assert "1 inserted, 1 updated, 1 unchanged" in result.output
    assert query(
        database,
        "SELECT parcel_id, digitization_status, geom IS NOT NULL FROM parcels ORDER BY parcel_id",
    ) == [
        ("5555-001-001", "digitized", True),
        ("5555-001-002", "verified", True),  # unchanged in the file: left as verified
        ("5555-001-003", "digitized", True),
    ]


def test_an_overlap_with_a_parcel_already_in_the_registry_is_reported(
    database: str, tmp_path: Path
) -> None:
    run(str(write(tmp_path, [record("5555-001-001", lot(0))])))
    path = write(
        tmp_path, [record("5555-001-099", affinity.translate(lot(0), DEG / 4))], name="new.gpkg"
    )
    result = run(str(path), "--report", str(tmp_path / "report.json"))
    assert result.exit_code == 1
    (overlap,) = problems_of(report(tmp_path), "geometry")
    assert overlap["details"]["parcel_id"] == "5555-001-001"


def test_a_file_without_a_crs_needs_srs(database: str, tmp_path: Path) -> None:
    path = tmp_path / "parcels.csv"
    pd.DataFrame(
        [{"APN": "5555-001-001", "SITE_ADDR": "1 Main St", "DEPT": "GSD", "WKT": lot(0).wkt}]
    ).to_csv(path, index=False)
    result = run(str(path))
    assert result.exit_code == 2
    assert "--srs" in result.output
    assert run(str(path), "--srs", "EPSG:4326").exit_code == 0


def test_a_projected_file_is_reprojected_and_areas_do_not_depend_on_ring_order(
    database: str, tmp_path: Path
) -> None:
    counter_clockwise = lot(0, size=DEG)
    clockwise = Polygon(list(lot(3, size=DEG).exterior.coords)[::-1])
    frame = gpd.GeoDataFrame(
        [record("5555-001-001", counter_clockwise), record("5555-001-002", clockwise)],
        crs="EPSG:4326",
    )
    path = tmp_path / "stateplane.gpkg"
    frame.to_crs("EPSG:2229").to_file(path)
    assert run(str(path)).exit_code == 0
    areas = [
        float(row[0])
        for row in query(database, "SELECT land_area_sq_ft FROM parcels ORDER BY parcel_id")
    ]
    assert areas[0] == pytest.approx(areas[1], rel=1e-3)
    assert 27_000 < areas[0] < 28_000  # 0.0005° square at 34° N ≈ 46.1 m × 55.5 m ≈ 2,559 m²


@pytest.mark.parametrize("kind", ["zip", "geojson", "topojson"])
def test_shapefile_zip_geojson_and_topojson_are_read(
    database: str, tmp_path: Path, kind: str
) -> None:
    rows = [record("5555-001-001", lot(0)), record("5555-001-002", MultiPolygon([lot(1)]))]
    if kind == "zip":
        folder = tmp_path / "shp"
        folder.mkdir()
        gpd.GeoDataFrame(rows, crs="EPSG:4326").to_file(folder / "parcels.shp")
        path = tmp_path / "parcels.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for part in folder.iterdir():
                archive.write(part, part.name)
    elif kind == "geojson":
        path = write(tmp_path, rows, name="parcels.geojson")
    else:
        path = tmp_path / "parcels.topojson"
        path.write_text(json.dumps(_topojson(rows)))
    result = run(str(path), "--srs", "EPSG:4326")
    assert result.exit_code == 0, result.output
    assert query(database, "SELECT count(*) FROM parcels WHERE geom IS NOT NULL")[0][0] == 2


def _topojson(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A minimal unquantized TopoJSON: one arc per ring."""
    arcs, geometries = [], []
    for row in rows:
        polygon = (
            row["geometry"].geoms[0]
            if isinstance(row["geometry"], MultiPolygon)
            else row["geometry"]
        )
        arcs.append([list(xy) for xy in polygon.exterior.coords])
        properties = {k: v for k, v in row.items() if k != "geometry"}
        geometries.append({"type": "Polygon", "arcs": [[len(arcs) - 1]], "properties": properties})
    return {
        "type": "Topology",
        "arcs": arcs,
        "objects": {"parcels": {"type": "GeometryCollection", "geometries": geometries}},
    }


def test_attributes_from_a_separate_spreadsheet_are_joined_by_id(
    database: str, tmp_path: Path
) -> None:
    shapes = write(
        tmp_path,
        [{"APN": "5555-001-001", "geometry": lot(0)}, {"APN": "5555-001-002", "geometry": lot(1)}],
    )
    extract = tmp_path / "assessor.xlsx"
    pd.DataFrame(
        [
            {"APN": "5555-001-001", "Address": "1 Main St", "Dept": "RAP"},
            {"APN": "5555-001-002", "Address": "2 Main St", "Dept": "GSD"},
        ]
    ).to_excel(extract, index=False)
    result = run(
        str(shapes),
        "--join",
        str(extract),
        "--on",
        "APN",
        "--map",
        "address=Address",
        "--map",
        "department_code=Dept",
    )
    assert result.exit_code == 0, result.output
    assert query(
        database,
        "SELECT p.address, d.code FROM parcels p JOIN departments d "
        "ON d.id = p.department_id ORDER BY parcel_id",
    ) == [("1 Main St", "RAP"), ("2 Main St", "GSD")]


def test_a_map_option_naming_an_unknown_column_is_a_usage_error(
    database: str, tmp_path: Path
) -> None:
    path = write(tmp_path, [record("5555-001-001", lot(0))])
    result = run(str(path), "--map", "address=NOPE")
    assert result.exit_code == 2
    assert "NOPE" in result.output


def test_new_parcels_are_found_by_one_pass_over_the_registry_even_when_it_looks_empty(
    db_session: Any,
) -> None:
    """An analyzed empty `parcels` (reltuples 0) once made the planner scan the growing table
    for every incoming row: 94,000 parcels took minutes instead of seconds."""
    from sqlalchemy import text

    from registry.imports.parcels.load import new_rows_insert
    from registry.imports.parcels.load import without_nested_loops

    db_session.execute(text("ANALYZE parcels"))
    db_session.execute(
        text(
            "CREATE TEMP TABLE import_rows (parcel_id text, address text, "
            "ok boolean) ON COMMIT DROP"
        )
    )
    db_session.execute(
        text("INSERT INTO import_rows SELECT 'p' || n, 'a', true FROM generate_series(1, 1000) n")
    )
    db_session.execute(text("ANALYZE import_rows"))
    insert = new_rows_insert(["address"], ["r.address"])
    with without_nested_loops(db_session):
        plan = "\n".join(db_session.execute(text(f"EXPLAIN {insert.text}")).scalars())
        assert "Nested Loop" not in plan and "Hash" in plan
        db_session.execute(insert)
    assert db_session.execute(text("SELECT current_setting('enable_nestloop')")).scalar() == "on"
    assert db_session.execute(text("SELECT count(*) FROM parcels")).scalar() == 1000
