"""OGC API – Features items by bounding box: our `/ogc` against pygeoapi and against the raw SQL.

Same database (the generated city of `--parcels`, 100,000 by default), same query: the items of
the `parcels` collection in a bounding box, `limit=1000`. Two boxes: 1 km² at the densest spot of
the city, and the square around that spot that holds ~1,000 parcels (the generated city is too
sparse for 1,000 parcels in 1 km²; its densest km² holds ~125).

- **ours**: `gunicorn 'app:create_app()'` from the project's venv (gunicorn: the `bench` extra,
  installed here when missing), `WORKERS` sync workers;
- **pygeoapi** (its PostgreSQL provider over the same `parcels` table, geometry `geom`, id
  `parcel_id`, properties parcel_id, address, use and status), installed in a venv of its own
  (`.bench-venv-pygeoapi`, made here) and served by its own gunicorn with the same workers;
- **raw**: the statement our endpoint runs for that page (PostGIS makes each feature's GeoJSON
  with `ST_AsGeoJSON`), on one psycopg connection, fetched whole: timing only, no HTTP.

Throughput is `wrk` (Debian's, installed when missing) for a fixed time, rounds taken in turn
with both servers up, every answer checked to be a 2xx; the time of one request is one client
asking ours, pygeoapi and the raw statement in turn (medians), so that the other work of a busy
machine weighs on each alike. Printed: requests per second of ours and pygeoapi and their ratio
(aim: ours ≥ 3×), and the time of one request of ours against the raw query's (aim: ≤ 1.5×).
"""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from sqlalchemy.engine import make_url

from bench.harness import Report
from bench.harness import _free_port
from bench.harness import prepare_database

ROOT = Path(__file__).resolve().parent.parent
PYGEOAPI_VENV = ROOT / ".bench-venv-pygeoapi"
#: pygeoapi and what its PostgreSQL provider needs, pinned so runs compare.
PYGEOAPI_PACKAGES = (
    "pygeoapi==0.21.0",
    "gunicorn==23.0.0",
    "psycopg2-binary==2.9.13",
    "GeoAlchemy2==0.20.0",
    "pygeofilter==0.4.0",
)
WORKERS = 2
CONNECTIONS = 4
DURATION_SECONDS = 8
ROUNDS = 3
LATENCY_REPEATS = 30
LIMIT = 1000
KM_PER_DEGREE_LAT = 111.32


@dataclass(frozen=True)
class Box:
    label: str
    bbox: tuple[float, float, float, float]
    parcels: int

    @property
    def query(self) -> str:
        return ",".join(f"{value:.6f}" for value in self.bbox)

    @property
    def km2(self) -> float:
        west, south, east, north = self.bbox
        lat = math.radians((south + north) / 2)
        return (east - west) * math.cos(lat) * (north - south) * KM_PER_DEGREE_LAT**2


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _square(lon: float, lat: float, km: float) -> tuple[float, float, float, float]:
    """A square of `km` sides centred on lon/lat, to the 6 decimals the URLs carry (so every
    side, HTTP or SQL, asks for the very same box)."""
    half_lat = km / 2 / KM_PER_DEGREE_LAT
    half_lon = half_lat / math.cos(math.radians(lat))
    box = (lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat)
    return (round(box[0], 6), round(box[1], 6), round(box[2], 6), round(box[3], 6))


_COUNT = (
    "SELECT count(*) FROM parcels WHERE retired_at IS NULL AND "
    "geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND "
    "ST_Intersects(geom, ST_MakeEnvelope(%s, %s, %s, %s, 4326))"
)


def _count(connection: psycopg.Connection, bbox: tuple[float, float, float, float]) -> int:
    row = connection.execute(_COUNT, (*bbox, *bbox)).fetchone()
    return int(row[0]) if row else 0


