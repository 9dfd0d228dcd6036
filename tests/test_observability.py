"""Seeing the app run (issue 15, item 6): request logs, the request id, /metrics.

The log format is read from `asset-registry serve` itself (a real process behind a real port,
its standard error parsed line by line); the metrics by prometheus_client's own parser, the one
a Prometheus-compatible scraper uses, after real HTTP requests.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from app import database
from app.request_log import REQUEST_LOGGER
from app.request_log import configure_logging
from app.request_log import request_id_for
from tests.auth_fixtures import TEST_PASSWORD
from tests.auth_fixtures import LoginHelper
from tests.auth_fixtures import bearer
from tests.auth_fixtures import make_user
from tests.conftest import LiveServer
from tests.sql import query
from tests.tiles import tile_of

ROOT = Path(__file__).resolve().parent.parent
TILE_ROUTE = "/tiles/parcels/<int:z>/<int:x>/<int:y>.mvt"
REQUEST_FIELDS = {
    "time",
    "level",
    "logger",
    "request_id",
    "event",
    "method",
    "route",
    "status",
    "duration_ms",
    "rows",
    "statements",
    "bytes",
    "user",
    "user_id",
    "auth",
    "remote_addr",
}


@pytest.fixture(scope="module")
def a_parcel(sample_database_url: str) -> dict[str, Any]:
    (row,) = query(
        sample_database_url,
        "SELECT parcel_id, ST_X(c) AS lon, ST_Y(c) AS lat FROM ("
        " SELECT parcel_id, ST_PointOnSurface(geom) AS c FROM parcels"
        " WHERE geom IS NOT NULL AND retired_at IS NULL ORDER BY parcel_id LIMIT 1) AS p",
    )
    return dict(row._mapping)


def _tile_path(parcel: dict[str, Any], zoom: int = 16) -> str:
    x, y = tile_of(float(parcel["lon"]), float(parcel["lat"]), zoom)
    return f"/tiles/parcels/{zoom}/{x}/{y}.mvt"


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The root logger writing JSON lines into a buffer, as `serve` sets it up; undone after."""
    root = logging.getLogger()
    level = root.level
    buffer = io.StringIO()
    handler = configure_logging("json", "INFO", buffer)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _requests_of(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["logger"] == REQUEST_LOGGER]


# --- asset-registry serve: one JSON line per request ---------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _login(base: str, email: str) -> requests.Session:
    browser = requests.Session()
    form = browser.get(f"{base}/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token
    answer = browser.post(
        f"{base}/login",
        data={"email": email, "password": TEST_PASSWORD, "csrf_token": token.group(1)},
        allow_redirects=False,
    )
    assert answer.status_code == 302
    return browser


@pytest.fixture(scope="module")
def served_log(
    sample_app: Flask,
    sample_database_url: str,
    a_parcel: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """`asset-registry serve` on the sample, asked a set of requests; its standard error read
    once it has stopped, with what each request was."""
    token = LoginHelper().token(sample_app, "log-script@city.example", "viewer")
    make_user(sample_app, "log-viewer@city.example", "viewer")
    port = _free_port()
    stderr_path = tmp_path_factory.mktemp("serve") / "stderr.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_LOG")}
    env.update(DATABASE_URL=sample_database_url, SECRET_KEY="observe-secret-key-for-tests")
    command = [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--threads", "4"]
    with stderr_path.open("w") as stderr:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                assert server.poll() is None, stderr_path.read_text()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
            page = f"/parcels/{a_parcel['parcel_id']}"
            answers = {
                "page": requests.get(f"{base}{page}", headers={"X-Request-Id": "trace-0001-abc"}),
                "api": requests.get(f"{base}/api/parcels?limit=5", headers=bearer(token)),
                "tile": requests.get(f"{base}{_tile_path(a_parcel)}"),
                "missing": requests.get(f"{base}/no/such/page/12345"),
                "forged_id": requests.get(f"{base}/healthz", headers={"X-Request-Id": "<b>x</b>"}),
            }
            browser = _login(base, "log-viewer@city.example")
            answers["signed_in"] = browser.get(f"{base}{page}")
            cookie = browser.cookies.get("session")
            # a request's line is written when its body is closed, just after the client has it
            last = answers["signed_in"].headers["X-Request-Id"]
            while last not in stderr_path.read_text():
                assert time.monotonic() < deadline + 30, "the last request was never logged"
                time.sleep(0.05)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=20)
    return {
        "text": stderr_path.read_text(),
        "answers": answers,
        "token": token,
        "cookie": cookie,
        "page": page,
    }


