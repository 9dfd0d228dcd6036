"""Who is asking: the signed-in user (session cookie) or a script (`Authorization: Bearer`).

The session cookie carries only the id of a server-side session (registry.users.sessions), checked
on every request: once it is ended (sign-out, "sign out everywhere", an admin, deactivation),
expired (`REGISTRY_SESSION_MAX_HOURS` after sign-in) or idle (`REGISTRY_SESSION_IDLE_MINUTES`),
a copy of the cookie signs nobody in.

`init_app` loads the current user before every request and enforces CSRF on unsafe requests
that a browser could forge, i.e. those authenticated by the session cookie. Views declare who may
call them with `require_role(...)` / `require_login`; writes pass `actor_name()` to
`unit_of_work` so the audit trail names the user.

Roles (../shared/CONTRACT.md): every role reads, financials included; `editor` and `admin` edit
parcels, buildings and leases; `finance` and `admin` export; only `admin` manages users.
Anonymous visitors get what the city marks public and never lease financials.
"""

from __future__ import annotations

import datetime as dt
import functools
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from typing import ParamSpec
from typing import TypeVar
from urllib.parse import urlsplit

from flask import Flask
from flask import Response
from flask import abort
from flask import current_app
from flask import g
from flask import has_app_context
from flask import redirect
from flask import request
from flask import session
from flask import url_for
from werkzeug.wrappers import Response as BaseResponse

from app.database import session_factory
from app.problems import problem
from app.problems import wants_problem_json as _wants_json
from registry.db import unit_of_work
from registry.models import User
from registry.users.records import user_by_id
from registry.users.records import user_for_token
from registry.users.sessions import SIGNED_OUT
from registry.users.sessions import SIGNED_OUT_EVERYWHERE
from registry.users.sessions import SessionPolicy
from registry.users.sessions import end_every_session
from registry.users.sessions import end_session
from registry.users.sessions import start_session
from registry.users.sessions import user_for_session
from registry.vocabulary import USER_ROLES

reading_roles: tuple[str, ...] = USER_ROLES
editing_roles: tuple[str, ...] = ("editor", "admin")
exporting_roles: tuple[str, ...] = ("finance", "admin")
#: Who administers leases (create, change, modify, documents, notices), in the browser and the
#: JSON API alike: editors as for every record, finance whose work leases are, and admins.
lease_managing_roles: tuple[str, ...] = ("editor", "finance", "admin")
admin_roles: tuple[str, ...] = ("admin",)

ANONYMOUS = "anonymous"
CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FAILURE = "CSRF token missing or invalid"
_SESSION_ID = "session_id"
_SESSION_CSRF = "csrf_token"
_SESSION_POLICY = "registry_session_policy"
_SESSION_ACTOR = "session"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Token checks write (last_used_at) but change nothing the audit trail keeps.
_TOKEN_ACTOR = "api-token"

P = ParamSpec("P")
R = TypeVar("R")


class _RoleAmong:
    """A `CurrentUser` flag: is the user's role one of `roles`? (each ability is this one test)"""

    def __init__(self, roles: tuple[str, ...]) -> None:
        self.roles = roles

    def __get__(self, user: CurrentUser | None, owner: type | None = None) -> bool:
        return user is not None and user.role in self.roles


@dataclass(frozen=True)
class CurrentUser:
    """What views need to know about the caller: a snapshot, detached from any DB session."""

    id: int
    email: str
    role: str
    display_name: str | None
    via_token: bool = False

    @classmethod
    def from_user(cls, user: User, via_token: bool = False) -> CurrentUser:
        return cls(user.id, user.email, user.role, user.display_name, via_token)

    @property
    def name(self) -> str:
        return self.display_name or self.email

    can_edit = _RoleAmong(editing_roles)
    #: Every signed-in role reads lease financials; anonymous visitors (no user) never do.
    can_read_financials = _RoleAmong(reading_roles)
    can_export = _RoleAmong(exporting_roles)
    is_admin = _RoleAmong(admin_roles)


def init_app(app: Flask) -> None:
    # dev serves plain http, where a Secure cookie would never come back
    app.config["SESSION_COOKIE_SECURE"] = _env_flag(_setting(app, "REGISTRY_SECURE_COOKIES"))
    policy = SessionPolicy(
        idle_minutes=int(_setting(app, "REGISTRY_SESSION_IDLE_MINUTES") or 30),
        max_hours=float(_setting(app, "REGISTRY_SESSION_MAX_HOURS") or 12),
    )
    app.extensions[_SESSION_POLICY] = policy
    # the signed cookie itself is refused past the session's lifetime, not Flask's 31 days
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(hours=policy.max_hours)
    app.before_request(_load_user_and_check_csrf)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"current_user": current_user()})

    from app.blueprints.users import pages as user_pages

    app.register_blueprint(user_pages.bp)


def current_user() -> CurrentUser | None:
    """The caller of the current request, or None when anonymous (or outside a request)."""
    if not has_app_context():
        return None
    return g.get("current_user")


def actor_name() -> str:
    """The name to give `unit_of_work` so the audit trail records who made a change."""
    user = current_user()
    return user.email if user is not None else ANONYMOUS


