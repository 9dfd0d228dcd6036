"""people responsible for leases, and the critical-date notices sent to them

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03

`lease_responsibles` names who must act on a lease's critical dates (by email: they need not be
users); it is audited like every editable table. `lease_notices` records each critical date told
to each person at each lead time, so `asset-registry notify` sends an item once per lead time
however often it runs; only its updates (an acknowledgement) are audited: a notice sent is
itself the record of the sending.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0008's statement-level audit triggers, one per event
_AUDIT_EVENTS = {
    "insert": "AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows",
    "update": "AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows",
}
# (table, the column that names a row in the audit trail, the events audited)
_AUDITED = [
    ("lease_responsibles", "email", ("insert", "update", "delete")),
    ("lease_notices", "id", ("update",)),
]


def _versioned() -> list[sa.Column]:
    return [
        sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        'lease_responsibles',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('lease_id', sa.BigInteger(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('name', sa.Text(), nullable=True),
        *_versioned(),
        sa.CheckConstraint("position('@' in email) > 1", name=op.f('ck_lease_responsibles_email')),
        sa.ForeignKeyConstraint(['lease_id'], ['leases.id'],
                                name=op.f('fk_lease_responsibles_lease_id_leases'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lease_responsibles')),
    )
    op.create_index('uq_lease_responsibles_lease_id', 'lease_responsibles',
                    ['lease_id', 'email'], unique=True)
    op.create_table(
        'lease_notices',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('lease_id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('due_date', sa.Date(), nullable=False),
        sa.Column('lead_days', sa.Integer(), nullable=False),
        sa.Column('recipient', sa.String(length=320), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.Column('token_hash', sa.CHAR(length=64), nullable=True),
        sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('acknowledgement_note', sa.Text(), nullable=True),
        *_versioned(),
        sa.CheckConstraint('lead_days >= 0', name=op.f('ck_lease_notices_lead_days')),
        sa.ForeignKeyConstraint(['lease_id'], ['leases.id'],
                                name=op.f('fk_lease_notices_lease_id_leases'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lease_notices')),
    )
    op.create_index('uq_lease_notices_lease_id', 'lease_notices',
                    ['lease_id', 'kind', 'due_date', 'lead_days', 'recipient'], unique=True)
    op.create_index('uq_lease_notices_token_hash', 'lease_notices', ['token_hash'], unique=True)
    for table, key, events in _AUDITED:
        op.execute(f"CREATE TRIGGER {table}_touch BEFORE UPDATE ON {table} FOR EACH ROW "
                   "EXECUTE FUNCTION registry_touch_row('')")
        for event in events:
            op.execute(
                f"CREATE TRIGGER {table}_audit_{event} "
                f"{_AUDIT_EVENTS[event].format(table=table)} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION registry_audit_statement('{key}', '', '')"
            )


def downgrade() -> None:
    op.drop_table('lease_notices')
    op.drop_table('lease_responsibles')
