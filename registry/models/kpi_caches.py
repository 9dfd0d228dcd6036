"""What the KPI set keeps so as not to recompute it (see migration 0027): derived rows written by
triggers with the change they follow, neither audited nor edited by the application."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger
from sqlalchemy import CheckConstraint
from sqlalchemy import DateTime
from sqlalchemy import Double
from sqlalchemy import Identity
from sqlalchemy import Index
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from registry.models.core import Base


class ParcelOverlap(Base):
    """Two parcels whose shapes intersect with an area (m²), by internal ids, lower id first;
    exact for the parcels not listed in `parcel_overlaps_stale`."""

    __tablename__ = "parcel_overlaps"
    __table_args__ = (
        CheckConstraint("low_id < high_id", name="ordered"),
        Index("ix_parcel_overlaps_high_id", "high_id"),
    )

    low_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    high_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    area: Mapped[float] = mapped_column(Double)


class ParcelOverlapStale(Base):
    """A parcel whose shape changed (or that came or went) since its pairs were computed."""

    __tablename__ = "parcel_overlaps_stale"
    __table_args__ = (Index("ix_parcel_overlaps_stale_parcel_id", "parcel_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    parcel_id: Mapped[int] = mapped_column(BigInteger)


class ParcelVerificationEvent(Base):
    """One audit event of a parcel read by DIG-6: the parcel, when, and the `verified_at` of a
    version that is verified (None for any other version)."""

    __tablename__ = "parcel_verification_events"

    event_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    parcel_pk: Mapped[int] = mapped_column(BigInteger)
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
