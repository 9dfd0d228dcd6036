"""Typed SQLAlchemy models of the registry. The migrations in `migrations/` are the schema's truth;
a test proves that these models and the migrations do not differ."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry
from geoalchemy2 import WKBElement
from sqlalchemy import CHAR
from sqlalchemy import BigInteger
from sqlalchemy import CheckConstraint
from sqlalchemy import Computed
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Identity
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import Numeric
from sqlalchemy import SmallInteger
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import func
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from registry.settings import STORAGE_SRID
from registry.spatial import as_geography
from registry.vocabulary import ASSET_TYPES
from registry.vocabulary import DIGITIZATION_STATUSES
from registry.vocabulary import LEGAL_INTERESTS
from registry.vocabulary import PARCEL_STATUSES
from registry.vocabulary import USER_ROLES
from registry.vocabulary import sql_in_list

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(14, 2)
SQ_FT_PER_SQ_M = "10.763910416709722"


def _geodesic_area_sq_ft(column: str) -> str:
    """SQL for a polygon's geodesic area in sq ft: exact whatever the storage SRID or ring order."""
    return f"round((ST_Area({as_geography(column)}) * {SQ_FT_PER_SQ_M})::numeric, 1)"


def check_in(column: str, values: tuple[str, ...]) -> CheckConstraint:
    """`column` takes one of `values` (the constraint named after the column)."""
    return CheckConstraint(f"{column} IN ({sql_in_list(values)})", name=column)


def non_negative(column: str) -> CheckConstraint:
    return CheckConstraint(f"{column} >= 0", name=column)


def between(column: str, low: int, high: int) -> CheckConstraint:
    return CheckConstraint(f"{column} BETWEEN {low} AND {high}", name=column)


def unique_index(table: str, *columns: str) -> Index:
    """A unique index over `columns`, named after the table and the first column."""
    return Index(f"uq_{table}_{columns[0]}", *columns, unique=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class VersionedMixin:
    """Optimistic locking and timestamps; the database bumps both on every real change."""

    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Department(VersionedMixin, Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)

    parcels: Mapped[list[Parcel]] = relationship(back_populates="department")


class Parcel(VersionedMixin, Base):
    __tablename__ = "parcels"
    __table_args__ = (
        CheckConstraint(f"status IN ({sql_in_list(PARCEL_STATUSES)})", name="status"),
        CheckConstraint(
            f"legal_interest IN ({sql_in_list(LEGAL_INTERESTS)})", name="legal_interest"
        ),
        CheckConstraint(
            f"digitization_status IN ({sql_in_list(DIGITIZATION_STATUSES)})",
            name="digitization_status",
        ),
        CheckConstraint(f"asset_type IN ({sql_in_list(ASSET_TYPES)})", name="asset_type"),
        CheckConstraint("council_district BETWEEN 1 AND 99", name="council_district"),
        CheckConstraint("acquisition_cost >= 0", name="acquisition_cost"),
        CheckConstraint("disposition_proceeds >= 0", name="disposition_proceeds"),
        CheckConstraint("geom IS NULL OR ST_IsValid(geom)", name="geom_valid"),
        CheckConstraint(
            "digitization_status <> 'verified' OR cardinality(needs_confirmation) = 0",
            name="verified_confirmed",
        ),
        Index("ix_parcels_geom", "geom", postgresql_using="gist"),
        Index("ix_parcels_geom_3857", "geom_3857", postgresql_using="gist"),
        Index("ix_parcels_department_id", "department_id"),
        Index("ix_parcels_status", "status"),
        # the parcel table's sorts (registry.parcels.table, migration 0023) and search (0025)
        Index("ix_parcels_table_address", text("coalesce(address, '')"), "parcel_id"),
        Index("ix_parcels_table_district", text("coalesce(council_district, 0)"), "parcel_id"),
        Index("ix_parcels_table_use", text("coalesce(use, '')"), "parcel_id"),
        Index("ix_parcels_table_status", "status", "parcel_id"),
        Index("ix_parcels_table_area", text("coalesce(land_area_sq_ft, -1)"), "parcel_id"),
        Index("ix_parcels_table_updated", "updated_at", "parcel_id"),
        Index(
            "ix_parcels_address_trgm",
            "address",
            postgresql_using="gin",
            postgresql_ops={"address": "gin_trgm_ops"},
        ),
        Index(
            "ix_parcels_parcel_id_trgm",
            "parcel_id",
            postgresql_using="gin",
            postgresql_ops={"parcel_id": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    parcel_id: Mapped[str] = mapped_column(String(32), unique=True)
    address: Mapped[str | None] = mapped_column(Text)
    council_district: Mapped[int | None] = mapped_column(SmallInteger)
    use: Mapped[str | None] = mapped_column(Text)
    asset_type: Mapped[str | None] = mapped_column(String(32))
    legal_interest: Mapped[str] = mapped_column(String(16), server_default="owned")
    status: Mapped[str] = mapped_column(String(20), server_default="in_use")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    acquisition_date: Mapped[dt.date | None] = mapped_column(Date)
    acquisition_cost: Mapped[Decimal | None] = mapped_column(Money)
    disposition_date: Mapped[dt.date | None] = mapped_column(Date)
    disposition_proceeds: Mapped[Decimal | None] = mapped_column(Money)
    digitization_status: Mapped[str] = mapped_column(String(16), server_default="paper")
    geom: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False)
    )
    # Web Mercator copy kept by PostgreSQL itself, so vector tiles never transform per request.
    geom_3857: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=3857, spatial_index=False),
        Computed("ST_Transform(geom, 3857)", persisted=True),
    )
    land_area_sq_ft: Mapped[Decimal | None] = mapped_column(
        Numeric(14, 1), Computed(_geodesic_area_sq_ft("geom"), persisted=True)
    )
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # An editor's explicit acceptance of an overlap with a neighbour (e.g. an easement), with why.
    overlap_accepted_reason: Mapped[str | None] = mapped_column(Text)
    # Who confirmed the record as a second person, and when; cleared by the database when the
    # shape or a key attribute changes afterwards.
    verified_by: Mapped[str | None] = mapped_column(Text)
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # when the record first reached `digitized` (set by the database, or given: see 0016)
    digitized_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Fields whose value the source marked as uncertain (`GSD?`), awaiting a person's
    # confirmation: no verification until it is empty (migration 0011).
    needs_confirmation: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )

    department: Mapped[Department | None] = relationship(back_populates="parcels")
    buildings: Mapped[list[Building]] = relationship(
        back_populates="parcel", order_by="Building.building_id"
    )


