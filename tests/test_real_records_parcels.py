"""Real records, imported as they are (issue 11, items 2 and 4, parcels): a New England city's
TopoJSON with map-lot ids and a separate assessor table, and LA assessor-roll extracts with
10-digit AINs, NULL cells and TOTAL footers (tests/data/real_world, whose README counts every
defect). Incomplete is not invalid: a record that only lacks data is stored, incomplete; an
error refuses its row; every problem is reported in one pass."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from click.testing import Result
from flask import Flask

from cli.main import cli
from registry.city.ids import IdFormat
from registry.city.ids import id_problem
from registry.city.profile import CityProfile
from tests.auth_fixtures import SignedInClient
from tests.sql import execute
from tests.sql import query
from tests.sql import scalar

REAL_WORLD = Path(__file__).parent / "data" / "real_world"
PORTLAND = REAL_WORLD / "portland_like"
LA_ROLL = REAL_WORLD / "la_assessor_roll"
# OBJECTID (= feature number) → what is wrong with it (README of tests/data/real_world)
PLACEHOLDERS = {56: "UNKNOWN", 60: "000-000", 216: "000-000"}
DUPLICATES = {25: "110-154", 275: "110-154", 85: "402-129", 103: "402-129"}
BOW_TIE, OVERLAPPING, EMPTY = 164, (92, 93), 151
REFUSED = {*PLACEHOLDERS, *DUPLICATES, BOW_TIE, *OVERLAPPING, EMPTY}
E_IDS = (
    "267E-17",
    "101E-2",
    "268E-41",
    "120E-05",
    "345E-8",
    "232E-11",
    "199E-3",
    "310E-22",
    "267E-18",
    "144E-9",
    "402E-1",
    "388E-12",
    "156E-30",
    "273E-6",
    "219E-14",
    "333E-07",
    "108E-25",
    "251E-4",
)
FEATURES = 296
LA_ADDRESS = "address={SA_HOUSE_NBR} {SA_DIRECTION} {SA_STREET}"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def registry(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    for name in (
        "REGISTRY_CITY_EXTENT",
        "REGISTRY_PARCEL_ID_PATTERN",
        "REGISTRY_FISCAL_YEAR_START_MONTH",
    ):
        monkeypatch.delenv(name, raising=False)
    return fresh_database_url


@pytest.fixture
def portland(registry: str) -> str:
    """The Portland look-alike described from the shell, as its clerk would."""
    ok("city", "set", "--name", "Portland", "--fiscal-year-start", "7")
    ok("city", "boundary", "import", str(PORTLAND / "boundary.geojson"))
    ok("city", "id-format", "remove", "LA County APN")
    ok(
        "city",
        "id-format",
        "add",
        "Map-Lot",
        "--example",
        "127-123",
        "--example",
        "268B-41",
        "--example",
        "267E-17",
        "--pattern",
        r"^\d{3}[A-E]?-\d+$",
    )
    ok("city", "placeholder", "add", "000-000")
    ok("city", "placeholder", "add", "UNKNOWN")
    ok("departments", "import", str(PORTLAND / "departments.csv"))
    ok("districts", "import", str(PORTLAND / "districts.geojson"))
    return registry


def import_portland(report: Path, *extra: str) -> Result:
    return run(
        "import",
        "parcels",
        str(PORTLAND / "parcels.topojson"),
        "--srs",
        "EPSG:4326",
        "--id-field",
        "MAP_LOT",
        "--join",
        str(PORTLAND / "assessor.csv"),
        "--on",
        "MAP_LOT",
        "--report",
        str(report),
        *extra,
    )


def errors(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in report["problems"] if p["severity"] == "error"]


def assessor_rows() -> dict[str, dict[str, str]]:
    with (PORTLAND / "assessor.csv").open(encoding="utf-8", newline="") as lines:
        return {row["Map-Lot"]: row for row in csv.DictReader(lines)}


# --- the Portland look-alike: 0 of 296 imported before; now every record that only lacks data


def test_a_real_city_file_imports_every_record_that_only_lacks_data_and_refuses_the_errors(
    portland: str, tmp_path: Path
) -> None:
    result = import_portland(tmp_path / "report.json", "--skip-invalid")
    assert result.exit_code == 1, result.output  # some rows were refused: a script notices
    report = json.loads((tmp_path / "report.json").read_text())
    stored = FEATURES - len(REFUSED)
    assert report["outcome"] == "imported_with_skips" and report["written"] is True
    expected = {
        "read": FEATURES,
        "valid": stored,
        "invalid": len(REFUSED),
        "inserted": stored,
        "incomplete": stored,
    }
    assert {name: report["counts"][name] for name in expected} == expected
    assert scalar(portland, "SELECT count(*) FROM parcels") == stored
    # no owning department in the file: every record is incomplete, none refused for it
    assert scalar(portland, "SELECT count(*) FROM parcels WHERE department_id IS NULL") == stored
    (unmapped,) = [p for p in report["problems"] if p["field"] == "department_code"]
    assert unmapped["severity"] == "warning" and unmapped["row"] is None
    # map-lots that look like scientific notation are ids, stored as written
    assert not [p for p in report["problems"] if "scientific" in p["message"]]
    assert {
        row[0] for row in query(portland, "SELECT parcel_id FROM parcels WHERE parcel_id ~ 'E-'")
    } == set(E_IDS)
    # addresses come from the assessor table, joined by map-lot (spelled Map-Lot there)
    table = assessor_rows()
    addresses: dict[str, str | None] = {
        id_: address
        for id_, address in map(tuple, query(portland, "SELECT parcel_id, address FROM parcels"))
    }
    joined = {id_: row["LOCATION"] for id_, row in table.items() if id_ in addresses}
    assert {id_: addresses[id_] for id_ in joined} == {
        id_: (None if location == "NULL" else location) for id_, location in joined.items()
    }
    without_address = {id_ for id_, address in addresses.items() if address is None}
    missing = [p for p in report["problems"] if p["field"] == "address"]
    assert {p["record_id"] for p in missing} >= without_address
    assert all(p["severity"] == "warning" for p in missing)
    assert len(without_address) == 12 + 1  # 12 shape ids not in the table, 1 NULL LOCATION
    # the table's 9 ids without a shape are reported, not lost
    orphans = [p for p in report["problems"] if "no feature has this id" in p["message"]]
    assert sorted(p["record_id"] for p in orphans) == [
        "009-118",
        "077-12",
        "127-124",
        "198D-20",
        "233A-5",
        "268B-99",
        "301-64",
        "315E-3",
        "412-7",
    ]


def test_every_error_of_the_file_is_reported_in_one_pass_in_full(
    portland: str, tmp_path: Path
) -> None:
    result = import_portland(tmp_path / "report.json")
    assert result.exit_code == 1
    assert "nothing written" in result.output
    assert scalar(portland, "SELECT count(*) FROM parcels") == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["outcome"] == "rejected" and report["written"] is False
    assert len(report["problems"]) == report["problem_count"]
    found = errors(report)
    assert {p["row"] for p in found} == REFUSED
    by_row = {row: [p for p in found if p["row"] == row] for row in REFUSED}
    for row, value in PLACEHOLDERS.items():
        (problem,) = by_row[row]
        assert problem["message"] == f"{value!r} is a placeholder, not a parcel id"
    for row, value in DUPLICATES.items():
        (problem,) = by_row[row]
        assert problem["record_id"] == value and "appears more than once" in problem["message"]
    (empty,) = by_row[EMPTY]
    assert empty["message"] == "is empty"
    for row, other in (OVERLAPPING, OVERLAPPING[::-1]):
        (overlap,) = by_row[row]
        assert overlap["details"]["row"] == other
        assert 1_300 < overlap["details"]["area_sq_m"] < 1_500  # half the neighbour
    # the bow-tie: invalid, and measured on its repair in the same pass (two triangles inside
    # its own cell: it overlaps nothing)
    (bow_tie,) = by_row[BOW_TIE]
    assert bow_tie["message"].startswith("is not valid: Self-intersection")
    assert bow_tie["details"]["location"]["coordinates"] == pytest.approx(
        [-70.2621033559652, 43.6605219054], abs=1e-6
    )
    assert 1_300 < bow_tie["details"]["repair"]["area_sq_m"] < 1_450
    assert bow_tie["details"]["repair"]["overlap_sq_m"] < 1
    # the terminal shows the errors first, whatever rows the warnings are on
    shown = [line for line in result.output.splitlines() if ":row " in line][: len(REFUSED)]
    assert all("[warning]" not in line for line in shown)


def test_districts_are_derived_from_the_shapes(portland: str, tmp_path: Path) -> None:
    import_portland(tmp_path / "report.json", "--skip-invalid")
    per_district: dict[int, int] = {
        int(district): int(count)
        for district, count in map(
            tuple, query(portland, "SELECT council_district, count(*) FROM parcels GROUP BY 1")
        )
    }
    assert set(per_district) == {1, 2, 3, 4, 5}
    assert sum(per_district.values()) == FEATURES - len(REFUSED)
    assert (
        scalar(
            portland,
            """
        SELECT count(*) FROM parcels p JOIN council_districts d
            ON ST_Contains(d.geom, ST_PointOnSurface(p.geom))
         WHERE d.district IS DISTINCT FROM p.council_district""",
        )
        == 0
    )


def test_a_shape_outside_the_city_is_reported_as_such(portland: str, tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.geojson"
    square = [[-118.25, 34.05], [-118.249, 34.05], [-118.249, 34.051], [-118.25, 34.05]]
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"MAP_LOT": "127-123", "ADDRESS": "1 Main St"},
                        "geometry": {"type": "Polygon", "coordinates": [square]},
                    }
                ],
            }
        )
    )
    result = run("import", "parcels", str(path), "--id-field", "MAP_LOT")
    assert result.exit_code == 1
    assert "lies outside the city (Portland's extent)" in result.output


def test_departments_resolve_by_alias_a_doubted_one_is_flagged_and_a_suggestion_never_applied(
    portland: str, tmp_path: Path
) -> None:
    west, south = -70.2600, 43.6600
    features = []
    for number, department in enumerate(["DPW", "Parks?", "Parks Departmnt", None]):
        x = west + number * 0.0003
        ring = [
            [x, south],
            [x + 0.0002, south],
            [x + 0.0002, south + 0.0002],
            [x, south + 0.0002],
            [x, south],
        ]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {
                    "MAP_LOT": f"500-{number + 1}",
                    "DEPT": department,
                    "ADDRESS": f"{number + 1} Fore St",
                    "USE": "Park",
                },
            }
        )
    path = tmp_path / "departments.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = run(
        "import",
        "parcels",
        str(path),
        "--id-field",
        "MAP_LOT",
        "--skip-invalid",
        "--report",
        str(tmp_path / "report.json"),
    )
    assert result.exit_code == 1, result.output
    problems = {
        p["row"]: p
        for p in json.loads((tmp_path / "report.json").read_text())["problems"]
        if p["field"] == "department_code"
    }
    assert problems[2]["severity"] == "warning" and "read as PARKS" in problems[2]["message"]
    assert problems[3]["severity"] == "error"
    assert problems[3]["message"] == (
        "'Parks Departmnt' matches no department — did you mean Parks Department?"
    )
    assert problems[3]["details"] == {"suggestion": "Parks Department"}
    assert problems[4]["severity"] == "warning" and problems[4]["message"].startswith("is missing")
    assert query(
        portland,
        "SELECT p.parcel_id, d.code, p.needs_confirmation FROM parcels p "
        "LEFT JOIN departments d ON d.id = p.department_id "
        "ORDER BY p.parcel_id",
    ) == [
        ("500-1", "PUBLIC_WORKS", []),
        ("500-2", "PARKS", ["department_code"]),
        ("500-4", None, []),
    ]


def test_the_overlaps_of_an_invalid_shape_are_measured_on_its_repair_in_the_same_pass(
    database: str, tmp_path: Path
) -> None:
    from shapely.geometry import box

    from tests.test_parcel_import import BOW_TIE as BOW_TIE_SHAPE
    from tests.test_parcel_import import DEG
    from tests.test_parcel_import import LAT
    from tests.test_parcel_import import LON
    from tests.test_parcel_import import record
    from tests.test_parcel_import import write

    south = LAT + 0.01
    neighbour = box(LON + DEG / 2, south, LON + DEG * 1.5, south + DEG)
    path = write(
        tmp_path, [record("5555-001-001", BOW_TIE_SHAPE), record("5555-001-002", neighbour)]
    )
    result = run("import", "parcels", str(path), "--report", str(tmp_path / "r.json"))
    assert result.exit_code == 1
    found = {
        (p["row"], p["message"].split(" ")[0]): p
        for p in json.loads((tmp_path / "r.json").read_text())["problems"]
    }
    assert set(found) == {(1, "is"), (1, "overlaps"), (2, "overlaps")}
    assert found[(1, "is")]["message"].startswith("is not valid: Self-intersection")
    assert found[(1, "overlaps")]["message"].endswith(
        "measured on this shape's ST_MakeValid repair"
    )
    assert found[(2, "overlaps")]["message"].endswith("measured on that row's ST_MakeValid repair")
    area = found[(1, "overlaps")]["details"]["area_sq_m"]
    assert area == found[(2, "overlaps")]["details"]["area_sq_m"]
    assert found[(1, "is")]["details"]["repair"]["overlap_sq_m"] == pytest.approx(area, abs=0.2)
    # repaired for real, the same overlap refuses both rows
    run("import", "parcels", str(path), "--repair", "--report", str(tmp_path / "r.json"))
    repaired = json.loads((tmp_path / "r.json").read_text())["problems"]
    assert {(p["row"], p["severity"]) for p in repaired} == {
        (1, "repaired"),
        (1, "error"),
        (2, "error"),
    }
    assert {p["details"].get("area_sq_m") for p in repaired if p["severity"] == "error"} == {area}


def test_an_id_like_a_map_lot_is_never_taken_for_scientific_notation() -> None:
    la = CityProfile(
        "Los Angeles",
        (-119.0, 33.6, -117.9, 34.4),
        False,
        (IdFormat("LA County APN", ("5056-011-903",), r"^\d{4}-\d{3}-\d{3}$", "####-###-###"),),
        ("UNKNOWN",),
        7,
    )
    for value in ("267E-17", "101E-2", "120E-05"):
        assert id_problem(la, value) == (
            f"{value!r} is not a parcel id of this city: expected LA County APN, e.g. 5056-011-903"
        )
    for value in ("6.03E+09", "2.35E+09", "5.94e+09"):
        assert "scientific notation" in (id_problem(la, value) or "")
    assert id_problem(la, "5056011903") is None  # the AIN spelling of an APN


# --- the LA assessor roll: AINs, a composed address, NULL cells, footers -----------------


def _roll(name: str) -> list[list[str]]:
    """The file's lines after the header, as GDAL numbers its features (blank row included)."""
    with (LA_ROLL / name).open(encoding="utf-8", newline="") as lines:
        return list(csv.reader(lines))[1:]


