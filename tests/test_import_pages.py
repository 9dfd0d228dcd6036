from __future__ import annotations

import io
import re

import geopandas as gpd
from flask import Flask
from shapely.geometry import box

from tests.auth_fixtures import SignedInClient
from tests.sql import execute
from tests.sql import scalar


def _gpkg(*parcels: tuple[str, object]) -> bytes:
    frame = gpd.GeoDataFrame(
        [
            {"APN": pid, "SITE_ADDR": f"{i} Main St", "DEPT": "GSD", "geometry": geom}
            for i, (pid, geom) in enumerate(parcels)
        ],
        crs="EPSG:4326",
    )
    buffer = io.BytesIO()
    frame.to_file(buffer, driver="GPKG")
    return buffer.getvalue()


def _seed(app: Flask) -> None:
    execute(
        app.config["DATABASE_URL"],
        "INSERT INTO departments (code, name) VALUES ('GSD', 'General Services')",
    )


def _upload(client: SignedInClient, content: bytes) -> str:
    response = client.post(
        "/imports/new",
        data={
            "file": (io.BytesIO(content), "legacy.gpkg"),
            "csrf_token": client.csrf_token,
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


def test_an_editor_uploads_maps_dry_runs_reads_the_report_and_imports(
    app: Flask, editor_client: SignedInClient
) -> None:
    _seed(app)
    prepare = _upload(
        editor_client,
        _gpkg(
            ("5555-001-001", box(-118.3, 34.05, -118.2995, 34.0505)),
            ("5555-001-002", box(-118.299, 34.05, -118.2985, 34.0505)),
        ),
    )
    page = editor_client.get(prepare).get_data(as_text=True)
    assert 'option value="APN" selected' in page  # the id column was recognised
    form = {
        "csrf_token": editor_client.csrf_token,
        "map_parcel_id": "APN",
        "map_address": "SITE_ADDR",
        "map_department_code": "DEPT",
        "srs": "EPSG:4326",
    }
    dry = editor_client.post(prepare, data={**form, "action": "dry_run"})
    report = editor_client.get(dry.headers["Location"]).get_data(as_text=True)
    assert "dry run" in report and "No problems." in report
    done = editor_client.post(prepare, data={**form, "action": "import"})
    report = editor_client.get(done.headers["Location"]).get_data(as_text=True)
    assert re.search(r"Import #\d+: imported", report)
    listing = editor_client.get("/imports").get_data(as_text=True)
    assert "legacy.gpkg" in listing and "dry run" in listing


def test_a_rejected_upload_shows_each_problem_and_writes_nothing(
    app: Flask, editor_client: SignedInClient
) -> None:
    _seed(app)
    prepare = _upload(editor_client, _gpkg(("---", box(-118.3, 34.05, -118.2995, 34.0505))))
    response = editor_client.post(
        prepare,
        data={
            "csrf_token": editor_client.csrf_token,
            "map_parcel_id": "APN",
            "map_address": "SITE_ADDR",
            "map_department_code": "DEPT",
            "action": "import",
        },
    )
    report = editor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "rejected" in report and "placeholder" in report
    assert scalar(app.config["DATABASE_URL"], "SELECT count(*) FROM parcels") == 0


def test_viewers_cannot_import(app: Flask, viewer_client: SignedInClient) -> None:
    assert viewer_client.get("/imports/new").status_code == 403
