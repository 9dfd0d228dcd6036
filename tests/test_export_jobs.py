"""Exports prepared in the background: finance asks, watches the progress, fetches the file;
bad requests are refused at once; nobody else's export is visible; a job runs once; a job whose
worker died says so; files go after their keeping time."""

from __future__ import annotations

import csv
import io
import threading
import time
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy.orm import sessionmaker

from app import export_runner
from app.database import dispose
from app.database import session_factory as app_session_factory
from registry.db import unit_of_work
from registry.exports.jobs import remove_expired_files
from registry.exports.jobs import request_job
from registry.exports.jobs import run_job
from tests.auth_fixtures import LoginHelper
from tests.auth_fixtures import SignedInClient
from tests.sql import execute
from tests.sql import scalar
from tests.test_gasb87_export import add_leases
from tests.test_journal_entries import ALL_LEASES


@pytest.fixture
def exports_app(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.setenv("REGISTRY_EXPORT_DIR", str(tmp_path / "exports"))
    with app.app_context(), unit_of_work(app_session_factory(), "tests") as session:
        add_leases(session, ALL_LEASES)
    return app


def _fetch(client: SignedInClient, url: str) -> tuple[int, str, bytes]:
    """Status, Content-Disposition and body of a file download (closed: it streams a file)."""
    response = client.get(url)
    try:
        return (
            response.status_code,
            response.headers.get("Content-Disposition", ""),
            response.get_data(),
        )
    finally:
        response.close()


def _wait_until_finished(client: SignedInClient, page_url: str) -> str:
    for _ in range(300):
        html = client.get(page_url).get_data(as_text=True)
        if "Being prepared" not in html:
            return html
        time.sleep(0.1)
    raise AssertionError(f"the export at {page_url} never finished")


def test_finance_prepares_the_journal_in_the_background_and_fetches_it(
    exports_app: Flask, auth: LoginHelper
) -> None:
    finance = auth.signed_in_client(exports_app, "finance")
    started = finance.post(
        "/exports/jobs", data={"kind": "journal", "format": "csv", "fy": "2021", "month": ""}
    )
    assert started.status_code == 302
    page_url = started.headers["Location"]
    waiting = finance.get(page_url).get_data(as_text=True)
    assert "Journal entries" in waiting and "<progress" in waiting
    done = _wait_until_finished(finance, page_url)
    assert "Ready." in done and "Download journal-FY2021.csv" in done
    status, disposition, body = _fetch(finance, page_url + "/file")
    assert status == 200
    assert disposition.startswith("attachment;") and "journal-FY2021.csv" in disposition
    direct = finance.get("/leases/gasb87/journal?fy=2021&format=csv")
    assert list(csv.reader(io.StringIO(body.decode()))) == list(
        csv.reader(io.StringIO(direct.get_data(as_text=True)))
    )
    listed = finance.get("/exports").get_data(as_text=True)
    assert "Your recent exports" in listed and "Download journal-FY2021.csv" in listed


def test_the_portfolio_workbook_is_made_in_the_background(
    exports_app: Flask, auth: LoginHelper
) -> None:
    finance = auth.signed_in_client(exports_app, "finance")
    started = finance.post(
        "/exports/jobs", data={"kind": "portfolio", "format": "xlsx", "as_of": "2022-06-30"}
    )
    page_url = started.headers["Location"]
    assert "Ready." in _wait_until_finished(finance, page_url)
    book = load_workbook(io.BytesIO(_fetch(finance, page_url + "/file")[2]))
    assert "Parcels" in book.sheetnames or "parcels" in [n.lower() for n in book.sheetnames]


def test_a_request_missing_what_it_needs_is_refused_at_once(
    exports_app: Flask, auth: LoginHelper
) -> None:
    finance = auth.signed_in_client(exports_app, "finance")
    refused = finance.post(
        "/exports/jobs",
        data={"kind": "gasb87", "format": "pdf", "fy": "next year"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Not started: Choose a format: xlsx, csv; Choose a fiscal year such as 2026" in refused
    assert scalar(exports_app.config["DATABASE_URL"], "SELECT count(*) FROM export_jobs") == 0


def test_an_export_is_its_requesters_and_admins_alone(
    exports_app: Flask, auth: LoginHelper
) -> None:
    finance = auth.signed_in_client(exports_app, "finance")
    page_url = finance.post(
        "/exports/jobs", data={"kind": "kpi", "format": "json", "fy": "2022"}
    ).headers["Location"]
    _wait_until_finished(finance, page_url)
    other = auth.signed_in_client(exports_app, "finance", "fran@city.example")
    assert other.get(page_url).status_code == 404
    assert _fetch(other, page_url + "/file")[0] == 404
    admin = auth.signed_in_client(exports_app, "admin")
    assert _fetch(admin, page_url + "/file")[0] == 200
    viewer = auth.signed_in_client(exports_app, "viewer")
    assert viewer.post("/exports/jobs", data={"kind": "kpi"}).status_code == 403


def test_a_job_runs_once_and_one_whose_worker_died_says_so(
    exports_app: Flask, auth: LoginHelper, tmp_path: Path
) -> None:
    url = exports_app.config["DATABASE_URL"]
    with exports_app.app_context():
        factory: sessionmaker = app_session_factory()
        with unit_of_work(factory, "finance@city.example") as session:
            job_id = request_job(
                session, "gasb87", {"format": "csv", "fy": "2021"}, "finance@city.example"
            )
        run_job(factory, job_id, tmp_path)
        finished = scalar(url, "SELECT finished_at FROM export_jobs WHERE id = :id", id=job_id)
        run_job(factory, job_id, tmp_path)  # claimed already: nothing runs again
        assert scalar(url, "SELECT finished_at FROM export_jobs WHERE id = :id", id=job_id) == (
            finished
        )
        assert len(list(tmp_path.iterdir())) == 1
        execute(
            url,
            "UPDATE export_jobs SET finished_at = now() - interval '2 days' WHERE id = :id",
            id=job_id,
        )
        assert remove_expired_files(factory, tmp_path) == 1
        assert list(tmp_path.iterdir()) == []
    execute(
        url,
        "INSERT INTO export_jobs (kind, parameters, status, requested_by, started_at) VALUES "
        '(\'portfolio\', \'{"format": "xlsx", "as_of": "2022-06-30"}\', \'running\', '
        "'finance@city.example', now() - interval '31 minutes')",
    )
    finance = auth.signed_in_client(exports_app, "finance")
    stuck = scalar(url, "SELECT max(id) FROM export_jobs")
    html = finance.get(f"/exports/jobs/{stuck}").get_data(as_text=True)
    assert "The export stopped (the server was restarted): ask for it again." in html
    assert 'http-equiv="refresh"' not in html


def _export_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("export_")]


def test_the_export_pool_ends_with_the_app(exports_app: Flask, auth: LoginHelper) -> None:
    """`app.database.dispose` stops the pool (its thread ends, new work is refused) before it
    closes the connections a job would use (its threads used to outlive every disposed app)."""
    before = _export_threads()
    finance = auth.signed_in_client(exports_app, "finance")
    page_url = finance.post(
        "/exports/jobs", data={"kind": "kpi", "format": "json", "fy": "2022"}
    ).headers["Location"]
    _wait_until_finished(finance, page_url)
    assert len(_export_threads()) == len(before) + 1  # idle, until the app is disposed
    job_id = int(page_url.rsplit("/", 1)[1])

    dispose(exports_app)

    assert _export_threads() == before
    with exports_app.app_context(), pytest.raises(RuntimeError, match="after shutdown"):
        export_runner.submit(job_id)
