"""The parcel importer's fast paths report and write what the slower ones did: geometry sent as
EWKB in binary COPY, departments resolved while staging, amounts read per distinct value, the
extent compared by exact bounds, overlaps ruled out by ST_Relate (and found again without it
when GEOS's relate fails)."""

from __future__ import annotations

import math
import struct
from decimal import Decimal
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely import affinity
from shapely.geometry import Polygon
from shapely.geometry import box

from registry.imports.parcels.normalise import _parse_amounts
from registry.imports.parcels.normalise import _parse_money
from registry.imports.parcels.staging import _as_ewkb
from registry.settings import DEFAULT_CITY_EXTENT
from tests.sql import query
from tests.test_parcel_import import DEG
from tests.test_parcel_import import lot
from tests.test_parcel_import import problems_of
from tests.test_parcel_import import record
from tests.test_parcel_import import report
from tests.test_parcel_import import run
from tests.test_parcel_import import write


def _messages(tmp_path: Path, field: str) -> dict[int, str]:
    return {p["row"]: p["message"] for p in problems_of(report(tmp_path), field)}


def test_a_department_is_found_by_code_or_name_whatever_the_case(
    database: str, tmp_path: Path
) -> None:
    given = ["gsd", "GENERAL SERVICES", "recreation and parks", "Rap", "Genral Services"]
    path = write(
        tmp_path,
        [
            record(f"5555-001-{i:03d}", lot(i), department=department)
            for i, department in enumerate(given)
        ],
    )
    result = run(str(path), "--skip-invalid", "--report", str(tmp_path / "report.json"))
    assert result.exit_code == 1, result.output  # one feature was refused
    assert query(
        database,
        "SELECT p.parcel_id, d.code FROM parcels p "
        "JOIN departments d ON d.id = p.department_id "
        "ORDER BY p.parcel_id",
    ) == [
        ("5555-001-000", "GSD"),
        ("5555-001-001", "GSD"),
        ("5555-001-002", "RAP"),
        ("5555-001-003", "RAP"),
    ]
    (problem,) = problems_of(report(tmp_path), "department_code")
    assert problem["row"] == 5
    assert problem["message"] == (
        "'Genral Services' matches no department — did you mean General Services?"
    )
    assert (problem["value"], problem["column"]) == ("Genral Services", "DEPT")
    assert problem["details"] == {"suggestion": "General Services"}


def test_a_file_in_another_srid_is_stored_as_postgis_transforms_it(
    database: str, tmp_path: Path
) -> None:
    frame = gpd.GeoDataFrame(
        [record(f"5555-001-{i:03d}", lot(i)) for i in range(3)], crs="EPSG:4326"
    ).to_crs("EPSG:2229")
    frame.to_file(tmp_path / "stateplane.gpkg")
    assert run(str(tmp_path / "stateplane.gpkg")).exit_code == 0
    for parcel_id, geometry in zip(frame["APN"], frame.geometry, strict=True):
        ((same,),) = query(
            database,
            "SELECT geom = ST_Multi(ST_Transform(ST_GeomFromWKB(:wkb, 2229), 4326)) "
            "FROM parcels WHERE parcel_id = :id",
            wkb=shapely.to_wkb(geometry),
            id=parcel_id,
        )
        assert same


def test_a_ring_that_is_not_closed_fails_the_import_and_writes_nothing(
    database: str, tmp_path: Path
) -> None:
    path = tmp_path / "unclosed.csv"
    ring = ",".join(f"{x} {y}" for x, y in list(lot(0).exterior.coords)[:-1])
    pd.DataFrame(
        [
            {
                "APN": "5555-001-001",
                "SITE_ADDR": "1 Main St",
                "DEPT": "GSD",
                "WKT": f"POLYGON(({ring}))",
            }
        ]
    ).to_csv(path, index=False)
    with pytest.raises(Exception, match="closed rings"):
        run(str(path), "--srs", "EPSG:4326")
    assert query(
        database, "SELECT (SELECT count(*) FROM parcels), (SELECT count(*) FROM import_batches)"
    ) == [(0, 0)]


def test_the_city_extent_is_exact_to_the_last_bit(database: str, tmp_path: Path) -> None:
    west, south = DEFAULT_CITY_EXTENT[:2]
    on_the_corner = box(west, south, west + DEG, south + DEG)
    a_hair_west = box(math.nextafter(west, -math.inf), south + DEG * 2, west + DEG, south + DEG * 3)
    path = write(
        tmp_path, [record("5555-001-001", on_the_corner), record("5555-001-002", a_hair_west)]
    )
    run(str(path), "--report", str(tmp_path / "report.json"))
    assert _messages(tmp_path, "geometry") == {
        2: "lies outside the city (Los Angeles's extent): check the CRS (--srs) and the coordinates"
    }


