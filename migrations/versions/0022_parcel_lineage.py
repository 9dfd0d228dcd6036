"""parcel lineage: which parcels a parcel came from (split, merge)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03

A split retires a parcel and creates its pieces; a merge retires parcels into one. The parcels'
own audit events say what each row became, not where a new parcel came from: `parcel_lineage`
keeps that, one row per (child, parent) pair, written in the same transaction as the change
(registry/parcels/split_merge.py). Rows refer to the parcels' internal ids, so a later change of
a parcel id keeps its lineage. Append-only facts of an audited change: not audited themselves.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'parcel_lineage',
        sa.Column('id', sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column('child_id', sa.BigInteger(), nullable=False),
        sa.Column('parent_id', sa.BigInteger(), nullable=False),
        sa.Column('operation', sa.String(length=8), nullable=False),
        sa.Column('made_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column(
            'made_by',
            sa.Text(),
            server_default=sa.text("coalesce(nullif(current_setting('registry.actor', true), ''), session_user)"),
            nullable=False,
        ),
        sa.CheckConstraint("operation IN ('split', 'merge')", name=op.f('ck_parcel_lineage_operation')),
        sa.CheckConstraint('child_id <> parent_id', name=op.f('ck_parcel_lineage_not_self')),
        sa.ForeignKeyConstraint(['child_id'], ['parcels.id'], name=op.f('fk_parcel_lineage_child_id_parcels'), ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['parent_id'], ['parcels.id'], name=op.f('fk_parcel_lineage_parent_id_parcels'), ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_parcel_lineage')),
    )
    op.create_index('ix_parcel_lineage_child_id', 'parcel_lineage', ['child_id'])
    op.create_index('ix_parcel_lineage_parent_id', 'parcel_lineage', ['parent_id'])


def downgrade() -> None:
    op.drop_index('ix_parcel_lineage_parent_id', table_name='parcel_lineage')
    op.drop_index('ix_parcel_lineage_child_id', table_name='parcel_lineage')
    op.drop_table('parcel_lineage')
