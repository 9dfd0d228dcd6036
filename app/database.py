"""The registry's engines and the request's session, wired into Flask, with reads routed to a
streaming replica when one is configured.

Writes, and most reads, go to the primary (`DATABASE_URL`). With `DATABASE_READ_URL` set (a hot
standby of that primary, e.g. made by `pg_basebackup -R`), one class of requests reads there:

**Which requests.** A GET or HEAD to a route declared with `reads_from_replica` (a view, or a
whole blueprint): vector tiles, the parcel list and search (`GET /api/parcels`, which the map's
search box uses), the KPI desk and KPI map, the KPI, portfolio and GASB 87 exports, and the OGC
API's reads. These are the heavy reads of many readers, where data a moment old is harmless.
Everything else reads from the primary: the pages from which one edits (a parcel, a lease, the
admin pages: what a user edits must be its current version, or the save is refused as stale),
the sign-in checks, and every write (`unit_of_work(session_factory(), actor)` is always the
primary).

**Read your own writes.** After a successful POST, PUT, PATCH or DELETE the answer carries a
signed cookie holding the primary's WAL position right after the write
(`registry.replication.wal_position_after_commits`) and the time; a bearer-token caller is also
remembered, in this process, by its token's hash (scripts rarely keep cookies). Until the
replica has replayed past that position, that caller's replica-class reads go to the primary:
an editor who saves a parcel finds it on the refreshed tiles and in the next search, while
everyone else may see the replica's slightly older state.
The mark is ignored after `REGISTRY_REPLICA_MAX_LAG_SECONDS`: by then a replica within the lag
limit has replayed the write, and one beyond the limit serves nobody.

**Faults.** A replica further behind than `REGISTRY_REPLICA_MAX_LAG_SECONDS` (default 30), out of
reach, or no longer a standby is passed over and its reads go to the primary, without an error
to anyone, until it is well again (`registry.replication.ReplicaMonitor`: asked at most once a
second; while down, once every `REGISTRY_REPLICA_RETRY_SECONDS`, default 5, with a 2-second
connect timeout, so a dead replica costs one connection attempt per period, not one per request).

**In a view** (the OGC API's included): declare the route with `reads_from_replica`, then read
with `db_session()` (alias `read_session()`), the request's session, on the replica when the
request is routed there; or with `read_engine()`, the autocommit engine for hot single
statements, routed likewise, through `run_read(work)`, which runs `work(engine)` and, should the
replica fail, once more on the primary. A session opened on the replica is checked first
(pool pre-ping), and a failing replica sends the request to the primary.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from typing import TypeVar

from flask import Blueprint
from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import has_request_context
from flask import request
from itsdangerous import BadData
from itsdangerous import URLSafeSerializer
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker
from werkzeug.http import parse_cookie

from registry.db import create_read_engine
from registry.db import create_registry_engine
from registry.replication import DATABASE_ERRORS
from registry.replication import REPLICA_CONNECT_TIMEOUT_SECONDS
from registry.replication import REPLICA_GONE
from registry.replication import ReplicaMonitor
from registry.replication import replica_failure
from registry.replication import wal_position_after_commits

_EXTENSION = "registry"
_READ_ENGINE = "registry_read_engine"
_REPLICA = "registry_replica"
_REPLICA_BLUEPRINTS = "registry_replica_blueprints"
_REPLICA_VIEW_FLAG = "reads_from_replica"
_READS_FROM = "registry_reads_from"
_ON_DISPOSE = "registry_on_dispose"

#: The cookie holding the caller's last write (signed; see "Read your own writes" above).
WRITE_MARK_COOKIE = "registry_last_write"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PRIMARY = "primary"
REPLICA = "replica"

T = TypeVar("T")
V = TypeVar("V", bound=Callable[..., Any] | Blueprint)


def init_app(app: Flask) -> None:
    engine = create_registry_engine(app.config["DATABASE_URL"])
    app.extensions[_EXTENSION] = sessionmaker(engine, expire_on_commit=False)
    app.extensions[_READ_ENGINE] = create_read_engine(app.config["DATABASE_URL"], pool_size=5)
    app.teardown_appcontext(_close_session)
    settings = app.config["REGISTRY_SETTINGS"]
    read_url = app.config.get("DATABASE_READ_URL", settings.database_read_url)
    if read_url:
        app.extensions[_REPLICA] = _Replica.connect(
            read_url,
            str(app.config["SECRET_KEY"]),
            float(
                app.config.get("REGISTRY_REPLICA_MAX_LAG_SECONDS", settings.replica_max_lag_seconds)
            ),
            float(app.config.get("REGISTRY_REPLICA_RETRY_SECONDS", settings.replica_retry_seconds)),
        )
        app.after_request(_mark_write)


def on_dispose(app: Flask, stop: Callable[[], None]) -> None:
    """Have `dispose` call `stop` first: work of the app's own threads (a background pool)
    ends before the connections it uses are closed."""
    app.extensions.setdefault(_ON_DISPOSE, []).append(stop)


def dispose(app: Flask) -> None:
    """Stop the app's background work (`on_dispose`), then close its pooled connections (tests
    and shutdown)."""
    for stop in app.extensions.pop(_ON_DISPOSE, []):
        stop()
    factory = app.extensions.get(_EXTENSION)
    if factory is not None:
        factory.kw["bind"].dispose()
    if _READ_ENGINE in app.extensions:
        app.extensions[_READ_ENGINE].dispose()
    replica = app.extensions.get(_REPLICA)
    if replica is not None:
        for replica_engine in replica.monitor.engines:
            replica_engine.dispose()


def session_factory() -> sessionmaker[Session]:
    """Sessions on the primary: every write goes through these (`unit_of_work`)."""
    return current_app.extensions[_EXTENSION]


def engine() -> Engine:
    """The primary's engine."""
    bind = session_factory().kw["bind"]
    assert isinstance(bind, Engine)
    return bind


