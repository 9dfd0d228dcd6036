"""The restore drill: back up a registry, change it, restore the backup into a new database and a
new document folder, and find the portfolio, its history and the documents as they were — then
serve the restored database. Also what a restore refuses (a damaged or foreign archive, a
database that holds data) and what a backup refuses, through the real `asset-registry` commands,
pg_dump and pg_restore against real PostGIS databases.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import threading
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from click.testing import Result
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from app import create_app
from app import database
from app.database import session_factory
from cli.main import cli
from registry import database_admin
from registry.backup_archive import DATABASE_MEMBER
from registry.backup_archive import MANIFEST
from registry.db import create_registry_engine
from registry.db import normalise_database_url
from registry.db import unit_of_work
from registry.stored_files import BACKUP_LOCK
from registry.stored_files import file_path
from registry.stored_files import remove_stored_file
from registry.stored_files import store_file
from tests.database import clone
from tests.database import unused_database_url
from tests.database import url_for_database
from tests.lease_fixtures import worked_example
from tests.parcel_fixtures import LAT
from tests.parcel_fixtures import LON
from tests.parcel_fixtures import SETUP_ACTOR
from tests.parcel_fixtures import TokenClient
from tests.parcel_fixtures import add_departments
from tests.parcel_fixtures import create
from tests.parcel_fixtures import etag
from tests.parcel_fixtures import patch
from tests.parcel_fixtures import square
from tests.parcel_fixtures import token_client
from tests.sql import execute
from tests.sql import query
from tests.sql import scalar

EDITED, RETIRED = "5555-012-034", "5555-012-035"
SIGNED_LEASE = b"%PDF-1.4\n% the signed lease L-2021-001, page 1 of 1\n" + bytes(range(256)) * 40
SIGNED_LEASE_NAME = "Bail signé L-2021-001.pdf"
AMENDMENT = b"%PDF-1.4\n% amendment 1 to L-2021-001\n"


def run(*arguments: str, url: str, documents: Path) -> Result:
    """`asset-registry …` with DATABASE_URL and REGISTRY_DOCUMENT_DIR set as an operator would."""
    env = {"DATABASE_URL": url, "REGISTRY_DOCUMENT_DIR": str(documents)}
    return CliRunner().invoke(cli, list(arguments), env=env)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def registry_state(url: str, documents: Path) -> dict[str, Any]:
    """Everything a restore must bring back: every row of every table of ours (as JSON, in a
    stable order) and the bytes of every stored file the database lists."""
    engine = create_engine(normalise_database_url(url), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            tables = connection.execute(text(_OUR_TABLES)).scalars().all()
            rows = {
                table: connection.execute(
                    text(f"SELECT to_jsonb(t)::text AS r FROM {table} t ORDER BY r")
                )
                .scalars()
                .all()
                for table in tables
            }
            listed = connection.execute(text("SELECT sha256 FROM stored_files ORDER BY 1"))
            files = {
                sha: path.read_bytes() if (path := file_path(documents, sha)).exists() else None
                for sha in listed.scalars()
            }
    finally:
        engine.dispose()
    return {"rows": rows, "files": files}


_OUR_TABLES = """SELECT tablename FROM pg_tables WHERE schemaname = 'public'
AND tablename <> 'spatial_ref_sys' ORDER BY 1"""


@dataclass
class Registry:
    """A registry of the test module's own, with an editor, and the backup taken of it."""

    url: str
    documents: Path
    app: Flask
    editor: TokenClient
    archive: Path
    at_backup: dict[str, Any]
    lease_document: str


