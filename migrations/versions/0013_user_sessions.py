"""user sessions, deactivation and sign-in throttling

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

A browser session is a row of `user_sessions`; the cookie carries only its random id, stored here
as a SHA-256 hash, so the server can end a session (sign out, sign out everywhere, an admin, a
deactivation) and a copied cookie stops working. Sessions, like tokens' use, are operational
records and not audited (a sign-in is not a change to the registry); `users.deactivated_at` is,
with the users table's trail. `login_throttles` holds failed sign-ins per (email, client
address), shared by every worker process, so a guesser is slowed without locking the owner out.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('users', sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('session_hash', sa.CHAR(length=64), nullable=False),
        sa.Column(
            'created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
            nullable=False,
        ),
        sa.Column(
            'last_seen_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
            nullable=False,
        ),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('idle_timeout_minutes', sa.Integer(), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended_reason', sa.Text(), nullable=True),
        sa.Column('user_agent', sa.Text(), nullable=True),
        sa.Column('client_address', sa.Text(), nullable=True),
        sa.CheckConstraint(
            'idle_timeout_minutes > 0', name=op.f('ck_user_sessions_idle_timeout_positive')
        ),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'], name=op.f('fk_user_sessions_user_id_users'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
        sa.UniqueConstraint('session_hash', name=op.f('uq_user_sessions_session_hash')),
    )
    op.create_index('ix_user_sessions_user_id', 'user_sessions', ['user_id'], unique=False)
    op.create_table(
        'login_throttles',
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('client_address', sa.Text(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('blocked_until', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('email', 'client_address', name=op.f('pk_login_throttles')),
    )


def downgrade() -> None:
    op.drop_table('login_throttles')
    op.drop_index('ix_user_sessions_user_id', table_name='user_sessions')
    op.drop_table('user_sessions')
    op.drop_column('users', 'deactivated_at')
