"""Shared benchmark plumbing: a database of N parcels, a served app, timing and reporting."""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from registry import database_admin
from registry.db import create_registry_engine
from registry.db import normalise_database_url
from registry.settings import Settings

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def bench_database_url(parcels: int) -> str:
    base = make_url(normalise_database_url(Settings.from_env().database_url))
    return base.set(database=f"asset_registry_bench_{parcels}").render_as_string(
        hide_password=False
    )


def parcel_count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM parcels")).scalar() or 0)
    finally:
        engine.dispose()


def prepare_database(parcels: int | None) -> str:
    """A migrated database holding the sample (None) or a generated city of `parcels`."""
    url = bench_database_url(parcels or 0)
    database_admin.create_database(url)
    database_admin.upgrade(url)
    from sample_parcels.load import load_sample

    expected = parcels
    if expected is None or parcel_count(url) != expected:
        started = time.perf_counter()
        engine = create_registry_engine(url)
        load_sample(sessionmaker(engine), parcels)
        engine.dispose()
        print(f"  loaded {parcel_count(url):,} parcels in {time.perf_counter() - started:.1f} s")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE parcels"))
    engine.dispose()
    return url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served_app(
    url: str, serve_options: Sequence[str] = (), log: Path | None = None
) -> Iterator[str]:
    """The app under its production server (waitress), in a process of its own; `serve_options`
    go to `asset-registry serve` (e.g. `--threads 16`); its stderr to `log` when given."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": os.environ.get("SECRET_KEY", "bench")}
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port), *serve_options],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab") if log else subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the app did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def time_call(call: Callable[[], object], repeats: int) -> float:
    """Median seconds of `repeats` calls."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


@dataclass
class Report:
    name: str
    lines: list[str]
    figures: dict[str, object]

    def save(self) -> None:
        RESULTS_DIR.mkdir(exist_ok=True)
        payload = {
            "name": self.name,
            "machine": machine(),
            "date": time.strftime("%Y-%m-%d"),
            "figures": self.figures,
        }
        (RESULTS_DIR / f"{self.name}.json").write_text(json.dumps(payload, indent=2))


def machine() -> str:
    cores = os.cpu_count()
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{platform.machine()} {cores} cores{memory}, {platform.system()} {platform.release()}"