def _fill(app: Flask, editor: TokenClient, documents: Path) -> str:
    """Two parcels (one edited twice), a lease with its signed copy attached, and a document no
    record keeps yet; the signed lease's SHA-256."""
    add_departments(app)
    create(editor, EDITED)
    create(editor, RETIRED, square(LON + 0.001, LAT), address="202 N Spring St")
    for use in ("City Hall East", "City Hall annex"):
        response = patch(editor, EDITED, etag(editor, EDITED), {"properties": {"use": use}})
        assert response.status_code == 200, response.get_json()
    lease = editor.post("/api/leases", json=worked_example())
    assert lease.status_code == 201, lease.get_json()
    with app.app_context(), unit_of_work(session_factory(), "editor@city.example") as session:
        signed = store_file(session, documents, io.BytesIO(SIGNED_LEASE), "application/pdf")
        session.execute(
            text(
                "INSERT INTO lease_documents (lease_id, sha256, file_name, kind, uploaded_by)"
                " SELECT id, :sha256, :name, 'signed_lease', 'editor@city.example' FROM leases"
                " WHERE lease_number = 'L-2021-001'"
            ),
            {"sha256": signed.sha256, "name": SIGNED_LEASE_NAME},
        )
        store_file(session, documents, io.BytesIO(AMENDMENT), "application/pdf")
    return signed.sha256


@pytest.fixture(scope="module")
def registry(template_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    url = clone(template_url)
    documents = tmp_path_factory.mktemp("documents")
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test"})
    editor = token_client(app)
    lease_document = _fill(app, editor, documents)
    archive = tmp_path_factory.mktemp("backups") / "registry.backup"
    result = run("backup", str(archive), url=url, documents=documents)
    assert result.exit_code == 0, result.output
    at_backup = registry_state(url, documents)
    yield Registry(url, documents, app, editor, archive, at_backup, lease_document)
    database.dispose(app)
    database_admin.drop_database(url)


@pytest.fixture
def new_database_url() -> Iterator[str]:
    url = unused_database_url()
    yield url
    database_admin.drop_database(url)


def test_the_restore_drill_brings_back_the_portfolio_its_history_and_documents_and_serves_them(
    registry: Registry, new_database_url: str, tmp_path: Path
) -> None:
    editor = registry.editor
    # the day after the backup: an edit, a parcel retired, a document removed and one lost
    patch(editor, EDITED, etag(editor, EDITED), {"properties": {"use": "Sold"}})
    retired = editor.delete(f"/api/parcels/{RETIRED}", headers={"If-Match": etag(editor, RETIRED)})
    assert retired.status_code == 204
    engine = create_registry_engine(registry.url)
    try:
        assert remove_stored_file(engine, registry.documents, sha256(AMENDMENT), "admin")
    finally:
        engine.dispose()
    file_path(registry.documents, registry.lease_document).unlink()
    assert registry_state(registry.url, registry.documents) != registry.at_backup
    lost = run("documents", "check", url=registry.url, documents=registry.documents)
    assert lost.exit_code == 1
    assert f"document {registry.lease_document} (application/pdf, 10,292 bytes) is missing" in (
        lost.output
    )

    documents = tmp_path / "restored-documents"
    result = run("restore", str(registry.archive), url=new_database_url, documents=documents)

    assert result.exit_code == 0, result.output
    assert "2 parcels" in result.output and "2 documents" in result.output
    restored = registry_state(new_database_url, documents)
    assert restored == registry.at_backup
    assert restored["files"][registry.lease_document] == SIGNED_LEASE
    assert sha256(file_path(documents, sha256(AMENDMENT)).read_bytes()) == sha256(AMENDMENT)
    assert query(
        new_database_url, "SELECT parcel_id, use, status, version FROM parcels ORDER BY 1"
    ) == [(EDITED, "City Hall annex", "in_use", 3), (RETIRED, "City Hall", "in_use", 1)]
    assert scalar(new_database_url, "SELECT lease_number FROM leases") == "L-2021-001"
    assert query(
        new_database_url,
        "SELECT l.lease_number, d.kind, d.file_name, d.sha256 FROM lease_documents d"
        " JOIN leases l ON l.id = d.lease_id",
    ) == [("L-2021-001", "signed_lease", SIGNED_LEASE_NAME, sha256(SIGNED_LEASE))]
    checked = run("documents", "check", url=new_database_url, documents=documents)
    assert checked.exit_code == 0 and "2 documents listed, all present and whole" in checked.output
    assert_served_as_backed_up(new_database_url)


def test_the_restored_database_has_planner_statistics_without_autovacuum(
    registry: Registry, new_database_url: str, tmp_path: Path
) -> None:
    """pg_restore copies rows, not statistics: on a server with autovacuum off the planner took
    the audit trail for one row and probed parcels by their trigram index (the milestone page
    took 30 s on the sample). The restore analyzes what it restored."""
    result = run("restore", str(registry.archive), url=new_database_url, documents=tmp_path)

    assert result.exit_code == 0, result.output
    for table in ("parcels", "audit_events", "leases"):
        columns_with_statistics = scalar(
            new_database_url, "SELECT count(*) FROM pg_stats WHERE tablename = :t", t=table
        )
        assert columns_with_statistics, table
    assert scalar(
        new_database_url,
        "SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'parcels'",
    )


def assert_served_as_backed_up(url: str) -> None:
    """The app, started on the restored database, serves the parcel at its third version, its
    history of three changes, and the lease."""
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "test"})
    try:
        client = token_client(app, "reader@city.example", "viewer")
        parcel = client.get(f"/api/parcels/{EDITED}")
        history = client.get(f"/api/parcels/{EDITED}/history").get_json()
        lease = client.get("/api/leases/L-2021-001")
    finally:
        database.dispose(app)
    assert parcel.status_code == 200 and parcel.headers["ETag"] == '"v3"'
    assert parcel.get_json()["properties"]["use"] == "City Hall annex"
    assert sorted((event["version"], event["action"]) for event in history["history"]) == [
        (1, "INSERT"),
        (2, "UPDATE"),
        (3, "UPDATE"),
    ]
    assert lease.status_code == 200


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("a byte of the dump changed", "database.dump is damaged"),
        ("a byte of a document changed", "is damaged (its SHA-256 differs)"),
        ("cut short", "damaged or truncated"),
        ("a tar of something else", "no manifest"),
        ("not a tar at all", "not a backup archive"),
        ("a manifest of another program", "not a backup of the City Asset Registry"),
        ("a member the manifest does not list", "does not list"),
        ("made by a newer version", "newer than this version"),
    ],
)
def test_a_damaged_or_foreign_archive_is_refused_and_nothing_is_touched(
    registry: Registry, new_database_url: str, tmp_path: Path, damage: str, reason: str
) -> None:
    archive = tmp_path / "damaged.backup"
    _DAMAGE[damage](registry.archive.read_bytes(), archive, registry.lease_document)
    documents = tmp_path / "documents"

    result = run("restore", str(archive), url=new_database_url, documents=documents)

    assert result.exit_code == 1
    assert reason in result.output and "damaged.backup" in result.output
    assert str(tmp_path) not in result.output
    assert not database_admin.database_exists(new_database_url)
    assert not documents.exists()


