"""The GASB 87 schedules of the measured leases, kept in the database (derived, not edited).

The engine (`registry.leases.accounting`) stays the one implementation that computes a schedule;
these tables only hold what it computed, so reports (the LSE KPIs, the GASB 87 figures) sum rows
in SQL instead of rebuilding every lease's schedule in Python on every request.
`registry.leases.stored_schedules` writes them in the transaction that writes the lease and says
how a stale one is recognised (`lease_version`, `modifications_key`).

One `lease_measurements` row per measurement: 0 at commencement, k the k-th remeasurement
(modification), each in force from its `commencement_date` until `in_force_until` (the next
modification's date, exclusive; NULL for the latest). `lease_schedule_rows` holds each
measurement's whole schedule (every row the engine computed for it, also those after the next
modification, which `LeaseHistory` reads for the measurement in force). Not audited: derived
from audited rows, and recomputed from them whenever they change.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import Date
from sqlalchemy import ForeignKey
from sqlalchemy import ForeignKeyConstraint
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import Numeric
from sqlalchemy import SmallInteger
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from registry.models.core import Base

#: Exact as the engine gives it (cents, but never rounded by a column's scale).
Exact = Numeric()


class LeaseMeasurement(Base):
    """One measurement of a lease and what its balances start from."""

    __tablename__ = "lease_measurements"

    lease_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("leases.id", ondelete="CASCADE"), primary_key=True
    )
    measurement: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    #: The lease's `version` and its modifications' "id:version" list when computed.
    lease_version: Mapped[int] = mapped_column(Integer)
    modifications_key: Mapped[str] = mapped_column(Text)
    direction: Mapped[str] = mapped_column(String(3))
    commencement_date: Mapped[dt.date] = mapped_column(Date)
    in_force_until: Mapped[dt.date | None] = mapped_column(Date)
    #: Last due date whose payment this measurement books (NULL: the latest, all of them).
    paid_through: Mapped[dt.date | None] = mapped_column(Date)
    short_term: Mapped[bool] = mapped_column(Boolean)
    discount_rate: Mapped[Decimal | None] = mapped_column(Exact)
    initial_measurement: Mapped[Decimal] = mapped_column(Exact)
    #: Right-to-use asset (lessee) or deferred inflow (lessor) at the measurement.
    opening_recognizable: Mapped[Decimal] = mapped_column(Exact)
    #: The last day of the measurement's term (the GASB 87 report's end date).
    last_day: Mapped[dt.date] = mapped_column(Date)


class LeaseScheduleRow(Base):
    """One payment period of a measurement's schedule, with its accrual windows."""

    __tablename__ = "lease_schedule_rows"
    __table_args__ = (
        ForeignKeyConstraint(
            ["lease_id", "measurement"],
            ["lease_measurements.lease_id", "lease_measurements.measurement"],
            ondelete="CASCADE",
        ),
    )

    lease_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    measurement: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    period: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_date: Mapped[dt.date] = mapped_column(Date)
    payment: Mapped[Decimal] = mapped_column(Exact)
    interest: Mapped[Decimal] = mapped_column(Exact)
    principal: Mapped[Decimal] = mapped_column(Exact)
    balance: Mapped[Decimal] = mapped_column(Exact)
    #: Amortization (lessee) or inflow recognized (lessor), and the carrying amount left.
    recognized: Mapped[Decimal] = mapped_column(Exact)
    carrying: Mapped[Decimal] = mapped_column(Exact)
    interest_from: Mapped[dt.date] = mapped_column(Date)
    recognition_from: Mapped[dt.date] = mapped_column(Date)
    recognition_to: Mapped[dt.date] = mapped_column(Date)


class LeaseRentPeriod(Base):
    """One payment period of a lease's rent stream (`registry.leases.rent_sql`), as stored for
    the leases whose schedules are stored: its first day, frequency, due date, rate and rent.
    No key: a lease's periods are replaced together."""

    __tablename__ = "lease_rent_periods"
    __table_args__ = (
        Index("ix_lease_rent_periods_lease_id_period_start", "lease_id", "period_start"),
    )
    __mapper_args__ = {"primary_key": ["lease_id", "period_start", "due"]}

    lease_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("leases.id", ondelete="CASCADE"))
    period_start: Mapped[dt.date] = mapped_column(Date)
    frequency: Mapped[str] = mapped_column(Text)
    months: Mapped[int] = mapped_column(Integer)
    due: Mapped[dt.date] = mapped_column(Date)
    rate: Mapped[Decimal] = mapped_column(Exact)
    rent: Mapped[Decimal] = mapped_column(Exact)
