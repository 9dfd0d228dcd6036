"""import outcome unchanged

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

Every import of every kind is now kept as a batch, and a run that wrote nothing is never called
imported: a run whose records were all as stored (or that had none) is `unchanged`.
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = ("dry_run", "rejected", "imported", "imported_with_skips", "failed")
_AFTER = (*_BEFORE, "unchanged")


def _outcomes(values: tuple[str, ...]) -> str:
    return "outcome IN (" + ", ".join(f"'{value}'" for value in values) + ")"


def upgrade() -> None:
    op.drop_constraint(op.f("ck_import_batches_outcome"), "import_batches", type_="check")
    op.create_check_constraint(op.f("ck_import_batches_outcome"), "import_batches",
                               _outcomes(_AFTER))


def downgrade() -> None:
    op.execute("UPDATE import_batches SET outcome = 'imported' WHERE outcome = 'unchanged'")
    op.drop_constraint(op.f("ck_import_batches_outcome"), "import_batches", type_="check")
    op.create_check_constraint(op.f("ck_import_batches_outcome"), "import_batches",
                               _outcomes(_BEFORE))
