"""What the record modules (leases, parcels, occupancy and O&M costs) do alike: read one row or
say it is not there, and write a change only over the version the caller read."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.errors import NotFound
from registry.errors import version_conflict
from registry.fields import FieldProblem
from registry.fields import RecordInvalid


def one_row(session: Session, sql: str, params: Mapping[str, Any], what: str, key: Any) -> Any:
    """The one row (a mapping) `sql` reads; NotFound(`what`, `key`) when there is none."""
    row = session.execute(text(sql), params).mappings().one_or_none()
    if row is None:
        raise NotFound(what, key)
    return row


def update_at_version(
    session: Session,
    write: Callable[[Session, str, dict[str, Any]], Any],
    table: str,
    assignments: str,
    where: tuple[str, Any],
    expected_version: int,
    params: Mapping[str, Any],
    what: str,
) -> int:
    """`UPDATE table SET assignments` on the row whose column `where[0]` is `where[1]`, only if
    it is still at `expected_version`, run through `write` (which turns the table's unique
    violations into field problems); the new version, or a version conflict when another writer
    committed between our read and our write."""
    column, key = where
    version = write(
        session,
        f"UPDATE {table} SET {assignments} WHERE {column} = :current_key "
        "AND version = :expected RETURNING version",
        {**params, "current_key": key, "expected": expected_version},
    )
    if version is None:
        raise version_conflict(session, what, key)
    return int(version)


def write_unique(
    session: Session, statement: str, params: Mapping[str, Any], constraint: str, field: str
) -> Any:
    """Run the INSERT or UPDATE; the value it returns, if any.

    Validation's uniqueness check reads before writing, so two people saving the same new key at
    once both pass it: the unique `constraint` decides, and the loser gets the same field
    problem on `field` as if it had come second.
    """
    try:
        return session.execute(text(statement), params).scalar()
    except IntegrityError as error:
        if constraint not in str(error.orig):
            raise
        raise RecordInvalid(
            [FieldProblem(field, f"{params[field]} is already in the registry")]
        ) from error