def test_neighbours_that_share_an_edge_do_not_overlap_but_others_do(
    database: str, tmp_path: Path
) -> None:
    neighbours = [record(f"5555-001-{i:03d}", lot(i, size=DEG)) for i in range(4)]
    neighbours[1]["geometry"] = affinity.translate(lot(1, size=DEG), DEG / 10)  # ~255 m²
    neighbours[3]["geometry"] = affinity.translate(lot(3, size=DEG), -DEG / 100_000)  # < 1 m²
    path = write(tmp_path, neighbours)
    run(str(path), "--report", str(tmp_path / "report.json"))
    assert _messages(tmp_path, "geometry") == {
        2: "overlaps row 3 (5555-001-002) by 256.0 m²",
        3: "overlaps row 2 (5555-001-001) by 256.0 m²",
    }


def test_overlaps_are_still_found_where_geos_relate_fails(database: str, tmp_path: Path) -> None:
    square = Polygon([(-118.5, 34.0), (-118.5, 34.01), (-118.49, 34.01), (-118.49, 34.0)])
    sliver = Polygon(
        [
            (-118.5, 33.999999999999986),
            (-118.499999999, 34.000007174567465),
            (-118.49999999971766, 34.00000999999999),
            (-118.5, 33.999999999999986),
        ]
    )
    # GEOS's relate fails on this valid sliver on the square's corner (its overlay does not),
    # so the check runs again without ST_Relate
    with pytest.raises(Exception, match="TopologyException"):
        query(
            database,
            "SELECT ST_Relate(ST_GeomFromWKB(:a), ST_GeomFromWKB(:b), '2********')",
            a=shapely.to_wkb(square),
            b=shapely.to_wkb(sliver),
        )
    path = write(
        tmp_path,
        [
            record("5555-001-001", square),
            record("5555-001-002", sliver),
            record("5555-001-003", lot(0)),
            record("5555-001-004", affinity.translate(lot(0), DEG / 4)),
        ],
    )
    result = run(str(path), "--report", str(tmp_path / "report.json"))
    assert result.exit_code == 1
    assert _messages(tmp_path, "geometry") == {
        3: "overlaps row 4 (5555-001-004) by 1126.6 m²",
        4: "overlaps row 3 (5555-001-003) by 1126.6 m²",
    }


def test_plain_amounts_are_read_as_the_general_parser_reads_them() -> None:
    values = [
        "12",
        "007.50",
        "12.3",
        "0.05",
        "1234567.89",
        "0",
        "5.",
        ".5",
        "$1,234.50",
        " 12 ",
        "1.005",
        "1.000",
        "-5",
        "-0",
        "abc",
        "1e3",
        "1_000",
        "NaN",
        "Infinity",
        "١٢",
        "12\n",
        None,
    ]
    parsed = _parse_amounts(pd.Series(values, dtype="string"))
    expected = [_parse_money(value) for value in values]
    got = [
        amount if reason is None else reason
        for amount, reason in zip(parsed["amount"], parsed["reason"], strict=True)
    ]
    assert got == expected
    assert [str(v) for v in got if isinstance(v, Decimal)] == [
        str(v) for v in expected if isinstance(v, Decimal)
    ]


@pytest.mark.parametrize("byte_order", [0, 1])
@pytest.mark.parametrize(
    "geometry",
    [
        lot(0),
        shapely.MultiPolygon([lot(0), lot(2)]),
        shapely.force_3d(lot(0), 7.0),
        shapely.Point(1, 2),
    ],
)
def test_wkb_gets_the_srid_in_its_own_byte_order(geometry: Any, byte_order: int) -> None:
    wkb = shapely.to_wkb(geometry, byte_order=byte_order, flavor="iso")
    already = shapely.to_wkb(
        shapely.set_srid(geometry, 2229), byte_order=byte_order, include_srid=True
    )
    converted = _as_ewkb([wkb, already, None, b""], 4326)
    for ewkb in converted[:2]:
        assert ewkb is not None
        assert shapely.get_srid(shapely.from_wkb(ewkb)) == 4326
        assert shapely.from_wkb(ewkb).equals_exact(geometry, 0)
        assert struct.unpack("<I" if byte_order else ">I", ewkb[5:9]) == (4326,)
    assert converted[2:] == [None, None]