def choose_boxes(url: str) -> list[Box]:
    """The densest km² of the city (a grid of 1 km cells over parcel centroids), and the square
    around its centre that holds ~LIMIT parcels (side found by bisection)."""
    with psycopg.connect(_libpq(url)) as connection:
        row = connection.execute(
            """
            WITH c AS (SELECT ST_Centroid(geom) AS pt FROM parcels
                        WHERE retired_at IS NULL AND geom IS NOT NULL),
                 g AS (SELECT floor(ST_Y(pt) * %(k)s) AS j,
                              floor(ST_X(pt) * %(k)s * cos(radians(ST_Y(pt)))) AS i, pt FROM c)
            SELECT avg(ST_X(pt)), avg(ST_Y(pt)) FROM g
             GROUP BY i, j ORDER BY count(*) DESC LIMIT 1
            """,
            {"k": KM_PER_DEGREE_LAT},
        ).fetchone()
        assert row is not None, "the bench database holds no parcel"
        lon, lat = float(row[0]), float(row[1])
        one_km = _square(lon, lat, 1.0)
        boxes = [Box("1 km² (densest)", one_km, _count(connection, one_km))]
        low, high = 1.0, 20.0
        for _ in range(20):
            middle = (low + high) / 2
            if _count(connection, _square(lon, lat, middle)) < LIMIT:
                low = middle
            else:
                high = middle
        square = _square(lon, lat, high)
        boxes.append(Box(f"~{LIMIT:,} parcels", square, _count(connection, square)))
    return boxes


def ensure_tools() -> None:
    """wrk from Debian and gunicorn in our venv, when missing (the bench stays runnable alone)."""
    if shutil.which("wrk") is None:
        subprocess.run([str(ROOT / "scripts" / "apt-ensure.sh"), "wrk"], check=True)
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "gunicorn>=23"], check=True
        )


def ensure_pygeoapi() -> Path:
    """The venv of pygeoapi (made once; remade when the pins change)."""
    marker = PYGEOAPI_VENV / ".installed"
    wanted = "\n".join(PYGEOAPI_PACKAGES)
    if not marker.exists() or marker.read_text() != wanted:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(PYGEOAPI_VENV)], check=True)
        pip = [str(PYGEOAPI_VENV / "bin" / "pip"), "install", "--quiet"]
        subprocess.run([*pip, *PYGEOAPI_PACKAGES], check=True)
        marker.write_text(wanted)
    return PYGEOAPI_VENV / "bin"


def pygeoapi_config(url: str, folder: Path, port: int) -> tuple[Path, Path]:
    """pygeoapi's configuration (the `parcels` table of the bench database) and its OpenAPI
    document, which it needs at start."""
    parts = make_url(url)
    config = {
        "server": {
            "bind": {"host": "127.0.0.1", "port": port},
            "url": f"http://127.0.0.1:{port}",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "languages": ["en-US"],
            "cors": False,
            "pretty_print": False,
            "limits": {"default_items": 10, "max_items": 10_000},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "OSM"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "bench",
                "description": "bench",
                "keywords": ["bench"],
                "keywords_type": "theme",
                "terms_of_service": "https://example.org",
                "url": "https://example.org",
            },
            "license": {"name": "CC0", "url": "https://example.org"},
            "provider": {"name": "bench", "url": "https://example.org"},
            "contact": {
                "name": "bench",
                "email": "bench@example.org",
                "url": "https://example.org",
            },
        },
        "resources": {
            "parcels": {
                "type": "collection",
                "title": "Parcels",
                "description": "Parcels of the bench city",
                "keywords": ["parcels"],
                "extents": {
                    "spatial": {
                        "bbox": [-180, -90, 180, 90],
                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                    }
                },
                "providers": [
                    {
                        "type": "feature",
                        "name": "PostgreSQL",
                        "data": {
                            "host": parts.host or "127.0.0.1",
                            "port": parts.port or 5432,
                            "dbname": parts.database,
                            "user": parts.username or "postgres",
                            "password": parts.password or "",
                            "search_path": ["public"],
                        },
                        "id_field": "parcel_id",
                        "table": "parcels",
                        "geom_field": "geom",
                        "properties": ["parcel_id", "address", "use", "status"],
                    }
                ],
            }
        },
    }
    config_path = folder / "pygeoapi-config.yml"
    # YAML is a superset of JSON: no YAML writer needed in our venv
    config_path.write_text(json.dumps(config, indent=2))
    openapi_path = folder / "pygeoapi-openapi.yml"
    subprocess.run(
        [
            str(PYGEOAPI_VENV / "bin" / "pygeoapi"),
            "openapi",
            "generate",
            str(config_path),
            "--output-file",
            str(openapi_path),
        ],
        check=True,
        env={**os.environ, "PYGEOAPI_CONFIG": str(config_path)},
        stdout=subprocess.DEVNULL,
    )
    return config_path, openapi_path


