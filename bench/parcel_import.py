"""Parcel import at city scale: our full import (validation included) against `ogr2ogr -f
PostgreSQL` (COPY mode, no validation) on the same GeoPackage, in the same run; then a million
parcels with the importer's peak memory."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.harness import RESULTS_DIR, Report, bench_database_url
from registry import database_admin
from registry.db import normalise_database_url

GENERATE = """
import sys
from pathlib import Path
import pyogrio
from sample_parcels.generator import iter_portfolio_chunks
path, n = Path(sys.argv[1]), int(sys.argv[2])
for index, chunk in enumerate(iter_portfolio_chunks(n, chunk_size=50_000)):
    frame = chunk.parcels[chunk.parcels.geometry.notna()]
    pyogrio.write_dataframe(frame, path, layer="parcels", append=index > 0)
"""


def parcels_file(n: int) -> Path:
    """A GeoPackage of the generated city (made once, kept under bench/results)."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"city_{n}.gpkg"
    if not path.exists():
        subprocess.run([sys.executable, "-c", GENERATE, str(path), str(n)], check=True)
    return path


def _fresh_database(name: str) -> str:
    url = bench_database_url(0).rsplit("/", 1)[0] + f"/{name}"
    database_admin.drop_database(url)
    database_admin.create_database(url)
    return url


def _seed_departments(url: str) -> None:
    import pandas as pd

    departments = pd.read_csv(Path(__file__).resolve().parent.parent / "sample_parcels" /
                              "departments.csv")
    engine = create_engine(normalise_database_url(url))
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO departments (code, name) VALUES (:code, :name)"),
                           departments.to_dict("records"))
    engine.dispose()


def time_ours(path: Path, url: str) -> tuple[float, int, str]:
    """Seconds, peak RSS (KiB) of the importer process, and its summary line."""
    env = {**os.environ, "DATABASE_URL": url}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "import", "parcels", str(path), "--actor", "bench"],
        env=env, capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(done.stdout + done.stderr)
    return elapsed, usage.ru_maxrss, done.stdout.splitlines()[0]


def time_ogr2ogr(path: Path, url: str) -> float:
    dsn = normalise_database_url(url).replace("postgresql+psycopg://", "postgresql://")
    started = time.perf_counter()
    subprocess.run(
        ["ogr2ogr", "-f", "PostgreSQL", f"PG:{dsn}", str(path), "-nln", "ogr_parcels",
         "-lco", "GEOMETRY_NAME=geom", "--config", "PG_USE_COPY", "YES", "-overwrite"],
        check=True, capture_output=True,
    )
    return time.perf_counter() - started


def time_ogr2ogr_into_registry(path: Path, url: str) -> float:
    """ogr2ogr appending the same features to the registry's own `parcels` table: its
    generated columns, indexes and audit triggers, but none of the importer's checks."""
    dsn = normalise_database_url(url).replace("postgresql+psycopg://", "postgresql://")
    columns = "parcel_id, address, use, asset_type, legal_interest, status, digitization_status"
    started = time.perf_counter()
    subprocess.run(
        ["ogr2ogr", "-f", "PostgreSQL", f"PG:{dsn}", str(path), "-append", "-nln", "parcels",
         "-sql", f"SELECT {columns} FROM parcels", "--config", "PG_USE_COPY", "YES"],
        check=True, capture_output=True,
    )
    return time.perf_counter() - started


def run(n: int = 100_000, big: int | None = None) -> Report:
    path = parcels_file(n)
    ours_url = _fresh_database("asset_registry_bench_import")
    database_admin.upgrade(ours_url)
    _seed_departments(ours_url)
    peer_url = _fresh_database("asset_registry_bench_ogr2ogr")
    peer = time_ogr2ogr(path, peer_url)
    registry_url = _fresh_database("asset_registry_bench_ogr2ogr_registry")
    database_admin.upgrade(registry_url)
    peer_registry = time_ogr2ogr_into_registry(path, registry_url)
    ours, rss, summary = time_ours(path, ours_url)
    again, _, summary_again = time_ours(path, ours_url)
    lines = [
        f"  {n:,} parcels from a {path.stat().st_size / 2**20:.0f} MiB GeoPackage:",
        f"    ogr2ogr -f PostgreSQL (COPY, no validation): {peer:6.1f} s",
        f"    ogr2ogr -append into the registry's parcels table (its triggers and derived "
        f"columns, no checks): {peer_registry:6.1f} s",
        f"    asset-registry import parcels (validated):   {ours:6.1f} s  "
        f"ratio {ours / peer:.2f}  peak RSS {rss / 1024:.0f} MiB",
        f"      {summary}",
        f"    the same file again (nothing changes):      {again:6.1f} s",
        f"      {summary_again}",
    ]
    figures = {"parcels": n, "ogr2ogr_s": peer, "ogr2ogr_into_registry_s": peer_registry,
               "ours_s": ours, "ratio": ours / peer,
               "reimport_s": again, "peak_rss_mib": rss / 1024}
    if big:
        big_path = parcels_file(big)
        big_url = _fresh_database("asset_registry_bench_import_big")
        database_admin.upgrade(big_url)
        _seed_departments(big_url)
        seconds, big_rss, big_summary = time_ours(big_path, big_url)
        lines += [f"  {big:,} parcels: {seconds:.0f} s, importer peak RSS {big_rss / 1024:.0f} MiB",
                  f"      {big_summary}"]
        figures.update(big_parcels=big, big_s=seconds, big_peak_rss_mib=big_rss / 1024)
    return Report("parcel_import", lines, figures)
