"""Users, passwords and API tokens: the rules, free of Flask, shared by the web app and the CLI.

Every function takes the caller's session and never commits: writes happen inside the caller's
`unit_of_work`, so the audit trail names who created a user or issued a token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from functools import cache

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from registry.models import ApiToken
from registry.models import User
from registry.users.passwords import password_problem
from registry.vocabulary import USER_ROLES

MAX_DISPLAY_NAME_LENGTH = 200
TOKEN_PREFIX = "car_"
# Touching last_used_at on every request would make each API call a write; a minute is precise
# enough to tell a token in use from a forgotten one.
TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=1)

_PASSWORD_METHOD = "scrypt"
# Deliberately loose: the only way to prove an address is to send mail to it.
_EMAIL_SHAPE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_EMAIL_MAX_LENGTH = 320


class UserError(ValueError):
    """Input the registry refuses, naming the field so a form or the CLI can point at it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == normalise_email(email))).one_or_none()


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def create_user(
    session: Session,
    email: str,
    role: str,
    password: str | None = None,
    display_name: str | None = None,
) -> User:
    """Add a user. Without a password the user can only use API tokens until one is set."""
    email = normalise_email(email)
    if len(email) > _EMAIL_MAX_LENGTH or not _EMAIL_SHAPE.fullmatch(email):
        raise UserError("email", "is not an email address")
    if role not in USER_ROLES:
        raise UserError("role", f"must be one of {', '.join(USER_ROLES)}")
    if password is not None:
        _check_password_rules(password, email)
    if display_name is not None:
        display_name = display_name.strip() or None
        if display_name and len(display_name) > MAX_DISPLAY_NAME_LENGTH:
            raise UserError("display_name", f"must be at most {MAX_DISPLAY_NAME_LENGTH} characters")
    if find_user(session, email) is not None:
        raise UserError("email", "already exists")
    user = User(
        email=email,
        role=role,
        display_name=display_name,
        password_hash=_hash_password(password) if password is not None else None,
    )
    # A savepoint turns a concurrent insert of the same email into a UserError while leaving the
    # caller's transaction usable.
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError as error:
        if "uq_users_email" in str(error.orig):
            raise UserError("email", "already exists") from error
        raise
    return user


def set_password(session: Session, user: User, password: str) -> None:
    _check_password_rules(password, user.email)
    user.password_hash = _hash_password(password)
    session.flush()


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, else None.

    A hash is checked whether or not the email exists, so the time taken does not tell an
    attacker which addresses have accounts.
    """
    user = find_user(session, email)
    if user is None or not user.is_active or user.password_hash is None:
        check_password_hash(_dummy_hash(), password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


def issue_token(session: Session, user: User) -> str:
    """A new bearer token for `user`. The plaintext is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=token_hash(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The active user holding this unrevoked token, else None.

    Touches `last_used_at` at most once per `TOKEN_TOUCH_INTERVAL`; the caller commits.
    """
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == token_hash(token),
            ApiToken.revoked_at.is_(None),
            User.is_active,
        )
    ).one_or_none()
    if row is None:
        return None
    api_token, user = row
    now = dt.datetime.now(dt.UTC)
    if api_token.last_used_at is None or now - api_token.last_used_at >= TOKEN_TOUCH_INTERVAL:
        api_token.last_used_at = now
        session.flush()
    return user


def revoke_tokens(session: Session, user: User, token_id: int | None = None) -> int:
    """Revoke every live token of `user` (a leak, a departure), or only the one with `token_id`;
    returns how many were live."""
    which = [ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)]
    if token_id is not None:
        which.append(ApiToken.id == token_id)
    revoked = session.scalars(
        update(ApiToken)
        .where(*which)
        .values(revoked_at=func.now())
        .returning(ApiToken.id)
        .execution_options(synchronize_session=False)
    )
    return len(revoked.all())


def token_hash(token: str) -> str:
    """SHA-256, not a slow password hash: a token has 256 random bits, nothing to brute-force."""
    return hashlib.sha256(token.encode()).hexdigest()


def _check_password_rules(password: str, email: str) -> None:
    problem = password_problem(password, email)
    if problem is not None:
        raise UserError("password", problem)


def _hash_password(password: str) -> str:
    return generate_password_hash(password, method=_PASSWORD_METHOD)


@cache
def _dummy_hash() -> str:
    """A hash of nothing anyone knows, made once, to spend the same time on unknown emails."""
    return _hash_password(secrets.token_urlsafe(16))