def _header(name: str) -> list[str]:
    with (LA_ROLL / name).open(encoding="utf-8", newline="") as lines:
        return next(csv.reader(lines))


def _apn(ain: str) -> str:
    return f"{ain[:4]}-{ain[4:7]}-{ain[7:]}"


def test_the_la_assessor_roll_imports_as_paper_records_under_their_canonical_apns(
    registry: str, tmp_path: Path
) -> None:
    known = (LA_ROLL / "registry_apns.txt").read_text().split()
    execute(
        registry, "INSERT INTO parcels (parcel_id) SELECT unnest(CAST(:ids AS text[]))", ids=known
    )
    reports = {}
    for name in ("CD01.csv", "CD02.csv", "CD14.csv"):
        # the assessor's own parcel status (ACTIVE, DELETED) and last sale price are not the
        # registry's status and disposition proceeds their headers resemble
        result = run(
            "import",
            "parcels",
            str(LA_ROLL / name),
            "--map",
            "parcel_id=AIN",
            "--map",
            LA_ADDRESS,
            "--map",
            "use=USE_DESC",
            "--map",
            "status=",
            "--map",
            "disposition_proceeds=",
            "--skip-invalid",
            "--report",
            str(tmp_path / f"{name}.json"),
        )
        reports[name] = json.loads((tmp_path / f"{name}.json").read_text())
        assert result.exit_code == (1 if name == "CD02.csv" else 0), result.output
    ains = {
        row[0]
        for name in reports
        for row in _roll(name)
        if re.fullmatch(r"\d{10}", row[0] if row else "")
    }
    assert len(ains) == 118
    stored = {row[0] for row in query(registry, "SELECT parcel_id FROM parcels")}
    assert stored == {_apn(ain) for ain in ains}  # one parcel per AIN, in the APN spelling
    assert set(known) <= stored and "5056-011-903" in stored
    assert (
        scalar(
            registry,
            "SELECT count(*) FROM parcels WHERE address IS NULL AND parcel_id = ANY (:ids)",
            ids=known,
        )
        == 0
    )  # updated in place
    for name, report in reports.items():
        counts = report["counts"]
        assert counts["skipped_by_reason"] == {"blank": 1, "total": 1}
        data_rows = sum(1 for row in _roll(name) if row and row[0] not in ("", "TOTAL"))
        assert counts["read"] - counts["skipped"] == data_rows
    # NULL is blank: never part of an address, never a use
    assert (
        scalar(registry, "SELECT count(*) FROM parcels WHERE address ~ 'NULL' OR use = 'NULL'") == 0
    )
    # a point is where the parcel is: kept as a paper record, with a warning
    assert query(registry, "SELECT DISTINCT digitization_status, geom IS NULL FROM parcels") == [
        ("paper", True)
    ]
    # spreadsheet damage: LAND_VALUE 5.94E+09 and the like, and the ruined AIN
    damaged = {
        name: sorted(
            (p["row"], p["value"]) for p in report["problems"] if p["field"] == "LAND_VALUE"
        )
        for name, report in reports.items()
    }
    for name, found in damaged.items():
        land_value = _header(name).index("LAND_VALUE")
        expected = sorted(
            (number, row[land_value])
            for number, row in enumerate(_roll(name), start=1)
            if row and re.fullmatch(r"\d\.\d+E\+\d+", row[land_value])
        )
        assert found == expected and len(found) == 2
    (ruined,) = errors(reports["CD02.csv"])
    assert ruined["record_id"] == "2.35E+09" and "scientific notation" in ruined["message"]
    assert all(
        p["severity"] == "warning"
        for p in reports["CD02.csv"]["problems"]
        if p["field"] == "LAND_VALUE"
    )


