"""Parcel import at city scale: our full import (validation included) against `ogr2ogr -f
PostgreSQL` (COPY mode, no validation) on the same GeoPackage, in the same run; then a million
parcels with the importer's peak memory."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy import text

from bench.harness import RESULTS_DIR
from bench.harness import Report
from bench.harness import bench_database_url
from registry import database_admin
from registry.db import normalise_database_url

GENERATE = """
import sys
import tempfile
from pathlib import Path
from typing import Any
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

    departments = pd.read_csv(
        Path(__file__).resolve().parent.parent / "sample_parcels" / "departments.csv"
    )
    engine = create_engine(normalise_database_url(url))
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO departments (code, name) VALUES (:code, :name)"),
            departments.to_dict("records"),
        )
    engine.dispose()


def time_ours(path: Path, url: str, *options: str) -> tuple[float, int, str]:
    """Seconds, peak RSS (KiB) of this importer process alone, and its summary line."""
    env = {**os.environ, "DATABASE_URL": url}
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli.main",
                "import",
                "parcels",
                str(path),
                "--actor",
                "bench",
                *options,
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read()
    if process.returncode != 0:
        raise RuntimeError(output)
    return elapsed, usage.ru_maxrss, output.splitlines()[0]


def time_ogr2ogr(path: Path, url: str) -> float:
    dsn = normalise_database_url(url).replace("postgresql+psycopg://", "postgresql://")
    started = time.perf_counter()
    subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "PostgreSQL",
            f"PG:{dsn}",
            str(path),
            "-nln",
            "ogr_parcels",
            "-lco",
            "GEOMETRY_NAME=geom",
            "--config",
            "PG_USE_COPY",
            "YES",
            "-overwrite",
        ],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def time_ogr2ogr_into_registry(path: Path, url: str) -> float:
    """ogr2ogr appending the same features to the registry's own `parcels` table: its
    generated columns, indexes and audit triggers, but none of the importer's checks."""
    dsn = normalise_database_url(url).replace("postgresql+psycopg://", "postgresql://")
    columns = "parcel_id, address, use, asset_type, legal_interest, status, digitization_status"
    started = time.perf_counter()
    subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "PostgreSQL",
            f"PG:{dsn}",
            str(path),
            "-append",
            "-nln",
            "parcels",
            "-sql",
            f"SELECT {columns} FROM parcels",
            "--config",
            "PG_USE_COPY",
            "YES",
        ],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def _registry_database(name: str) -> str:
    url = _fresh_database(name)
    database_admin.upgrade(url)
    _seed_departments(url)
    return url


def _one_round(path: Path) -> dict[str, Any]:
    """Every contender once, on fresh databases, one after the other."""
    peer = time_ogr2ogr(path, _fresh_database("asset_registry_bench_ogr2ogr"))
    peer_registry = time_ogr2ogr_into_registry(
        path, _registry_database("asset_registry_bench_ogr2ogr_registry")
    )
    ours_url = _registry_database("asset_registry_bench_import")
    checked, _, _ = time_ours(path, ours_url, "--dry-run")
    ours, rss, summary = time_ours(path, ours_url)
    again, _, summary_again = time_ours(path, ours_url)
    return {
        "ogr2ogr_s": peer,
        "ogr2ogr_into_registry_s": peer_registry,
        "dry_run_s": checked,
        "ours_s": ours,
        "reimport_s": again,
        "peak_rss_mib": rss / 1024,
        "summary": summary,
        "summary_again": summary_again,
    }


def run(n: int = 100_000, big: int | None = None, rounds: int = 3) -> Report:
    """Medians of `rounds` rounds; the ratios are of those medians."""
    path = parcels_file(n)
    results = [_one_round(path) for _ in range(rounds)]
    m = {
        key: statistics.median(r[key] for r in results)
        for key in results[0]
        if key.endswith(("_s", "_mib"))
    }
    peer, ours = m["ogr2ogr_s"], m["ours_s"]
    lines = [
        f"  {n:,} parcels from a {path.stat().st_size / 2**20:.0f} MiB GeoPackage, "
        f"median of {rounds} rounds:",
        f"    ogr2ogr -f PostgreSQL (COPY, no validation):        {peer:6.2f} s",
        f"    ogr2ogr -append into the registry's parcels table:  "
        f"{m['ogr2ogr_into_registry_s']:6.2f} s  (its triggers, audit and derived columns; "
        "no checks)",
        f"    asset-registry import parcels --dry-run:            {m['dry_run_s']:6.2f} s  "
        f"ratio {m['dry_run_s'] / peer:.2f}  (read and validate, write nothing)",
        f"    asset-registry import parcels:                      {ours:6.2f} s  "
        f"ratio {ours / peer:.2f}  (to ogr2ogr into the registry: "
        f"{ours / m['ogr2ogr_into_registry_s']:.2f})  peak RSS {m['peak_rss_mib']:.0f} MiB",
        f"      {results[-1]['summary']}",
        f"    the same file again (nothing changes):              {m['reimport_s']:6.2f} s",
        f"      {results[-1]['summary_again']}",
    ]
    figures: dict[str, Any] = {
        "parcels": n,
        "rounds": rounds,
        **m,
        "ratio": ours / peer,
        "dry_run_ratio": m["dry_run_s"] / peer,
        "ratio_to_ogr2ogr_into_registry": ours / m["ogr2ogr_into_registry_s"],
    }
    if big:
        big_path = parcels_file(big)
        big_url = _registry_database("asset_registry_bench_import_big")
        big_peer = time_ogr2ogr(big_path, _fresh_database("asset_registry_bench_ogr2ogr"))
        seconds, big_rss, big_summary = time_ours(big_path, big_url)
        lines += [
            f"  {big:,} parcels: ogr2ogr {big_peer:.1f} s; asset-registry import parcels "
            f"{seconds:.1f} s (ratio {seconds / big_peer:.2f}), importer peak RSS "
            f"{big_rss / 1024:.0f} MiB",
            f"      {big_summary}",
        ]
        figures.update(
            big_parcels=big,
            big_s=seconds,
            big_ogr2ogr_s=big_peer,
            big_ratio=seconds / big_peer,
            big_peak_rss_mib=big_rss / 1024,
        )
    return Report("parcel_import", lines, figures)
