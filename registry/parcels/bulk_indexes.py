"""A table's secondary indexes built once after a bulk load instead of grown row by row.

Inserting 94,000 parcels one GiST entry at a time costs ~1 s; building both GiST indexes after
the load costs ~0.3 s (PostGIS sorts the geometries first), and the gap widens with size. The
same holds for the trigram (GIN) indexes of parcel ids and addresses, which grow by ~20 entries
a row, and the table view's sort indexes: together 1.5–4 s of a 94,000-parcel first import
(2026-12-03). Indexes that back a constraint (the primary key, unique parcel ids) stay: the load
itself looks rows up through them. The price is an ACCESS EXCLUSIVE lock on the table until the
transaction ends, so readers of the map wait: worth it only when the load is larger than what
is already there (the first import of a city's records), never for a routine update.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session


def worth_rebuilding(session: Session, table: str, incoming_rows: int) -> bool:
    """True when the rows about to arrive outnumber those the table holds (by its statistics,
    which is enough to tell an empty registry from a full one)."""
    existing = session.execute(
        text("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = CAST(:table AS regclass)"),
        {"table": table},
    ).scalar_one()
    return incoming_rows > 10_000 and incoming_rows > existing


@contextmanager
def secondary_indexes_rebuilt(session: Session, table: str) -> Iterator[None]:
    """Drop the table's indexes that back no constraint for the duration of the block and
    recreate them, with their exact definitions, at its end, inside the caller's transaction: a
    failure rolls the drop back with everything else."""
    definitions = session.execute(
        text(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
            "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam "
            "WHERE x.indrelid = CAST(:table AS regclass) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) "
            "ORDER BY 1"
        ),
        {"table": table},
    ).all()
    for name, _ in definitions:
        session.execute(text(f'DROP INDEX "{name}"'))
    yield
    for _, definition in definitions:
        session.execute(text(definition))


@contextmanager
def parcel_overlaps_folded_after(session: Session) -> Iterator[None]:
    """Within the block, writes of parcel shapes list their parcels for the overlap pairs
    (`parcel_overlaps`, migration 0027) instead of folding them in; at its end, the listed
    parcels are folded in, in the caller's transaction.

    Why: a big import drops the secondary indexes, GiST among them
    (`secondary_indexes_rebuilt`), and turns nested loops off; folding its parcels in then
    compares each with every other one (an hour at 94,000 parcels). Use it around both, so that
    the fold runs with the indexes back."""
    session.execute(text("SET LOCAL registry.defer_overlap_fold = on"))
    yield
    session.execute(text("SET LOCAL registry.defer_overlap_fold = off"))
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('parcel_overlaps'))"))
    session.execute(text("SELECT registry_fold_parcel_overlaps()"))
