"""The errors every domain's records raise, one of each, so the API, the pages and the CLI map
them to answers in one way: a record that is not there, a record someone else saved first, and a
record recorded incomplete that cannot be measured yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session


class NotFound(LookupError):
    """No `kind` record (a parcel, a lease, an occupancy or cost record…) has the key `key`."""

    def __init__(self, kind: str, key: str | int) -> None:
        super().__init__(f"There is no {kind} {key}.")
        self.kind, self.key = kind, key


class NotMeasured(Exception):
    """The `kind` record `key` is recorded incomplete: measuring it (a GASB 87 schedule, a
    modification) needs the terms `missing` first."""

    def __init__(self, kind: str, key: str | int, missing: Sequence[str]) -> None:
        super().__init__(
            f"{kind.capitalize()} {key} is recorded incomplete and not measured: "
            f"it needs {', '.join(missing)}."
        )
        self.kind, self.key, self.missing = kind, key, tuple(missing)


class VersionConflict(Exception):
    """Someone saved the record after the version the caller edited: who, when, which version."""

    def __init__(
        self,
        kind: str,
        key: str | int,
        current_version: int,
        changed_by: str | None,
        changed_at: dt.datetime | None,
    ) -> None:
        super().__init__(f"{kind} {key} is at version {current_version}")
        self.kind, self.key = kind, key
        self.current_version, self.changed_by, self.changed_at = (
            current_version,
            changed_by,
            changed_at,
        )


@dataclass(frozen=True)
class _Versioned:
    table: str
    key_column: str


# The versioned tables whose conflicts are reported; names are SQL identifiers, never input.
_VERSIONED = {
    "parcel": _Versioned("parcels", "parcel_id"),
    "lease": _Versioned("leases", "lease_number"),
    "occupancy record": _Versioned("occupancy", "id"),
    "cost record": _Versioned("om_costs", "id"),
}


def last_change(
    session: Session, table: str, row_key: str
) -> tuple[str | None, dt.datetime | None]:
    """Who last changed the row `row_key` of `table`, and when, from the audit trail."""
    row = session.execute(
        text(
            "SELECT actor, occurred_at FROM audit_events WHERE table_name = :table"
            " AND row_key = :key ORDER BY id DESC LIMIT 1"
        ),
        {"table": table, "key": row_key},
    ).first()
    return (row[0], row[1]) if row else (None, None)


def version_conflict(session: Session, kind: str, key: str | int) -> VersionConflict:
    """The conflict to raise when a versioned write of `kind` `key` matched no row: the current
    version with its last change. Raises NotFound when the record is gone altogether."""
    versioned = _VERSIONED[kind]
    version = session.execute(
        text(f"SELECT version FROM {versioned.table} WHERE {versioned.key_column} = :key"),
        {"key": key},
    ).scalar()
    if version is None:
        raise NotFound(kind, key)
    changed_by, changed_at = last_change(session, versioned.table, str(key))
    return VersionConflict(kind, key, int(version), changed_by, changed_at)