def _line_for(served: dict[str, Any], name: str) -> dict[str, Any]:
    request_id = served["answers"][name].headers["X-Request-Id"]
    (line,) = [
        line for line in _requests_of(_lines(served["text"])) if line["request_id"] == request_id
    ]
    return line


def test_serve_writes_every_log_record_as_one_json_line(served_log: dict[str, Any]) -> None:
    lines = _lines(served_log["text"])  # json.loads of each line: any other line fails here
    requests_logged = _requests_of(lines)
    assert len(requests_logged) >= 7  # health checks while starting, the six, the login
    for line in requests_logged:
        assert set(line) >= REQUEST_FIELDS, line
        assert line["event"] == "request"
        assert isinstance(line["duration_ms"], float | int) and line["duration_ms"] >= 0
        assert isinstance(line["rows"], int) and line["rows"] >= 0
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["time"])


def test_each_line_names_the_route_template_never_the_path(served_log: dict[str, Any]) -> None:
    assert _line_for(served_log, "page")["route"] == "/parcels/<parcel_id>"
    assert _line_for(served_log, "api")["route"] == "/api/parcels"
    assert _line_for(served_log, "tile")["route"] == TILE_ROUTE  # served before Flask
    assert _line_for(served_log, "missing")["route"] == "unmatched"
    assert _line_for(served_log, "missing")["status"] == 404
    routes = {line["route"] for line in _requests_of(_lines(served_log["text"]))}
    assert not any(re.search(r"\d{3}-\d{3}-\d{3}|12345", route) for route in routes)


def test_each_line_says_who_asked_and_how(served_log: dict[str, Any]) -> None:
    assert _line_for(served_log, "page")["user"] == "anonymous"
    assert _line_for(served_log, "page")["user_id"] is None
    api = _line_for(served_log, "api")
    assert (api["user"], api["auth"]) == ("log-script@city.example", "token")
    assert isinstance(api["user_id"], int)
    signed_in = _line_for(served_log, "signed_in")
    assert (signed_in["user"], signed_in["auth"]) == ("log-viewer@city.example", "session")
    assert _line_for(served_log, "page")["remote_addr"] == "127.0.0.1"


def test_rows_and_statements_count_what_the_database_did(served_log: dict[str, Any]) -> None:
    api = _line_for(served_log, "api")
    assert api["rows"] >= 5  # five parcels, the token's user
    assert api["statements"] >= 2  # the token check, the parcels
    tile = _line_for(served_log, "tile")
    assert (tile["rows"], tile["statements"]) == (1, 1)  # one MVT row from a raw cursor
    missing = _line_for(served_log, "missing")
    assert (missing["rows"], missing["statements"]) == (0, 0)


def test_the_request_id_is_kept_when_well_formed_and_always_sent_back(
    served_log: dict[str, Any],
) -> None:
    answers = served_log["answers"]
    assert answers["page"].headers["X-Request-Id"] == "trace-0001-abc"
    assert _line_for(served_log, "page")["request_id"] == "trace-0001-abc"
    forged = answers["forged_id"].headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged)  # "<b>x</b>" replaced by a new id
    assert "<b>" not in served_log["text"]
    ids = [answer.headers["X-Request-Id"] for answer in answers.values()]
    assert len(set(ids)) == len(ids)