def _gunicorn_options(port: int) -> list[str]:
    return ["--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}", "--log-level", "error"]


@contextmanager
def gunicorn(command: list[str], env: dict[str, str], port: int, probe: str) -> Iterator[str]:
    """A gunicorn server (WORKERS sync workers) until the block ends; its base URL. Its output
    goes to a file (a pipe nobody reads would fill and stall the workers' request logs)."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [*command, *_gunicorn_options(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    status, _ = _get(base + probe)
                    if status == 200:
                        break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode(errors="replace")
                    raise RuntimeError(f"{command[0]} did not start: {output[-2000:]}")
                time.sleep(0.2)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=20)


def _get(url: str) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class _Client:
    """One client of a server: requests one after another on a kept connection (reopened when
    the server closes it, as gunicorn's sync workers do after each answer)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.path = f"{parts.path}?{parts.query}"
        self.connection = http.client.HTTPConnection(
            parts.hostname or "127.0.0.1", parts.port, timeout=60
        )

    def get(self) -> tuple[float, int]:
        """Seconds of one request, and the features of its answer."""
        started = time.perf_counter()
        self.connection.request("GET", self.path, headers={"Accept": "application/geo+json"})
        response = self.connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"{self.path} answered {response.status}: {body[:300]!r}")
        return elapsed, len(json.loads(body)["features"])


