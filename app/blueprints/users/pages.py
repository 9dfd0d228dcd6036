"""The users page `/admin/users` (admins): every user, their open sessions (when last seen, from
which browser) and API tokens, with buttons to end a session, revoke a token, sign a user out
everywhere or deactivate them. Every button is a POST carrying the CSRF token, checked before the
view runs (app.auth); changes go through registry.users in a unit of work naming the admin."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import render_template
from flask import url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.auth import actor_name
from app.auth import admin_roles
from app.auth import current_user
from app.auth import require_role
from app.database import db_session
from app.database import session_factory
from registry.db import unit_of_work
from registry.models import User
from registry.users.queries import user_access
from registry.users.records import revoke_tokens
from registry.users.records import user_by_id
from registry.users.sessions import ENDED_BY_ADMIN
from registry.users.sessions import deactivate_user
from registry.users.sessions import end_every_session
from registry.users.sessions import end_session_of

bp = Blueprint("users_admin", __name__, url_prefix="/admin/users")


@bp.get("")
@require_role(*admin_roles)
def users_page() -> str:
    return render_template("users/admin.html", access=user_access(db_session()))


@bp.post("/<int:user_id>/sessions/<int:session_id>/end")
@require_role(*admin_roles)
def end_one_session(user_id: int, session_id: int) -> Response:
    with unit_of_work(session_factory(), actor=actor_name()) as session:
        user = _user(session, user_id)
        ended = end_session_of(session, user.id, session_id, ENDED_BY_ADMIN)
    flash(f"Session of {user.email} ended." if ended else "That session had already ended.")
    return _back()


@bp.post("/<int:user_id>/tokens/<int:token_id>/revoke")
@require_role(*admin_roles)
def revoke_one_token(user_id: int, token_id: int) -> Response:
    with unit_of_work(session_factory(), actor=actor_name()) as session:
        user = _user(session, user_id)
        revoked = revoke_tokens(session, user, token_id)
    flash(f"API token of {user.email} revoked." if revoked else "That token was already revoked.")
    return _back()


@bp.post("/<int:user_id>/sign-out-everywhere")
@require_role(*admin_roles)
def sign_out_user_everywhere(user_id: int) -> Response:
    with unit_of_work(session_factory(), actor=actor_name()) as session:
        user = _user(session, user_id)
        sessions, tokens = end_every_session(session, user, ENDED_BY_ADMIN)
    flash(f"{user.email}: {sessions} session(s) ended, {tokens} API token(s) revoked.")
    return _back()


@bp.post("/<int:user_id>/deactivate")
@require_role(*admin_roles)
def deactivate(user_id: int) -> Response:
    me = current_user()
    if me is not None and me.id == user_id:
        flash("You cannot deactivate yourself; ask another admin.", "error")
        return _back()
    with unit_of_work(session_factory(), actor=actor_name()) as session:
        user = _user(session, user_id)
        sessions, tokens = deactivate_user(session, user)
    flash(f"{user.email} deactivated: {sessions} session(s) ended, {tokens} API token(s) revoked.")
    return _back()


def _user(session: Session, user_id: int) -> User:
    user = user_by_id(session, user_id)
    if user is None:
        abort(404, description="No such user.")
    return user


def _back() -> Response:
    return redirect(url_for("users_admin.users_page"))
