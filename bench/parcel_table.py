"""The parcel table `/parcels` at 100,000 parcels: filter, sort and page requests to the served
app (waitress, a signed-in viewer by bearer token), each against two peers in the same run: the
table's own SQL alone (page + count, on one connection: what the page adds to its queries is
rendering) and the JSON API's list of the same parcels (`/api/parcels`, keyset by id, 50
features). Target: under 300 ms server time per request (issue 12); reported, not asserted.
A filtered parcel tile is timed against the unfiltered one too.
"""

from __future__ import annotations

import re
import urllib.request
from functools import partial
from html import unescape

from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from bench.harness import Report
from bench.harness import served_app
from bench.harness import time_call
from registry.db import create_registry_engine
from registry.db import unit_of_work
from registry.parcels.filters import ParcelFilter
from registry.parcels.table import TableQuery
from registry.parcels.table import count_matches
from registry.parcels.table import parcel_table_page
from registry.users.records import create_user
from registry.users.records import find_user
from registry.users.records import issue_token

REPEATS = 5
TARGET_MS = 300
# label, table query string, the API's query string for the same parcels (None: no peer)
CASES = (
    ("everything, by parcel id", "", "limit=50"),
    ("everything, by address descending", "sort=address&order=desc", None),
    ("everything, by area descending", "sort=area&order=desc", None),
    ("everything, by department", "sort=department", None),
    ("status=surplus, by district", "status=surplus&sort=district", "status=surplus&limit=50"),
    ("area 500–5,000 m², by area", "area_min=500&area_max=5000&sort=area", None),
    ("digitization=digitized, verified=no", "digitization=digitized&verified=no", None),
    ("text search 'main'", "q=main", "q=main&limit=50"),
)
PAGES_DEEP = 20  # "page 21": the 20th next-link followed


def _token(url: str) -> str:
    engine = create_registry_engine(url)
    try:
        with unit_of_work(sessionmaker(engine, expire_on_commit=False), "bench") as session:
            email = "bench-table-viewer@city.example"
            user = find_user(session, email) or create_user(session, email, "viewer")
            return issue_token(session, user)
    finally:
        engine.dispose()


def _get(base: str, path: str, token: str) -> str:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return str(response.read().decode())


def _next(body: str) -> str | None:
    found = re.search(r'<a rel="next" href="([^"]+)"', body)
    return unescape(found.group(1)) if found else None


def _sql_alone(url: str, query_string: str) -> float:
    args = dict(part.split("=", 1) for part in query_string.split("&") if part)
    flt = ParcelFilter.from_args(args)
    query = TableQuery(flt, args.get("sort", "parcel_id"), args.get("order") == "desc")
    engine = create_engine(url)
    try:
        with Session(engine) as session:

            def run() -> None:
                parcel_table_page(session, query)
                count_matches(session, flt)

            return time_call(run, REPEATS)
    finally:
        engine.dispose()


def run(url: str, parcels: int) -> Report:
    token = _token(url)
    lines = [f"{'request':42} {'page 1':>8} {'page 21':>8} {'SQL':>7} {'API':>7}  (ms, median)"]
    figures: dict[str, object] = {"parcels": parcels, "target_ms": TARGET_MS}
    with served_app(url) as base:
        _get(base, "/parcels", token)  # warm the server
        for label, query_string, api_query in CASES:
            path = "/parcels" + (f"?{query_string}" if query_string else "")
            first = time_call(partial(_get, base, path, token), REPEATS) * 1000
            deep_path: str | None = path
            for _ in range(PAGES_DEEP):
                deep_path = _next(_get(base, deep_path, token)) if deep_path else None
            deep = None
            if deep_path:
                deep = time_call(partial(_get, base, deep_path, token), REPEATS) * 1000
            sql = _sql_alone(url, query_string) * 1000
            api = None
            if api_query:
                api_path = f"/api/parcels?{api_query}"
                api = time_call(partial(_get, base, api_path, token), REPEATS) * 1000
            lines.append(
                f"{label:42} {first:8.0f} {deep if deep is not None else float('nan'):8.0f} "
                f"{sql:7.0f} {api if api is not None else float('nan'):7.0f}"
            )
            figures[label] = {
                "page_1_ms": round(first, 1),
                "page_21_ms": round(deep, 1) if deep is not None else None,
                "sql_alone_ms": round(sql, 1),
                "api_list_ms": round(api, 1) if api is not None else None,
                "under_target": first < TARGET_MS and (deep is None or deep < TARGET_MS),
            }
        tile = "/tiles/parcels/13/1405/3271.mvt"
        plain = time_call(lambda: _get_bytes(base, tile, token), REPEATS) * 1000
        filtered = (
            time_call(lambda: _get_bytes(base, tile + "?status=surplus", token), REPEATS) * 1000
        )
        lines.append(
            f"tile 13/1405/3271: unfiltered {plain:.0f} ms, status=surplus {filtered:.0f} ms"
        )
        figures["tile_ms"] = {"unfiltered": round(plain, 1), "status_surplus": round(filtered, 1)}
    return Report("parcel_table", lines, figures)


def _get_bytes(base: str, path: str, token: str) -> bytes:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return bytes(response.read())
