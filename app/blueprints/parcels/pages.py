"""The parcel page: its record, buildings and full history, with restore for editors."""

from __future__ import annotations

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
from app.auth import current_user
from app.auth import editing_roles
from app.auth import require_role
from app.blueprints.operations.pages import parcel_operations
from app.database import db_session
from app.database import session_factory
from registry.db import unit_of_work
from registry.errors import NotFound
from registry.errors import VersionConflict
from registry.fields import RecordInvalid
from registry.leases.queries import leases_on_parcel
from registry.parcels.history import change_made
from registry.parcels.history import parcel_history
from registry.parcels.history import restore_parcel_version
from registry.parcels.labels import FIELD_LABELS
from registry.parcels.labels import FORM_FIELDS
from registry.parcels.labels import field_label
from registry.parcels.labels import problems_sentence
from registry.parcels.queries import get_parcel_record
from registry.parcels.split_merge import parcel_lineage
from registry.parcels.verification import verification_state
from registry.vocabulary import STATUS_LABELS

bp = Blueprint("parcels", __name__)

# What the city publishes about a parcel to anonymous visitors (CONTRACT).
PUBLIC_FIELDS = frozenset({"parcel_id", "address", "department", "use", "status"})


@bp.app_template_filter("field_label")
def _field_label(name: str) -> str:
    """`{{ change.field|field_label }}`: a field in the form's words (registry.parcels.labels)."""
    return field_label(name)


@bp.app_context_processor
def _parcel_form() -> dict[str, object]:
    """The editor's panel and the history share the form's fields and labels."""
    return {"parcel_form_fields": FORM_FIELDS, "parcel_field_labels": FIELD_LABELS}


@bp.get("/parcels/<parcel_id>")
def parcel_page(parcel_id: str) -> str | Response:
    user = current_user()
    if user is None and not current_app.config["REGISTRY_SETTINGS"].public_map:
        return redirect(url_for("auth.login", next=request.path))
    try:
        record = get_parcel_record(db_session(), parcel_id)
        history = parcel_history(db_session(), parcel_id, for_display=True) if user else []
        leases = leases_on_parcel(db_session(), parcel_id) if user else []  # never public
        verification = verification_state(db_session(), parcel_id) if user else None
        operations = parcel_operations(db_session(), parcel_id) if user else {}  # not public
        lineage = parcel_lineage(db_session(), parcel_id) if user else []
    except NotFound:
        abort(404, description=f"There is no parcel {parcel_id} in the registry.")
    return render_template(
        "parcel.html",
        record=record,
        history=list(reversed(history)),
        status_labels=STATUS_LABELS,
        public_only=user is None,
        can_edit=bool(user and user.can_edit),
        leases=leases,
        verification=verification,
        user_email=user.email if user else None,
        operations=operations,
        lineage=lineage,
    )


@bp.post("/parcels/<parcel_id>/restore")
@require_role(*editing_roles)
def restore_version(parcel_id: str) -> Response:
    settings = current_app.config["REGISTRY_SETTINGS"]
    try:
        event_id = int(request.form["event_id"])
        expected = int(request.form["version"])
    except (KeyError, ValueError):
        abort(400, description="event_id and version are required")
    try:
        with unit_of_work(session_factory(), actor_name()) as session:
            version = restore_parcel_version(session, parcel_id, event_id, expected, settings)
            made_at, made_by = change_made(session, event_id)
        flash(
            f"Restored from {made_at.strftime('%Y-%m-%d %H:%M')} by {made_by}: "
            f"the parcel is now at version {version}."
        )
    except VersionConflict as conflict:
        flash(
            f"Not restored: {conflict.changed_by or 'someone'} changed the parcel meanwhile "
            f"(now version {conflict.current_version}); review and try again.",
            "error",
        )
    except RecordInvalid as invalid:
        flash(
            f"Not restored: that version is no longer valid: {problems_sentence(invalid.problems)}",
            "error",
        )
    except NotFound:
        abort(404)
    return redirect(url_for("parcels.parcel_page", parcel_id=parcel_id) + "#history")
