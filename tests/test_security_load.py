"""Load and faults (issue 15, finding 7 and item 3): one user can't take every server thread,
`/healthz` answers while they are taken, each class of request has its statement timeout, and the
database going away answers 503 and comes back by itself.

Everything runs against the real PostGIS and, where threads matter, the real production server
(`app.serving.make_server`, as `asset-registry serve` builds it). Requests that must stay
"running" wait on an advisory lock the test holds, so what is proven is behaviour, not timing.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app
from app import database
from app.database import db_session
from app.request_limits import request_class
from app.serving import ServerOptions
from app.serving import make_server
from tests.auth_fixtures import LoginHelper
from tests.auth_fixtures import bearer
from tests.live_apps import sample_app

LOCK_KEY = 15_007
#: the test-only routes: a request that waits for the test's lock, one that sleeps, one that
#: shows its connection's statement timeout; under /kpi (a report), a page, and the API
WAIT_PATH = "/kpi/test-wait"


def _add_test_routes(app: Flask) -> None:
    def wait_for_lock() -> str:
        db_session().execute(text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": LOCK_KEY})
        return "done"

    def sleep() -> str:
        seconds = float(app.config["TEST_SLEEP"])
        db_session().execute(text("SELECT pg_sleep(:s)"), {"s": seconds})
        return "slept"

    def show_timeout() -> str:
        return str(db_session().execute(text("SHOW statement_timeout")).scalar())

    app.add_url_rule(WAIT_PATH, "test_wait", wait_for_lock)
    for prefix in ("/kpi", "/api", ""):
        app.add_url_rule(f"{prefix}/test-sleep", f"test_sleep{prefix}", sleep)
        app.add_url_rule(f"{prefix}/test-timeout", f"test_timeout{prefix}", show_timeout)


def _test_app(url: str, **config: Any) -> Flask:
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test", **config})
    _add_test_routes(app)
    return app


@contextmanager
def _served(app: Flask, options: ServerOptions) -> Iterator[str]:
    """`app` under the production server on a free port, in a thread."""
    server = make_server(app, "127.0.0.1", 0, options)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.task_dispatcher.shutdown(timeout=5)
        server.close()


@contextmanager
def _lock_held(url: str) -> Iterator[Connection]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            try:
                yield connection
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                connection.commit()
    finally:
        engine.dispose()


def _waiting_on_lock(connection: Connection) -> int:
    return int(
        connection.execute(
            text(
                # this test's database only: tests on other workers wait on the same key
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND objid = :key "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            ),
            {"key": LOCK_KEY},
        ).scalar()
        or 0
    )


class _Answer:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    def json(self) -> Any:
        return json.loads(self.body)


def _get(url: str, headers: dict[str, str] | None = None, timeout: float = 60) -> _Answer:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return _Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return _Answer(error.code, error.headers, error.read())


def _until(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    """Wait for a state the server reaches by itself (a fail-safe, not a timing claim)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


class _Flood:
    """`count` parallel requests to `url`; their statuses as they come back."""

    def __init__(self, url: str, headers: dict[str, str], count: int) -> None:
        self.statuses: list[int] = []
        self.retry_after: list[str | None] = []
        self._lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._one, args=(url, headers), daemon=True)
            for _ in range(count)
        ]
        for thread in self.threads:
            thread.start()

    def _one(self, url: str, headers: dict[str, str]) -> None:
        answer = _get(url, headers)
        with self._lock:
            self.statuses.append(answer.status)
            self.retry_after.append(answer.headers.get("Retry-After"))

    def count(self, status: int) -> int:
        with self._lock:
            return self.statuses.count(status)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=60)


@pytest.fixture
def flood_app(fresh_database_url: str) -> Iterator[Flask]:
    app = _test_app(fresh_database_url)
    yield app
    database.dispose(app)


