"""Browser sessions kept on the server: started at sign-in, checked on every request, ended by
signing out, by "sign out everywhere", by an admin or by deactivating the user.

The cookie carries only a random session id; the table keeps its SHA-256, so a leaked table
grants nothing. A session stands while it is not ended, not past `expires_at` (a fixed lifetime
from sign-in) and not idle longer than its idle timeout. Like token use, sessions are operational
records, not changes to the registry, and are not audited; deactivating a user is (users table).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from registry.models import User
from registry.models import UserSession
from registry.users.records import revoke_tokens

# Touching last_seen_at on every request would make each page view a write; this is the idle
# timeout's precision.
SESSION_TOUCH_INTERVAL = dt.timedelta(minutes=1)
_USER_AGENT_MAX = 400

SIGNED_OUT = "signed out"
SIGNED_OUT_EVERYWHERE = "signed out everywhere"
ENDED_BY_ADMIN = "ended by an admin"
DEACTIVATED = "user deactivated"


@dataclass(frozen=True)
class SessionPolicy:
    idle_minutes: int = 30
    max_hours: float = 12.0

    def __post_init__(self) -> None:
        if self.idle_minutes <= 0 or self.max_hours <= 0:
            raise ValueError("session idle minutes and maximum hours must be positive")


def session_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(
    session: Session,
    user_id: int,
    policy: SessionPolicy,
    user_agent: str | None = None,
    client_address: str | None = None,
) -> str:
    """Open a session for the user `user_id`; returns its id (for the cookie), never stored."""
    session_id = secrets.token_urlsafe(32)
    now = _now()
    session.add(
        UserSession(
            user_id=user_id,
            session_hash=session_hash(session_id),
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(hours=policy.max_hours),
            idle_timeout_minutes=policy.idle_minutes,
            user_agent=(user_agent or "")[:_USER_AGENT_MAX] or None,
            client_address=client_address,
        )
    )
    session.flush()
    return session_id


def user_for_session(session: Session, session_id: str) -> tuple[User, UserSession] | None:
    """The active user of this standing session, else None. Touches `last_seen_at` at most once
    per `SESSION_TOUCH_INTERVAL`; the caller commits."""
    now = _now()
    row = session.execute(
        select(User, UserSession)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.session_hash == session_hash(session_id), _standing(now), User.is_active)
    ).one_or_none()
    if row is None:
        return None
    user, user_session = row
    if now - user_session.last_seen_at >= SESSION_TOUCH_INTERVAL:
        user_session.last_seen_at = now
        session.flush()
    return user, user_session


def end_session(session: Session, session_id: str, reason: str = SIGNED_OUT) -> bool:
    """End the session with this id (from a cookie); False when it had already ended."""
    return _end(session, UserSession.session_hash == session_hash(session_id), reason) > 0


def end_session_of(session: Session, user_id: int, row_id: int, reason: str) -> bool:
    """End a session by its row id, if it belongs to `user_id` (the admin page)."""
    return _end(session, (UserSession.id == row_id) & (UserSession.user_id == user_id), reason) > 0


def end_every_session(session: Session, user: User, reason: str) -> tuple[int, int]:
    """End every session of `user` and revoke every token; returns how many of each were live."""
    return _end(session, UserSession.user_id == user.id, reason), revoke_tokens(session, user)


def deactivate_user(session: Session, user: User) -> tuple[int, int]:
    """Refuse `user` from now on: no sign-in, no session, no token. Returns the sessions ended
    and tokens revoked."""
    if user.is_active:
        user.is_active = False
        user.deactivated_at = _now()
        session.flush()
    return end_every_session(session, user, DEACTIVATED)


def standing_sessions(session: Session, user_ids: list[int]) -> list[UserSession]:
    """The standing sessions of these users, most recently seen first."""
    return list(
        session.scalars(
            select(UserSession)
            .where(UserSession.user_id.in_(user_ids), _standing(_now()))
            .order_by(UserSession.last_seen_at.desc())
        )
    )


def _standing(now: dt.datetime) -> ColumnElement[bool]:
    idle = func.make_interval(0, 0, 0, 0, 0, UserSession.idle_timeout_minutes)
    return (
        UserSession.ended_at.is_(None)
        & (UserSession.expires_at > now)
        & (UserSession.last_seen_at + idle > now)
    )


def _end(session: Session, which: ColumnElement[bool], reason: str) -> int:
    ended = session.scalars(
        update(UserSession)
        .where(which, UserSession.ended_at.is_(None))
        .values(ended_at=func.now(), ended_reason=reason)
        .returning(UserSession.id)
        .execution_options(synchronize_session=False)
    )
    return len(ended.all())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
