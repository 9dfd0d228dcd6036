"""Import batches: every import (dry run, rejected or loaded) is kept with its counts and report."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy import CheckConstraint
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Identity
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from registry.models.core import Base

IMPORT_OUTCOMES = (
    "dry_run",
    "rejected",
    "imported",
    "imported_with_skips",
    "unchanged",
    "failed",
)


class ImportBatch(Base):
    __tablename__ = "import_batches"
    __table_args__ = (
        CheckConstraint(
            "outcome IN (" + ", ".join(f"'{o}'" for o in IMPORT_OUTCOMES) + ")", name="outcome"
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # parcels, leases, costs, occupancy
    source_name: Mapped[str] = mapped_column(Text)  # the file's name as given
    options: Mapped[dict[str, Any]] = mapped_column(JSONB)  # layer, mapping, srs, flags
    actor: Mapped[str] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(24))
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB)


class ImportProblem(Base):
    """One problem of one record of a batch: where (row, id, field), what, and details such as
    the GEOS location of a self-intersection or the parcels an outline overlaps."""

    __tablename__ = "import_problems"
    __table_args__ = (Index("ix_import_problems_batch_id", "batch_id", "row_number"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batches.id", ondelete="CASCADE"))
    row_number: Mapped[int | None] = mapped_column(Integer)
    record_id: Mapped[str | None] = mapped_column(Text)
    field: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(8))  # error, repaired, skipped
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