def test_no_secret_reaches_the_log(served_log: dict[str, Any]) -> None:
    text = served_log["text"]
    for secret in (
        served_log["token"],
        TEST_PASSWORD,
        "observe-secret-key-for-tests",
        served_log["cookie"],
    ):
        assert secret and secret not in text


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("0f8fa3c6d2b94c3c9d6b6c3f5c7f0a11", True),
        ("trace:2026-12-03.abc_1", True),
        ("short", False),
        ("a" * 129, False),
        ("id with spaces", False),
        ("id\x00with-a-nul", False),
        (None, False),
    ],
)
def test_an_incoming_request_id_is_kept_only_when_well_formed(
    incoming: str | None, kept: bool
) -> None:
    made = request_id_for(incoming)
    assert (made == incoming) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{32}", made)


# --- errors carry the request id --------------------------------------------------------------


@pytest.mark.parametrize("propagate", [False, True], ids=["flask-logs-it", "escapes-flask"])
def test_a_traceback_carries_the_request_id_of_its_request(
    fresh_database_url: str, json_log: io.StringIO, propagate: bool
) -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": fresh_database_url,
            "SECRET_KEY": "test",
            "PROPAGATE_EXCEPTIONS": propagate,
        }
    )

    def broken(number: int) -> str:
        raise RuntimeError(f"a bug, for the log ({number})")

    app.add_url_rule("/broken/<int:number>", view_func=broken)
    try:
        answer = app.test_client().get("/broken/7", buffered=True)
    finally:
        database.dispose(app)
    assert answer.status_code == 500
    request_id = answer.headers["X-Request-Id"]
    lines = [line for line in _lines(json_log.getvalue()) if line["request_id"] == request_id]
    (error,) = [line for line in lines if line["level"] == "error"]
    assert "RuntimeError: a bug, for the log (7)" in error["error"]
    assert "Traceback" in error["error"]
    (request_line,) = _requests_of(lines)
    assert (request_line["route"], request_line["status"]) == ("/broken/<int:number>", 500)


def test_text_format_carries_the_request_id_too(fresh_database_url: str) -> None:
    root = logging.getLogger()
    level, buffer = root.level, io.StringIO()
    handler = configure_logging("text", "INFO", buffer)
    app = create_app({"TESTING": True, "DATABASE_URL": fresh_database_url, "SECRET_KEY": "t"})
    try:
        answer = app.test_client().get("/nowhere", buffered=True)
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        database.dispose(app)
    (line,) = [line for line in buffer.getvalue().splitlines() if REQUEST_LOGGER in line]
    assert f"[{answer.headers['X-Request-Id']}]" in line
    assert "GET unmatched 404" in line


def test_an_unknown_log_format_is_refused() -> None:
    with pytest.raises(ValueError, match="json or text"):
        configure_logging("yaml", stream=io.StringIO())


# --- /metrics ----------------------------------------------------------------------------------


