"""the last day of each stored lease measurement's term

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03

The GASB 87 report lists each lease's end date as the term of the measurement in force at the
fiscal year end says it (an extension moves it, a year before the extension keeps the old one).
With the column the report is read from the stored schedules in SQL instead of rebuilding every
schedule in Python. The stored schedules are derived data: they are emptied here, so every
lease is stale and `asset-registry db upgrade` stores them again with the column filled (until
then readers compute those leases with the engine, as for any stale lease).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute('DELETE FROM lease_measurements')  # rows go by cascade
    op.add_column('lease_measurements', sa.Column('last_day', sa.Date(), nullable=False))


def downgrade() -> None:
    op.drop_column('lease_measurements', 'last_day')