def test_the_la_assessor_roll_as_given_refuses_only_what_contradicts_the_registry(
    registry: str, tmp_path: Path
) -> None:
    """With no column unmapped, the assessor's DELETED parcel status is a code the registry's
    statuses do not know: an error, named with the values allowed, every row in one pass."""
    result = run(
        "import",
        "parcels",
        str(LA_ROLL / "CD01.csv"),
        "--map",
        "parcel_id=AIN",
        "--map",
        LA_ADDRESS,
        "--dry-run",
        "--report",
        str(tmp_path / "r.json"),
    )
    assert result.exit_code == 1
    report = json.loads((tmp_path / "r.json").read_text())
    refused = Counter((p["field"], p["value"]) for p in errors(report))
    with (LA_ROLL / "CD01.csv").open(encoding="utf-8", newline="") as lines:
        deleted = sum(1 for row in csv.DictReader(lines) if row["PARCEL_STATUS"] == "DELETED")
    assert deleted == 8
    assert refused == {("status", "DELETED"): deleted}


# --- --report is written before anything is printed ----------------------------------------


def _command() -> list[str]:
    return [
        str(Path(sys.executable).parent / "asset-registry"),
        "import",
        "parcels",
        str(LA_ROLL / "CD01.csv"),
        "--map",
        "parcel_id=AIN",
        "--map",
        LA_ADDRESS,
        "--dry-run",
    ]