def _scrape(url: str, **kwargs: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = requests.get(f"{url}/metrics", **kwargs)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def _value(scraped: dict[Any, float], name: str, **labels: str) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_requests_by_route_and_status_and_time_them(
    sample_server: LiveServer, a_parcel: dict[str, Any]
) -> None:
    url = sample_server.url
    before = _scrape(url)
    for _ in range(3):
        assert requests.get(f"{url}{_tile_path(a_parcel, 15)}").status_code == 200
    assert requests.get(f"{url}/parcels/{a_parcel['parcel_id']}").status_code == 200
    assert requests.get(f"{url}/no/such/page").status_code == 404
    # a request is counted when its body is closed, just after the client has it
    missing = {"route": "unmatched", "method": "GET", "status": "404"}
    deadline = time.monotonic() + 5
    after = _scrape(url)
    while _value(after, "asset_registry_http_requests_total", **missing) == _value(
        before, "asset_registry_http_requests_total", **missing
    ):
        assert time.monotonic() < deadline, "the last request was never counted"
        time.sleep(0.05)
        after = _scrape(url)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    tile = {"route": TILE_ROUTE, "method": "GET"}
    assert grew("asset_registry_http_requests_total", **tile, status="200") == 3
    assert grew("asset_registry_http_request_duration_seconds_count", **tile) == 3
    assert grew("asset_registry_http_request_duration_seconds_bucket", **tile, le="+Inf") == 3
    assert grew("asset_registry_http_request_duration_seconds_sum", **tile) > 0
    page = {"route": "/parcels/<parcel_id>", "method": "GET", "status": "200"}
    assert grew("asset_registry_http_requests_total", **page) == 1
    assert grew("asset_registry_http_requests_total", **missing) == 1
    assert grew("asset_registry_db_rows_total", route=TILE_ROUTE) == 3
    # the scrape before this one was counted too, as route /metrics
    assert grew("asset_registry_http_requests_total", route="/metrics", method="GET", status="200")
    assert _value(after, "asset_registry_http_requests_in_flight") >= 1  # this scrape


def test_metrics_show_each_engines_pool_and_the_version(sample_server: LiveServer) -> None:
    scraped = _scrape(sample_server.url)
    assert _value(scraped, "asset_registry_db_pool_size", engine="primary") == 10
    assert _value(scraped, "asset_registry_db_pool_size", engine="read") == 5
    assert _value(scraped, "asset_registry_db_pool_max_overflow", engine="primary") == 10
    for name in ("checked_out", "overflow"):
        assert ("asset_registry_db_pool_" + name, (("engine", "primary"),)) in scraped
    (version,) = [key for key in scraped if key[0] == "asset_registry_info"]
    assert dict(version[1])["version"]
    # no replica configured: no lag to report, rather than a made-up 0
    assert not [key for key in scraped if key[0] == "asset_registry_db_replica_lag_seconds"]
    assert any(key[0] == "process_resident_memory_bytes" for key in scraped)


@pytest.fixture
def guarded_app(fresh_database_url: str) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": fresh_database_url,
            "SECRET_KEY": "test",
            "REGISTRY_METRICS_TOKEN": "scrape-token-0123456789",
        }
    )
    yield app
    database.dispose(app)


def _metrics_status(app: Flask, address: str, **headers: str) -> int:
    answer = app.test_client().get(
        "/metrics", environ_overrides={"REMOTE_ADDR": address}, headers=headers, buffered=True
    )
    return answer.status_code


def test_metrics_are_refused_to_a_remote_anonymous_request_when_a_token_is_set(
    guarded_app: Flask,
) -> None:
    answer = guarded_app.test_client().get(
        "/metrics", environ_overrides={"REMOTE_ADDR": "203.0.113.9"}, buffered=True
    )
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert b"asset_registry" not in answer.data
    wrong = {"Authorization": "Bearer not-the-token"}
    assert _metrics_status(guarded_app, "203.0.113.9", **wrong) == 401
    right = {"Authorization": "Bearer scrape-token-0123456789"}
    assert _metrics_status(guarded_app, "203.0.113.9", **right) == 200
    # a proxy on this host connects from loopback; what it forwards is not local
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    assert _metrics_status(guarded_app, "127.0.0.1", **forwarded) == 401
    assert _metrics_status(guarded_app, "127.0.0.1") == 200
    assert _metrics_status(guarded_app, "::1") == 200


def test_without_a_token_metrics_are_for_this_host_only(app: Flask) -> None:
    assert _metrics_status(app, "203.0.113.9") == 403
    assert _metrics_status(app, "203.0.113.9", Authorization="Bearer anything") == 403
    assert _metrics_status(app, "127.0.0.1") == 200
    post = app.test_client().post("/metrics", buffered=True)
    assert post.status_code == 405


@pytest.mark.xdist_group("read_replica")  # the worker that builds the replica's clusters
def test_metrics_report_the_replicas_lag_and_pools(replicated_database: Any) -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": replicated_database.url,
            "DATABASE_READ_URL": replicated_database.read_url,
            "SECRET_KEY": "test",
        }
    )
    try:
        replicated_database.replica_caught_up()
        answer = app.test_client().get("/metrics", buffered=True)
    finally:
        database.dispose(app)
    assert answer.status_code == 200
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.get_data(as_text=True))
        for sample in family.samples
    }
    lag = samples[("asset_registry_db_replica_lag_seconds", ())]
    assert 0 <= lag <= 30
    for engine in ("primary", "read", "replica", "replica_read"):
        assert ("asset_registry_db_pool_size", (("engine", engine),)) in samples
