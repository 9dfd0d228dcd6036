"""Exports prepared in the background: requested, watched, fetched when ready.

The portfolio workbook of a large city takes long enough that a browser gives up or the person
leaves; a year of journal entries, too. A job is a row of `export_jobs`: its kind and parameters
(checked when it is requested, so a bad one is refused at once, in the form), its status and
progress, and the file it produced in the export folder. `run_job` does the work in any thread
or process that can reach the database: it claims the job (`queued` → `running`, so two workers
never run one job), reports progress in short transactions of their own, writes the file under
a random name, and ends `done` or `failed` with a message in the requester's words.

A job still `running` long after it started is reported as abandoned (its worker died: the
server restarted): the requester can ask again. Finished files are removed after
`REGISTRY_EXPORT_KEEP_HOURS` (24) when a new job is requested.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from registry.fields import FieldProblem
from registry.fields import RecordInvalid
from registry.folders import registry_folder

Progress = Callable[[float, str], None]
#: (file bytes, file name, media type) from a session, the job's parameters and a progress hook.
Producer = Callable[[Session, Mapping[str, Any], Progress], tuple[bytes, str, str]]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ABANDONED_AFTER = dt.timedelta(minutes=30)
KIND_LABELS = {
    "portfolio": "Portfolio summary",
    "gasb87": "GASB 87 report",
    "journal": "Journal entries",
    "kpi": "Reform KPI set",
}


def export_folder(env: Mapping[str, str] | None = None) -> Path:
    """`REGISTRY_EXPORT_DIR`, else the user's state folder: files kept a day, never in the code."""
    return registry_folder("REGISTRY_EXPORT_DIR", "state", "exports", env)


def _keep_hours(env: Mapping[str, str] | None = None) -> float:
    env = os.environ if env is None else env
    try:
        return max(1.0, float(env.get("REGISTRY_EXPORT_KEEP_HOURS") or 24))
    except ValueError:
        return 24.0


# --- what each kind of export takes and makes ------------------------------------------------


def _fiscal_year(value: Any, problems: list[FieldProblem]) -> int:
    text_value = str(value or "").strip().upper().removeprefix("FY")
    if not (text_value.isdigit() and len(text_value) == 4 and 1900 < int(text_value) < 2200):
        problems.append(FieldProblem("fy", "Choose a fiscal year such as 2026"))
        return 0
    return int(text_value)