def test_the_report_is_written_even_when_standard_output_is_closed_first(
    registry: str, tmp_path: Path
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody reads: the first line printed breaks the pipe
    try:
        finished = subprocess.run(
            [*_command(), "--report", str(tmp_path / "r.json")],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "DATABASE_URL": registry},
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert finished.returncode == 1, finished.stderr  # rows refused, as with a reader
    assert "Traceback" not in finished.stderr and "BrokenPipe" not in finished.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["problem_count"] == len(report["problems"]) > 0


def test_the_report_is_whole_when_the_output_is_cut_short_by_head(
    registry: str, tmp_path: Path
) -> None:
    command = " ".join(f"'{part}'" for part in [*_command(), "--report", str(tmp_path / "r.json")])
    finished = subprocess.run(
        ["bash", "-c", f"{command} | head -1"],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": registry},
        timeout=120,
    )
    assert finished.stdout.startswith("import #1 (parcels): dry run")
    assert "Traceback" not in finished.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["problem_count"] == len(report["problems"])


# --- incomplete or doubted: stored, but never verified -------------------------------------

SQUARE = [
    [-118.25, 34.05],
    [-118.2497, 34.05],
    [-118.2497, 34.0503],
    [-118.25, 34.0503],
    [-118.25, 34.05],
]


@pytest.fixture
def editors(
    app: Flask, auth: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[SignedInClient, SignedInClient]:
    url = app.config["DATABASE_URL"]
    monkeypatch.setenv("DATABASE_URL", url)
    execute(
        url,
        "INSERT INTO departments (code, name) VALUES ('GSD', 'General Services'), "
        "('RAP', 'Recreation and Parks')",
    )
    return (
        auth.signed_in_client(app, "editor", email="ana@city.example"),
        auth.signed_in_client(app, "editor", email="ben@city.example"),
    )


def _imported(tmp_path: Path) -> str:
    """Three parcels: one whose department is doubted (GSD?), one without an address, another
    doubted one; imported by ana."""
    features = []
    for number, (department, address) in enumerate(
        [("GSD?", "1 Main St"), ("GSD", None), ("RAP?", "3 Main St")]
    ):
        ring = [[x + number * 0.001, y] for x, y in SQUARE]
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {
                    "APN": f"5555-001-00{number + 1}",
                    "DEPT": department,
                    "SITE_ADDR": address,
                    "USE": "Office",
                },
            }
        )
    path = tmp_path / "parcels.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return ok("import", "parcels", str(path), "--actor", "ana@city.example")


