"""Finance's exports page (`/exports`) and the GASB 87 journal entries download.

The page gathers every export finance takes to the general ledger, the auditors or council: the
portfolio summary as of a date, the GASB 87 report and the journal entries of any fiscal year,
and the reform KPI set; each form is a plain GET to the download itself, so a link can be saved.
"""

from __future__ import annotations

import datetime as dt
import os

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from werkzeug.wrappers import Response as BaseResponse

from app import export_runner
from app.auth import actor_name
from app.auth import current_user
from app.auth import exporting_roles
from app.auth import require_role
from app.city import fiscal_year_start_month
from app.database import db_session
from app.database import session_factory
from app.downloads import attachment
from app.downloads import fiscal_year_arg
from registry.db import unit_of_work
from registry.exports.jobs import KIND_LABELS
from registry.exports.jobs import JobView
from registry.exports.jobs import export_folder
from registry.exports.jobs import job_view
from registry.exports.jobs import recent_jobs
from registry.exports.jobs import request_job
from registry.fields import FIRST_YEAR
from registry.fields import RecordInvalid
from registry.fields import whole_number
from registry.fiscal_years import fiscal_year_of
from registry.kpis.export import KPI_EXPORT_FORMATS
from registry.leases.gasb87.journal import fiscal_months
from registry.leases.gasb87.journal import journal_csv
from registry.leases.gasb87.journal import journal_entries
from registry.leases.gasb87.journal import journal_workbook
from registry.leases.gasb87.journal import parse_accounts
from registry.leases.gasb87.journal import tie_out
from registry.leases.gasb87.report import gasb87_report
from registry.leases.queries import first_commencement
from registry.portfolio.export import PORTFOLIO_FORMATS

bp = Blueprint("exports", __name__)

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Fiscal years offered in the pickers: the next, the current one and at least this many before
#: it, back to the fiscal year of the earliest lease's commencement.
YEARS_BACK = 10


@bp.get("/exports")
@require_role(*exporting_roles)
def exports_page() -> str:
    start_month = fiscal_year_start_month()
    current = fiscal_year_of(dt.date.today(), start_month)
    first_lease = first_commencement(db_session())
    first = current - YEARS_BACK
    if first_lease is not None:  # a date stored before dates were bounded lists no 2,000 years
        first = min(first, max(fiscal_year_of(first_lease, start_month), FIRST_YEAR))
    return render_template(
        "exports.html",
        today=dt.date.today(),
        fiscal_years=list(range(current + 1, first - 1, -1)),
        current_fiscal_year=current,
        months=[
            (period, first.strftime("%B %Y"))
            for period, first, _last in fiscal_months(current, start_month)
        ],
        portfolio_formats=PORTFOLIO_FORMATS,
        kpi_formats=KPI_EXPORT_FORMATS,
        kinds=KIND_LABELS,
        jobs=recent_jobs(db_session(), _requester()),
    )


def _requester() -> str:
    user = current_user()
    assert user is not None  # require_role let the request in
    return user.email


@bp.post("/exports/jobs")
@require_role(*exporting_roles)
def request_export() -> BaseResponse:
    """Prepare an export in the background; its page shows the progress and the file."""
    try:
        with unit_of_work(session_factory(), actor_name()) as session:
            job_id = request_job(session, request.form.get("kind", ""), request.form, _requester())
    except RecordInvalid as invalid:
        flash("Not started: " + "; ".join(p.message for p in invalid.problems), "error")
        return redirect(url_for("exports.exports_page") + "#background")
    export_runner.submit(job_id)
    return redirect(url_for("exports.export_job", job_id=job_id))


def _own_job(job_id: int) -> JobView:
    user = current_user()
    assert user is not None
    view = job_view(db_session(), job_id, None if user.is_admin else user.email)
    if view is None:
        abort(404, description="There is no such export of yours.")
    return view


@bp.get("/exports/jobs/<int:job_id>")
@require_role(*exporting_roles)
def export_job(job_id: int) -> str:
    return render_template("export_job.html", job=_own_job(job_id))


@bp.get("/exports/jobs/<int:job_id>/file")
@require_role(*exporting_roles)
def export_job_file(job_id: int) -> BaseResponse:
    job = _own_job(job_id)
    if job.status != "done" or not job.result_file:
        abort(
            404, description="This export has no file (not ready, failed, or removed after a day)."
        )
    path = export_folder() / job.result_file
    if not path.is_file():
        abort(404, description="This export's file was removed after a day: ask for it again.")
    response = send_file(
        path, mimetype=job.media_type, as_attachment=True, download_name=job.file_name
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/leases/gasb87/journal")
@require_role(*exporting_roles)
def journal_export() -> Response:
    """`?fy=2026[&month=1..12]&format=csv|xlsx`: month is the fiscal period (1 = the fiscal
    year's first month); without it, the whole year, month by month."""
    start_month = fiscal_year_start_month()
    fiscal_year = fiscal_year_arg(request.args.get("fy"), start_month)
    month = _month(request.args.get("month"))
    export_format = request.args.get("format", "csv")
    if export_format not in ("csv", "xlsx"):
        abort(400, description="format must be csv or xlsx.")
    try:
        accounts = parse_accounts(os.environ.get("REGISTRY_JOURNAL_ACCOUNTS"))
    except ValueError:
        abort(500, description="The journal's account codes are misconfigured: ask the admin.")
    session = db_session()
    journal = journal_entries(session, fiscal_year, start_month, month=month, accounts=accounts)
    name = f"journal-FY{fiscal_year}" + (f"-P{month:02d}" if month else "")
    if export_format == "csv":
        return attachment(journal_csv(journal).encode(), "text/csv", f"{name}.csv")
    ties = [] if month else tie_out(journal, gasb87_report(session, fiscal_year, start_month))
    return attachment(journal_workbook(journal, ties), XLSX_MEDIA_TYPE, f"{name}.xlsx")


def _month(value: str | None) -> int | None:
    if not value:
        return None
    month = whole_number(value)
    if month is None or not 1 <= month <= 12:
        abort(400, description="month must be a fiscal period from 1 to 12.")
    return month
