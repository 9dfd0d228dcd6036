"""the rent stream of the measured leases kept in the database

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

`lease_rent_periods` holds what `registry.leases.rent_sql`'s rent stream (the engine's payment
stream in SQL: every payment period's rate and rent) gives for each lease whose schedules are
stored (`lease_measurements`, 0019), written with them by `registry.leases.records`, so the KPI
families and the portfolio export read rows instead of expanding every lease's payment steps on
each query. Derived data: not audited, deleted with its lease; a lease whose stored schedules are
stale is still expanded by the query itself, so a database not yet filled (`db upgrade`,
`asset-registry leases remeasure`) gives the same figures. The schedules stored before this
revision are forgotten (they had no rent stream) and stored again with it by `db upgrade`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'lease_rent_periods',
        sa.Column('lease_id', sa.BigInteger(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('frequency', sa.Text(), nullable=False),
        sa.Column('months', sa.Integer(), nullable=False),
        sa.Column('due', sa.Date(), nullable=False),
        sa.Column('rate', sa.Numeric(), nullable=False),
        sa.Column('rent', sa.Numeric(), nullable=False),
        sa.ForeignKeyConstraint(['lease_id'], ['leases.id'],
                                name=op.f('fk_lease_rent_periods_lease_id_leases'),
                                ondelete='CASCADE'),
    )
    op.create_index('ix_lease_rent_periods_lease_id', 'lease_rent_periods', ['lease_id'])
    # stored schedules without their rent stream: all stale, stored again by `db upgrade`
    op.execute('DELETE FROM lease_measurements')


def downgrade() -> None:
    op.drop_table('lease_rent_periods')
