"""Where a parcel came from: the parents of a parcel made by a split or a merge."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger
from sqlalchemy import CheckConstraint
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Identity
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import func
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from registry.models.core import Base


class ParcelLineage(Base):
    """One (child, parent) pair of a split or merge, written with the audited change itself;
    by internal ids, so that renaming a parcel keeps its lineage."""

    __tablename__ = "parcel_lineage"
    __table_args__ = (
        CheckConstraint("operation IN ('split', 'merge')", name="operation"),
        CheckConstraint("child_id <> parent_id", name="not_self"),
        Index("ix_parcel_lineage_child_id", "child_id"),
        Index("ix_parcel_lineage_parent_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    child_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("parcels.id", ondelete="RESTRICT"))
    parent_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("parcels.id", ondelete="RESTRICT")
    )
    operation: Mapped[str] = mapped_column(String(8))
    made_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    made_by: Mapped[str] = mapped_column(
        Text,
        server_default=text(
            "coalesce(nullif(current_setting('registry.actor', true), ''), session_user)"
        ),
    )