def _members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {
            info.name: tar.extractfile(info).read()  # type: ignore[union-attr]
            for info in tar.getmembers()
        }


def _write_tar(members: dict[str, bytes], target: Path) -> None:
    with tarfile.open(target, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def _edit_manifest(data: bytes, target: Path, **changes: Any) -> None:
    members = _members(data)
    manifest = json.loads(members[MANIFEST])
    manifest.update(changes)
    members[MANIFEST] = json.dumps(manifest).encode()
    _write_tar(members, target)


def _changed_member(data: bytes, target: Path, name: str) -> None:
    members = _members(data)
    members[name] = _flip(members[name], len(members[name]) // 2)
    _write_tar(members, target)


_DAMAGE: dict[str, Callable[[bytes, Path, str], object]] = {
    "a byte of the dump changed": lambda data, target, _: _changed_member(
        data, target, DATABASE_MEMBER
    ),
    "a byte of a document changed": lambda data, target, sha: _changed_member(
        data, target, f"files/{sha}"
    ),
    "cut short": lambda data, target, _: target.write_bytes(data[: len(data) // 2]),
    "a tar of something else": lambda data, target, _: _write_tar({"notes.txt": b"x"}, target),
    "not a tar at all": lambda data, target, _: target.write_bytes(b"%PDF-1.4 not a backup\n"),
    "a manifest of another program": lambda data, target, _: _edit_manifest(
        data, target, format="someone-elses-backup"
    ),
    "a member the manifest does not list": lambda data, target, _: _write_tar(
        {**_members(data), "files/extra": b"x"}, target
    ),
    "made by a newer version": lambda data, target, _: _edit_manifest(
        data, target, schema_revision="9999"
    ),
}


def test_a_database_that_holds_data_is_replaced_only_with_force(
    registry: Registry, tmp_path: Path
) -> None:
    patch(registry.editor, EDITED, etag(registry.editor, EDITED), {"properties": {"use": "Mine"}})
    before = registry_state(registry.url, registry.documents)

    refused = run("restore", str(registry.archive), url=registry.url, documents=tmp_path)

    assert refused.exit_code == 1 and "is not empty" in refused.output
    assert "--force" in refused.output
    assert registry_state(registry.url, registry.documents) == before
    assert not any(tmp_path.iterdir())

    forced = run("restore", str(registry.archive), "--force", url=registry.url, documents=tmp_path)

    assert forced.exit_code == 0, forced.output
    assert registry_state(registry.url, tmp_path) == registry.at_backup


def test_a_role_that_owns_its_database_but_not_postgis_restores_a_backup(
    registry: Registry, new_database_url: str, tmp_path: Path
) -> None:
    """As a DBA sets it up: PostGIS created by a superuser in a database the app's role owns.
    Only the extension's owner may comment on it or write spatial_ref_sys, which the dump has."""
    role, maintenance = f"registry_test_owner_{os.getpid()}", url_for_database("postgres")
    target = make_url(new_database_url)
    execute(maintenance, f"CREATE ROLE {role} LOGIN PASSWORD 'restore-drill-only'")
    try:
        database_admin.create_database(new_database_url)  # PostGIS made by the superuser
        execute(maintenance, f'ALTER DATABASE "{target.database}" OWNER TO {role}')
        as_owner = target.set(username=role, password="restore-drill-only")

        result = run(
            "restore",
            str(registry.archive),
            url=as_owner.render_as_string(hide_password=False),
            documents=tmp_path,
        )
    finally:
        database_admin.drop_database(new_database_url)
        execute(maintenance, f"DROP ROLE {role}")

    assert result.exit_code == 0, result.output
    assert "2 parcels" in result.output


def test_a_backup_older_than_the_schema_is_migrated_on_restore(
    template_url: str, new_database_url: str, tmp_path: Path
) -> None:
    older = clone(template_url)
    try:
        database_admin.downgrade(older, "0014")  # before stored_files
        backup = tmp_path / "older.backup"
        assert run("backup", str(backup), url=older, documents=tmp_path).exit_code == 0
    finally:
        database_admin.drop_database(older)

    result = run("restore", str(backup), url=new_database_url, documents=tmp_path / "docs")

    assert result.exit_code == 0, result.output
    assert "schema migrated to" in result.output
    head = scalar(template_url, "SELECT version_num FROM alembic_version")
    assert scalar(new_database_url, "SELECT version_num FROM alembic_version") == head
    assert scalar(new_database_url, "SELECT count(*) FROM stored_files") == 0


def test_a_backup_does_not_overwrite_a_file_unless_forced(
    fresh_database_url: str, tmp_path: Path
) -> None:
    taken = tmp_path / "taken.backup"
    taken.write_bytes(b"yesterday's")

    refused = run("backup", str(taken), url=fresh_database_url, documents=tmp_path)

    assert refused.exit_code == 1 and "exists already" in refused.output
    assert taken.read_bytes() == b"yesterday's"
    forced = run("backup", str(taken), "--force", url=fresh_database_url, documents=tmp_path)
    assert forced.exit_code == 0, forced.output
    assert MANIFEST in _members(taken.read_bytes())
    assert [path.name for path in tmp_path.iterdir()] == ["taken.backup"]  # no temporary left


def test_a_backup_holds_exactly_the_documents_its_snapshot_lists(
    fresh_database_url: str, new_database_url: str, tmp_path: Path
) -> None:
    """A document whose row commits after the backup's snapshot is in the folder already (files
    go first) but not in the dump: the archive leaves it out, so what it restores agrees."""
    documents, archive = tmp_path / "documents", tmp_path / "nightly.backup"
    engine = create_registry_engine(fresh_database_url)
    try:
        with unit_of_work(sessionmaker(engine), SETUP_ACTOR) as session:
            kept = store_file(session, documents, io.BytesIO(SIGNED_LEASE), "application/pdf")
        with unit_of_work(sessionmaker(engine), SETUP_ACTOR) as session:
            later = store_file(session, documents, io.BytesIO(AMENDMENT), "application/pdf")
            backed_up = run("backup", str(archive), url=fresh_database_url, documents=documents)
    finally:
        engine.dispose()
    assert backed_up.exit_code == 0, backed_up.output
    assert file_path(documents, later.sha256).exists()

    members = _members(archive.read_bytes())

    assert f"files/{kept.sha256}" in members and f"files/{later.sha256}" not in members
    restored = tmp_path / "restored"
    assert run("restore", str(archive), url=new_database_url, documents=restored).exit_code == 0
    checked = run("documents", "check", url=new_database_url, documents=restored)
    assert "1 document listed, all present and whole" in checked.output


def test_a_backup_of_a_damaged_document_store_fails_and_writes_nothing(
    template_url: str, tmp_path: Path
) -> None:
    url = clone(template_url)
    documents = tmp_path / "documents"
    engine = create_registry_engine(url)
    try:
        with unit_of_work(sessionmaker(engine), SETUP_ACTOR) as session:
            kept = store_file(session, documents, io.BytesIO(SIGNED_LEASE), "application/pdf")
        file_path(documents, kept.sha256).write_bytes(AMENDMENT)  # bytes changed behind our back

        result = run("backup", str(tmp_path / "nightly.backup"), url=url, documents=documents)
    finally:
        engine.dispose()
        database_admin.drop_database(url)

    assert result.exit_code == 1
    assert f"stored file {kept.sha256}" in result.output
    assert not (tmp_path / "nightly.backup").exists()


def test_a_document_is_not_removed_while_a_backup_copies_the_files(
    registry: Registry, tmp_path: Path
) -> None:
    """The backup holds BACKUP_LOCK shared from before its snapshot until the files are copied;
    a removal waits for it, so a file the snapshot lists is never gone when it is copied."""
    engine = create_registry_engine(registry.url)
    with registry.app.app_context(), unit_of_work(session_factory(), SETUP_ACTOR) as session:
        kept = store_file(session, registry.documents, io.BytesIO(b"notice"), "text/plain")
    removed: list[bool] = []
    try:
        with engine.connect() as backup:
            backup.execute(text("SELECT pg_advisory_lock_shared(:key)"), {"key": BACKUP_LOCK})
            remover = threading.Thread(
                target=lambda: removed.append(
                    remove_stored_file(engine, registry.documents, kept.sha256, "admin")
                )
            )
            remover.start()
            _wait_for_a_waiting_advisory_lock(registry.url)
            assert removed == [] and file_path(registry.documents, kept.sha256).exists()
            backup.execute(text("SELECT pg_advisory_unlock_shared(:key)"), {"key": BACKUP_LOCK})
            backup.commit()
        remover.join(timeout=30)
    finally:
        engine.dispose()
    assert removed == [True]
    assert not file_path(registry.documents, kept.sha256).exists()


def _wait_for_a_waiting_advisory_lock(url: str) -> None:
    for _ in range(600):
        # in this test's database only: other workers' tests wait on advisory locks too
        if scalar(
            url,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        ):
            return
        threading.Event().wait(0.05)
    raise AssertionError("the removal never waited for the backup's lock")
