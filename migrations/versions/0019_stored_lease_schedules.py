"""the GASB 87 schedules of the measured leases kept in the database

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

`lease_measurements` (one row per measurement of a lease: at commencement, then each
modification) and `lease_schedule_rows` (each measurement's schedule, as the engine computed it)
let the LSE KPIs and the GASB 87 figures sum rows in SQL instead of rebuilding every lease's
schedule in Python per request. Derived data: not audited, deleted with their lease, written by
`registry.leases.stored_schedules` with every lease write. Existing databases are filled after
the upgrade by `asset-registry db upgrade` (`store_stale_schedules`); until then readers compute
the leases whose stored schedules are missing or stale with the engine, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'lease_measurements',
        sa.Column('lease_id', sa.BigInteger(), nullable=False),
        sa.Column('measurement', sa.SmallInteger(), nullable=False),
        sa.Column('lease_version', sa.Integer(), nullable=False),
        sa.Column('modifications_key', sa.Text(), nullable=False),
        sa.Column('direction', sa.String(length=3), nullable=False),
        sa.Column('commencement_date', sa.Date(), nullable=False),
        sa.Column('in_force_until', sa.Date(), nullable=True),
        sa.Column('paid_through', sa.Date(), nullable=True),
        sa.Column('short_term', sa.Boolean(), nullable=False),
        sa.Column('discount_rate', sa.Numeric(), nullable=True),
        sa.Column('initial_measurement', sa.Numeric(), nullable=False),
        sa.Column('opening_recognizable', sa.Numeric(), nullable=False),
        sa.ForeignKeyConstraint(['lease_id'], ['leases.id'],
                                name=op.f('fk_lease_measurements_lease_id_leases'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('lease_id', 'measurement', name=op.f('pk_lease_measurements')),
    )
    op.create_table(
        'lease_schedule_rows',
        sa.Column('lease_id', sa.BigInteger(), nullable=False),
        sa.Column('measurement', sa.SmallInteger(), nullable=False),
        sa.Column('period', sa.Integer(), nullable=False),
        sa.Column('due_date', sa.Date(), nullable=False),
        sa.Column('payment', sa.Numeric(), nullable=False),
        sa.Column('interest', sa.Numeric(), nullable=False),
        sa.Column('principal', sa.Numeric(), nullable=False),
        sa.Column('balance', sa.Numeric(), nullable=False),
        sa.Column('recognized', sa.Numeric(), nullable=False),
        sa.Column('carrying', sa.Numeric(), nullable=False),
        sa.Column('interest_from', sa.Date(), nullable=False),
        sa.Column('recognition_from', sa.Date(), nullable=False),
        sa.Column('recognition_to', sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ['lease_id', 'measurement'],
            ['lease_measurements.lease_id', 'lease_measurements.measurement'],
            name=op.f('fk_lease_schedule_rows_lease_id_lease_measurements'),
            ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('lease_id', 'measurement', 'period',
                                name=op.f('pk_lease_schedule_rows')),
    )


def downgrade() -> None:
    op.drop_table('lease_schedule_rows')
    op.drop_table('lease_measurements')
