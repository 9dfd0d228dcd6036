"""How the portfolio is used and what it costs: occupancy, O&M costs, digitization milestones and
the append-only KPI snapshots that the reform programme's trend charts are drawn from."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import CHAR
from sqlalchemy import BigInteger
from sqlalchemy import CheckConstraint
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Identity
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import Numeric
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import func
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from registry.models.core import Base
from registry.models.core import Money
from registry.models.core import VersionedMixin
from registry.models.core import between
from registry.models.core import check_in
from registry.models.core import non_negative
from registry.models.core import unique_index
from registry.vocabulary import COST_CATEGORIES


class Occupancy(VersionedMixin, Base):
    """A department's occupation of a building over a period (open-ended while `period_end` is
    empty): the headcount and usable sq ft behind UTL-2 and UTL-3."""

    __tablename__ = "occupancy"
    __table_args__ = (
        non_negative("headcount"),
        non_negative("usable_sq_ft_occupied"),
        CheckConstraint("period_end IS NULL OR period_end >= period_start", name="period"),
        unique_index("occupancy", "building_id", "department_id", "period_start"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="RESTRICT"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date | None] = mapped_column(Date)
    headcount: Mapped[int] = mapped_column(Integer)
    usable_sq_ft_occupied: Mapped[int] = mapped_column(Integer)


class OmCost(VersionedMixin, Base):
    """An annual operations-and-maintenance cost of a parcel or of a building on it, by fiscal
    year (named by the calendar year it ends in) and category."""

    __tablename__ = "om_costs"
    __table_args__ = (
        check_in("category", COST_CATEGORIES),
        non_negative("amount"),
        between("fiscal_year", 1901, 2199),
        CheckConstraint("parcel_id IS NOT NULL OR building_id IS NOT NULL", name="asset"),
        Index("ix_om_costs_fiscal_year", "fiscal_year"),
        Index("ix_om_costs_parcel_id", "parcel_id"),
        Index("ix_om_costs_building_id", "building_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    parcel_id: Mapped[int | None] = mapped_column(ForeignKey("parcels.id", ondelete="RESTRICT"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id", ondelete="RESTRICT"))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(Text)


class Milestone(VersionedMixin, Base):
    """A digitization target kept by an admin: this share of parcels verified by this date."""

    __tablename__ = "milestones"
    __table_args__ = (
        CheckConstraint(
            "target_pct_verified >= 0 AND target_pct_verified <= 100", name="target_pct_verified"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    target_pct_verified: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    target_date: Mapped[dt.date] = mapped_column(Date)


class KpiSnapshot(Base):
    """One KPI value as it stood when taken. Append-only (a trigger refuses UPDATE and DELETE),
    so a trend line can never be redrawn after the fact; a correction is a newer snapshot."""

    __tablename__ = "kpi_snapshots"
    __table_args__ = (Index("ix_kpi_snapshots_kpi_id", "kpi_id", "breakdown", "as_of"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    taken_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    as_of: Mapped[dt.date] = mapped_column(Date)
    period: Mapped[str | None] = mapped_column(String(16))
    kpi_id: Mapped[str] = mapped_column(String(8))
    breakdown: Mapped[str] = mapped_column(String(32))
    breakdown_value: Mapped[str | None] = mapped_column(Text)
    value: Mapped[Decimal | None] = mapped_column(Numeric(20, 4))
    numerator: Mapped[Decimal | None] = mapped_column(Numeric(20, 4))
    denominator: Mapped[Decimal | None] = mapped_column(Numeric(20, 4))
    unit: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)


class FindingReview(VersionedMixin, Base):
    """What people decided about one data-quality finding (see migration 0017): assigned to
    someone, or closed with a note. The finding itself is computed, named by `finding_key`."""

    __tablename__ = "finding_reviews"
    __table_args__ = (
        CheckConstraint(
            "closed_at IS NULL OR nullif(btrim(close_note), '') IS NOT NULL", name="close_note"
        ),
        unique_index("finding_reviews", "finding_key"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    finding_key: Mapped[str] = mapped_column(CHAR(32))
    kind: Mapped[str] = mapped_column(Text)
    parcel_id: Mapped[str | None] = mapped_column(Text)
    lease_number: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text)
    assigned_to: Mapped[str | None] = mapped_column(String(320))
    assigned_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(Text)
    close_note: Mapped[str | None] = mapped_column(Text)


class ExportJob(Base):
    """An export prepared in the background (see migration 0020): operational, not audited."""

    __tablename__ = "export_jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress"),
        Index("ix_export_jobs_requested_by", "requested_by"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(Text, server_default="queued")
    progress: Mapped[Decimal] = mapped_column(Numeric(4, 3), server_default=text("0"))
    message: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    file_name: Mapped[str | None] = mapped_column(Text)
    media_type: Mapped[str | None] = mapped_column(Text)
    result_file: Mapped[str | None] = mapped_column(Text)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
