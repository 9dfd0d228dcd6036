"""documents kept with a lease: the signed lease, amendments

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

`lease_documents` lists the files attached to a lease: the stored file (`stored_files`, by its
SHA-256: the same bytes attached twice are stored once), the name it was uploaded under (kept as
given, non-ASCII included, for display and download), its kind, and who attached it when. The
reference to `stored_files` has no cascade, so a stored file still attached to any lease cannot be
removed (`registry.stored_files.remove_stored_file` relies on that). Rows are audited on insert,
update and delete like every editable table; deleting a lease deletes its attachments (audited
too), never the stored bytes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0008's statement-level audit triggers, one per event
_AUDIT_EVENTS = {
    "insert": "AFTER INSERT ON lease_documents REFERENCING NEW TABLE AS new_rows",
    "update": "AFTER UPDATE ON lease_documents REFERENCING OLD TABLE AS old_rows "
              "NEW TABLE AS new_rows",
    "delete": "AFTER DELETE ON lease_documents REFERENCING OLD TABLE AS old_rows",
}


def upgrade() -> None:
    op.create_table(
        'lease_documents',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column('lease_id', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.CHAR(length=64), nullable=False),
        sa.Column('file_name', sa.Text(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                  nullable=False),
        sa.Column('uploaded_by', sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('signed_lease', 'amendment', 'other')",
                           name=op.f('ck_lease_documents_kind')),
        sa.CheckConstraint('char_length(file_name) BETWEEN 1 AND 255',
                           name=op.f('ck_lease_documents_file_name')),
        sa.ForeignKeyConstraint(['lease_id'], ['leases.id'],
                                name=op.f('fk_lease_documents_lease_id_leases'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['sha256'], ['stored_files.sha256'],
                                name=op.f('fk_lease_documents_sha256_stored_files')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lease_documents')),
    )
    op.create_index('ix_lease_documents_lease_id', 'lease_documents', ['lease_id'])
    op.create_index('ix_lease_documents_sha256', 'lease_documents', ['sha256'])
    for event, timing in _AUDIT_EVENTS.items():
        op.execute(
            f"CREATE TRIGGER lease_documents_audit_{event} {timing} "
            "FOR EACH STATEMENT EXECUTE FUNCTION registry_audit_statement('id', '', '')"
        )


def downgrade() -> None:
    op.drop_table('lease_documents')