def test_one_viewers_parallel_heavy_requests_beyond_the_limit_get_429_and_healthz_answers(
    flood_app: Flask, fresh_database_url: str, auth: LoginHelper
) -> None:
    """Finding 7: one viewer's 16 parallel /kpi requests held all 8 threads and /healthz
    answered after 37-45 s. Now 4 run (REGISTRY_USER_CONCURRENCY), the other 12 are refused at
    once with 429 and Retry-After, and /healthz and another user are answered while the 4 run."""
    viewer = bearer(auth.token(flood_app, "flood@city.example", "viewer"))
    other = bearer(auth.token(flood_app, "other@city.example", "viewer"))
    with (
        _served(flood_app, ServerOptions(threads=8)) as base,
        _lock_held(fresh_database_url) as held,
    ):
        flood = _Flood(base + WAIT_PATH, {**viewer, "Accept": "application/json"}, 16)
        try:
            _until(lambda: flood.count(429) == 12, "12 of 16 requests refused with 429")
            _until(lambda: _waiting_on_lock(held) == 4, "4 requests running in the database")
            assert set(flood.retry_after) == {"2"}
            assert _get(base + "/healthz", timeout=10).status == 200
            served = _get(base + "/api/parcels?limit=1", other, timeout=10)
            assert served.status == 200, "another user is served while the flood runs"
            refused = _get(base + "/api/parcels?limit=1", viewer, timeout=10)
            assert refused.status == 429
            body = refused.json()
            assert body["title"] == "Too many requests at once"
            assert "4 requests running" in body["detail"]
        finally:
            held.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            held.commit()
        flood.join()
    assert flood.count(200) == 4
    assert flood.count(429) == 12


def test_healthz_answers_while_every_server_thread_is_taken(
    fresh_database_url: str, auth: LoginHelper
) -> None:
    """Even with the per-user limit out of the way (many users at once), `/healthz` does not
    queue behind the requests holding every thread: it has a lane of its own."""
    app = _test_app(fresh_database_url, REGISTRY_USER_CONCURRENCY=100)
    try:
        viewer = bearer(auth.token(app, "many@city.example", "viewer"))
        with _served(app, ServerOptions(threads=3)) as base, _lock_held(fresh_database_url) as held:
            flood = _Flood(base + WAIT_PATH, viewer, 5)
            try:
                _until(lambda: _waiting_on_lock(held) == 3, "every thread held")
                health = _get(base + "/healthz", timeout=10)
                assert health.status == 200
                assert health.json()["database"] == "ok"
            finally:
                held.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                held.commit()
            flood.join()
        assert flood.count(200) == 5
    finally:
        database.dispose(app)


def test_requests_beyond_a_full_queue_answer_503_at_once_instead_of_waiting(
    fresh_database_url: str, auth: LoginHelper, caplog: pytest.LogCaptureFixture
) -> None:
    """With every thread taken and `max_queue` requests waiting, the next is refused with 503
    and Retry-After by the server itself; the queued ones are served once threads free up. The
    queue is not logged request by request (finding 8: 32,330 "Task queue depth" lines in 30 s)."""
    app = _test_app(fresh_database_url, REGISTRY_USER_CONCURRENCY=100)
    try:
        viewer = bearer(auth.token(app, "queue@city.example", "viewer"))
        options = ServerOptions(threads=2, max_queue=2)
        with _served(app, options) as base, _lock_held(fresh_database_url) as held:
            running = _Flood(base + WAIT_PATH, viewer, 2)
            _until(lambda: _waiting_on_lock(held) == 2, "both threads held")
            queued = _Flood(base + WAIT_PATH, viewer, 2)
            time.sleep(0.5)  # let both reach the queue (if one did not, it is refused below)
            refused = _Flood(base + WAIT_PATH, viewer, 1)
            try:
                _until(lambda: refused.count(503) == 1, "the request beyond the queue refused")
                assert refused.retry_after == ["2"]
                assert queued.statuses == [], "the queued requests still wait"
            finally:
                held.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                held.commit()
            for flood in (running, queued):
                flood.join()
        assert running.count(200) + queued.count(200) == 4
        assert [r.getMessage() for r in caplog.records if r.name == "waitress.queue"] == []
    finally:
        database.dispose(app)


