"""data-quality findings assigned to a person and closed with a note

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

A finding (DIG-5) is computed from the records, not stored; `finding_reviews` keeps what people
decided about one: who it is assigned to, and whether it was closed, by whom, why. A finding is
named by `finding_key`, the MD5 of its kind, parcel, lease and detail: when the records change so
that the finding reads differently (an overlap grows), it is a new finding, open again. Audited
like every editable table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AUDIT_EVENTS = {
    "insert": "AFTER INSERT ON finding_reviews REFERENCING NEW TABLE AS new_rows",
    "update": "AFTER UPDATE ON finding_reviews "
              "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "AFTER DELETE ON finding_reviews REFERENCING OLD TABLE AS old_rows",
}


def upgrade() -> None:
    op.create_table(
        'finding_reviews',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('finding_key', sa.CHAR(length=32), nullable=False),
        sa.Column('kind', sa.Text(), nullable=False),
        sa.Column('parcel_id', sa.Text(), nullable=True),
        sa.Column('lease_number', sa.Text(), nullable=True),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.Column('assigned_to', sa.String(length=320), nullable=True),
        sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_by', sa.Text(), nullable=True),
        sa.Column('close_note', sa.Text(), nullable=True),
        sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.CheckConstraint("closed_at IS NULL OR nullif(btrim(close_note), '') IS NOT NULL",
                           name=op.f('ck_finding_reviews_close_note')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_finding_reviews')),
    )
    op.create_index('uq_finding_reviews_finding_key', 'finding_reviews', ['finding_key'],
                    unique=True)
    op.execute("CREATE TRIGGER finding_reviews_touch BEFORE UPDATE ON finding_reviews "
               "FOR EACH ROW EXECUTE FUNCTION registry_touch_row('')")
    for event, timing in _AUDIT_EVENTS.items():
        op.execute(
            f"CREATE TRIGGER finding_reviews_audit_{event} {timing} "
            "FOR EACH STATEMENT EXECUTE FUNCTION registry_audit_statement('finding_key', '', '')"
        )


def downgrade() -> None:
    op.drop_table('finding_reviews')
