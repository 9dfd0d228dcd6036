"""The README's point-in-time recovery, done as written: a registry on a throwaway cluster that
archives its WAL (`archive_mode`, `archive_command`), a base backup (`pg_basebackup`), a good
edit, then a mistake; a copy of the base backup recovered with `restore_command` and
`recovery_target_time` to the moment between keeps the edit and not the mistake, and
`asset-registry backup` of the recovered cluster restores like any other.

A separate module from the restore drill: it starts two PostgreSQL servers of its own.
"""

from __future__ import annotations

import os
import pwd
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import cli
from registry import database_admin
from tests.database import unused_database_url
from tests.pg_clusters import Cluster
from tests.pg_clusters import ClusterSet
from tests.pg_clusters import _run as run_as_server
from tests.pg_clusters import free_port
from tests.pg_clusters import postgres_bin_dir
from tests.sql import query

DATABASE = "asset_registry"
PARCEL = "5555-012-034"


@pytest.fixture
def clusters() -> Iterator[ClusterSet]:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.fail(
            "the PostgreSQL server programs with PostGIS (initdb, pg_basebackup) are missing"
        )
    made = ClusterSet(bin_dir)
    try:
        yield made
    finally:
        made.close()


def _folder_for_the_server(path: Path) -> Path:
    path.mkdir()
    if os.geteuid() == 0:
        server = pwd.getpwnam("postgres")
        os.chown(path, server.pw_uid, server.pw_gid)
    return path


def _configure(cluster: Cluster, **settings: str) -> None:
    with (cluster.data_dir / "postgresql.conf").open("a") as conf:
        conf.writelines(f"{key} = '{value}'\n" for key, value in settings.items())


def _parcel_uses(cluster: Cluster) -> list[tuple[Any, ...]]:
    rows = query(cluster.url(DATABASE), "SELECT use, count(*) FROM parcels GROUP BY 1 ORDER BY 1")
    return [tuple(row) for row in rows]


def test_a_cluster_recovered_to_a_moment_keeps_what_came_before_and_not_after(
    clusters: ClusterSet, tmp_path: Path
) -> None:
    wal_archive = _folder_for_the_server(clusters.root / "wal-archive")
    primary = clusters.primary()
    primary.stop()
    _configure(
        primary,
        archive_mode="on",
        archive_command=f"test ! -f {wal_archive}/%f && cp %p {wal_archive}/%f",
    )
    primary.start()
    database_admin.create_database(primary.url(DATABASE))
    database_admin.upgrade(primary.url(DATABASE))
    for number, address in enumerate(("200 N Spring St", "201 N Spring St")):
        primary.execute(
            "INSERT INTO parcels (parcel_id, address, use, geom) VALUES (%(id)s, %(address)s,"
            " 'City Hall', ST_Multi(ST_MakeEnvelope(-118.25 + %(east)s, 34.05,"
            " -118.249 + %(east)s, 34.051, 4326)))",
            DATABASE,
            id=f"5555-012-03{4 + number}",
            address=address,
            east=number / 1000,
        )

    recovered = Cluster(clusters.bin_dir, clusters.root / "recovered", free_port())
    run_as_server(
        [
            str(clusters.bin_dir / "pg_basebackup"),
            *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
            *("-D", str(recovered.data_dir), "-c", "fast", "--no-sync"),
        ]
    )
    primary.execute(
        "BEGIN; SELECT set_config('registry.actor', 'clerk', true);"
        f" UPDATE parcels SET use = 'Fire station' WHERE parcel_id = '{PARCEL}'; COMMIT",
        DATABASE,
    )
    moment = primary.execute("SELECT clock_timestamp()::text")
    time.sleep(0.05)
    primary.execute(
        "BEGIN; SELECT set_config('registry.actor', 'wrong-import', true);"
        " UPDATE parcels SET use = 'MISTAKE'; COMMIT",
        DATABASE,
    )
    segment = primary.execute("SELECT pg_walfile_name(pg_switch_wal())")
    _wait_until(lambda: (wal_archive / segment).exists(), "the WAL segment was never archived")
    assert _parcel_uses(primary) == [("MISTAKE", 2)]

    _configure(
        recovered,
        archive_mode="off",
        restore_command=f"cp {wal_archive}/%f %p",
        recovery_target_time=moment,
        recovery_target_action="promote",
    )
    run_as_server(["touch", str(recovered.data_dir / "recovery.signal")])
    clusters.clusters.append(recovered)
    recovered.start()
    _wait_until(lambda: recovered.execute("SELECT NOT pg_is_in_recovery()"), "recovery never ended")

    assert _parcel_uses(recovered) == [("City Hall", 1), ("Fire station", 1)]
    assert "clerk" in _actors(recovered) and "wrong-import" not in _actors(recovered)

    archive, target = tmp_path / "recovered.backup", unused_database_url()
    env = {"DATABASE_URL": recovered.url(DATABASE), "REGISTRY_DOCUMENT_DIR": str(tmp_path)}
    assert CliRunner().invoke(cli, ["backup", str(archive)], env=env).exit_code == 0
    try:
        restored = CliRunner().invoke(
            cli, ["restore", str(archive), "--database-url", target], env=env
        )
        assert restored.exit_code == 0, restored.output
        assert query(target, "SELECT use FROM parcels WHERE parcel_id = :id", id=PARCEL) == [
            ("Fire station",)
        ]
    finally:
        database_admin.drop_database(target)


def _actors(cluster: Cluster) -> list[str]:
    return [actor for (actor,) in query(cluster.url(DATABASE), "SELECT actor FROM audit_events")]


def _wait_until(condition: Callable[[], object], failure: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(failure)
        time.sleep(0.1)