def require_role(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R | BaseResponse]]:
    """Let only signed-in users holding one of `roles` call the view.

    Anonymous: 401 (problem+json for /api/ and JSON clients, else a redirect to /login?next=...).
    Signed in with another role: 403.
    """
    unknown = set(roles) - set(USER_ROLES)
    if unknown or not roles:
        raise ValueError(f"require_role needs roles among {USER_ROLES}, not {sorted(unknown)}")
    allowed = frozenset(roles)

    def decorate(view: Callable[P, R]) -> Callable[P, R | BaseResponse]:
        @functools.wraps(view)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R | BaseResponse:
            user = current_user()
            if user is None:
                return _unauthorized()
            if user.role not in allowed:
                abort(403, description="Your role does not allow this.")
            return view(*args, **kwargs)

        return guarded

    return decorate


def require_login(view: Callable[P, R]) -> Callable[P, R | BaseResponse]:
    """Any signed-in user, whatever the role."""
    return require_role(*reading_roles)(view)


def csrf_token() -> str:
    """This session's CSRF token (made on first use): for forms and `<meta name="csrf-token">`."""
    token = session.get(_SESSION_CSRF)
    if not token:
        token = session[_SESSION_CSRF] = secrets.token_urlsafe(32)
    return str(token)


def csrf_is_valid() -> bool:
    expected = session.get(_SESSION_CSRF)
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FORM_FIELD)
    if not expected or not sent:
        return False
    return hmac.compare_digest(str(expected).encode(), sent.encode())


def csrf_failure() -> Response:
    """400: problem+json for API and JSON clients, a plain page for forms."""
    if _wants_json():
        return problem(
            400, CSRF_FAILURE, "Send the token of this session in the X-CSRF-Token header."
        )
    abort(400, description=f"{CSRF_FAILURE}: reload the page and try again.")


def sign_in(user: User) -> None:
    """Start a new server-side session for `user`: nothing of the old one (a planted id, its CSRF
    token) survives, which defeats session fixation."""
    _end_cookie_session(SIGNED_OUT)
    with unit_of_work(session_factory(), actor=user.email) as uow:
        session_id = start_session(
            uow,
            user.id,
            current_app.extensions[_SESSION_POLICY],
            user_agent=request.user_agent.string,
            client_address=request.remote_addr,
        )
    session.clear()
    session[_SESSION_ID] = session_id
    session[_SESSION_CSRF] = secrets.token_urlsafe(32)
    g.current_user = CurrentUser.from_user(user)


def sign_out() -> None:
    """End this browser's session on the server, so a copy of its cookie no longer works."""
    _end_cookie_session(SIGNED_OUT)
    session.clear()
    g.current_user = None


def sign_out_everywhere(user: CurrentUser) -> tuple[int, int]:
    """End every session of `user` (this one too) and revoke their API tokens."""
    with unit_of_work(session_factory(), actor=user.email) as uow:
        signed_in = user_by_id(uow, user.id)
        counts = end_every_session(uow, signed_in, SIGNED_OUT_EVERYWHERE) if signed_in else (0, 0)
    session.clear()
    g.current_user = None
    return counts


def _end_cookie_session(reason: str) -> None:
    session_id = session.get(_SESSION_ID)
    if session_id:
        with unit_of_work(session_factory(), actor=actor_name()) as uow:
            end_session(uow, str(session_id), reason)


def is_local_path(target: str | None) -> bool:
    """True for a path on this site; refuses `//evil.example`, `/\\evil`, `https://...`."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return False
    if any(ord(char) < 0x20 or char == "\\" for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _load_user_and_check_csrf() -> BaseResponse | None:
    g.current_user = None
    if request.endpoint == "static":
        return None  # no query per stylesheet
    bearer = _bearer_token()
    if bearer is not None:
        with unit_of_work(session_factory(), actor=_TOKEN_ACTOR) as uow:
            user = user_for_token(uow, bearer)
            if user is not None:
                g.current_user = CurrentUser.from_user(user, via_token=True)
        if g.current_user is None:
            return _unauthorized(invalid_token=True)
        return None  # scripts cannot be tricked into sending a header: no CSRF check
    session_id = session.get(_SESSION_ID)
    if session_id is not None:
        with unit_of_work(session_factory(), actor=_SESSION_ACTOR) as uow:
            found = user_for_session(uow, str(session_id))
            if found is not None:
                g.current_user = CurrentUser.from_user(found[0])
        if g.current_user is None:
            session.clear()  # ended, expired, idle, or the user deactivated
    if request.method in _UNSAFE_METHODS and g.current_user is not None and not csrf_is_valid():
        return csrf_failure()
    return None


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip()


def bearer_unauthorized(invalid_token: bool, hint: str) -> Response:
    """401 as problem+json with a Bearer challenge; `hint` says how to authenticate."""
    challenge = 'Bearer realm="asset-registry"'
    if invalid_token:
        challenge += ', error="invalid_token"'
    response = problem(
        401,
        "Authentication required",
        "The token is unknown or revoked." if invalid_token else hint,
    )
    response.headers["WWW-Authenticate"] = challenge
    return response


def _unauthorized(invalid_token: bool = False) -> BaseResponse:
    if invalid_token or _wants_json():
        return bearer_unauthorized(invalid_token, "Sign in, or send Authorization: Bearer <token>.")
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target))


def _setting(app: Flask, name: str) -> Any:
    """A setting from the app's config (tests) or else the environment."""
    return app.config.get(name, os.environ.get(name))


def _env_flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "yes", "on"}