def reads_from_replica(target: V) -> V:
    """Declare that the GET and HEAD requests of a view, or of every view of a blueprint, may
    read from the replica (the module's docstring says which requests are declared, and why).

        bp = reads_from_replica(Blueprint("ogc", __name__))   # a whole blueprint

        @bp.get("/kpi")
        @reads_from_replica                                    # one view
        def dashboard(): ...
    """
    if isinstance(target, Blueprint):
        target.record_once(
            lambda state: state.app.extensions.setdefault(_REPLICA_BLUEPRINTS, set()).add(
                state.name
            )
        )
    else:
        setattr(target, _REPLICA_VIEW_FLAG, True)  # kept by functools.wraps of outer decorators
    return target


def db_session() -> Session:
    """The request's session, opened on first use and closed when the request ends: on the
    replica when this request reads from it (see the module's docstring), else the primary."""
    if "db_session" not in g:
        g.db_session = _open_session()
    return g.db_session


#: The same session under the name that says what it is for in a read-only view.
read_session = db_session


def read_engine() -> Engine:
    """Autocommit engine for hot read-only statements such as tiles (see create_read_engine):
    the replica's when this request reads from it, else the primary's. Prefer `run_read`,
    which falls back to the primary when the replica fails."""
    replica = _replica(current_app)
    if replica is not None and reads_from() == REPLICA:
        return replica.read_engine
    return current_app.extensions[_READ_ENGINE]


def run_read(work: Callable[[Engine], T]) -> T:
    """`work(read_engine())`; if the replica fails under it, once more on the primary."""
    return _run_read(current_app, reads_from() == REPLICA, work)


def run_wsgi_read(app: Flask, environ: dict[str, Any], work: Callable[[Engine], T]) -> T:
    """`run_read` for WSGI code that answers before Flask (the public tiles): the request must
    be a read of a replica-class route; the caller's write mark comes from `environ`."""
    replica = _replica(app)
    use_replica = replica is not None and replica.serves(
        parse_cookie(environ).get(WRITE_MARK_COOKIE), environ.get("HTTP_AUTHORIZATION")
    )
    return _run_read(app, use_replica, work)


def reads_from() -> str | None:
    """Where this request's reads go, `"replica"` or `"primary"` (for logs); None outside a
    request."""
    if not has_request_context():
        return None
    if _READS_FROM not in g:
        g.setdefault(_READS_FROM, REPLICA if _request_may_use_replica() else PRIMARY)
    return str(g.get(_READS_FROM))


def replica_lag_seconds() -> float | None:
    """How many seconds the replica is behind the primary (for /metrics); None when there is no
    replica, or it does not answer or is not a standby. Asked of it at most once a second."""
    replica = _replica(current_app)
    if replica is None:
        return None
    state = replica.monitor.state()
    return state.lag_seconds if state.reachable else None


