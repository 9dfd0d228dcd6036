"""stored files: the documents kept beside the database

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

A file the registry keeps (a signed lease, an amendment) is stored once by its content under the
document folder (`REGISTRY_DOCUMENT_DIR`), named by its SHA-256; `stored_files` lists every such
file. A record that keeps a file refers to its row, so the database says which files belong to it
and `asset-registry backup` copies exactly those, consistent with the dump's snapshot. Inserts and
deletes are audited (who stored or removed which file); a row never changes, its content being
its name.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0008's statement-level audit triggers, one per event
_AUDIT_EVENTS = {
    "insert": "AFTER INSERT ON stored_files REFERENCING NEW TABLE AS new_rows",
    "delete": "AFTER DELETE ON stored_files REFERENCING OLD TABLE AS old_rows",
}


def upgrade() -> None:
    op.create_table(
        'stored_files',
        sa.Column('sha256', sa.CHAR(length=64), nullable=False),
        sa.Column('size_bytes', sa.BigInteger(), nullable=False),
        sa.Column('media_type', sa.Text(), nullable=False),
        sa.Column(
            'stored_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
            nullable=False,
        ),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f('ck_stored_files_sha256')),
        sa.CheckConstraint('size_bytes >= 0', name=op.f('ck_stored_files_size_bytes')),
        sa.PrimaryKeyConstraint('sha256', name=op.f('pk_stored_files')),
    )
    for event, timing in _AUDIT_EVENTS.items():
        op.execute(
            f"CREATE TRIGGER stored_files_audit_{event} {timing} "
            "FOR EACH STATEMENT EXECUTE FUNCTION registry_audit_statement('sha256', '', '')"
        )


def downgrade() -> None:
    op.drop_table('stored_files')
