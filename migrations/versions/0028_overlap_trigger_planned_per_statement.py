"""the overlap trigger's comparison of old and new shapes planned for each statement

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03

`registry_parcel_shapes_changed` (0027) found the parcels whose shape an UPDATE changed by
joining the statement's old and new rows in static PL/pgSQL. A statement without parameters is
planned once per connection and kept: planned at the connection's first UPDATE of parcels (often
one row), the join stayed a nested loop over the two transition tables for every later UPDATE,
so an UPDATE of n parcels compared n² pairs of shapes (2,000 parcels: 2.2 s; the 100,000-parcel
bench city's sample load, which updates every parcel once, ran for hours). The join is now run
with EXECUTE, which plans it with the statement's own row counts (a hash join).

Downgrade leaves the function as it is: it computes the same parcels as 0027's.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FUNCTION = """
CREATE OR REPLACE FUNCTION registry_parcel_shapes_changed() RETURNS trigger LANGUAGE plpgsql
SET jit = off AS $$
DECLARE
    changed bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(id) INTO changed FROM new_rows WHERE geom IS NOT NULL;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(id) INTO changed FROM old_rows WHERE geom IS NOT NULL;
    ELSE
        -- EXECUTE: planned for this statement's rows, not for the connection's first UPDATE
        EXECUTE 'SELECT array_agg(n.id) FROM new_rows n JOIN old_rows o ON o.id = n.id '
                'WHERE n.geom IS DISTINCT FROM o.geom'
           INTO changed;
    END IF;
    IF changed IS NULL THEN
        RETURN NULL;
    END IF;
    -- Fold now unless another transaction is folding (its lock is held to its end), this one
    -- reads from a fixed snapshot (it would not see the shapes committed since), or its writer
    -- folds later (a bulk import that dropped the spatial indexes: without them each new
    -- parcel would be compared with every other one).
    IF current_setting('transaction_isolation') = 'read committed'
       AND coalesce(current_setting('registry.defer_overlap_fold', true), '') <> 'on'
       AND pg_try_advisory_xact_lock(hashtext('parcel_overlaps')) THEN
        BEGIN
            PERFORM registry_fold_parcel_overlaps(changed);
            RETURN NULL;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'parcel overlaps left to compute on reading: %', SQLERRM;
        END;
    END IF;
    INSERT INTO parcel_overlaps_stale (parcel_id) SELECT unnest(changed);
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.execute(_FUNCTION)


def downgrade() -> None:
    """Nothing to undo: the function finds the same parcels as 0027's did."""