class _WriteMarks:
    """Where callers' last writes are kept: a signed cookie, and for bearer tokens a small map in
    this process. A mark is `[lsn, unix time]`; it counts for `max_age_seconds`."""

    _MAX_TOKENS = 10_000

    def __init__(self, secret_key: str, max_age_seconds: float) -> None:
        self.signer = URLSafeSerializer(secret_key, salt="registry.last-write")
        self.max_age_seconds = max_age_seconds
        self._by_token: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def cookie(self, lsn: int, now: float) -> str:
        return self.signer.dumps([lsn, now])

    def remember_token(self, authorization: str | None, lsn: int, now: float) -> None:
        if not authorization:
            return
        with self._lock:
            if len(self._by_token) >= self._MAX_TOKENS:
                self._by_token = {
                    key: mark for key, mark in self._by_token.items() if self._fresh(mark, now)
                }
            self._by_token[_token_key(authorization)] = (lsn, now)

    def lsn_to_wait_for(self, cookie: str | None, authorization: str | None, now: float) -> int:
        """The WAL position the replica must have replayed for this caller (0: none)."""
        lsn = 0
        if cookie:
            try:
                mark = self.signer.loads(cookie)
            except BadData:  # forged, another key, or malformed
                mark = None
            if isinstance(mark, list) and len(mark) == 2 and self._fresh(tuple(mark), now):
                lsn = int(mark[0])
        if authorization:
            token_mark = self._by_token.get(_token_key(authorization))
            if token_mark is not None and self._fresh(token_mark, now):
                lsn = max(lsn, token_mark[0])
        return lsn

    def _fresh(self, mark: tuple[Any, ...], now: float) -> bool:
        lsn, written = mark
        return (
            isinstance(lsn, int)
            and isinstance(written, int | float)
            and 0 <= now - written <= self.max_age_seconds
        )


def _token_key(authorization: str) -> str:
    return hashlib.sha256(authorization.encode()).hexdigest()


@dataclass(frozen=True)
class _Replica:
    sessions: sessionmaker[Session]
    read_engine: Engine
    monitor: ReplicaMonitor
    marks: _WriteMarks

    def engines(self) -> tuple[Engine, ...]:
        """The replica's engines, for what applies to every engine of the app (statement
        timeouts: app.request_limits)."""
        bind = self.sessions.kw.get("bind")
        return (*((bind,) if isinstance(bind, Engine) else ()), self.read_engine)

    @classmethod
    def connect(
        cls, url: str, secret_key: str, max_lag_seconds: float, retry_seconds: float
    ) -> _Replica:
        timeout = {"connect_timeout": REPLICA_CONNECT_TIMEOUT_SECONDS}
        session_engine = create_registry_engine(url, connect_args=timeout)
        tile_engine = create_read_engine(url, pool_size=5, connect_args=timeout)
        return cls(
            sessionmaker(session_engine, expire_on_commit=False),
            tile_engine,
            ReplicaMonitor(
                (session_engine, tile_engine), max_lag_seconds, retry_seconds=retry_seconds
            ),
            _WriteMarks(secret_key, max_lag_seconds),
        )

    def serves(self, cookie: str | None, authorization: str | None) -> bool:
        """May this caller's read go to the replica now?"""
        return self.monitor.usable(self.marks.lsn_to_wait_for(cookie, authorization, time.time()))


def _replica(app: Flask) -> _Replica | None:
    return app.extensions.get(_REPLICA)


def _request_may_use_replica() -> bool:
    replica = _replica(current_app)
    if replica is None or request.method not in READ_METHODS or not _is_replica_route():
        return False
    return replica.serves(
        request.cookies.get(WRITE_MARK_COOKIE), request.headers.get("Authorization")
    )


def _is_replica_route() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, _REPLICA_VIEW_FLAG, False):
        return True
    declared = current_app.extensions.get(_REPLICA_BLUEPRINTS, set())
    return any(name in declared for name in request.blueprints)


def _open_session() -> Session:
    replica = _replica(current_app)
    if replica is not None and reads_from() == REPLICA:
        session = replica.sessions()
        try:
            session.connection()  # check out (and pre-ping) now, while falling back is easy
            return session
        except DATABASE_ERRORS:
            session.close()
            replica.monitor.failed()
            setattr(g, _READS_FROM, PRIMARY)
    return session_factory()()


def _run_read(app: Flask, use_replica: bool, work: Callable[[Engine], T]) -> T:
    replica = _replica(app)
    if replica is None or not use_replica:
        return work(app.extensions[_READ_ENGINE])
    try:
        return work(replica.read_engine)
    except DATABASE_ERRORS as error:
        failure = replica_failure(error)
        if failure is None:
            raise
        if failure == REPLICA_GONE:
            replica.monitor.failed()
        if has_request_context():
            setattr(g, _READS_FROM, PRIMARY)
        return work(app.extensions[_READ_ENGINE])


def _mark_write(response: Response) -> Response:
    """After a successful write, remember the primary's WAL position for this caller."""
    replica = _replica(current_app)
    if replica is None or request.method in READ_METHODS or response.status_code >= 400:
        return response
    try:
        lsn = wal_position_after_commits(engine())
    except DATABASE_ERRORS:
        return response  # the primary is gone: there was no write to wait for
    now = time.time()
    response.set_cookie(
        WRITE_MARK_COOKIE,
        replica.marks.cookie(lsn, now),
        max_age=math.ceil(replica.marks.max_age_seconds),
        httponly=True,
        samesite="Lax",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    replica.marks.remember_token(request.headers.get("Authorization"), lsn, now)
    return response


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
