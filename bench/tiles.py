"""Vector tiles: the app's endpoint (HTTP, waitress) against the raw ST_AsMVT query, same tiles."""

from __future__ import annotations

import http.client
import statistics
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import mapbox_vector_tile
import psycopg

from bench.harness import Report
from bench.harness import time_call
from geo.tiles import PARCEL_TILE_SQL
from registry.db import normalise_database_url

ZOOMS = (12, 13, 14, 15, 16)
TILES_PER_KIND = 12  # per zoom: the densest tiles and tiles picked at random parcels
REPEATS = 7

_TILE_CANDIDATES = """
WITH tiles AS (
    SELECT floor((ST_X(c) + 20037508.342789244) / (40075016.68557849 / 2 ^ %(z)s))::int AS x,
           floor((20037508.342789244 - ST_Y(c)) / (40075016.68557849 / 2 ^ %(z)s))::int AS y
      FROM (SELECT ST_PointOnSurface(geom_3857) AS c FROM parcels WHERE geom_3857 IS NOT NULL) p
), counted AS (SELECT x, y, count(*) AS n FROM tiles GROUP BY x, y)
(SELECT x, y, 'dense' FROM counted ORDER BY n DESC LIMIT %(k)s)
UNION ALL
(SELECT x, y, 'sparse' FROM counted ORDER BY md5(x::text || '/' || y::text) LIMIT %(k)s)
"""


def _feature_ids(tile: bytes) -> set[str]:
    layers = mapbox_vector_tile.decode(tile) if tile else {}
    return {f["properties"]["parcel_id"] for f in layers.get("parcels", {}).get("features", [])}


def _one(row: tuple[Any, ...] | None) -> Any:
    assert row is not None, "the statement returned no row"
    return row[0]


def _raw_tile(connection: psycopg.Connection[Any], sql: Any, params: dict[str, int]) -> Any:
    return connection.execute(sql, params).fetchone()


def run(database_url: str, app_url: str, label: str) -> Report:
    dsn = normalise_database_url(database_url).replace("postgresql+psycopg", "postgresql")
    raw_sql = PARCEL_TILE_SQL
    host = urlsplit(app_url)
    conn = http.client.HTTPConnection(host.hostname or "127.0.0.1", host.port, timeout=30)

    def fetch(z: int, x: int, y: int) -> bytes:
        conn.request("GET", f"/tiles/parcels/{z}/{x}/{y}.mvt")
        response = conn.getresponse()
        body = response.read()
        assert response.status == 200, response.status
        return body

    lines, per_zoom, ratios_all, raw_all, app_all = [], {}, [], [], []
    # The peer: the same statement on one psycopg connection, planned as the app plans it.
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("SET max_parallel_workers_per_gather = 0")
        for z in ZOOMS:
            tiles = connection.execute(_TILE_CANDIDATES, {"z": z, "k": TILES_PER_KIND}).fetchall()
            raw_times, app_times, sizes = [], [], []
            for x, y, _kind in tiles:
                params = {"z": z, "x": x, "y": y}
                raw_bytes = _one(connection.execute(raw_sql, params).fetchone()) or b""
                # the same features; their order (so the bytes) varies with parallel plans
                assert _feature_ids(bytes(raw_bytes)) == _feature_ids(fetch(z, x, y))
                raw_times.append(
                    time_call(partial(_raw_tile, connection, raw_sql, params), REPEATS)
                )
                app_times.append(time_call(partial(fetch, z, x, y), REPEATS))
                sizes.append(len(raw_bytes))
            raw_median, app_median = statistics.median(raw_times), statistics.median(app_times)
            per_zoom[z] = {
                "tiles": len(tiles),
                "raw_ms": raw_median * 1000,
                "endpoint_ms": app_median * 1000,
                "ratio": app_median / raw_median,
                "median_tile_kb": statistics.median(sizes) / 1024,
            }
            raw_all += raw_times
            app_all += app_times
            ratios_all += [a / r for a, r in zip(app_times, raw_times, strict=True)]
            lines.append(
                f"  z{z}: {len(tiles)} tiles, raw {raw_median * 1000:7.2f} ms, endpoint "
                f"{app_median * 1000:7.2f} ms, ratio {app_median / raw_median:4.2f}, "
                f"median tile {statistics.median(sizes) / 1024:6.1f} KiB"
            )
    conn.close()
    overall = statistics.median(app_all) / statistics.median(raw_all)
    lines.append(
        f"  all zooms: raw median {statistics.median(raw_all) * 1000:.2f} ms, endpoint median "
        f"{statistics.median(app_all) * 1000:.2f} ms, ratio of medians {overall:.2f} "
        f"(median of per-tile ratios {statistics.median(ratios_all):.2f})"
    )
    figures = {
        "per_zoom": per_zoom,
        "ratio_of_medians": overall,
        "median_per_tile_ratio": statistics.median(ratios_all),
    }
    return Report(f"tiles_{label}", lines, figures)
