"""Limits on what a request may be, and the headers every answer carries (issue 15, items 3, 6,
8 and 9).

Each test sends the real request that used to take the server's memory, answer 500 with a
traceback, lead a browser elsewhere or show what the public must not see.
"""

from __future__ import annotations

import io
import logging
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app import create_app
from app import database
from tests.auth_fixtures import SignedInClient
from tests.parcel_fixtures import create
from tests.parcel_fixtures import new_parcel
from tests.parcel_fixtures import square
from tests.sql import execute

MB = 1024 * 1024
HUGE = "99999999999999999999"


@pytest.fixture
def departments(app: Flask) -> None:
    execute(
        app.config["DATABASE_URL"],
        "INSERT INTO departments (code, name) VALUES ('GSD', 'General Services')",
    )


# --- item 3: request size and JSON depth -----------------------------------------------------


def test_an_anonymous_body_over_the_limit_is_refused_before_it_is_read(client: FlaskClient) -> None:
    response = client.post(
        "/login", data=b"x" * (6 * MB), content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413


def test_a_json_body_over_the_limit_is_a_413_problem(
    editor_client: SignedInClient, departments: None
) -> None:
    body = new_parcel()
    body["properties"]["notes"] = "x" * (6 * MB)
    response = editor_client.post("/api/parcels", json=body)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 413


def test_an_upload_may_be_larger_than_a_json_body_but_has_its_own_limit(
    fresh_database_url: str, auth: Any, tmp_path: Any
) -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": fresh_database_url,
            "SECRET_KEY": "t",
            "UPLOAD_FOLDER": str(tmp_path),
            "REGISTRY_MAX_UPLOAD_MB": 8,
        }
    )
    try:
        editor = auth.signed_in_client(app, "editor")
        csv = b"APN,WKT\n" + b"5555-001-001,POINT (-118.25 34.05)\n" * (6 * MB // 36)
        sent = _post_file(editor, "/imports/new", csv)
        assert sent.status_code == 302
        assert _post_file(editor, "/imports/new", b"x" * (9 * MB)).status_code == 413
    finally:
        database.dispose(app)


def _post_file(client: SignedInClient, path: str, content: bytes) -> Any:
    # encoded in memory: the test client's own spooled file stays open when nothing reads it
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(content), "parcels.csv"), "csrf_token": client.csrf_token}
    )
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize("depth", [101, 100_000])
def test_deeply_nested_json_is_a_400_not_a_recursion_error(
    editor_client: SignedInClient, depth: int
) -> None:
    response = editor_client.post(
        "/api/parcels", data="[" * depth + "]" * depth, content_type="application/json"
    )
    assert response.status_code == 400
    assert "too deeply nested" in response.get_json()["detail"]


def test_json_nested_a_hundred_deep_is_still_read(editor_client: SignedInClient) -> None:
    body = '{"type": "Feature", "properties": {"notes": ' + "[" * 98 + "]" * 98 + "}}"
    response = editor_client.post("/api/parcels", data=body, content_type="application/json")
    assert response.status_code == 422


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/parcels", new_parcel(address="200 N\x00 Spring")),
        ("/api/leases", {"lease_number": "L-\x00", "counterparty": "A\x00B"}),
        ("/api/occupancy", {"building_id": "B\x00", "department_code": "G\x00SD"}),
        ("/api/costs", {"parcel_id": "5555\x00", "category": "x\x00"}),
    ],
    ids=["parcel", "lease", "occupancy", "cost"],
)
def test_a_nul_in_a_json_field_is_refused_not_a_500(
    editor_client: SignedInClient, departments: None, path: str, body: dict[str, Any]
) -> None:
    response = editor_client.post(path, json=body)
    assert response.status_code in (400, 422), response.get_data(as_text=True)[:500]


# --- item 6: headers -------------------------------------------------------------------------


