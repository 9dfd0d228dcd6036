"""exports prepared in the background

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

A large export (the portfolio workbook of a big city, a year of journal entries) is prepared by a
worker while the requester watches its progress, and fetched when ready: `export_jobs` holds each
request, its progress and where its file waits. Exports change nothing in the registry, so the
table is operational and not audited.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'export_jobs',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('kind', sa.Text(), nullable=False),
        sa.Column('parameters', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('status', sa.Text(), server_default='queued', nullable=False),
        sa.Column('progress', sa.Numeric(4, 3), server_default=sa.text('0'), nullable=False),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('requested_by', sa.Text(), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('file_name', sa.Text(), nullable=True),
        sa.Column('media_type', sa.Text(), nullable=True),
        sa.Column('result_file', sa.Text(), nullable=True),
        sa.Column('size_bytes', sa.BigInteger(), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                           name=op.f('ck_export_jobs_status')),
        sa.CheckConstraint('progress >= 0 AND progress <= 1', name=op.f('ck_export_jobs_progress')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_export_jobs')),
    )
    op.create_index('ix_export_jobs_requested_by', 'export_jobs', ['requested_by'], unique=False)


def downgrade() -> None:
    op.drop_table('export_jobs')
