"""parcel needs confirmation

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

Incomplete is not invalid: an import stores a record whose source left a required field blank
(it is incomplete, and cannot be verified until complete), and a value the source marked as
uncertain (`GSD?`) is read and flagged. `parcels.needs_confirmation` lists the fields whose value
awaits a person's confirmation; a record that lists any cannot be verified (a CHECK, whatever
the write path), and a verified record that gains a new one loses its verification (the
revoking trigger of 0005/0009, extended).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('parcels', sa.Column('needs_confirmation', postgresql.ARRAY(sa.Text()),
                                       server_default=sa.text("'{}'::text[]"), nullable=False))
    op.execute(_REVOKE_VERIFICATION.format(
        flagged="OR NOT (NEW.needs_confirmation <@ OLD.needs_confirmation)"))
    op.create_check_constraint(
        op.f('ck_parcels_verified_confirmed'), 'parcels',
        "digitization_status <> 'verified' OR cardinality(needs_confirmation) = 0")


def downgrade() -> None:
    op.drop_constraint(op.f('ck_parcels_verified_confirmed'), 'parcels', type_='check')
    op.execute(_REVOKE_VERIFICATION.format(flagged=""))
    op.drop_column('parcels', 'needs_confirmation')


# 0009's function; `flagged` adds the new condition (a field newly awaiting confirmation).
_REVOKE_VERIFICATION = r"""
CREATE OR REPLACE FUNCTION registry_revoke_verification() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.digitization_status <> 'verified' THEN
        NEW.verified_by := NULL;
        NEW.verified_at := NULL;
    ELSIF OLD.digitization_status = 'verified'
          AND NEW.verified_at IS NOT DISTINCT FROM OLD.verified_at
          AND (NEW.geom IS DISTINCT FROM OLD.geom
               OR NEW.parcel_id IS DISTINCT FROM OLD.parcel_id
               OR NEW.address IS DISTINCT FROM OLD.address
               OR (NEW.department_id IS DISTINCT FROM OLD.department_id
                   AND coalesce(current_setting('registry.department_merge', true), '') <> 'on')
               OR NEW.use IS DISTINCT FROM OLD.use
               OR NEW.legal_interest IS DISTINCT FROM OLD.legal_interest
               {flagged}) THEN
        NEW.digitization_status := 'attributed';
        NEW.verified_by := NULL;
        NEW.verified_at := NULL;
    END IF;
    RETURN NEW;
END $$
"""
