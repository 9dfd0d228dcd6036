"""Sign in and out: `/login` (GET form, POST credentials), `/logout` (GET asks, POST does) and
`/logout/everywhere` (POST: every session of the user and their API tokens).

Logging out takes a POST with the CSRF token, so a link or an image on another site cannot sign a
user out; `GET /logout` shows a form for the header's "Sign out" link.

Failed sign-ins slow down the address they come from, for that email only (registry.users.throttle,
kept in the database so every worker agrees): an attacker elsewhere cannot lock the owner out.
A refused try is a 429 with `Retry-After`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask.typing import ResponseReturnValue

from app.auth import csrf_failure
from app.auth import csrf_is_valid
from app.auth import current_user
from app.auth import is_local_path
from app.auth import sign_in
from app.auth import sign_out
from app.auth import sign_out_everywhere
from app.database import db_session
from app.database import session_factory
from registry.db import unit_of_work
from registry.users import throttle
from registry.users.records import authenticate
from registry.users.records import normalise_email

bp = Blueprint("auth", __name__)

# One message for an unknown email and a wrong password: the form must not reveal who has one.
FAILED_LOGIN = "Email or password is incorrect."
THROTTLE_POLICY = "registry_login_throttle_policy"
#: `app.extensions[LOGIN_CLOCK]`, when set, replaces the wall clock of the throttle (tests).
LOGIN_CLOCK = "registry_login_clock"
_THROTTLE_ACTOR = "login"


def login_clock() -> dt.datetime:
    clock: Callable[[], dt.datetime] | None = current_app.extensions.get(LOGIN_CLOCK)
    return clock() if clock is not None else dt.datetime.now(dt.UTC)


def throttle_policy() -> throttle.ThrottlePolicy:
    return current_app.extensions.get(THROTTLE_POLICY) or throttle.ThrottlePolicy()


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        return _login_page(_next_target(request.args.get("next")))
    if not csrf_is_valid():
        return csrf_failure()
    email = normalise_email(request.form.get("email", ""))
    password = request.form.get("password", "")
    next_target = _next_target(request.form.get("next"))
    address = request.remote_addr or "unknown"
    now = login_clock()
    with unit_of_work(session_factory(), actor=_THROTTLE_ACTOR) as uow:
        wait = throttle.retry_after(uow, email, address, now)
    if wait is not None:
        return _too_soon(next_target, email, wait)
    user = authenticate(db_session(), email, password)
    with unit_of_work(session_factory(), actor=_THROTTLE_ACTOR) as uow:
        if user is None:
            throttle.record_failure(uow, email, address, now, throttle_policy())
        else:
            throttle.record_success(uow, email, address)
    if user is None:
        return _login_page(next_target, email, FAILED_LOGIN), 401
    sign_in(user)
    return redirect(next_target)


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> ResponseReturnValue:
    """POST signs out (CSRF-checked before the view runs, as for every signed-in POST)."""
    if request.method == "GET":
        if current_user() is None:
            return redirect(url_for("auth.login"))
        return render_template("login.html", mode="logout")
    sign_out()
    return redirect(url_for("map_view.portfolio_map"))


@bp.post("/logout/everywhere")
def logout_everywhere() -> ResponseReturnValue:
    """End every session of the signed-in user, on every device, and revoke their API tokens."""
    user = current_user()
    if user is None:
        return redirect(url_for("auth.login"))
    sessions, tokens = sign_out_everywhere(user)
    flash(
        f"Signed out of {sessions} session{'s' if sessions != 1 else ''}; "
        f"{tokens} API token{'s' if tokens != 1 else ''} revoked."
    )
    return redirect(url_for("auth.login"))


def _too_soon(next_target: str, email: str, wait: dt.timedelta) -> ResponseReturnValue:
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 120:
        when = f"{seconds} second{'s' if seconds != 1 else ''}"
    else:
        when = f"{math.ceil(seconds / 60)} minutes"
    message = f"Too many failed sign-in attempts from here for this email. Try again in {when}."
    return _login_page(next_target, email, message), 429, {"Retry-After": str(seconds)}


def _next_target(candidate: str | None) -> str:
    """Where to go after signing in: a path on this site only, never another site."""
    if candidate and is_local_path(candidate):
        return candidate
    return url_for("map_view.portfolio_map")


def _login_page(next_target: str, email: str = "", error: str | None = None) -> str:
    return render_template("login.html", mode="login", next=next_target, email=email, error=error)
