"""Who is told of a lease's critical dates (on the lease page), and the acknowledgement links of
the notices `asset-registry notify` sends.

An acknowledgement link works without signing in: the people responsible for a lease are often
not users of the registry, and the link's secret (256 bits, stored only as its hash) is what
identifies them. It opens a page with a button; the GET itself changes nothing, because mail
scanners and link previews follow links.
"""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from werkzeug.wrappers import Response

from app.auth import actor_name
from app.auth import lease_managing_roles
from app.auth import require_role
from app.database import db_session
from app.database import session_factory
from registry.db import unit_of_work
from registry.errors import NotFound
from registry.fields import RecordInvalid
from registry.leases.notices import acknowledge
from registry.leases.notices import add_responsible
from registry.leases.notices import notice_for_token
from registry.leases.notices import remove_responsible

bp = Blueprint("lease_notices", __name__)


def _back(lease_number: str) -> Response:
    return redirect(url_for("leases.lease_page", lease_number=lease_number) + "#responsible")


@bp.post("/leases/<lease_number>/responsible")
@require_role(*lease_managing_roles)
def add(lease_number: str) -> Response:
    email = request.form.get("email", "")
    try:
        with unit_of_work(session_factory(), actor_name()) as session:
            add_responsible(session, lease_number, email, request.form.get("name", ""))
    except NotFound:
        abort(404, description=f"There is no lease {lease_number} in the registry.")
    except RecordInvalid as invalid:
        flash("Not added: " + "; ".join(p.message for p in invalid.problems), "error")
    else:
        flash(f"{email.strip().lower()} will be told of this lease's critical dates.")
    return _back(lease_number)


@bp.post("/leases/<lease_number>/responsible/remove")
@require_role(*lease_managing_roles)
def remove(lease_number: str) -> Response:
    email = request.form.get("email", "")
    try:
        with unit_of_work(session_factory(), actor_name()) as session:
            remove_responsible(session, lease_number, email)
    except NotFound:
        flash(f"{email} was not responsible for lease {lease_number}.", "error")
    else:
        flash(f"{email} will no longer be told of this lease's dates.")
    return _back(lease_number)


@bp.get("/notices/<token>")
def notice(token: str) -> str:
    view = notice_for_token(db_session(), token)
    if view is None:
        abort(404, description="This acknowledgement link is not known (or was mistyped).")
    return render_template("notice.html", notice=view, token=token)


@bp.post("/notices/<token>")
def acknowledge_notice(token: str) -> Response | str:
    try:
        with unit_of_work(session_factory(), "notice link") as session:
            acknowledge(session, token, request.form.get("note", ""))
    except NotFound:
        abort(404, description="This acknowledgement link is not known (or was mistyped).")
    except RecordInvalid as invalid:
        flash("; ".join(p.message for p in invalid.problems), "error")
    return redirect(url_for("lease_notices.notice", token=token))
