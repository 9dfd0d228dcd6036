"""SQL fragments that depend on the storage SRID, written once."""

from __future__ import annotations

from registry.settings import STORAGE_SRID


def as_geography(expression: str) -> str:
    """`expression` (a geometry in the storage SRID) as geography, for areas in m² that are
    right whatever the SRID and the ring orientation."""
    if STORAGE_SRID == 4326:
        return f"({expression})::geography"
    return f"ST_Transform({expression}, 4326)::geography"
