"""The verification workflow: the queue of records awaiting a second person, and verifying one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.wrappers import Response

from app.auth import actor_name
from app.auth import editing_roles
from app.auth import is_local_path
from app.auth import require_login
from app.auth import require_role
from app.database import db_session
from app.database import session_factory
from registry.city.departments import department_choices
from registry.db import unit_of_work
from registry.errors import NotFound
from registry.errors import VersionConflict
from registry.fields import RecordInvalid
from registry.parcels.records import ParcelChange
from registry.parcels.records import update_parcel
from registry.parcels.verification import QueueCursorInvalid
from registry.parcels.verification import verification_queue

bp = Blueprint("verification", __name__)


@bp.get("/verification")
@require_login
def queue() -> str:
    """The queue a page at a time (`?after=` the previous page's cursor), by department."""
    department = request.args.get("department") or None
    after = request.args.get("after") or None
    try:
        page = verification_queue(db_session(), department, after=after)
    except QueueCursorInvalid:
        abort(400, description="after must be a cursor from the queue's Next page link.")
    active: dict[str, Any] = {"department": department} if department else {}
    next_url = url_for(".queue", **active, after=page.next_cursor) if page.next_cursor else None
    return render_template(
        "verification.html",
        page=page,
        department=department,
        departments=department_choices(db_session()),
        next_url=next_url,
        first_url=url_for(".queue", **active) if after else None,
    )


def _workflow_step(parcel_id: str, change: ParcelChange, done: str, verb: str) -> Response:
    """Apply a one-button step of the workflow to the version the page showed; flash `done`,
    or why it was not (`verb`: "verified", "confirmed"), and go back."""
    try:
        expected = int(request.form["version"])
    except (KeyError, ValueError):
        abort(400, description="version is required")
    try:
        with unit_of_work(session_factory(), actor_name()) as session:
            update_parcel(
                session, parcel_id, expected, change, current_app.config["REGISTRY_SETTINGS"]
            )
        flash(done)
    except NotFound:
        abort(404)
    except VersionConflict as conflict:
        flash(
            f"Not {verb}: the record changed (now version {conflict.current_version}); "
            "review it again.",
            "error",
        )
    except RecordInvalid as invalid:
        flash(f"Not {verb}: " + "; ".join(p.message for p in invalid.problems), "error")
    wanted = request.form.get("next") or ""  # a page of this site only: no open redirect
    return redirect(
        wanted if is_local_path(wanted) else url_for("parcels.parcel_page", parcel_id=parcel_id)
    )


@bp.post("/parcels/<parcel_id>/verify")
@require_role(*editing_roles)
def verify(parcel_id: str) -> Response:
    return _workflow_step(
        parcel_id,
        ParcelChange({"digitization_status": "verified"}),
        f"Verified parcel {parcel_id}.",
        "verified",
    )


@bp.post("/parcels/<parcel_id>/confirm")
@require_role(*editing_roles)
def confirm(parcel_id: str) -> Response:
    """Confirm the values the source marked as uncertain, as they stand (an edit: the record's
    verifier must then be someone else)."""
    fields = request.form.getlist("field")
    return _workflow_step(
        parcel_id,
        ParcelChange({"confirm": fields}),
        f"Confirmed {', '.join(fields)} of parcel {parcel_id}.",
        "confirmed",
    )
