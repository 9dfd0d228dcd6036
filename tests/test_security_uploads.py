"""An editor's upload can't make the server read another file or fetch a URL (issue 15, item 1).

GDAL opens a file by its content; a `parcels.geojson` that is really an OGR VRT naming
`CSV:/etc/passwd` or `/vsicurl/http://…` used to be read, and its lines came back in the import
report. Each test here hands such a file to a real entry point (the upload page, the CLI, the
lease importer) and checks that nothing of the target was read or fetched.
"""

from __future__ import annotations

import http.server
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from cli.main import cli
from geo.safe_open import UnsafeSource
from geo.safe_open import gdal_source
from tests.auth_fixtures import SignedInClient
from tests.sql import scalar

SECRET_FILE_LINE = "root:"


def _vrt(source: str) -> str:
    """An OGR VRT that makes GDAL read `source` (a CSV) as a layer of the file it is in."""
    layer = source.rsplit("/", 1)[-1].removesuffix(".csv")
    return (
        f'<OGRVRTDataSource><OGRVRTLayer name="parcels"><SrcDataSource>{source}'
        f"</SrcDataSource><SrcLayer>{layer}</SrcLayer></OGRVRTLayer></OGRVRTDataSource>"
    )


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self) -> None:
        _Recorder.requests.append(self.path)
        body = b"APN,WKT\n5555-001-001,POINT (0 0)\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[str]:
    """A real HTTP server that records every request made to it."""
    _Recorder.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/parcels.csv"
    server.shutdown()
    server.server_close()


def _zip_with(member: str, content: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, content)
    return buffer.getvalue()


HOSTILE_FILES = {
    "a VRT named .geojson": ("parcels.geojson", _vrt("CSV:/etc/passwd").encode()),
    "a VRT named .csv": ("parcels.csv", _vrt("/etc/passwd").encode()),
    "a VRT named .gpkg": ("parcels.gpkg", _vrt("CSV:/etc/passwd").encode()),
    "a VRT inside a zip": ("parcels.zip", _zip_with("parcels.vrt", _vrt("CSV:/etc/passwd"))),
    "a VRT as the zip's .shp": ("parcels.zip", _zip_with("parcels.shp", _vrt("CSV:/etc/passwd"))),
    "a VRT named .json": ("parcels.json", _vrt("CSV:/etc/passwd").encode()),
}


@pytest.mark.parametrize("name, content", HOSTILE_FILES.values(), ids=HOSTILE_FILES.keys())
def test_a_file_whose_content_is_not_its_format_is_refused_before_gdal_opens_it(
    tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnsafeSource) as refused:
        gdal_source(path)
    assert name in str(refused.value) and str(tmp_path) not in str(refused.value)


@pytest.mark.parametrize("name, content", HOSTILE_FILES.values(), ids=HOSTILE_FILES.keys())
def test_the_upload_page_reads_nothing_of_the_file_a_vrt_names(
    app: Flask, editor_client: SignedInClient, name: str, content: bytes
) -> None:
    response = editor_client.post(
        "/imports/new",
        data={
            "file": (io.BytesIO(content), name),
            "csrf_token": editor_client.csrf_token,
        },
        content_type="multipart/form-data",
    )
    if response.status_code == 302:
        response = editor_client.get(response.headers["Location"])
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert SECRET_FILE_LINE not in page and "/bin/" not in page
    url = app.config["DATABASE_URL"]
    assert (
        scalar(
            url,
            "SELECT count(*) FROM import_problems "
            "WHERE message LIKE '%root:%' OR details::text LIKE '%root:%'",
        )
        == 0
    )
    assert scalar(url, "SELECT count(*) FROM parcels") == 0


def test_the_upload_page_never_fetches_the_url_a_vrt_names(
    app: Flask, editor_client: SignedInClient, listener: str
) -> None:
    content = _vrt(f"CSV:/vsicurl/{listener}").encode()
    response = editor_client.post(
        "/imports/new",
        data={
            "file": (io.BytesIO(content), "parcels.geojson"),
            "csrf_token": editor_client.csrf_token,
        },
        content_type="multipart/form-data",
    )
    if response.status_code == 302:
        response = editor_client.get(response.headers["Location"])
    assert response.status_code == 400
    assert _Recorder.requests == []


def test_the_command_line_import_refuses_a_vrt_and_prints_nothing_it_names(
    tmp_path: Path, listener: str, fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    for target in ("CSV:/etc/passwd", f"CSV:/vsicurl/{listener}"):
        path = tmp_path / "parcels.geojson"
        path.write_text(_vrt(target))
        report = tmp_path / "report.json"
        result = CliRunner().invoke(cli, ["import", "parcels", str(path), "--report", str(report)])
        assert result.exit_code != 0
        assert SECRET_FILE_LINE not in result.output
        assert not report.exists() or SECRET_FILE_LINE not in report.read_text()
    assert _Recorder.requests == []


def test_the_lease_import_refuses_a_vrt_layer(
    tmp_path: Path, fresh_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    path = tmp_path / "leases.geojson"
    path.write_text(_vrt("CSV:/etc/passwd"))
    result = CliRunner().invoke(cli, ["import", "leases", str(path)])
    assert result.exit_code != 0
    assert SECRET_FILE_LINE not in result.output
    assert "not a GeoJSON" in result.output


def test_a_real_geojson_and_a_zipped_shapefile_still_open(tmp_path: Path) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    frame = gpd.GeoDataFrame({"APN": ["5555-001-001"]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:4326")
    geojson = tmp_path / "parcels.geojson"
    geojson.write_text(json.dumps(json.loads(frame.to_json())))
    assert gdal_source(geojson).path == str(geojson)
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "parcels.shp")
    archive = tmp_path / "parcels.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in folder.iterdir():
            zipped.write(part, f"inner/{part.name}")
    assert gdal_source(archive).path == f"/vsizip/{archive}/inner/parcels.shp"
