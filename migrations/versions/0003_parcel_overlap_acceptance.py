"""parcel overlap acceptance

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

Editors may accept a real-world overlap between parcels (an easement, a shared wall) explicitly
and with a reason; the reason is part of the row, so the audit trail keeps who accepted it, when.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("parcels", sa.Column("overlap_accepted_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("parcels", "overlap_accepted_reason")
