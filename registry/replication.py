"""Reading from a streaming replica: how far behind it is, and whether to trust it right now.

PostgreSQL's own streaming replication keeps a hot standby a moment behind the primary. Two facts
decide whether a read may go there, and both are asked of the standby in one cheap statement
(`replica_status`), at most once a second per process (`ReplicaMonitor`):

- **Its lag in seconds.** While the standby has replayed everything it received from a connected
  primary, it is current (lag 0); so it is while its replay waits for more WAL to arrive (what
  it received may end in a record the primary has not flushed in full, which is never a
  commit; seeing that wait takes `pg_read_all_stats` on the standby, else such an idle stretch
  counts as lag, erring towards the primary). Otherwise its data is as old as the last
  transaction it replayed (`now() - pg_last_xact_replay_timestamp()`): replay paused or slow,
  or the primary out of reach (no WAL receiver), which is why an idle but disconnected standby
  counts as lagging too.
- **How far it has replayed** (`pg_last_wal_replay_lsn`), compared with the primary's WAL position
  taken right after a user's write (`wal_position_after_commits`): at or past it, the standby
  shows that write.

A standby that does not answer opens a short circuit breaker: nobody connects to it again for
`retry_seconds`, so a dead replica costs one connection attempt per period, not one per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from sqlalchemy import Engine
from sqlalchemy import text
from sqlalchemy.exc import InternalError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import SQLAlchemyError

log = logging.getLogger(__name__)

#: Seconds to wait for a replica's TCP connection: a replica host that is down must not hold a
#: request for libpq's default of forever.
REPLICA_CONNECT_TIMEOUT_SECONDS = 2

#: What reading from a database may raise, through SQLAlchemy or on a raw psycopg connection.
DATABASE_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError, psycopg.Error)
#: What a write through a session raises when the primary cannot take it now: out of reach
#: (`OperationalError`) or read-only (`InternalError`: SQLSTATE 25006, a standby or
#: `default_transaction_read_only`). Anything else (a wrong statement, a broken constraint) is
#: a bug to surface, not a state to wait out.
PRIMARY_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InternalError)
REPLICA_GONE = "gone"
RECOVERY_CONFLICT = "conflict"


def replica_failure(error: BaseException) -> str | None:
    """Why a read on the replica failed, when the primary could answer it instead:
    `REPLICA_GONE` (no connection: open the breaker), `RECOVERY_CONFLICT` (the standby cancelled
    the query to apply WAL: the replica stays in use), or None (a statement timeout or a bad
    statement would fail on the primary as well)."""
    original = getattr(error, "orig", None) or error
    if isinstance(original, psycopg.errors.QueryCanceled):
        return None
    if isinstance(original, psycopg.errors.SerializationFailure):
        return RECOVERY_CONFLICT
    if isinstance(original, psycopg.OperationalError | psycopg.InterfaceError):
        return REPLICA_GONE
    return None


_REPLICA_STATUS_SQL = text(
    """
    SELECT pg_is_in_recovery() AS in_recovery,
           COALESCE(pg_last_wal_replay_lsn() - '0/0'::pg_lsn, 0)::bigint AS replay_lsn,
           CASE
             WHEN EXISTS (SELECT 1 FROM pg_stat_wal_receiver)
                  AND (pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
                       OR EXISTS (SELECT 1 FROM pg_stat_activity
                                  WHERE backend_type = 'startup'
                                    AND wait_event = 'RecoveryWalStream'))
             THEN 0.0
             ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
           END AS lag_seconds
    """
)


@dataclass(frozen=True)
class ReplicaStatus:
    """What a standby says of itself. `lag_seconds` is None when it cannot tell (it has replayed
    no transaction since it started and is still catching up)."""

    in_recovery: bool
    replay_lsn: int
    lag_seconds: float | None


def replica_status(engine: Engine) -> ReplicaStatus:
    with engine.connect() as connection:
        row = connection.execute(_REPLICA_STATUS_SQL).one()
    lag = None if row.lag_seconds is None else max(0.0, float(row.lag_seconds))
    return ReplicaStatus(bool(row.in_recovery), int(row.replay_lsn), lag)


def wal_position_after_commits(engine: Engine) -> int:
    """A WAL position (a byte offset) that every transaction committed before this call ends at
    or before, and that a standby will reach without waiting for anyone else's write.

    The insert position is such a bound, but WAL past the last commit (page pruning by a read,
    the background writer's snapshots) may sit unflushed, hence unsent, for many seconds on a
    quiet primary, and the flush position may stop mid-record, which a standby cannot replay.
    So the same statement takes a transaction id: its commit writes a record after the position
    read and flushes through it (synchronous commit, the default), and the standby gets it all.
    """
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        value = connection.execute(
            text(
                "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint, pg_current_xact_id()"
            )
        ).scalar_one()
    return int(value)


def replica_has_caught_up(primary: Engine, replica: Engine, wait_seconds: float = 2.0) -> bool:
    """Has `replica`, a standby, replayed every transaction committed on `primary` before this
    call? It is given up to `wait_seconds` to do so. For work that has no write mark to go by (an
    export from the command line, which must be as current as a read of the primary) and can
    afford one statement on each server first."""
    position = wal_position_after_commits(primary)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            status = replica_status(replica)
        except DATABASE_ERRORS:
            return False
        if not status.in_recovery:
            return False
        if status.replay_lsn >= position:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


@dataclass(frozen=True)
class ReplicaState:
    """The monitor's last word on the replica. `reachable` is False when it did not answer (or
    is not a standby); then `lag_seconds` is None."""

    reachable: bool
    replay_lsn: int = 0
    lag_seconds: float | None = None


_UNREACHABLE = ReplicaState(reachable=False)


class ReplicaMonitor:
    """The replica's state for one process, asked of it at most every `check_seconds` (every
    `retry_seconds` while it does not answer), shared by the request threads.

    One thread asks while the others go on with the state they have: no request waits behind
    another's probe. A request whose own replica connection fails calls `failed`, which opens the
    breaker at once rather than at the next probe.
    """

    def __init__(
        self,
        engines: Sequence[Engine],
        max_lag_seconds: float,
        retry_seconds: float = 5.0,
        check_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engines = tuple(engines)  # the first is asked; all are reset when it fails
        self.max_lag_seconds = max_lag_seconds
        self.retry_seconds = retry_seconds
        self.check_seconds = check_seconds
        self._clock = clock
        self._probing = threading.Lock()
        self._state: ReplicaState | None = None
        self._next_check = 0.0

    def state(self) -> ReplicaState:
        if self._clock() >= self._next_check and self._probing.acquire(blocking=False):
            try:
                if self._clock() >= self._next_check:
                    self._probe()
            finally:
                self._probing.release()
        return self._state or _UNREACHABLE

    def usable(self, replayed_lsn: int = 0) -> bool:
        """Reachable, a standby, no further behind than `max_lag_seconds`, and replayed at least
        up to `replayed_lsn`. The replay position may be up to `check_seconds` old, which only
        ever errs towards the primary: it never goes back."""
        state = self.state()
        return (
            state.reachable
            and state.lag_seconds is not None
            and state.lag_seconds <= self.max_lag_seconds
            and state.replay_lsn >= replayed_lsn
        )

    def failed(self) -> None:
        """A connection to the replica failed: use the primary until the next probe, and drop
        the pooled connections, which died with the server (else each would fail once more
        when the replica is back, and open the breaker again)."""
        if self._state is None or self._state.reachable:
            log.warning("read replica unreachable: reads go to the primary")
        self._state = _UNREACHABLE
        self._next_check = self._clock() + self.retry_seconds
        for engine in self.engines:
            engine.dispose()

    def _probe(self) -> None:
        try:
            status = replica_status(self.engines[0])
        except SQLAlchemyError:
            self.failed()
            return
        if not status.in_recovery:
            if self._state is None or self._state.reachable:
                log.warning(
                    "the read database is not a standby (promoted?): reads go to the primary"
                )
            self._state = _UNREACHABLE
            self._next_check = self._clock() + self.retry_seconds
            return
        if self._state is not None and not self._state.reachable:
            log.warning("read replica answers again")
        self._state = ReplicaState(True, status.replay_lsn, status.lag_seconds)
        self._next_check = self._clock() + self.check_seconds