def _patch(client: SignedInClient, parcel_id: str, **properties: Any) -> Any:
    etag = client.get(f"/api/parcels/{parcel_id}").headers["ETag"]
    return client.patch(
        f"/api/parcels/{parcel_id}",
        headers={"If-Match": etag},
        json={"type": "Feature", "properties": properties},
    )


def _verify(client: SignedInClient, parcel_id: str) -> str:
    version = client.get(f"/api/parcels/{parcel_id}").get_json()["properties"]["version"]
    return client.post(
        f"/parcels/{parcel_id}/verify", data={"version": version}, follow_redirects=True
    ).get_data(as_text=True)


def test_an_incomplete_or_doubted_record_is_stored_but_cannot_be_verified(
    app: Flask, editors: tuple[SignedInClient, SignedInClient], tmp_path: Path
) -> None:
    ana, ben = editors
    url = app.config["DATABASE_URL"]
    output = _imported(tmp_path)
    assert "3 valid (1 incomplete)" in output and "3 inserted" in output
    doubted = ana.get("/api/parcels/5555-001-001").get_json()["properties"]
    assert (doubted["department_code"], doubted["needs_confirmation"]) == (
        "GSD",
        ["department_code"],
    )
    # incomplete: listed by the data-quality queue, neither attributed nor verified
    findings = ben.get("/milestone").get_data(as_text=True)
    assert "5555-001-002" in findings and "address is missing" in findings
    assert _patch(ana, "5555-001-002", digitization_status="attributed").status_code == 422
    assert "missing: address" in _verify(ben, "5555-001-002")
    # doubted: complete, attributed, but not verified until someone confirms the value
    assert _patch(ana, "5555-001-001", digitization_status="attributed").status_code == 200
    page = _verify(ben, "5555-001-001")
    assert "Not verified" in page and "department_code" in page
    assert "Confirm department_code as it stands" in page
    with pytest.raises(Exception, match="verified_confirmed"):
        execute(
            url,
            "UPDATE parcels SET digitization_status = 'verified' WHERE parcel_id = '5555-001-001'",
        )
    version = ana.get("/api/parcels/5555-001-001").get_json()["properties"]["version"]
    confirmed = ana.post(
        "/parcels/5555-001-001/confirm",
        data={"version": version, "field": "department_code"},
        follow_redirects=True,
    )
    assert "Confirmed department_code" in confirmed.get_data(as_text=True)
    assert "Verified parcel 5555-001-001" in _verify(ben, "5555-001-001")
    # through the API: sending the field again (or a corrected value) confirms it too
    assert _patch(ana, "5555-001-003", department_code="RAP").status_code == 200
    assert query(
        url,
        "SELECT parcel_id, needs_confirmation, digitization_status FROM parcels ORDER BY parcel_id",
    ) == [
        ("5555-001-001", [], "verified"),
        ("5555-001-002", [], "digitized"),
        ("5555-001-003", [], "digitized"),
    ]
    refused = _patch(ana, "5555-001-002", confirm="department_code")
    assert refused.status_code == 422


def test_a_doubted_value_arriving_on_a_verified_record_revokes_its_verification(
    app: Flask, editors: tuple[SignedInClient, SignedInClient], tmp_path: Path
) -> None:
    url = app.config["DATABASE_URL"]
    execute(
        url,
        "INSERT INTO parcels (parcel_id, address, use, department_id, geom, "
        "digitization_status, verified_by, verified_at) "
        "SELECT '5555-001-001', '1 Main St', 'Office', id, ST_Multi(ST_GeomFromGeoJSON("
        ":ring)), 'verified', 'ben', now() FROM departments WHERE code = 'GSD'",
        ring=json.dumps({"type": "Polygon", "coordinates": [SQUARE]}),
    )
    assert "1 updated" in _imported(tmp_path)
    assert query(
        url,
        "SELECT digitization_status, verified_by, needs_confirmation "
        "FROM parcels WHERE parcel_id = '5555-001-001'",
    ) == [("attributed", None, ["department_code"])]
