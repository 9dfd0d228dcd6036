"""The digitization milestone page `/milestone`: milestones kept by an admin, the burn-up of
parcels digitized and verified against the target, the DIG-6 forecast, progress by department
and the work queue of open data-quality findings (DIG-5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.auth import actor_name
from app.auth import admin_roles
from app.auth import current_user
from app.auth import editing_roles
from app.auth import require_login
from app.auth import require_role
from app.charts import line_chart_svg
from app.city import fiscal_year_start_month
from app.database import db_session
from app.database import session_factory
from registry.city.departments import department_choices
from registry.db import unit_of_work
from registry.errors import NotFound
from registry.fields import RecordInvalid
from registry.kpis import KpiValue
from registry.kpis import Period
from registry.kpis.digitization import digitization_kpis
from registry.milestones.findings import assign_finding
from registry.milestones.findings import close_finding
from registry.milestones.findings import closed_findings
from registry.milestones.findings import open_findings
from registry.milestones.findings import reopen_finding
from registry.milestones.progress import PACE_WEEKS
from registry.milestones.progress import BurnUpWeek
from registry.milestones.progress import MilestoneForecast
from registry.milestones.progress import burn_up
from registry.milestones.progress import forecast
from registry.milestones.progress import verified_pace
from registry.milestones.records import MilestoneInput
from registry.milestones.records import MilestoneNotFound
from registry.milestones.records import delete_milestone
from registry.milestones.records import list_milestones
from registry.milestones.records import save_milestone
from registry.models import Milestone

bp = Blueprint("milestones", __name__)


def _chosen(milestones: list[Milestone], today: dt.date) -> Milestone | None:
    """`?milestone=<id>`, else the next one still ahead, else the latest."""
    wanted = request.args.get("milestone", "")
    for milestone in milestones:
        if str(milestone.id) == wanted:
            return milestone
    upcoming = [m for m in milestones if m.target_date >= today]
    return upcoming[0] if upcoming else (milestones[-1] if milestones else None)


def _row(values: list[KpiValue], kpi_id: str, breakdown: str = "city") -> list[KpiValue]:
    return [v for v in values if v.kpi_id == kpi_id and v.breakdown == breakdown]


def _departments(values: list[KpiValue], names: dict[str, str]) -> list[dict[str, Any]]:
    """Progress by department from DIG-1 and DIG-2's department rows (their numerators), by
    the department's name (`names`: code -> name) as people know it."""
    digitized = {v.breakdown_value: v for v in _row(values, "DIG-1", "department")}
    return [
        {
            "department": v.breakdown_value,
            "name": names.get(str(v.breakdown_value), v.breakdown_value),
            "parcels": v.denominator,
            "digitized": digitized[v.breakdown_value].numerator
            if v.breakdown_value in digitized
            else None,
            "verified": v.numerator,
            "pct_verified": v.value,
        }
        for v in _row(values, "DIG-2", "department")
    ]


def _burn_up_chart(
    weeks: list[BurnUpWeek],
    milestone: Milestone | None,
    outlook: MilestoneForecast | None,
    today: dt.date,
) -> Markup:
    series: dict[str, list[tuple[dt.date, Any]]] = {
        "Digitized": [(w.week, w.digitized) for w in weeks],
        "Verified": [(w.week, w.verified) for w in weeks],
    }
    if milestone is not None and outlook is not None:
        start = weeks[0].week if weeks else today
        series[f"Target: {milestone.name}"] = [
            (min(start, milestone.target_date), outlook.target_parcels),
            (milestone.target_date, outlook.target_parcels),
        ]
        # the target date itself, as a vertical rule from the axis to the target
        series[f"Target date {milestone.target_date.isoformat()}"] = [
            (milestone.target_date, 0),
            (milestone.target_date, outlook.target_parcels),
        ]
        if outlook.forecast_date is not None:
            series["Forecast at recent pace"] = [
                (today, outlook.verified_parcels),
                (outlook.forecast_date, outlook.target_parcels),
            ]
    return line_chart_svg(
        series,
        title="Parcels digitized and verified, by week",
        y_format=lambda value: f"{value:,.0f}",
    )


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    # ASCII digits that fit a database integer; anything else is as if not given
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


#: The milestone form's labels, by field: what a message names instead of the field.
MILESTONE_LABELS = {
    "name": "Name",
    "target_pct_verified": "Target % of parcels verified",
    "target_date": "Target date",
}


@dataclass(frozen=True)
class TypedMilestone:
    """A milestone form sent back with its problems: what was typed, for the form it came
    from (`milestone_id` None: the new-milestone form), and why it was not saved."""

    milestone_id: int | None
    name: str
    target_pct_verified: str
    target_date: str
    problems: list[str]


@bp.get("/milestone")
@require_login
def milestone_page() -> str:
    return _page()


