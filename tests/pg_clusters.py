"""Throwaway PostgreSQL clusters for tests: a primary and a streaming replica made from it with
`pg_basebackup -R`, each a real server on a port of its own (a pytest plugin).

    def test_reads(replicated_database):
        replicated_database.replica.execute("SELECT pg_wal_replay_pause()")

The clusters live in a temporary folder and are stopped and removed when the test session ends.
They run as the current user, or, when that is root (which `initdb` refuses), as the `postgres`
user that Debian's server package creates. PostGIS's extension files are installed system-wide,
so a new cluster can `CREATE EXTENSION postgis` like the system one. A run killed before its
clean-up leaves its folder with the pid of its owner: the next run stops those servers and
removes the folder.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from registry import database_admin

_POSTGRESQL = Path("/usr/lib/postgresql")
_FOLDER_PREFIX = "registry-pg-"
_OWNER_FILE = "owner.pid"
_SERVER_USER = "postgres"
# Fast and small: nothing here has to survive a power cut. The replica reports its position
# every second (the primary's view of it), and keeps old rows the queries on it still read.
_SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    "max_connections": "60",
    "wal_level": "replica",
    "max_wal_senders": "5",
    "hot_standby": "on",
    "hot_standby_feedback": "on",
    "wal_receiver_status_interval": "1s",
    "wal_retrieve_retry_interval": "500ms",
}


def postgres_bin_dir() -> Path | None:
    """The server programs of the newest PostgreSQL that has PostGIS, or None."""
    for bin_dir in sorted(_POSTGRESQL.glob("*/bin"), key=lambda p: p.parent.name, reverse=True):
        major = bin_dir.parent.name
        postgis = Path(f"/usr/share/postgresql/{major}/extension/postgis.control")
        if all((bin_dir / name).exists() for name in ("initdb", "pg_ctl", "pg_basebackup")) and (
            postgis.exists()
        ):
            return bin_dir
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", _SERVER_USER, "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str]) -> None:
    result = subprocess.run(
        _as_server_user(command), capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")


@dataclass
class Cluster:
    """One PostgreSQL server: its data folder, port and log."""

    bin_dir: Path
    data_dir: Path
    port: int

    @property
    def log_file(self) -> Path:
        return self.data_dir.with_suffix(".log")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -c unix_socket_directories={self.data_dir.parent}"
        _run(
            [
                str(self.bin_dir / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
            ]
        )

    def stop(self, mode: str = "fast") -> None:
        _run([str(self.bin_dir / "pg_ctl"), "stop", "-w", "-m", mode, "-D", str(self.data_dir)])

    def is_running(self) -> bool:
        return (self.data_dir / "postmaster.pid").exists()

    def execute(self, statement: str, database: str = "postgres", **params: Any) -> Any:
        """Run one statement in autocommit and return the first column of its first row."""
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database, autocommit=True
        ) as connection:
            cursor = connection.execute(statement, params or None)
            row = cursor.fetchone() if cursor.description else None
            return row[0] if row else None


@dataclass
class ClusterSet:
    """Clusters in one temporary folder, all stopped and removed by `close`."""

    bin_dir: Path
    root: Path = field(init=False)
    clusters: list[Cluster] = field(default_factory=list)

    def __post_init__(self) -> None:
        _remove_abandoned_folders(self.bin_dir)
        self.root = Path(tempfile.mkdtemp(prefix=_FOLDER_PREFIX))
        (self.root / _OWNER_FILE).write_text(str(os.getpid()))
        if os.geteuid() == 0:
            server_user = pwd.getpwnam(_SERVER_USER)
            os.chown(self.root, server_user.pw_uid, server_user.pw_gid)

    def primary(self, name: str = "primary") -> Cluster:
        """A new, started cluster that accepts replication connections from 127.0.0.1."""
        cluster = Cluster(self.bin_dir, self.root / name, free_port())
        _run(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(cluster.data_dir),
                "-U",
                "postgres",
                "--auth=trust",  # initdb's pg_hba also lets 127.0.0.1 replicate
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
        with (cluster.data_dir / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{key} = '{value}'\n" for key, value in _SERVER_SETTINGS.items())
        self.clusters.append(cluster)
        cluster.start()
        return cluster

    def replica_of(self, primary: Cluster, name: str = "replica") -> Cluster:
        """A streaming replica of `primary`: `pg_basebackup -R` (which writes the connection to
        the primary and `standby.signal`), started on a port of its own."""
        cluster = Cluster(self.bin_dir, self.root / name, free_port())
        _run(
            [
                str(self.bin_dir / "pg_basebackup"),
                "-h",
                "127.0.0.1",
                "-p",
                str(primary.port),
                "-U",
                "postgres",
                "-D",
                str(cluster.data_dir),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            ]
        )
        self.clusters.append(cluster)
        cluster.start()
        return cluster

    def close(self) -> None:
        for cluster in reversed(self.clusters):
            if cluster.is_running():
                with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                    cluster.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def _remove_abandoned_folders(bin_dir: Path) -> None:
    """Stop the servers of runs that were killed before their clean-up, and remove their
    folders (their owner's pid is gone)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{_FOLDER_PREFIX}*"):
        try:
            owner = int((folder / _OWNER_FILE).read_text())
            os.kill(owner, 0)
            continue  # its run is still going
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            continue  # not ours to judge
        for data_dir in folder.iterdir():
            if (data_dir / "postmaster.pid").exists():
                with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                    _run([str(bin_dir / "pg_ctl"), "stop", "-m", "immediate", "-D", str(data_dir)])
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class ReplicatedDatabase:
    """The registry's schema in a database of a throwaway primary, and its streaming replica."""

    primary: Cluster
    replica: Cluster
    database: str

    @property
    def url(self) -> str:
        return self.primary.url(self.database)

    @property
    def read_url(self) -> str:
        return self.replica.url(self.database)

    def replica_caught_up(self, timeout: float = 30) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        # the xid's commit flushes the WAL up to the position read (see wal_position_after_commits)
        target = self.primary.execute(
            "SELECT pg_current_wal_insert_lsn()::text, pg_current_xact_id()"
        )
        deadline = time.monotonic() + timeout
        while not self.replica.execute(
            "SELECT pg_last_wal_replay_lsn() >= %(target)s::pg_lsn", target=target
        ):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the replica did not replay up to {target}")
            time.sleep(0.05)


@pytest.fixture(scope="session")
def replicated_database() -> Iterator[ReplicatedDatabase]:
    """A primary with the registry's schema migrated in, and a streaming replica of it."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip(
            "the PostgreSQL server programs with PostGIS (initdb, pg_basebackup) are missing"
        )
    clusters = ClusterSet(bin_dir)
    try:
        primary = clusters.primary()
        database = "asset_registry"
        database_admin.create_database(primary.url(database))
        database_admin.upgrade(primary.url(database))
        replica = clusters.replica_of(primary)
        yield ReplicatedDatabase(primary, replica, database)
    finally:
        clusters.close()
