"""Load test of the day's mix with Locust (headless), at 50 and 200 concurrent users.

Locust runs from a venv of its own (`.bench-venv-locust`, made by `make bench` from
bench/requirements-load.txt), so the app's venv never holds it; it only speaks HTTP to the app
served by `asset-registry serve` over the sample database. The mix is in bench/locustfile.py;
meanwhile the bench runs one `asset-registry import parcels` (the sample's parcels, 200 of
them with a changed address). Per route: requests, failures, p50/p95/p99, and the same figures
of the previous run (bench/results/load.json) beside them; the `/healthz` probe's slowest answer.
"""

from __future__ import annotations

import csv
import http.client
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from bench.harness import RESULTS_DIR
from bench.harness import Report
from bench.harness import prepare_database
from bench.harness import served_app
from registry.db import create_registry_engine
from registry.db import unit_of_work
from registry.users.records import create_user
from registry.users.records import find_user
from registry.users.records import issue_token

ROOT = Path(__file__).resolve().parent.parent
LOCUST = ROOT / ".bench-venv-locust" / "bin" / "locust"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
SAMPLE_PARCELS = ROOT / "sample_parcels" / "parcels.geojson"
LEVELS = (50, 200)
SERVER_LOG = RESULTS_DIR / "load-server.log"
VIEWERS, EDITORS = 50, 10
ROUTES = (
    "tile",
    "map page",
    "search",
    "parcel (API)",
    "parcel page",
    "lease (API)",
    "lease page",
    "KPI desk",
    "edit (PATCH)",
    "edit: conflict (412)",
    "/healthz",
)


