"""Slowing down password guessing without locking the owner out.

Failed sign-ins are counted per (email, client address) in the database, so every worker process
sees the same counts and a restart forgets nothing. The first `free_failures` cost nothing (a
typo); each further one makes that address wait twice as long before its next try for that email,
from `first_delay` up to `max_delay`. A guesser at one address is soon down to one try per
`max_delay`, while the owner, at another address, signs in as usual: nobody can lock an account
by failing on purpose. A success from an address clears that address's count; counts older than
`forget_after` are dropped.

Behind a reverse proxy, the client address is only right if the app is told which header to trust
(`asset-registry serve --trusted-proxy`); otherwise every client shares the proxy's address.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from registry.models import LoginThrottle


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = 3
    first_delay: dt.timedelta = dt.timedelta(seconds=1)
    max_delay: dt.timedelta = dt.timedelta(minutes=15)
    forget_after: dt.timedelta = dt.timedelta(days=1)

    def delay_after(self, failures: int) -> dt.timedelta:
        """How long to wait after the `failures`-th failure in a row."""
        extra = failures - self.free_failures
        if extra <= 0:
            return dt.timedelta(0)
        # capped before the power, so a long run of failures cannot overflow
        return min(self.max_delay, self.first_delay * 2 ** min(extra - 1, 30))


def retry_after(
    session: Session, email: str, address: str, now: dt.datetime
) -> dt.timedelta | None:
    """How long this address must still wait before trying `email` again, or None."""
    blocked_until = session.scalar(
        select(LoginThrottle.blocked_until).where(
            LoginThrottle.email == email, LoginThrottle.client_address == address
        )
    )
    if blocked_until is None or blocked_until <= now:
        return None
    return blocked_until - now


def record_failure(
    session: Session,
    email: str,
    address: str,
    now: dt.datetime,
    policy: ThrottlePolicy = ThrottlePolicy(),
) -> dt.timedelta:
    """Count a failed sign-in; returns how long the address must now wait for this email."""
    session.execute(
        insert(LoginThrottle)
        .values(
            email=email, client_address=address, failures=0, last_failure_at=now, blocked_until=now
        )
        .on_conflict_do_nothing()
    )
    row = session.scalars(
        select(LoginThrottle)
        .where(LoginThrottle.email == email, LoginThrottle.client_address == address)
        .with_for_update()
    ).one()
    if now - row.last_failure_at > policy.forget_after:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    delay = policy.delay_after(row.failures)
    row.blocked_until = now + delay
    session.execute(
        delete(LoginThrottle).where(LoginThrottle.last_failure_at < now - policy.forget_after)
    )
    session.flush()
    return delay


def record_success(session: Session, email: str, address: str) -> None:
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.email == email, LoginThrottle.client_address == address
        )
    )