def clean_parameters(kind: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The job's parameters, checked: every problem at once, in the form's words."""
    from registry.kpis.export import KPI_EXPORT_FORMATS
    from registry.portfolio.export import PORTFOLIO_FORMATS

    problems: list[FieldProblem] = []
    if kind not in KIND_LABELS:
        raise RecordInvalid([FieldProblem("kind", "Choose an export")])
    export_format = str(raw.get("format") or "").lower()
    formats = {
        "portfolio": PORTFOLIO_FORMATS,
        "gasb87": ("xlsx", "csv"),
        "journal": ("csv", "xlsx"),
        "kpi": KPI_EXPORT_FORMATS,
    }[kind]
    if export_format not in formats:
        problems.append(FieldProblem("format", f"Choose a format: {', '.join(formats)}"))
    parameters: dict[str, Any] = {"format": export_format}
    if kind == "portfolio":
        try:
            parameters["as_of"] = dt.date.fromisoformat(str(raw.get("as_of") or "")).isoformat()
        except ValueError:
            problems.append(FieldProblem("as_of", "Give the date as of which to export"))
    else:
        parameters["fy"] = _fiscal_year(raw.get("fy"), problems)
    if kind == "journal" and raw.get("month"):
        month = str(raw["month"])
        if not (month.isdigit() and 1 <= int(month) <= 12):
            problems.append(FieldProblem("month", "Choose a month of the fiscal year"))
        else:
            parameters["month"] = int(month)
    if problems:
        raise RecordInvalid(problems)
    return parameters


def _start_month(session: Session) -> int:
    from registry.city.profile import city_profile
    from registry.settings import Settings

    return city_profile(session, Settings.from_env()).fiscal_year_start_month


def _portfolio(
    session: Session, p: Mapping[str, Any], progress: Progress
) -> tuple[bytes, str, str]:
    from registry.portfolio.export import MEDIA_TYPES
    from registry.portfolio.export import portfolio_export

    as_of = dt.date.fromisoformat(p["as_of"])
    progress(0.1, "Reading parcels, buildings, leases and costs")
    content = portfolio_export(session, p["format"], as_of, _start_month(session))
    return content, f"portfolio-{as_of.isoformat()}.{p['format']}", MEDIA_TYPES[p["format"]]


def _gasb87(session: Session, p: Mapping[str, Any], progress: Progress) -> tuple[bytes, str, str]:
    from registry.leases.gasb87.columns import gasb87_csv
    from registry.leases.gasb87.report import gasb87_report
    from registry.leases.gasb87.workbook import gasb87_workbook

    progress(0.1, "Measuring every lease for the year")
    report = gasb87_report(session, p["fy"], _start_month(session))
    progress(0.8, "Writing the file")
    if p["format"] == "csv":
        return gasb87_csv(report).encode(), f"gasb87-FY{p['fy']}.csv", "text/csv"
    return gasb87_workbook(report), f"gasb87-FY{p['fy']}.xlsx", XLSX


def _journal(session: Session, p: Mapping[str, Any], progress: Progress) -> tuple[bytes, str, str]:
    from registry.leases.gasb87.journal import journal_csv
    from registry.leases.gasb87.journal import journal_entries
    from registry.leases.gasb87.journal import journal_workbook
    from registry.leases.gasb87.journal import parse_accounts
    from registry.leases.gasb87.journal import tie_out
    from registry.leases.gasb87.report import gasb87_report

    start_month = _start_month(session)
    month = p.get("month")
    progress(0.1, "Booking every lease month by month")
    journal = journal_entries(
        session,
        p["fy"],
        start_month,
        month=month,
        accounts=parse_accounts(os.environ.get("REGISTRY_JOURNAL_ACCOUNTS")),
    )
    name = f"journal-FY{p['fy']}" + (f"-P{month:02d}" if month else "")
    if p["format"] == "csv":
        return journal_csv(journal).encode(), f"{name}.csv", "text/csv"
    progress(0.7, "Tying out to the GASB 87 report")
    ties = [] if month else tie_out(journal, gasb87_report(session, p["fy"], start_month))
    return journal_workbook(journal, ties), f"{name}.xlsx", XLSX


def _kpi(session: Session, p: Mapping[str, Any], progress: Progress) -> tuple[bytes, str, str]:
    from registry.kpis import compute_kpis
    from registry.kpis.export import MEDIA_TYPES
    from registry.kpis.export import kpi_export

    progress(0.1, "Computing the 21 KPIs")
    today = dt.date.today()
    values = compute_kpis(session, f"FY{p['fy']}", today, _start_month(session))
    return (
        kpi_export(values, p["format"]),
        f"kpis-FY{p['fy']}-{today.isoformat()}.{p['format']}",
        MEDIA_TYPES[p["format"]],
    )


PRODUCERS: dict[str, Producer] = {
    "portfolio": _portfolio,
    "gasb87": _gasb87,
    "journal": _journal,
    "kpi": _kpi,
}


# --- requesting, running, reading ----------------------------------------------------------


def request_job(session: Session, kind: str, raw: Mapping[str, Any], requested_by: str) -> int:
    """Record a job (refused with every problem if its parameters are not right); its id."""
    parameters = clean_parameters(kind, raw)
    statement = text(
        "INSERT INTO export_jobs (kind, parameters, requested_by) "
        "VALUES (:kind, :parameters, :by) RETURNING id"
    ).bindparams(bindparam("parameters", type_=JSONB))
    job_id = session.execute(
        statement, {"kind": kind, "parameters": parameters, "by": requested_by}
    ).scalar_one()
    return int(job_id)


def remove_expired_files(factory: sessionmaker[Session], folder: Path) -> int:
    """Remove the files of jobs finished longer ago than the keeping time; how many."""
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(hours=_keep_hours())
    with factory.begin() as session:
        rows = session.execute(
            text(
                "UPDATE export_jobs j SET result_file = NULL FROM ("
                "  SELECT id, result_file AS old FROM export_jobs WHERE result_file IS NOT NULL"
                "  AND finished_at < :cutoff FOR UPDATE) o "
                "WHERE j.id = o.id RETURNING o.old"
            ),
            {"cutoff": cutoff},
        ).scalars()
        names = list(rows)
    for name in names:
        (folder / name).unlink(missing_ok=True)
    return len(names)


def run_job(factory: sessionmaker[Session], job_id: int, folder: Path) -> None:
    """Claim and run job `job_id`; a job already claimed elsewhere is left alone. Any failure
    ends the job `failed` with a message (the details go to the log, not to the requester)."""
    with factory.begin() as session:
        claimed = session.execute(
            text(
                "UPDATE export_jobs SET status = 'running', started_at = now(), progress = 0.01, "
                "message = 'Started' WHERE id = :id AND status = 'queued' "
                "RETURNING kind, parameters"
            ),
            {"id": job_id},
        ).one_or_none()
    if claimed is None:
        return
    kind, parameters = claimed

    def progress(fraction: float, message: str) -> None:
        with factory.begin() as session:
            session.execute(
                text("UPDATE export_jobs SET progress = :p, message = :m WHERE id = :id"),
                {
                    "p": Decimal(str(round(min(max(fraction, 0.0), 0.99), 3))),
                    "m": message,
                    "id": job_id,
                },
            )

    started = time.perf_counter()
    try:
        with factory() as session:
            content, file_name, media_type = PRODUCERS[kind](session, parameters, progress)
        folder.mkdir(parents=True, exist_ok=True)
        stored = f"{job_id}-{secrets.token_hex(16)}"
        partial = folder / f".{stored}.part"
        partial.write_bytes(content)
        partial.replace(folder / stored)
    except Exception as error:
        with factory.begin() as session:
            session.execute(
                text(
                    "UPDATE export_jobs SET status = 'failed', finished_at = now(), "
                    "message = :m WHERE id = :id"
                ),
                {
                    "m": "The export could not be made; ask the administrator to look at the "
                    f"server's log (job {job_id}).",
                    "id": job_id,
                },
            )
        raise RuntimeError(f"export job {job_id} failed") from error
    seconds = time.perf_counter() - started
    with factory.begin() as session:
        session.execute(
            text(
                "UPDATE export_jobs SET status = 'done', progress = 1, finished_at = now(), "
                "message = :m, file_name = :name, media_type = :media, result_file = :stored, "
                "size_bytes = :size WHERE id = :id"
            ),
            {
                "m": f"Ready ({len(content):,} bytes, made in {seconds:.1f} s)",
                "name": file_name,
                "media": media_type,
                "stored": stored,
                "size": len(content),
                "id": job_id,
            },
        )


@dataclass(frozen=True)
class JobView:
    id: int
    kind: str
    label: str
    parameters: dict[str, Any]
    status: str  # queued, running, done, failed, or abandoned (running with no worker left)
    progress: Decimal
    message: str | None
    requested_by: str
    requested_at: dt.datetime
    finished_at: dt.datetime | None
    file_name: str | None
    media_type: str | None
    result_file: str | None

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed", "abandoned")


_JOB_COLUMNS = (
    "id, kind, parameters, status, progress, message, requested_by, requested_at, finished_at, "
    "file_name, media_type, result_file, started_at"
)


def _view(row: Any) -> JobView:
    """A job row as its page shows it: one still `running` past `ABANDONED_AFTER` is abandoned."""
    abandoned = (
        row.status == "running" and row.started_at < dt.datetime.now(dt.UTC) - ABANDONED_AFTER
    )
    return JobView(
        row.id,
        row.kind,
        KIND_LABELS.get(row.kind, row.kind),
        dict(row.parameters),
        "abandoned" if abandoned else row.status,
        Decimal(row.progress),
        "The export stopped (the server was restarted): ask for it again."
        if abandoned
        else row.message,
        row.requested_by,
        row.requested_at,
        row.finished_at,
        row.file_name,
        row.media_type,
        row.result_file,
    )


def job_view(session: Session, job_id: int, requested_by: str | None) -> JobView | None:
    """Job `job_id` as its requester sees it (`requested_by` None: any requester, for admins)."""
    row = session.execute(
        text(
            f"SELECT {_JOB_COLUMNS} FROM export_jobs "
            "WHERE id = :id AND (CAST(:by AS text) IS NULL OR requested_by = :by)"
        ),
        {"id": job_id, "by": requested_by},
    ).one_or_none()
    return None if row is None else _view(row)


def recent_jobs(session: Session, requested_by: str, limit: int = 10) -> list[JobView]:
    """The requester's latest jobs, newest first, in one query."""
    rows = session.execute(
        text(
            f"SELECT {_JOB_COLUMNS} FROM export_jobs WHERE requested_by = :by "
            "ORDER BY requested_at DESC LIMIT :limit"
        ),
        {"by": requested_by, "limit": limit},
    )
    return [_view(row) for row in rows]