def _tile(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def _tokens(url: str) -> tuple[list[str], list[str]]:
    """Bench users (made once) and a fresh API token each."""
    engine = create_registry_engine(url)
    factory = sessionmaker(engine, expire_on_commit=False)
    tokens: dict[str, list[str]] = {"viewer": [], "editor": []}
    try:
        with unit_of_work(factory, "bench") as session:
            for role, count in (("viewer", VIEWERS), ("editor", EDITORS)):
                for n in range(count):
                    email = f"bench-{role}-{n}@city.example"
                    user = find_user(session, email) or create_user(session, email, role)
                    tokens[role].append(issue_token(session, user))
    finally:
        engine.dispose()
    return tokens["viewer"], tokens["editor"]


def _mix_data(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT parcel_id, ST_X(c), ST_Y(c) FROM (SELECT parcel_id, "
                "ST_Transform(ST_PointOnSurface(geom), 4326) AS c FROM parcels "
                "WHERE retired_at IS NULL) p ORDER BY parcel_id"
            )
        ).all()
        leases = connection.execute(text("SELECT lease_number FROM leases")).scalars().all()
    engine.dispose()
    parcels = [row[0] for row in rows]
    mapped = [row for row in rows if row[1] is not None]  # paper records have no shape yet
    viewers, editors = _tokens(url)
    return {
        "parcels": parcels,
        # editors work on a few hundred parcels, so their edits meet (real conflicts)
        "editable_parcels": parcels[-300:],
        "leases": list(leases),
        "tiles": sorted({_tile(lon, lat, z) for _, lon, lat in mapped[::7] for z in (14, 15, 16)}),
        "viewer_tokens": viewers,
        "editor_tokens": editors,
    }


def _import_file(folder: Path) -> Path:
    """The sample's parcels with 200 addresses changed: one import that writes."""
    collection = json.loads(SAMPLE_PARCELS.read_text())
    stamp = time.strftime("%H%M%S")
    for feature in collection["features"][:200]:
        feature["properties"]["address"] = f"{feature['properties']['address']} (import {stamp})"
    path = folder / "bench-import.geojson"
    path.write_text(json.dumps(collection))
    return path


def _locust(base: str, users: int, seconds: int, data: Path, out: Path) -> dict[str, Any]:
    prefix = out / f"u{users}"
    subprocess.run(
        [
            str(LOCUST),
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--host",
            base,
            "-u",
            str(users),
            "-r",
            str(max(users // 4, 10)),
            "-t",
            f"{seconds}s",
            "--csv",
            str(prefix),
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        env={**os.environ, "BENCH_LOAD_DATA": str(data)},
        check=False,
        stdout=subprocess.DEVNULL,
    )
    figures: dict[str, Any] = {}
    with open(f"{prefix}_stats.csv", newline="") as stats:
        for row in csv.DictReader(stats):
            figures[row["Name"]] = {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50": float(row["50%"]),
                "p95": float(row["95%"]),
                "p99": float(row["99%"]),
                "max": float(row["Max Response Time"]),
            }
    failures = out / f"u{users}_failures.csv"
    with open(failures, newline="") as listed:
        figures["failure_kinds"] = [
            f"{row['Method']} {row['Name']}: {row['Error'][:160]} x{row['Occurrences']}"
            for row in csv.DictReader(listed)
        ]
    return figures


class HealthProbe:
    """`/healthz` four times a second on a keep-alive connection of its own, from the bench
    process (outside Locust, whose own event loop is busy at 200 users): what a load balancer's
    probe sees."""

    def __init__(self, base: str) -> None:
        self.address = urlsplit(base).netloc
        self.seconds: list[float] = []
        self.statuses: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._probe, daemon=True)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _probe(self) -> None:
        connection = http.client.HTTPConnection(self.address, timeout=30)
        while not self._stop.wait(0.25):
            started = time.perf_counter()
            try:
                connection.request("GET", "/healthz")
                response = connection.getresponse()
                response.read()
                status = response.status
            except OSError:
                connection.close()
                status = 0
            self.seconds.append(time.perf_counter() - started)
            self.statuses.append(status)

    def figures(self) -> dict[str, Any]:
        ordered = sorted(self.seconds) or [0.0]
        return {
            "probes": len(self.seconds),
            "not_200": sum(status != 200 for status in self.statuses),
            "p50": round(statistics.median(ordered) * 1000, 1),
            "p99": round(ordered[int(len(ordered) * 0.99)] * 1000, 1),
            "max": round(ordered[-1] * 1000, 1),
        }


def _run_import(url: str, path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "import", "parcels", str(path)],
        env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _previous() -> dict[str, Any]:
    try:
        return dict(json.loads((RESULTS_DIR / "load.json").read_text()))
    except (OSError, ValueError):
        return {}


def _was(previous: dict[str, Any], level: str, route: str) -> str:
    old = previous.get("figures", {}).get(level, {}).get(route)
    if not old:
        return ""
    return f"  (was {old['p50']:.0f}/{old['p95']:.0f}/{old['p99']:.0f})"


def run(
    seconds: int = 40, serve_options: tuple[str, ...] = (), levels: tuple[int, ...] = LEVELS
) -> Report:
    if not LOCUST.exists():
        raise SystemExit(f"{LOCUST} is missing: `make bench` makes it from requirements-load.txt")
    previous = _previous()
    url = prepare_database(None)
    RESULTS_DIR.mkdir(exist_ok=True)
    SERVER_LOG.write_bytes(b"")
    lines = [f"server: asset-registry serve {' '.join(serve_options) or '(defaults)'}"]
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="registry-load-") as folder:
        out = Path(folder)
        data = out / "mix.json"
        data.write_text(json.dumps(_mix_data(url)))
        options = ("--trusted-proxy", "127.0.0.1", *serve_options)
        with served_app(url, options, SERVER_LOG) as base:
            for users in levels:
                importer = _run_import(url, _import_file(out))
                started = time.perf_counter()
                with HealthProbe(base) as probe:
                    level = _locust(base, users, seconds, data, out)
                level["healthz_probe"] = probe.figures()
                _, errors = importer.communicate(timeout=600)
                level["import"] = {
                    "exit_code": importer.returncode,
                    "seconds": round(time.perf_counter() - started, 1),
                    "error": errors.decode()[-300:] if importer.returncode else "",
                }
                figures[str(users)] = level
                lines += _level_lines(users, level, previous)
    if previous:
        lines.append(f"(was: the run of {previous.get('date')}, {previous.get('machine')})")
    else:
        lines.append("(no previous run to compare with)")
    return Report("load", lines, figures)


def _level_lines(users: int, level: dict[str, Any], previous: dict[str, Any]) -> list[str]:
    total = level.get("Aggregated", {})
    health = level.get("/healthz", {})
    probe = level["healthz_probe"]
    imported = level["import"]
    lines = [
        f"{users} users: {total.get('requests', 0):,} requests, "
        f"{total.get('failures', 0)} failed; import exit {imported['exit_code']} "
        f"({imported['seconds']} s)",
        f"  /healthz probe: {probe['probes']} probes, {probe['not_200']} not 200, "
        f"p50 {probe['p50']} ms, p99 {probe['p99']} ms, slowest {probe['max']} ms "
        f"(through Locust: slowest {health.get('max', 0):.0f} ms)",
        f"  {'route':<14} {'requests':>8} {'failed':>6}  p50/p95/p99 ms",
    ]
    for route in ROUTES:
        row = level.get(route)
        if row:
            lines.append(
                f"  {route:<14} {row['requests']:>8} {row['failures']:>6}  "
                f"{row['p50']:.0f}/{row['p95']:.0f}/{row['p99']:.0f}"
                f"{_was(previous, str(users), route)}"
            )
    lines += [f"  failure: {kind}" for kind in level.get("failure_kinds", [])[:10]]
    if imported["error"]:
        lines.append(f"  import: {imported['error']}")
    return lines
