"""lease version ignores the generated end_date

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

`leases.end_date` is a stored generated column, which PostgreSQL computes after BEFORE triggers:
in `registry_touch_row` NEW.end_date is still NULL, so every UPDATE looked like a change and bumped
the version (an ETag that moved although nothing changed; the audit trigger, which runs AFTER,
rightly recorded nothing). The touch trigger now ignores the derived column, as for parcels.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _touch_trigger(ignored: str) -> None:
    op.execute("DROP TRIGGER leases_touch ON leases")
    op.execute(
        "CREATE TRIGGER leases_touch BEFORE UPDATE ON leases FOR EACH ROW "
        f"EXECUTE FUNCTION registry_touch_row('{ignored}')"
    )


def upgrade() -> None:
    _touch_trigger("end_date")


def downgrade() -> None:
    _touch_trigger("")
