"""parcel overlaps and verification events kept for DIG-5 and DIG-6

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03

DIG-5 searched every pair of parcels for overlaps at each computation (~0.5 s of the KPI set at
100,000 parcels) and DIG-6 read the JSON of every parcel audit event (~0.6 s). Two derived
tables keep what they read, exactly:

`parcel_overlaps`: each pair of parcels (lower id, higher id) whose shapes intersect with an
area, and that area in m² (ST_Area of the geography of ST_Intersection(lower, higher), as the
readers computed it), whatever the parcels' other fields (retired, overlap accepted: the
readers filter). At the end of a statement that inserts or deletes parcels with a shape, or
changes a shape, a trigger recomputes the pairs of those parcels and of any listed in
`parcel_overlaps_stale`, emptying the list (`registry_fold_parcel_overlaps`), if it can take the
fold's lock without waiting and runs at READ COMMITTED; otherwise it lists its parcels there
for the next writer (same transaction either way). A writer that sets
`registry.defer_overlap_fold` to `on` lists its parcels and folds them itself afterwards (the
parcel import that drops the GiST indexes for a big load: `registry.parcels.bulk_indexes`). Readers
(registry/kpis/findings_sql.py) take the stored pairs of parcels not listed and compute the
pairs of listed parcels afresh, so what they read is exact in any snapshot, also on a replica,
whoever folds when. A change of shape made with the triggers disabled must list its parcels.

`parcel_verification_events`: per audit event of a parcel that created it or changed
`digitization_status` / `verified_at`, the parcel, the event, its time and the `verified_at`
of a verified version: narrow rows written by a trigger on the (append-only) audit trail in the
same transaction, so DIG-6 no longer parses each event's JSON.

Both are filled here from the data as it stands; both are derived, neither audited.
"""

import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here, as in 0001: the storage SRID as registry.settings reads it, and the area of an
# intersection exactly as registry.spatial.as_geography writes it for the readers.
STORAGE_SRID = int(os.environ.get("REGISTRY_STORAGE_SRID", "4326"))
_INTERSECTION = "ST_Intersection(a.geom, b.geom)"
_AREA = (
    f"ST_Area(({_INTERSECTION})::geography)" if STORAGE_SRID == 4326
    else f"ST_Area(ST_Transform({_INTERSECTION}, 4326)::geography)"
)

# The pairs of the parcels in `changed` (ids) with any parcel, each pair once, lower id first:
# candidates by bounding box on the GiST index, each measured on the two rows found by id.
_PAIRS_OF_CHANGED = f"""
    WITH candidate AS MATERIALIZED (
        SELECT DISTINCT least(c.id, n.id) AS low_id, greatest(c.id, n.id) AS high_id
          FROM unnest(changed) AS s(id) JOIN parcels c ON c.id = s.id
          JOIN parcels n ON n.geom && c.geom AND n.id <> c.id
    )
    SELECT low_id, high_id, (
        SELECT {_AREA} FROM parcels a, parcels b
         WHERE a.id = low_id AND b.id = high_id AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)
    ) AS area
      FROM candidate
"""

_FUNCTIONS = f"""
CREATE FUNCTION registry_fold_parcel_overlaps(also bigint[] DEFAULT '{{}}') RETURNS integer
LANGUAGE plpgsql SET jit = off AS $$
DECLARE
    changed bigint[];
BEGIN
    WITH taken AS (DELETE FROM parcel_overlaps_stale RETURNING parcel_id)
    SELECT array_agg(DISTINCT parcel_id) INTO changed
      FROM (SELECT parcel_id FROM taken UNION SELECT unnest(also)) AS listed;
    IF changed IS NULL THEN
        RETURN 0;
    END IF;
    DELETE FROM parcel_overlaps o USING unnest(changed) AS s(id) WHERE o.low_id = s.id;
    DELETE FROM parcel_overlaps o USING unnest(changed) AS s(id) WHERE o.high_id = s.id;
    INSERT INTO parcel_overlaps (low_id, high_id, area)
    SELECT low_id, high_id, area FROM ({_PAIRS_OF_CHANGED} OFFSET 0) AS pair WHERE area > 0;
    RETURN cardinality(changed);
END $$;

CREATE FUNCTION registry_parcel_shapes_changed() RETURNS trigger LANGUAGE plpgsql
SET jit = off AS $$
DECLARE
    changed bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(id) INTO changed FROM new_rows WHERE geom IS NOT NULL;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(id) INTO changed FROM old_rows WHERE geom IS NOT NULL;
    ELSE
        SELECT array_agg(n.id) INTO changed
          FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE n.geom IS DISTINCT FROM o.geom;
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

CREATE FUNCTION registry_list_parcel_verification_events() RETURNS trigger LANGUAGE plpgsql
SET jit = off AS $$
BEGIN
    INSERT INTO parcel_verification_events (event_id, parcel_pk, verified_at, occurred_at)
    SELECT e.id, CAST(e.after ->> 'id' AS bigint),
           CASE WHEN e.after ->> 'digitization_status' = 'verified'
                THEN CAST(e.after ->> 'verified_at' AS timestamptz) END,
           e.occurred_at
      FROM new_rows e
     WHERE e.table_name = 'parcels' AND e.after IS NOT NULL
       AND (e.action = 'INSERT' OR e.changed_fields && ARRAY['digitization_status', 'verified_at']);
    RETURN NULL;
END $$;
"""

_TRIGGERS = """
CREATE TRIGGER parcels_overlaps_insert AFTER INSERT ON parcels REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_parcel_shapes_changed();
CREATE TRIGGER parcels_overlaps_update AFTER UPDATE ON parcels
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_parcel_shapes_changed();
CREATE TRIGGER parcels_overlaps_delete AFTER DELETE ON parcels REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_parcel_shapes_changed();
CREATE TRIGGER audit_events_parcel_verifications AFTER INSERT ON audit_events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_list_parcel_verification_events();
"""

_FILL = f"""
INSERT INTO parcel_overlaps (low_id, high_id, area)
SELECT low_id, high_id, area FROM (
    SELECT a.id AS low_id, b.id AS high_id, {_AREA} AS area
      FROM parcels a JOIN parcels b
        ON a.id < b.id AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)) AS pair
 WHERE area > 0;
INSERT INTO parcel_verification_events (event_id, parcel_pk, verified_at, occurred_at)
SELECT e.id, CAST(e.after ->> 'id' AS bigint),
       CASE WHEN e.after ->> 'digitization_status' = 'verified'
            THEN CAST(e.after ->> 'verified_at' AS timestamptz) END,
       e.occurred_at
  FROM audit_events e
 WHERE e.table_name = 'parcels' AND e.after IS NOT NULL
   AND (e.action = 'INSERT' OR e.changed_fields && ARRAY['digitization_status', 'verified_at']);
"""


def upgrade() -> None:
    op.create_table(
        'parcel_overlaps',
        sa.Column('low_id', sa.BigInteger(), nullable=False),
        sa.Column('high_id', sa.BigInteger(), nullable=False),
        sa.Column('area', sa.Double(), nullable=False),
        sa.CheckConstraint('low_id < high_id', name=op.f('ck_parcel_overlaps_ordered')),
        sa.PrimaryKeyConstraint('low_id', 'high_id', name=op.f('pk_parcel_overlaps')),
    )
    op.create_index('ix_parcel_overlaps_high_id', 'parcel_overlaps', ['high_id'])
    op.create_table(
        'parcel_overlaps_stale',
        sa.Column('id', sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column('parcel_id', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_parcel_overlaps_stale')),
    )
    op.create_index('ix_parcel_overlaps_stale_parcel_id', 'parcel_overlaps_stale', ['parcel_id'])
    op.create_table(
        'parcel_verification_events',
        sa.Column('event_id', sa.BigInteger(), nullable=False),
        sa.Column('parcel_pk', sa.BigInteger(), nullable=False),
        sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('event_id', name=op.f('pk_parcel_verification_events')),
    )
    op.execute(_FUNCTIONS)
    op.execute("SET LOCAL jit = off")
    op.execute(_FILL)
    op.execute("ANALYZE parcel_overlaps, parcel_overlaps_stale, parcel_verification_events")
    op.execute(_TRIGGERS)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_events_parcel_verifications ON audit_events")
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS parcels_overlaps_{event} ON parcels")
    op.execute("DROP FUNCTION IF EXISTS registry_list_parcel_verification_events()")
    op.execute("DROP FUNCTION IF EXISTS registry_parcel_shapes_changed()")
    op.execute("DROP FUNCTION IF EXISTS registry_fold_parcel_overlaps(bigint[])")
    op.drop_table('parcel_verification_events')
    op.drop_index('ix_parcel_overlaps_stale_parcel_id', table_name='parcel_overlaps_stale')
    op.drop_table('parcel_overlaps_stale')
    op.drop_index('ix_parcel_overlaps_high_id', table_name='parcel_overlaps')
    op.drop_table('parcel_overlaps')
