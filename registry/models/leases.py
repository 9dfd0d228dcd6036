"""Leases: the city as lessee (`in`) and as lessor (`out`), with the terms GASB 87 measures.

Payment steps and options are JSONB on the lease row, so that every change to a lease's terms is
one audited row change (before → after) rather than a scatter of child-row events.

A lease may be recorded *incomplete*, as an old list gives it: the terms GASB 87 needs
(commencement, end, payments, a discount rate) may be missing. `missing` names them, `measured`
says whether the engine can measure the lease (a CHECK holds it to the columns the engine reads),
`source_notes` keeps a source's free text verbatim per field ("end_date": "Lease in process"),
`needs_confirmation` the fields whose value the source doubted (`GSD?`), and `location` the point
that placed a lease (linked to the parcel holding it, if any).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry
from geoalchemy2 import WKBElement
from sqlalchemy import CHAR
from sqlalchemy import BigInteger
from sqlalchemy import Boolean
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
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from registry.models.core import Base
from registry.models.core import Money
from registry.models.core import Parcel
from registry.models.core import VersionedMixin
from registry.models.core import unique_index
from registry.settings import STORAGE_SRID
from registry.vocabulary import DISCOUNT_RATE_SOURCES
from registry.vocabulary import FUND_TYPES
from registry.vocabulary import LEASE_DIRECTIONS
from registry.vocabulary import LEASE_PORTFOLIOS
from registry.vocabulary import PAYMENT_FREQUENCIES
from registry.vocabulary import PAYMENT_TIMINGS
from registry.vocabulary import sql_in_list

Rate = Numeric(9, 6)  # an annual fraction: 0.008900 = 0.89 %
#: The last day of the term lies in the last of the `term_months` it touches (migration 0012).
END_DATE_IN_TERM = (
    "term_months IS NULL OR commencement_date IS NULL OR (end_date IS NOT NULL "
    "AND end_date >= CAST(commencement_date + make_interval(months => term_months - 1) AS date) "
    "AND end_date < CAST(commencement_date + make_interval(months => term_months) AS date))"
)
#: A measured lease has every term the engine reads.
MEASURED_HAS_TERMS = (
    "NOT measured OR (commencement_date IS NOT NULL AND term_months IS NOT NULL "
    "AND max_possible_term_months IS NOT NULL AND end_date IS NOT NULL "
    "AND payment_frequency IS NOT NULL AND payment_timing IS NOT NULL AND payments IS NOT NULL)"
)


class Lease(VersionedMixin, Base):
    __tablename__ = "leases"
    __table_args__ = (
        CheckConstraint(f"direction IN ({sql_in_list(LEASE_DIRECTIONS)})", name="direction"),
        CheckConstraint(f"portfolio IN ({sql_in_list(LEASE_PORTFOLIOS)})", name="portfolio"),
        CheckConstraint(
            f"payment_frequency IN ({sql_in_list(PAYMENT_FREQUENCIES)})", name="payment_frequency"
        ),
        CheckConstraint(
            f"payment_timing IN ({sql_in_list(PAYMENT_TIMINGS)})", name="payment_timing"
        ),
        CheckConstraint(f"fund_type IN ({sql_in_list(FUND_TYPES)})", name="fund_type"),
        CheckConstraint(
            f"discount_rate_source IN ({sql_in_list(DISCOUNT_RATE_SOURCES)})",
            name="discount_rate_source",
        ),
        CheckConstraint("term_months > 0", name="term_months"),
        CheckConstraint("max_possible_term_months >= term_months", name="max_possible_term"),
        CheckConstraint("leased_area_sq_ft >= 0", name="leased_area_sq_ft"),
        CheckConstraint("discount_rate >= 0 AND discount_rate < 1", name="discount_rate"),
        CheckConstraint("jsonb_typeof(payments) = 'array'", name="payments_array"),
        CheckConstraint(END_DATE_IN_TERM, name="end_date_in_term"),
        CheckConstraint(MEASURED_HAS_TERMS, name="measured_has_terms"),
        CheckConstraint("measured OR cardinality(missing) > 0", name="unmeasured_says_why"),
        CheckConstraint("jsonb_typeof(source_notes) = 'object'", name="source_notes_object"),
        Index("ix_leases_parcel_id", "parcel_id"),
        Index("ix_leases_end_date", "end_date"),
        Index("ix_leases_location", "location", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    lease_number: Mapped[str] = mapped_column(String(40), unique=True)
    direction: Mapped[str] = mapped_column(String(3))
    portfolio: Mapped[str] = mapped_column(String(16))
    counterparty: Mapped[str | None] = mapped_column(Text)
    parcel_id: Mapped[int | None] = mapped_column(ForeignKey("parcels.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    premises: Mapped[str | None] = mapped_column(Text)  # address or suite as written in the lease
    leased_area_sq_ft: Mapped[Decimal | None] = mapped_column(Numeric(12, 1))
    approval_reference: Mapped[str | None] = mapped_column(Text)  # e.g. council file number
    source_document: Mapped[str | None] = mapped_column(Text)  # where the signed lease is kept
    commencement_date: Mapped[dt.date | None] = mapped_column(Date)
    term_months: Mapped[int | None] = mapped_column(Integer)
    max_possible_term_months: Mapped[int | None] = mapped_column(Integer)
    # the last day of the term, written by `clean_lease` (a CHECK keeps it inside term_months)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'"))
    payment_frequency: Mapped[str | None] = mapped_column(String(10))
    payment_timing: Mapped[str | None] = mapped_column(String(8))
    payments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)  # [{periods, amount}]
    escalation_pct: Mapped[Decimal] = mapped_column(Numeric(7, 4), server_default=text("0"))
    free_periods: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    non_lease_amount: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    discount_rate: Mapped[Decimal | None] = mapped_column(Rate)
    discount_rate_source: Mapped[str] = mapped_column(String(12), server_default="stated")
    fair_value: Mapped[Decimal | None] = mapped_column(Money)
    residual_value: Mapped[Decimal | None] = mapped_column(Money)
    initial_direct_costs: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    incentives: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    prepaid_at_commencement: Mapped[Decimal] = mapped_column(Money, server_default=text("0"))
    useful_life_months: Mapped[int | None] = mapped_column(Integer)
    fund_type: Mapped[str] = mapped_column(String(16), server_default="governmental")
    market_rent_annual: Mapped[Decimal | None] = mapped_column(Money)
    # still occupied after the end date: a holdover (critical dates, LSE-1)
    occupied: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    terminated_on: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    measured: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    missing: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    needs_confirmation: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    source_notes: Mapped[dict[str, str]] = mapped_column(JSONB, server_default=text("'{}'"))
    location: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=STORAGE_SRID, spatial_index=False)
    )

    parcel: Mapped[Parcel | None] = relationship()
    modifications: Mapped[list[LeaseModification]] = relationship(
        back_populates="lease", order_by="LeaseModification.effective_date"
    )


class LeaseModification(VersionedMixin, Base):
    """New terms from a date on: the lease is remeasured from there, the earlier measurement
    stays as it was (GASB 87 ¶¶ 71–73)."""

    __tablename__ = "lease_modifications"
    __table_args__ = (Index("ix_lease_modifications_lease_id", "lease_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    lease_id: Mapped[int] = mapped_column(ForeignKey("leases.id", ondelete="RESTRICT"))
    effective_date: Mapped[dt.date] = mapped_column(Date)
    terms: Mapped[dict[str, Any]] = mapped_column(JSONB)  # the changed lease fields
    reason: Mapped[str | None] = mapped_column(Text)

    lease: Mapped[Lease] = relationship(back_populates="modifications")


class LeaseDocument(Base):
    """A file attached to a lease (the signed lease, an amendment): the stored file by its
    SHA-256 (`registry.stored_files`), the name it was uploaded under, its kind, who and when.
    See `registry.leases.documents`."""

    __tablename__ = "lease_documents"
    __table_args__ = (
        CheckConstraint("kind IN ('signed_lease', 'amendment', 'other')", name="kind"),
        CheckConstraint("char_length(file_name) BETWEEN 1 AND 255", name="file_name"),
        Index("ix_lease_documents_lease_id", "lease_id"),
        Index("ix_lease_documents_sha256", "sha256"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    lease_id: Mapped[int] = mapped_column(ForeignKey("leases.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(CHAR(64), ForeignKey("stored_files.sha256"))
    file_name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    uploaded_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    uploaded_by: Mapped[str] = mapped_column(Text)


class IncrementalBorrowingRate(VersionedMixin, Base):
    """The city's incremental borrowing rates, dated and by term, for leases with no stated or
    implicit rate: the rate in force at commencement for the shortest bucket covering the term."""

    __tablename__ = "incremental_borrowing_rates"
    __table_args__ = (
        CheckConstraint("rate >= 0 AND rate < 1", name="rate"),
        CheckConstraint("max_term_months > 0", name="max_term_months"),
        unique_index("incremental_borrowing_rates", "effective_date", "max_term_months"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    effective_date: Mapped[dt.date] = mapped_column(Date)
    max_term_months: Mapped[int] = mapped_column(Integer)
    rate: Mapped[Decimal] = mapped_column(Rate)
    source: Mapped[str | None] = mapped_column(Text)


class LeaseResponsible(VersionedMixin, Base):
    """A person answerable for a lease's critical dates: `asset-registry notify` emails them.

    Kept by email, not by user account: the people who must act on a lease (a property manager,
    the department's facilities lead, outside counsel) often never sign in to the registry."""

    __tablename__ = "lease_responsibles"
    __table_args__ = (
        CheckConstraint("position('@' in email) > 1", name="email"),
        unique_index("lease_responsibles", "lease_id", "email"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    lease_id: Mapped[int] = mapped_column(ForeignKey("leases.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(Text)


class LeaseNotice(VersionedMixin, Base):
    """One critical date told to one person at one lead time: the row is what makes each item
    go out once per lead time, however often `notify` runs. A run that finds several lead times
    already reached (the first run, or a date added late) sends one notice and records the
    others as covered by it (`token_hash` NULL). `token_hash` is the SHA-256 of the secret in
    the acknowledgement link; acknowledging stops further reminders of that item to that person."""

    __tablename__ = "lease_notices"
    __table_args__ = (
        CheckConstraint("lead_days >= 0", name="lead_days"),
        unique_index("lease_notices", "lease_id", "kind", "due_date", "lead_days", "recipient"),
        unique_index("lease_notices", "token_hash"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    lease_id: Mapped[int] = mapped_column(ForeignKey("leases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    due_date: Mapped[dt.date] = mapped_column(Date)
    lead_days: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(String(320))
    sent_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    token_hash: Mapped[str | None] = mapped_column(CHAR(64))
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledgement_note: Mapped[str | None] = mapped_column(Text)
