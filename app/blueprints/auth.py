"""Sign in and out: `/login` (GET form, POST credentials) and `/logout` (GET asks, POST does).

Logging out takes a POST with the CSRF token, so a link or an image on another site cannot sign a
user out; `GET /logout` shows a one-button form for the header's "Sign out" link.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from app.auth import (
    csrf_failure,
    csrf_is_valid,
    current_user,
    is_local_path,
    sign_in,
    sign_out,
)
from app.database import db_session
from registry.users.records import authenticate, normalise_email

bp = Blueprint("auth", __name__)

# One message for an unknown email and a wrong password: the form must not reveal who has one.
FAILED_LOGIN = "Email or password is incorrect."
_THROTTLE_EXTENSION = "registry_login_throttle"


class LoginThrottle:
    """After `limit` failed sign-ins for one email within `window` seconds, refuse that email for
    `lockout` seconds, whatever the password: online guessing then gets 5 tries per 15 minutes.

    Kept in memory, per process: right for the single waitress process `asset-registry serve`
    runs, forgotten on restart, and counted separately by each process if there were several
    (then it belongs in the database). Keyed by email, not client address, so it also slows a
    botnet; the price is that anyone can lock a known email out for 15 minutes.
    """

    _PRUNE_ABOVE = 10_000  # emails tracked before old entries are swept, to bound memory

    def __init__(
        self,
        limit: int = 5,
        window: float = 15 * 60,
        lockout: float = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit, self.window, self.lockout, self.clock = limit, window, lockout, clock
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def retry_after(self, email: str) -> float | None:
        """Seconds until `email` may try again, or None when it may try now."""
        with self._lock:
            until = self._locked_until.get(email)
            now = self.clock()
            if until is None or until <= now:
                self._locked_until.pop(email, None)
                return None
            return until - now

    def record_failure(self, email: str) -> None:
        with self._lock:
            now = self.clock()
            failures = self._failures.setdefault(email, deque())
            failures.append(now)
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if len(failures) >= self.limit:
                self._locked_until[email] = now + self.lockout
                failures.clear()
            if len(self._failures) > self._PRUNE_ABOVE:
                self._prune(now)

    def reset(self, email: str) -> None:
        with self._lock:
            self._failures.pop(email, None)
            self._locked_until.pop(email, None)

    def _prune(self, now: float) -> None:
        stale = now - self.window
        for key in [k for k, times in self._failures.items() if not times or times[-1] <= stale]:
            del self._failures[key]
        for key in [k for k, until in self._locked_until.items() if until <= now]:
            del self._locked_until[key]


def login_throttle() -> LoginThrottle:
    """The app's throttle (one per app, so each test app starts with a clean slate)."""
    throttle = current_app.extensions.get(_THROTTLE_EXTENSION)
    if throttle is None:
        throttle = current_app.extensions.setdefault(_THROTTLE_EXTENSION, LoginThrottle())
    return throttle


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        return _login_page(_next_target(request.args.get("next")))
    if not csrf_is_valid():
        return csrf_failure()
    email = normalise_email(request.form.get("email", ""))
    password = request.form.get("password", "")
    next_target = _next_target(request.form.get("next"))
    throttle = login_throttle()
    wait = throttle.retry_after(email)
    if wait is not None:
        minutes = math.ceil(wait / 60)
        message = (
            f"Too many failed sign-in attempts for this email. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )
        headers = {"Retry-After": str(math.ceil(wait))}
        return _login_page(next_target, email, message), 429, headers
    user = authenticate(db_session(), email, password)
    if user is None:
        throttle.record_failure(email)
        return _login_page(next_target, email, FAILED_LOGIN), 401
    throttle.reset(email)
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


def _next_target(candidate: str | None) -> str:
    """Where to go after signing in: a path on this site only, never another site."""
    if candidate and is_local_path(candidate):
        return candidate
    return url_for("map_view.portfolio_map")


def _login_page(next_target: str, email: str = "", error: str | None = None) -> str:
    return render_template(
        "login.html", mode="login", next=next_target, email=email, error=error
    )