class Building(VersionedMixin, Base):
    __tablename__ = "buildings"
    __table_args__ = (
        check_in("asset_type", ASSET_TYPES),
        non_negative("gross_sq_ft"),
        CheckConstraint("usable_sq_ft >= 0 AND usable_sq_ft <= gross_sq_ft", name="usable_sq_ft"),
        between("year_built", 1700, 2200),
        non_negative("replacement_value"),
        non_negative("repair_needs"),
        CheckConstraint("footprint IS NULL OR ST_IsValid(footprint)", name="footprint_valid"),
        Index("ix_buildings_footprint", "footprint", postgresql_using="gist"),
        Index("ix_buildings_parcel_id", "parcel_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    building_id: Mapped[str] = mapped_column(String(48), unique=True)
    parcel_id: Mapped[int] = mapped_column(ForeignKey("parcels.id", ondelete="RESTRICT"))
    name: Mapped[str | None] = mapped_column(Text)
    asset_type: Mapped[str | None] = mapped_column(String(32))
    gross_sq_ft: Mapped[int | None] = mapped_column(Integer)
    usable_sq_ft: Mapped[int | None] = mapped_column(Integer)
    year_built: Mapped[int | None] = mapped_column(SmallInteger)
    replacement_value: Mapped[Decimal | None] = mapped_column(Money)
    repair_needs: Mapped[Decimal | None] = mapped_column(Money)
    footprint: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False)
    )

    parcel: Mapped[Parcel] = relationship(back_populates="buildings")


class User(VersionedMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN ({sql_in_list(USER_ROLES)})", name="role"),
        CheckConstraint("email = lower(email)", name="email_lower_case"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16), server_default="viewer")
    password_hash: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(server_default=text("true"))
    deactivated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """One row per change, written only by the database's triggers and never updated."""

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint("action IN ('INSERT', 'UPDATE', 'DELETE')", name="action"),
        Index("ix_audit_events_table_name_row_key", "table_name", "row_key", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.clock_timestamp()
    )
    transaction_id: Mapped[int] = mapped_column(BigInteger, server_default=func.txid_current())
    actor: Mapped[str] = mapped_column(Text)
    table_name: Mapped[str] = mapped_column(String(63))
    row_key: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(8))
    changed_fields: Mapped[list[str] | None] = mapped_column(ARRAY(Text))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class ApiToken(Base):
    """A bearer token for scripts. Only its SHA-256 is stored: a leaked table grants nothing, and
    a token that is lost cannot be shown again, only revoked and replaced."""

    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(CHAR(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


class UserSession(Base):
    """A signed-in browser. The cookie holds only a random id; its SHA-256 is kept here, so the
    server decides whether the session still stands (not ended, not expired, not idle)."""

    __tablename__ = "user_sessions"
    __table_args__ = (
        Index("ix_user_sessions_user_id", "user_id"),
        CheckConstraint("idle_timeout_minutes > 0", name="idle_timeout_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    session_hash: Mapped[str] = mapped_column(CHAR(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_seen_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    idle_timeout_minutes: Mapped[int] = mapped_column(Integer)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    ended_reason: Mapped[str | None] = mapped_column(Text)
    user_agent: Mapped[str | None] = mapped_column(Text)
    client_address: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship()


class LoginThrottle(Base):
    """Failed sign-ins for one email from one client address, and when it may try again."""

    __tablename__ = "login_throttles"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    client_address: Mapped[str] = mapped_column(Text, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
