"""deploy/nginx/asset-registry.conf run for real: Debian's nginx, the site file as shipped with
only its ports, paths and certificate put on temporary ones, proxying to the live test server.

What it proves: the file passes `nginx -t`; a public tile is a MISS and then a HIT answered
without the app; a signed-in page is never cached, and a signed-in tile skips the cache; JSON
is gzipped; HTTP redirects to HTTPS; /metrics stays closed through the proxy; the upload limit
is the app's.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from tests.auth_fixtures import TEST_PASSWORD
from tests.auth_fixtures import make_user
from tests.conftest import LiveServer
from tests.sql import query
from tests.tiles import tile_of

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "asset-registry.conf"
TILE_ROUTE = "/tiles/parcels/<int:z>/<int:x>/<int:y>.mvt"
PARCEL_ROUTE = "/parcels/<parcel_id>"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def render_site(site: str, replacements: dict[str, str]) -> str:
    """The shipped site file with each production value replaced; a value the file no longer
    holds fails here, so this test cannot drift from the file it claims to run."""
    for old, new in replacements.items():
        assert old in site, f"{old!r} is no longer in {SITE.name}"
        site = site.replace(old, new)
    return site


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "site.pem", folder / "site.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=assets.example.gov",
            "-addext",
            "subjectAltName=DNS:assets.example.gov,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Proxy:
    https: str
    http: str
    cert: Path
    cache_dir: Path
    config: Path
    check_output: str

    def get(
        self, path: str, session: requests.Session | None = None, **kwargs: Any
    ) -> requests.Response:
        return (session or requests).get(f"{self.https}{path}", verify=str(self.cert), **kwargs)

    def cached_keys(self) -> list[str]:
        """The key of every response in the cache (nginx writes it into each cache file)."""
        keys = []
        for path in self.cache_dir.rglob("*"):
            if path.is_file():
                found = re.search(rb"\nKEY: ([^\n]*)\n", path.read_bytes())
                if found:
                    keys.append(found.group(1).decode())
        return keys


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"nginx stopped: {log.read_text()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("nginx did not start listening")


@pytest.fixture(scope="module")
def proxy(sample_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is missing: scripts/apt-ensure.sh nginx (make test does)"
    folder = tmp_path_factory.mktemp("nginx")
    for name in ("cache", "logs", "temp"):
        (folder / name).mkdir()
    cert, key = _certificate(folder)
    https_port, http_port = _free_port(), _free_port()
    upstream_port = sample_server.url.rsplit(":", 1)[1]
    site = render_site(
        SITE.read_text(),
        {
            "server 127.0.0.1:5000;": f"server 127.0.0.1:{upstream_port};",
            "/var/cache/nginx/asset-registry": str(folder / "cache"),
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen [::]:80;": "",
            "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
            "listen [::]:443 ssl http2;": "",
            "/etc/ssl/certs/assets.example.gov.pem": str(cert),
            "/etc/ssl/private/assets.example.gov.key": str(key),
            "/var/log/nginx/": f"{folder / 'logs'}/",
        },
    )
    (folder / "site.conf").write_text(site)
    temp = folder / "temp"
    # what Debian's /etc/nginx/nginx.conf gives a site: the http block, MIME types, temp folders
    config = folder / "nginx.conf"
    config.write_text(
        f"""
daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
{"user root;" if os.geteuid() == 0 else ""}
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {folder / "site.conf"};
}}
"""
    )
    error_log = folder / "logs" / "error.log"
    base = [nginx, "-p", str(folder), "-e", str(error_log), "-c", str(config)]
    checked = subprocess.run([*base, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(base, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(https_port, process, error_log)
        yield Proxy(
            f"https://127.0.0.1:{https_port}",
            f"http://127.0.0.1:{http_port}",
            cert,
            folder / "cache",
            config,
            checked.stderr,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stderr is not None
        process.stderr.close()


@pytest.fixture(scope="module")
def a_parcel(sample_database_url: str) -> dict[str, object]:
    (row,) = query(
        sample_database_url,
        "SELECT parcel_id, ST_X(c) AS lon, ST_Y(c) AS lat FROM ("
        " SELECT parcel_id, ST_PointOnSurface(geom) AS c FROM parcels"
        " WHERE geom IS NOT NULL AND retired_at IS NULL ORDER BY parcel_id LIMIT 1) AS p",
    )
    return dict(row._mapping)


def _answered_by_app(app: Flask, route: str, status: str = "200") -> float:
    """How many requests to `route` the app itself answered (its own metrics)."""
    value = app.extensions["registry_metrics"].registry.get_sample_value(
        "asset_registry_http_requests_total", {"route": route, "method": "GET", "status": status}
    )
    return float(value or 0)


def _settled(app: Flask, route: str, expected: float) -> float:
    """The count once the app has recorded what it answered: a request is recorded when its
    body is closed, just after the client has it. Waits for `expected`, then a moment more, so
    a request that should not have reached the app would be seen if it had."""
    deadline = time.monotonic() + 5
    while _answered_by_app(app, route) < expected and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    return _answered_by_app(app, route)


def _signed_in(proxy: Proxy, app: Flask, email: str) -> requests.Session:
    """A browser session signed in through the proxy (GET /login, POST the form)."""
    make_user(app, email, "viewer")
    browser = requests.Session()
    page = proxy.get("/login", browser)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "the login form carries its CSRF token"
    answer = browser.post(
        f"{proxy.https}/login",
        data={"email": email, "password": TEST_PASSWORD, "csrf_token": token.group(1)},
        verify=str(proxy.cert),
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    assert browser.cookies.get("session")
    return browser


def test_the_site_file_passes_nginx_t(proxy: Proxy) -> None:
    assert "syntax is ok" in proxy.check_output
    assert "test is successful" in proxy.check_output


def test_a_public_tile_is_a_miss_then_a_hit_answered_without_the_app(
    proxy: Proxy, sample_app: Flask, a_parcel: dict[str, object]
) -> None:
    x, y = tile_of(float(a_parcel["lon"]), float(a_parcel["lat"]), 16)  # type: ignore[arg-type]
    path = f"/tiles/parcels/16/{x}/{y}.mvt"
    before = _settled(sample_app, TILE_ROUTE, 0)
    first = proxy.get(path)
    again = proxy.get(path)
    assert first.status_code == again.status_code == 200
    assert first.headers["X-Cache-Status"] == "MISS"
    assert again.headers["X-Cache-Status"] == "HIT"
    assert again.content == first.content and len(first.content) > 0
    assert _settled(sample_app, TILE_ROUTE, before + 1) == before + 1  # the HIT never reached it
    for headers in (first.headers, again.headers):
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Cache-Control"].startswith("public")
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
    assert any(key.endswith(path) for key in proxy.cached_keys())


def test_a_signed_in_page_is_never_cached(
    proxy: Proxy, sample_app: Flask, a_parcel: dict[str, object]
) -> None:
    browser = _signed_in(proxy, sample_app, "nginx-viewer@city.example")
    path = f"/parcels/{a_parcel['parcel_id']}"
    before = _settled(sample_app, PARCEL_ROUTE, 0)
    pages = [proxy.get(path, browser) for _ in range(2)]
    for page in pages:
        assert page.status_code == 200
        assert "X-Cache-Status" not in page.headers
        assert page.headers["Cache-Control"] == "private, no-store"
        assert "Sign out" in page.text or "nginx-viewer@city.example" in page.text
    assert _settled(sample_app, PARCEL_ROUTE, before + 2) == before + 2  # both went to the app
    assert not [key for key in proxy.cached_keys() if "/parcels/" in key and "/tiles/" not in key]


def test_a_signed_in_users_tile_skips_the_cache_and_refreshes_it(
    proxy: Proxy, sample_app: Flask, a_parcel: dict[str, object]
) -> None:
    """An editor's map redraw after a save must show the saved parcel, not the cached tile."""
    x, y = tile_of(float(a_parcel["lon"]), float(a_parcel["lat"]), 15)  # type: ignore[arg-type]
    path = f"/tiles/parcels/15/{x}/{y}.mvt"
    assert proxy.get(path).headers["X-Cache-Status"] in {"MISS", "HIT"}
    browser = _signed_in(proxy, sample_app, "nginx-editor@city.example")
    before = _settled(sample_app, TILE_ROUTE, 0)
    tile = proxy.get(path, browser)
    assert tile.headers["X-Cache-Status"] == "BYPASS"
    assert _settled(sample_app, TILE_ROUTE, before + 1) == before + 1
    assert proxy.get(path).headers["X-Cache-Status"] == "HIT"  # what it fetched, the public sees


def test_json_and_geojson_are_gzipped(proxy: Proxy) -> None:
    answer = proxy.get("/api/parcels?limit=200", headers={"Accept-Encoding": "gzip"}, stream=True)
    assert answer.headers["Content-Type"].startswith("application/geo+json")
    assert answer.headers["Content-Encoding"] == "gzip"
    raw = answer.raw.read()
    assert gzip.decompress(raw).startswith(b"{")
    types = re.search(r"gzip_types ([^;]+);", SITE.read_text())
    assert types and {"application/json", "application/problem+json"} <= set(types.group(1).split())


def test_plain_http_is_sent_to_https(proxy: Proxy) -> None:
    answer = requests.get(f"{proxy.http}/parcels", allow_redirects=False)
    assert answer.status_code == 301
    assert answer.headers["Location"].startswith("https://")


def test_metrics_stay_closed_through_the_proxy(proxy: Proxy, sample_server: LiveServer) -> None:
    """nginx connects from 127.0.0.1, yet what it forwards is not a local request."""
    assert proxy.get("/metrics").status_code == 403
    assert requests.get(f"{sample_server.url}/metrics").status_code == 200


def test_the_upload_limit_is_the_apps(proxy: Proxy, sample_app: Flask) -> None:
    limit = re.search(r"client_max_body_size (\d+)m;", SITE.read_text())
    assert limit, "the site file sets client_max_body_size in MB"
    assert int(limit.group(1)) * 1024 * 1024 == sample_app.extensions["registry_upload_limit"]