@pytest.fixture
def timeout_app(fresh_database_url: str) -> Iterator[Flask]:
    app = _test_app(fresh_database_url, REGISTRY_STATEMENT_TIMEOUT_REPORT="0.2", TEST_SLEEP="0.5")
    yield app
    database.dispose(app)


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("GET", "/tiles/parcels/14/2805/6540.mvt", "tile"),
        ("GET", "/api/parcels", "read"),
        ("GET", "/ogc/collections/parcels/items", "read"),
        ("GET", "/parcels/2001-016-025", "page"),
        ("PATCH", "/api/parcels/2001-016-025", "write"),
        ("GET", "/kpi", "report"),
        ("GET", "/kpi/export", "report"),
        ("GET", "/portfolio/export", "report"),
        ("GET", "/leases/gasb87/export", "report"),
        ("GET", "/open/download/parcels.gpkg", "report"),
        ("POST", "/imports/new", "import"),
        ("GET", "/imports/new", "page"),
        ("GET", "/healthz", "health"),
    ],
)
def test_each_request_is_classed_by_path_and_method(method: str, path: str, kind: str) -> None:
    assert request_class(path, method) == kind


@pytest.mark.parametrize(
    ("path", "shown"),
    [("/kpi/test-timeout", "200ms"), ("/api/test-timeout", "10s"), ("/test-timeout", "20s")],
)
def test_each_request_class_runs_under_its_own_statement_timeout(
    timeout_app: Flask, path: str, shown: str
) -> None:
    client = timeout_app.test_client()
    for _ in range(2):  # the pooled connection is reused: each request sets its own class's
        for other in ("/kpi/test-timeout", "/test-timeout"):
            client.get(other)
        assert client.get(path).get_data(as_text=True) == shown