def throughput(url: str) -> float:
    """Requests per second that `wrk` gets from `url` with CONNECTIONS keep-alive connections
    over DURATION_SECONDS; refuses a run in which any answer was not a 2xx."""
    run = subprocess.run(
        [
            "wrk",
            "--threads",
            "2",
            "--connections",
            str(CONNECTIONS),
            "--duration",
            f"{DURATION_SECONDS}s",
            "--timeout",
            "60s",
            "--header",
            "Accept: application/geo+json",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    if "Non-2xx" in run.stdout or "Socket errors" in run.stdout:
        raise RuntimeError(f"wrk saw failures against {url}:\n{run.stdout}")
    found = re.search(r"Requests/sec:\s+([\d.]+)", run.stdout)
    if found is None:
        raise RuntimeError(f"wrk printed no rate:\n{run.stdout}")
    return float(found.group(1))


#: The page our endpoint runs for an anonymous visitor (registry.features.queries.items_sql):
#: the public properties, PostGIS's GeoJSON, in parcel-id order, one row past the limit.
RAW_SQL = """
SELECT p.parcel_id,
       json_build_object('type', 'Feature', 'id', p.parcel_id,
         'geometry', ST_AsGeoJSON(p.geom, 7, 0)::json,
         'properties', json_build_object('parcel_id', p.parcel_id, 'address', p.address,
           'department', d.name, 'use', p.use, 'status', p.status))::text
  FROM parcels p LEFT JOIN departments d ON d.id = p.department_id
 WHERE p.retired_at IS NULL
   AND p.geom && ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326)
   AND ST_Intersects(p.geom, ST_MakeEnvelope(%(w)s, %(s)s, %(e)s, %(n)s, 4326))
 ORDER BY p.parcel_id LIMIT %(limit)s
"""


def latencies(
    urls: dict[str, str], database_url: str, box: Box, repeats: int = LATENCY_REPEATS
) -> dict[str, tuple[float, int]]:
    """Median seconds of one request to each server and of the raw statement, taken in turn
    (server, server, raw, server, ...) so that the machine's other work weighs on all alike;
    two warm-up rounds. With each, the features (rows) of its answer."""
    clients = {name: _Client(url) for name, url in urls.items()}
    params = dict(zip(("w", "s", "e", "n"), box.bbox, strict=True)) | {"limit": LIMIT + 1}
    samples: dict[str, list[float]] = {name: [] for name in [*urls, "raw"]}
    counts: dict[str, int] = {}
    with psycopg.connect(_libpq(database_url), autocommit=True) as connection:
        for index in range(repeats + 2):
            for name, client in clients.items():
                elapsed, counts[name] = client.get()
                if index >= 2:
                    samples[name].append(elapsed)
            started = time.perf_counter()
            rows = connection.execute(RAW_SQL, params, prepare=True).fetchall()
            if index >= 2:
                samples["raw"].append(time.perf_counter() - started)
            counts["raw"] = min(len(rows), LIMIT)
    for client in clients.values():
        client.connection.close()
    return {name: (statistics.median(values), counts[name]) for name, values in samples.items()}


def _servers(url: str, folder: Path) -> Iterator[tuple[str, list[str], dict[str, str], int, str]]:
    """(name, command, environment, port, path prefix) of ours and of pygeoapi."""
    ours_env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench"),
        # one load generator is one client address: the per-visitor limit would refuse it
        "REGISTRY_USER_CONCURRENCY": "1000",
    }
    ours = [sys.executable, "-m", "gunicorn", "app:create_app()", "--chdir", str(ROOT)]
    yield "ours", ours, ours_env, _free_port(), "/ogc"
    port = _free_port()
    config, openapi = pygeoapi_config(url, folder, port)
    peer_env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    peer = [str(PYGEOAPI_VENV / "bin" / "gunicorn"), "pygeoapi.flask_app:APP"]
    yield "pygeoapi", peer, peer_env, port, ""


def run(parcels: int) -> Report:
    ensure_tools()
    ensure_pygeoapi()
    url = prepare_database(parcels)
    boxes = choose_boxes(url)
    lines: list[str] = [
        f"  {WORKERS} gunicorn sync workers each, both servers up throughout; wrk "
        f"{CONNECTIONS} connections, {ROUNDS} rounds of {DURATION_SECONDS} s taken in turn "
        f"(median); one request: median of {LATENCY_REPEATS}, ours, pygeoapi and raw in turn"
    ]
    figures: dict[str, object] = {"parcels": parcels, "workers": WORKERS}
    with tempfile.TemporaryDirectory(prefix="bench-ogc-") as folder, ExitStack() as stack:
        bases = {
            name: stack.enter_context(gunicorn(command, env, port, prefix + "/collections/parcels"))
            + prefix
            for name, command, env, port, prefix in _servers(url, Path(folder))
        }
        for box in boxes:
            urls = {
                name: f"{base}/collections/parcels/items?bbox={box.query}&limit={LIMIT}"
                for name, base in bases.items()
            }
            timed = latencies(urls, url, box)
            rates: dict[str, list[float]] = {name: [] for name in urls}
            for _ in range(ROUNDS):
                for name, items in urls.items():
                    rates[name].append(throughput(items))
            rate = {name: statistics.median(values) for name, values in rates.items()}
            lines += _box_lines(box, timed, rate)
            figures[box.label] = {
                "bbox": box.bbox,
                "km2": round(box.km2, 3),
                "parcels": box.parcels,
                "requests_per_s": rates,
                "latency_s": {name: value[0] for name, value in timed.items()},
                "features": {name: value[1] for name, value in timed.items()},
                "ratio_requests_per_s": rate["ours"] / rate["pygeoapi"],
                "ratio_to_raw": timed["ours"][0] / timed["raw"][0],
            }
    return Report("ogc", lines, figures)


def _box_lines(box: Box, timed: dict[str, tuple[float, int]], rate: dict[str, float]) -> list[str]:
    ms = {name: value[0] * 1000 for name, value in timed.items()}
    return [
        f"  {box.label}: bbox {box.km2:.2f} km², {box.parcels:,} parcels; features per answer: "
        f"ours {timed['ours'][1]:,}, pygeoapi {timed['pygeoapi'][1]:,}, raw {timed['raw'][1]:,}",
        f"    requests/s: ours {rate['ours']:.1f}, pygeoapi {rate['pygeoapi']:.1f}: "
        f"ratio {rate['ours'] / rate['pygeoapi']:.2f} (aim >= 3)",
        f"    one request: ours {ms['ours']:.1f} ms, pygeoapi {ms['pygeoapi']:.1f} ms, raw query "
        f"{ms['raw']:.1f} ms: ours/raw {ms['ours'] / ms['raw']:.2f} (aim <= 1.5)",
    ]