def _page(typed: TypedMilestone | None = None) -> str:
    session, today = db_session(), dt.date.today()
    start_month = fiscal_year_start_month()
    milestones = list_milestones(session)
    milestone = _chosen(milestones, today)
    # only the digitization family: the page needs DIG-1 and DIG-2, not the costs of the year
    values = digitization_kpis(session, Period.resolve(None, today, start_month))
    city = _row(values, "DIG-2")[0]
    pace = verified_pace(session, today)  # the one pace: the forecast below is made from it
    outlook = None
    if milestone is not None:
        outlook = forecast(
            Decimal(milestone.target_pct_verified),
            milestone.target_date,
            int(city.numerator or 0),
            int(city.denominator or 0),
            pace,
            today,
        )
    weeks = burn_up(session, today)
    names = dict(department_choices(session))
    codes = set(names)
    department = request.args.get("department") if request.args.get("department") in codes else None
    district = _int_arg("district")
    assigned = request.args.get("assigned")
    user = current_user()
    assigned_to = None
    if assigned == "me" and user is not None:
        assigned_to = user.email.lower()
    elif assigned == "nobody":
        assigned_to = ""
    return render_template(
        "milestone.html",
        milestones=milestones,
        milestone=milestone,
        outlook=outlook,
        dig2=city,
        pace=pace,
        pace_weeks=PACE_WEEKS,
        today=today,
        chart=_burn_up_chart(weeks, milestone, outlook, today),
        departments=_departments(values, names),
        department_names=names,
        findings=open_findings(session, department, district, assigned_to=assigned_to),
        closed=closed_findings(session, limit=50),
        assigned=assigned if assigned in ("me", "nobody") else None,
        department=department,
        district=district,
        typed=typed,
    )


def _form_input() -> MilestoneInput:
    form = request.form
    return MilestoneInput(
        form.get("name", ""), form.get("target_pct_verified", ""), form.get("target_date", "")
    )


def _saved(milestone_id: int | None) -> Response | tuple[str, int]:
    """Save the form and go to the milestone; when it is refused, the page again (422) with
    what was typed still in the form and each problem named by the form's label."""
    typed = _form_input()
    try:
        with unit_of_work(session_factory(), actor_name()) as session:
            milestone = save_milestone(session, typed, milestone_id)
            saved_id, name = milestone.id, milestone.name
    except MilestoneNotFound:
        abort(404)
    except RecordInvalid as invalid:
        problems = [
            f"{MILESTONE_LABELS.get(p.field, p.field)}: {p.message}" for p in invalid.problems
        ]
        sent = TypedMilestone(
            milestone_id, typed.name, typed.target_pct_verified, typed.target_date, problems
        )
        return _page(sent), 422
    flash(f"Saved milestone {name}.")
    return redirect(url_for("milestones.milestone_page", milestone=saved_id))


@bp.post("/milestone/milestones")
@require_role(*admin_roles)
def create_milestone() -> Response | tuple[str, int]:
    return _saved(None)


@bp.post("/milestone/milestones/<int:milestone_id>")
@require_role(*admin_roles)
def update_milestone(milestone_id: int) -> Response | tuple[str, int]:
    return _saved(milestone_id)


@bp.post("/milestone/milestones/<int:milestone_id>/delete")
@require_role(*admin_roles)
def remove_milestone(milestone_id: int) -> Response:
    try:
        with unit_of_work(session_factory(), actor_name()) as session:
            delete_milestone(session, milestone_id)
    except MilestoneNotFound:
        abort(404)
    flash("Deleted the milestone.")
    return redirect(url_for("milestones.milestone_page") + "#milestones")


def _back_to_findings() -> Response:
    return redirect(url_for("milestones.milestone_page") + "#findings")


def _finding_change(work: Callable[[Session], None], done: str) -> Response:
    """Run `work` in a unit of work named after the user; flash `done` or why not."""
    try:
        with unit_of_work(session_factory(), actor_name()) as session:
            work(session)
    except NotFound as missing:
        flash(f"Not changed: {missing}.", "error")
    except RecordInvalid as invalid:
        flash("Not changed: " + "; ".join(p.message for p in invalid.problems), "error")
    else:
        flash(done)
    return _back_to_findings()


@bp.post("/milestone/findings/<finding_key>/assign")
@require_role(*editing_roles)
def assign(finding_key: str) -> Response:
    user = current_user()
    assert user is not None
    wanted = request.form.get("assignee", "").strip()
    assignee = user.email if wanted == "me" else wanted
    return _finding_change(
        lambda session: assign_finding(session, finding_key, assignee),
        f"Assigned to {assignee.lower()}." if assignee else "Unassigned.",
    )


@bp.post("/milestone/findings/<finding_key>/close")
@require_role(*editing_roles)
def close(finding_key: str) -> Response:
    return _finding_change(
        lambda session: close_finding(
            session, finding_key, request.form.get("note", ""), actor_name()
        ),
        "Closed the finding; it no longer counts in DIG-5.",
    )


@bp.post("/milestone/findings/<finding_key>/reopen")
@require_role(*editing_roles)
def reopen(finding_key: str) -> Response:
    return _finding_change(
        lambda session: reopen_finding(session, finding_key),
        "Reopened the finding.",
    )