def test_a_statement_past_its_timeout_answers_503_too_slow_and_the_next_request_runs(
    timeout_app: Flask,
) -> None:
    """A report statement running 0.5 s under a 0.2 s timeout is cancelled by PostgreSQL: the API
    gets a problem document, a page an HTML page, both 503, never a 500. The same 0.5 s statement
    as a page (20 s timeout) runs, on the same pooled connection."""
    client = timeout_app.test_client()
    response = client.get("/kpi/test-sleep", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"].startswith("This took too long; narrow the request")
    assert response.headers["Retry-After"] == "5"
    page = client.get("/kpi/test-sleep")
    assert page.status_code == 503
    assert page.mimetype == "text/html"
    assert "This took too long" in page.get_data(as_text=True)
    assert client.get("/test-sleep").get_data(as_text=True) == "slept"


class _Forwarder:
    """A TCP forwarder to PostgreSQL that the test can cut (listener and every connection
    closed, as when the database host goes away) and restore on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        assert self._listener is not None
        # shutdown wakes the accept() in progress, which would otherwise keep the port open
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for end in sockets:
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()


def test_database_gone_answers_503_everywhere_and_recovers_by_itself(
    fresh_database_url: str, auth: LoginHelper
) -> None:
    url = make_url(fresh_database_url)
    forwarder = _Forwarder((url.host or "127.0.0.1", url.port or 5432))
    through = url.set(host="127.0.0.1", port=forwarder.port).render_as_string(hide_password=False)
    app = _test_app(through)
    client = app.test_client()
    try:
        viewer = {**bearer(auth.token(app, "gone@city.example", "viewer")), "Accept": "text/html"}
        # connections are pooled while the database answers
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/parcels").status_code == 200
        assert client.get("/").status_code == 200
        assert client.get("/tiles/parcels/14/2805/6540.mvt").status_code == 200

        forwarder.cut()
        api = client.get("/api/parcels")
        assert api.status_code == 503
        assert api.mimetype == "application/problem+json"
        assert api.get_json()["detail"] == (
            "The registry's database is not answering; try again in a minute."
        )
        assert api.headers["Retry-After"] == "60"
        page = client.get("/")
        assert page.status_code == 503
        assert page.mimetype == "text/html"
        assert "database is not answering" in page.get_data(as_text=True)
        tile = client.get("/tiles/parcels/14/2805/6540.mvt")
        assert tile.status_code == 503
        signed_in = client.get("/leases", headers=viewer)  # the token is checked first
        assert signed_in.status_code == 503
        assert "database is not answering" in signed_in.get_data(as_text=True)
        assert client.get("/healthz").status_code == 503

        forwarder.restore()
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/parcels").status_code == 200
        assert client.get("/").status_code == 200
        assert client.get("/tiles/parcels/14/2805/6540.mvt").status_code == 200
        assert client.get("/leases", headers=viewer).status_code == 200
    finally:
        database.dispose(app)
        forwarder.cut()


def test_the_page_of_a_parcel_imported_as_verified_with_no_verifier_answers(
    template_url: str, auth: LoginHelper
) -> None:
    """Found by the load test (a 500 under the day's mix): an import can bring a parcel in as
    verified with no verifier or time recorded; its page says so instead of failing."""
    with sample_app(template_url) as app:
        engine = create_engine(app.config["DATABASE_URL"])
        with engine.begin() as connection:
            parcel_id = connection.execute(
                text(
                    "UPDATE parcels SET verified_by = NULL, verified_at = NULL "
                    "WHERE parcel_id = (SELECT min(parcel_id) FROM parcels "
                    "WHERE digitization_status = 'verified') RETURNING parcel_id"
                )
            ).scalar_one()
        engine.dispose()
        viewer = bearer(auth.token(app, "reader@city.example", "viewer"))
        page = app.test_client().get(f"/parcels/{parcel_id}", headers=viewer)
        assert page.status_code == 200
        assert "Verified (as imported)." in page.get_data(as_text=True)


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.append(int(status.parent.name))
    return found


def test_serve_with_workers_runs_that_many_processes_and_stops_them_all(
    fresh_database_url: str,
) -> None:
    """`asset-registry serve --workers 2`: two processes accept on one socket; SIGTERM to the
    command stops both."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": fresh_database_url, "SECRET_KEY": "test"}
    command = [sys.executable, "-m", "cli.main", "serve", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        _until(
            lambda: _served_or_none(f"http://127.0.0.1:{port}/healthz") == 200, "the server answers"
        )
        workers = _children(server.pid)
        assert len(workers) == 2
        assert {_get(f"http://127.0.0.1:{port}/healthz").status for _ in range(10)} == {200}
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        _until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), "workers gone")
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _served_or_none(url: str) -> int | None:
    try:
        return _get(url, timeout=2).status
    except OSError:
        return None


def test_an_office_behind_one_address_gets_more_room_than_one_user(
    flood_app: Flask, fresh_database_url: str
) -> None:
    """Anonymous requests are counted by client address, and one address is often a whole
    office behind its router (eight people signing in at nine): it may have 16 running
    (REGISTRY_ADDRESS_CONCURRENCY), not a signed-in user's 4; the 17th waits its turn as a 429."""
    with (
        _served(flood_app, ServerOptions(threads=20)) as base,
        _lock_held(fresh_database_url) as held,
    ):
        flood = _Flood(base + WAIT_PATH, {"Accept": "application/json"}, 18)
        try:
            _until(lambda: flood.count(429) == 2, "2 of 18 anonymous requests refused")
            _until(lambda: _waiting_on_lock(held) == 16, "16 requests running in the database")
        finally:
            held.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            held.commit()
        flood.join()
    assert flood.count(200) == 16


def test_the_read_replicas_connections_follow_the_request_class_timeouts_too(
    fresh_database_url: str,
) -> None:
    """Requests served from the read replica (DATABASE_READ_URL) run under their class's
    statement timeout as on the primary: its engines were hidden from the timeout layer."""
    from app.database import _REPLICA
    from registry.statement_timeouts import _set_statement_timeout

    app = _test_app(fresh_database_url, DATABASE_READ_URL=fresh_database_url)
    try:
        replica = app.extensions[_REPLICA]
        assert len(replica.engines()) == 2
        for engine in replica.engines():
            assert event.contains(engine, "checkout", _set_statement_timeout)
    finally:
        database.dispose(app)