def test_every_page_says_it_may_not_be_framed_nor_sniffed(client: FlaskClient) -> None:
    for path in ("/login", "/api/parcels", "/nowhere"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_signed_in_pages_are_never_stored_and_tiles_keep_their_caching(
    viewer_client: SignedInClient, client: FlaskClient
) -> None:
    for path in ("/parcels", "/api/parcels", "/"):
        assert viewer_client.get(path).headers["Cache-Control"] == "private, no-store"
    assert client.get("/login").headers["Cache-Control"] == "private, no-store"
    assert client.get("/tiles/parcels/0/0/0.mvt").headers["Cache-Control"].startswith("public,")


def test_the_policy_allows_the_base_map_tiles(client: FlaskClient) -> None:
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://tile.openstreetmap.org" in policy


# --- item 8: NUL bytes, huge integers, bad numbers -------------------------------------------

QUERY_NAMES = (
    "q",
    "status",
    "department",
    "district",
    "page",
    "limit",
    "cursor",
    "after",
    "bbox",
    "fy",
    "period",
    "as_of",
    "format",
    "milestone",
    "kind",
    "severity",
    "field",
    "months",
    "direction",
    "id",
    "year",
    "month",
    "token",
)


def _get_paths(app: Flask, value: str, number: str) -> Iterator[str]:
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        path = re.sub(
            r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>",
            lambda part: number if part.group(1) in ("int", "float") else value,
            rule.rule,
        )
        yield path
        yield f"{path}?" + "&".join(f"{name}={value}" for name in QUERY_NAMES)
        yield f"{path}?" + "&".join(f"{name}={number}" for name in QUERY_NAMES)


@pytest.mark.parametrize(
    "value", ["%00", HUGE, "abc", "%EF%BC%92"], ids=["nul", "huge", "word", "full-width-2"]
)
def test_no_get_route_answers_500_to_nul_bytes_or_huge_numbers(
    app: Flask,
    admin_client: SignedInClient,
    client: FlaskClient,
    caplog: pytest.LogCaptureFixture,
    value: str,
) -> None:
    failures = []
    with caplog.at_level(logging.ERROR):
        for path in _get_paths(app, value, HUGE if value != "abc" else value):
            for who, caller in (("admin", admin_client), ("anonymous", client)):
                response = caller.get(path)
                if response.status_code >= 500:
                    failures.append(f"{who} {path}: {response.status_code}")
    assert failures == []
    assert [record.getMessage() for record in caplog.records if record.exc_info] == []


def test_the_reported_cases_answer_clearly(
    admin_client: SignedInClient, client: FlaskClient
) -> None:
    nul = client.get("/parcels/%00")
    assert nul.status_code == 400 and b"NUL" in nul.data
    assert client.get("/api/parcels?q=%00").status_code == 400
    assert admin_client.get(f"/milestone?district={HUGE}").status_code == 200
    assert admin_client.get("/imports/1?page=abc").status_code == 404
    assert admin_client.get(f"/imports/{HUGE}").status_code == 404


# --- item 9 ------------------------------------------------------------------------------------


def test_a_parcel_id_of_full_width_digits_is_refused(
    editor_client: SignedInClient, departments: None
) -> None:
    create(editor_client, "2001-016-025")
    response = editor_client.post("/api/parcels", json=new_parcel("２００１-０１６-０２５"))
    assert response.status_code == 422
    assert "parcel_id" in {error["field"] for error in response.get_json()["errors"]}


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_verify_never_redirects_off_the_site(
    app: Flask, auth: Any, departments: None, target: str
) -> None:
    ana = auth.signed_in_client(app, "editor", email="ana@city.example")
    ben = auth.signed_in_client(app, "editor", email="ben@city.example")
    create(ana, "5555-012-034")
    response = ben.post(
        "/parcels/5555-012-034/verify",
        data={"version": 1, "next": target, "csrf_token": ben.csrf_token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/parcels/5555-012-034"


def test_the_verify_redirect_still_follows_a_page_of_the_site(
    app: Flask, auth: Any, departments: None
) -> None:
    ana = auth.signed_in_client(app, "editor", email="ana@city.example")
    ben = auth.signed_in_client(app, "editor", email="ben@city.example")
    create(ana, "5555-012-034")
    response = ben.post(
        "/parcels/5555-012-034/verify",
        data={"version": 1, "next": "/verification?department=GSD", "csrf_token": ben.csrf_token},
    )
    assert response.headers["Location"] == "/verification?department=GSD"


def test_the_public_never_sees_a_retired_parcel(
    editor_client: SignedInClient, client: FlaskClient, departments: None
) -> None:
    create(editor_client, "5555-012-034")
    create(editor_client, "5555-012-035", square(lon=-118.24))
    retired = editor_client.delete("/api/parcels/5555-012-035", headers={"If-Match": '"v1"'})
    assert retired.status_code == 204
    for query in ("", "?include_retired=true", "?q=5555"):
        features = client.get(f"/api/parcels{query}").get_json()["features"]
        assert [feature["id"] for feature in features] == ["5555-012-034"]
    assert client.get("/api/parcels/5555-012-035").status_code == 404
    listed = editor_client.get("/api/parcels?include_retired=true").get_json()["features"]
    assert len(listed) == 2


@pytest.mark.parametrize("bbox", ["nan,0,1,1", "0,0,inf,1", "-inf,-inf,inf,inf", "0,nan,1,nan"])
def test_a_bbox_of_nan_or_infinity_is_a_400(client: FlaskClient, bbox: str) -> None:
    response = client.get(f"/api/parcels?bbox={bbox}")
    assert response.status_code == 400
    assert "bbox" in {error["field"] for error in response.get_json()["errors"]}


def test_head_answers_like_get(client: FlaskClient) -> None:
    for path in ("/login", "/healthz"):
        response = client.head(path)
        assert response.status_code == 200 and response.data == b""


def test_a_forged_host_never_reaches_a_link(fresh_database_url: str, auth: Any) -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": fresh_database_url,
            "SECRET_KEY": "t",
            "REGISTRY_PUBLIC_URL": "https://assets.city.example",
        }
    )
    try:
        execute(
            fresh_database_url,
            "INSERT INTO departments (code, name) VALUES ('GSD', 'General Services')",
        )
        client = app.test_client()
        signed = {"Authorization": f"Bearer {auth.token(app, 'ed@city.example', 'editor')}"}
        for parcel_id, lon in (("5555-012-034", -118.25), ("5555-012-035", -118.24)):
            created = client.post(
                "/api/parcels", headers=signed, json=new_parcel(parcel_id, square(lon=lon))
            )
            assert created.status_code == 201
        forged = {**signed, "Host": "evil.example", "X-Forwarded-Host": "evil.example"}
        response = client.get("/api/parcels?limit=1", headers=forged)
        links = {link["rel"]: link["href"] for link in response.get_json()["links"]}
        assert links["next"].startswith("https://assets.city.example/api/parcels?")
        assert links["self"].startswith("https://assets.city.example/api/parcels?")
        page = client.get("/leases/critical-dates", headers=forged)
        assert page.status_code == 200
        feed = page.get_data(as_text=True)
        assert "evil.example" not in feed
        assert "https://assets.city.example/leases/critical-dates.ics" in feed
    finally:
        database.dispose(app)


# --- item 9: uploads -------------------------------------------------------------------------


def test_uploads_wait_outside_the_source_tree_by_default(
    app: Flask, monkeypatch: Any, tmp_path: Any
) -> None:
    from app.blueprints.imports.uploads import upload_root

    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", None)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    with app.app_context():
        assert upload_root() == tmp_path / "asset-registry" / "uploads"
        monkeypatch.setenv("REGISTRY_UPLOAD_DIR", "/var/tmp/registry-uploads")
        assert upload_root() == Path("/var/tmp/registry-uploads")
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.delenv("REGISTRY_UPLOAD_DIR")
    with app.app_context():
        assert Path(__file__).resolve().parent.parent not in upload_root().resolve().parents


@pytest.mark.parametrize(
    "original, shown", [("Parcelles été.csv", "Parcelles été.csv"), ("地块.csv", "地块.csv")]
)
def test_a_file_with_a_non_ascii_name_is_kept_under_its_name(
    app: Flask, editor_client: SignedInClient, original: str, shown: str
) -> None:
    content = b"APN,WKT\n5555-001-001,POINT (-118.25 34.05)\n"
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(content), original), "csrf_token": editor_client.csrf_token}
    )
    sent = editor_client.post(
        "/imports/new", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert sent.status_code == 302, sent.get_data(as_text=True)
    page = editor_client.get(sent.headers["Location"]).get_data(as_text=True)
    assert f"Map the columns of {shown}" in page
    assert editor_client.get("/imports").get_data(as_text=True).count(shown) >= 1
    stored = [path.name for path in Path(app.config["UPLOAD_FOLDER"]).glob("*/*.csv")]
    assert stored and all(name.isascii() for name in stored)


def test_a_new_upload_removes_those_abandoned_long_ago(
    app: Flask, editor_client: SignedInClient
) -> None:
    root = Path(app.config["UPLOAD_FOLDER"])
    old, recent = root / ("0" * 32), root / ("1" * 32)
    for folder in (old, recent):
        folder.mkdir(parents=True)
        (folder / "parcels.csv").write_text("APN\n")
    week_ago = time.time() - 7 * 24 * 3600
    os.utime(old, (week_ago, week_ago))
    _post_file(editor_client, "/imports/new", b"APN,WKT\n5555-001-001,POINT (-118.25 34.05)\n")
    assert not old.exists() and recent.exists()


def test_an_unreadable_upload_never_shows_the_server_s_folders(
    app: Flask, editor_client: SignedInClient
) -> None:
    sent = _post_file(editor_client, "/imports/new", b"\x00\x01 not a table")
    page = (
        editor_client.get(sent.headers["Location"]).get_data(as_text=True)
        if sent.status_code == 302
        else sent.get_data(as_text=True)
    )
    assert "parcels.csv" in page
    assert app.config["UPLOAD_FOLDER"] not in page and "/tmp/" not in page


def test_the_map_s_inline_scripts_carry_the_response_s_nonce(client: FlaskClient) -> None:
    response = client.get("/")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert nonce is not None
    page = response.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert inline and all(f'nonce="{nonce.group(1)}"' in tag for tag in inline)
    assert (
        "'unsafe-inline'"
        not in response.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )
