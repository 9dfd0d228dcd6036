"""when a parcel's record was digitized

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

`parcels.digitized_at` is when the parcel's record first reached `digitized` (or beyond), as
`verified_at` is when it was verified: set by the database when the status moves there (now),
cleared if it goes back to `paper`, and given explicitly where the work was done before it was
keyed in (a city's digitization log, the sample's history). The milestone's burn-up dates the
digitized line by it, so a programme's history is drawn as it happened, not as it was entered.
Existing records take the first audited moment they reached the state (else their creation);
that backfill leaves versions and the audit trail alone (it records no change of the record).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DIGITIZED = "('digitized', 'attributed', 'verified')"

_FUNCTION = f"""
CREATE FUNCTION registry_parcel_digitized_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.digitization_status IN {_DIGITIZED} THEN
        IF NEW.digitized_at IS NULL THEN
            NEW.digitized_at := now();
        END IF;
    ELSE
        NEW.digitized_at := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER parcels_digitized_at BEFORE INSERT OR UPDATE OF digitization_status, digitized_at
    ON parcels FOR EACH ROW EXECUTE FUNCTION registry_parcel_digitized_at();
"""

_BACKFILL = f"""
UPDATE parcels p SET digitized_at = coalesce((
    SELECT min(a.occurred_at) FROM audit_events a
     WHERE a.table_name = 'parcels' AND a.row_key = p.parcel_id
       AND a.after ->> 'digitization_status' IN {_DIGITIZED}), p.created_at)
 WHERE p.digitization_status IN {_DIGITIZED}
"""


def upgrade() -> None:
    op.add_column('parcels', sa.Column('digitized_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("ALTER TABLE parcels DISABLE TRIGGER USER")
    op.execute(_BACKFILL)
    op.execute("ALTER TABLE parcels ENABLE TRIGGER USER")
    op.execute(_FUNCTION)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS parcels_digitized_at ON parcels")
    op.execute("DROP FUNCTION IF EXISTS registry_parcel_digitized_at()")
    op.drop_column('parcels', 'digitized_at')
