"""The city the registry describes: its profile (one row), its parcel-id formats, the aliases of
its departments and its council districts. Kept in the database, so that another city is set up
without code changes; `registry.city.profile` reads them with the environment's overrides."""

from __future__ import annotations

from geoalchemy2 import Geometry
from geoalchemy2 import WKBElement
from sqlalchemy import CheckConstraint
from sqlalchemy import ForeignKey
from sqlalchemy import Identity
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import SmallInteger
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from registry.models.core import Base
from registry.models.core import VersionedMixin
from registry.settings import STORAGE_SRID


class City(VersionedMixin, Base):
    """The city profile: a table of exactly one row (id 1)."""

    __tablename__ = "city_profile"
    __table_args__ = (
        CheckConstraint("id = 1", name="one_row"),
        CheckConstraint("fiscal_year_start_month BETWEEN 1 AND 12", name="fiscal_year_start_month"),
        CheckConstraint(
            "ST_XMin(extent) < ST_XMax(extent) AND ST_YMin(extent) < ST_YMax(extent)", name="extent"
        ),
        CheckConstraint("boundary IS NULL OR ST_IsValid(boundary)", name="boundary_valid"),
    )

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(Text)
    # WGS 84 longitude/latitude box: a shape outside it is a typo or a wrong CRS
    extent: Mapped[WKBElement] = mapped_column(Geometry("POLYGON", srid=4326, spatial_index=False))
    boundary: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False)
    )
    fiscal_year_start_month: Mapped[int] = mapped_column(SmallInteger)
    placeholder_ids: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )


class ParcelIdFormat(VersionedMixin, Base):
    """One spelling of a parcel id the city accepts. `pattern` (a regular expression of the
    canonical spelling) stays internal: people are shown the name and the examples. `canonical`
    is a template (`#` a digit, `@` a letter, `*` either, anything else literal) into which other
    spellings of the same id are regrouped, e.g. `####-###-###` turns AIN 5056011903 into
    APN 5056-011-903."""

    __tablename__ = "parcel_id_formats"
    __table_args__ = (CheckConstraint("cardinality(examples) >= 1", name="examples"),)

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    examples: Mapped[list[str]] = mapped_column(ARRAY(Text))
    pattern: Mapped[str] = mapped_column(Text)
    canonical: Mapped[str | None] = mapped_column(Text)


class DepartmentAlias(VersionedMixin, Base):
    """Another name a department goes by in legacy files: a former code or name (`HCID` for
    LAHD), an abbreviation (`Rec&Parks` for RAP). Unique whatever the case (checked on write)."""

    __tablename__ = "department_aliases"
    __table_args__ = (Index("ix_department_aliases_department_id", "department_id"),)

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    alias: Mapped[str] = mapped_column(String(200), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))


class CouncilDistrict(VersionedMixin, Base):
    """A council district's boundary. `district` is the number parcels carry in
    `parcels.council_district`, which the database derives from a parcel's shape once districts
    exist (the district holding the largest part of it)."""

    __tablename__ = "council_districts"
    __table_args__ = (
        CheckConstraint("district BETWEEN 1 AND 99", name="district"),
        CheckConstraint("ST_IsValid(geom)", name="geom_valid"),
        Index("ix_council_districts_geom", "geom", postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    district: Mapped[int] = mapped_column(SmallInteger, unique=True)
    name: Mapped[str] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=STORAGE_SRID, spatial_index=False)
    )
