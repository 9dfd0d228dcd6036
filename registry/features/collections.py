"""The feature collections the registry publishes, each described once: where its rows come
from, its feature id, its geometry, and its properties with their types and whether the public
may see them.

Everything the features API does with a property (output, `properties=`, `sortby`, queryables,
CQL2 filters) reads this table, so a field marked not public here can neither be read nor
filtered on by an anonymous visitor: filtering on a hidden field would leak it one guess at a
time. The public fields are the map's (`registry.parcels.features._PUBLIC_PROPERTIES`); lease
money is never public, and retired parcels are in no collection (a retired parcel is history).
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.vocabulary import ASSET_TYPES
from registry.vocabulary import DIGITIZATION_STATUSES
from registry.vocabulary import LEASE_DIRECTIONS
from registry.vocabulary import LEGAL_INTERESTS
from registry.vocabulary import PARCEL_STATUSES

STRING, INTEGER, NUMBER, DATE, DATETIME, BOOLEAN = (
    "string",
    "integer",
    "number",
    "date",
    "date-time",
    "boolean",
)


@dataclass(frozen=True)
class Property:
    """One property of a feature: `sql` is its value over the collection's rows."""

    name: str
    sql: str
    type: str
    title: str
    public: bool = False
    enum: tuple[str, ...] = ()
    #: an exact decimal (money): a string in GeoJSON, a number to filters
    decimal: bool = False

    @property
    def output_sql(self) -> str:
        return f"({self.sql})::text" if self.decimal else self.sql


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    #: FROM and JOINs; the collection's rows, with no WHERE
    source: str
    #: the feature id (text, unique): URLs, `id` in GeoJSON, and the keyset of paging
    feature_id: str
    geometry: str
    geometry_type: str
    #: the row's version, for the ETag of one feature
    version: str
    properties: tuple[Property, ...]
    #: a condition every row shown meets, whoever asks
    condition: str = "true"
    #: a stored EPSG:3857 copy of the geometry, used instead of transforming
    web_mercator: str | None = None
    #: the property `datetime` filters on, or none: then `datetime` is refused
    temporal: str | None = None

    def visible(self, public: bool) -> tuple[Property, ...]:
        return tuple(p for p in self.properties if p.public or not public)

    def property(self, name: str, public: bool) -> Property | None:
        for candidate in self.visible(public):
            if candidate.name == name:
                return candidate
        return None


def _p(name: str, sql: str, type_: str, title: str, **options: object) -> Property:
    return Property(name, sql, type_, title, **options)  # type: ignore[arg-type]


_PARCEL_PUBLIC = (
    _p("parcel_id", "p.parcel_id", STRING, "Parcel id", public=True),
    _p("address", "p.address", STRING, "Address", public=True),
    _p("department", "d.name", STRING, "Department", public=True),
    _p("use", "p.use", STRING, "Use", public=True),
    _p("status", "p.status", STRING, "Status", public=True, enum=PARCEL_STATUSES),
)

PARCELS = Collection(
    id="parcels",
    title="City-owned parcels",
    description="Every parcel the city owns or holds, current (retired parcels are left out).",
    source="parcels p LEFT JOIN departments d ON d.id = p.department_id",
    feature_id="p.parcel_id",
    geometry="p.geom",
    geometry_type="MultiPolygon",
    version="p.version",
    web_mercator="p.geom_3857",
    condition="p.retired_at IS NULL",
    temporal="acquisition_date",
    properties=(
        *_PARCEL_PUBLIC,
        _p("department_code", "d.code", STRING, "Department code"),
        _p("council_district", "p.council_district", INTEGER, "Council district"),
        _p("asset_type", "p.asset_type", STRING, "Asset type", enum=ASSET_TYPES),
        _p("legal_interest", "p.legal_interest", STRING, "Legal interest", enum=LEGAL_INTERESTS),
        _p("acquisition_date", "p.acquisition_date", DATE, "Acquired on"),
        _p("acquisition_cost", "p.acquisition_cost", NUMBER, "Acquisition cost", decimal=True),
        _p("disposition_date", "p.disposition_date", DATE, "Disposed of on"),
        _p(
            "disposition_proceeds",
            "p.disposition_proceeds",
            NUMBER,
            "Disposition proceeds",
            decimal=True,
        ),
        _p(
            "digitization_status",
            "p.digitization_status",
            STRING,
            "Digitization status",
            enum=DIGITIZATION_STATUSES,
        ),
        _p("land_area_sq_ft", "p.land_area_sq_ft", NUMBER, "Land area (sq ft)"),
        _p("verified_by", "p.verified_by", STRING, "Verified by"),
        _p("verified_at", "p.verified_at", DATETIME, "Verified at"),
        _p("version", "p.version", INTEGER, "Version"),
        _p("updated_at", "p.updated_at", DATETIME, "Last changed"),
    ),
)

BUILDINGS = Collection(
    id="buildings",
    title="Buildings",
    description="Buildings on the city's parcels, with their footprints where drawn.",
    source="buildings b JOIN parcels p ON p.id = b.parcel_id",
    feature_id="b.building_id",
    geometry="b.footprint",
    geometry_type="MultiPolygon",
    version="b.version",
    condition="p.retired_at IS NULL",
    properties=(
        _p("building_id", "b.building_id", STRING, "Building id", public=True),
        _p("parcel_id", "p.parcel_id", STRING, "Parcel id", public=True),
        _p("name", "b.name", STRING, "Name", public=True),
        _p("asset_type", "b.asset_type", STRING, "Asset type", public=True, enum=ASSET_TYPES),
        _p("gross_sq_ft", "b.gross_sq_ft", INTEGER, "Gross area (sq ft)"),
        _p("usable_sq_ft", "b.usable_sq_ft", INTEGER, "Usable area (sq ft)"),
        _p("year_built", "b.year_built", INTEGER, "Year built"),
        _p("replacement_value", "b.replacement_value", NUMBER, "Replacement value", decimal=True),
        _p("repair_needs", "b.repair_needs", NUMBER, "Repair needs", decimal=True),
        _p("version", "b.version", INTEGER, "Version"),
    ),
)

LEASED_PARCELS = Collection(
    id="leased-parcels",
    title="Leased parcels",
    description=(
        "One feature per lease on a city parcel (leased in or out), drawn as the parcel. "
        "Signed-in staff see the lease terms; the public sees which parcels are leased."
    ),
    source=(
        "leases l LEFT JOIN buildings lb ON lb.id = l.building_id "
        "JOIN parcels p ON p.id = coalesce(l.parcel_id, lb.parcel_id) "
        "LEFT JOIN departments d ON d.id = p.department_id"
    ),
    feature_id="l.lease_number",
    geometry="p.geom",
    geometry_type="MultiPolygon",
    version="l.version",
    web_mercator="p.geom_3857",
    condition="p.retired_at IS NULL",
    temporal="commencement_date",
    properties=(
        _p("lease_number", "l.lease_number", STRING, "Lease number", public=True),
        _p("direction", "l.direction", STRING, "Direction", public=True, enum=LEASE_DIRECTIONS),
        *_PARCEL_PUBLIC,
        _p("counterparty", "l.counterparty", STRING, "Counterparty"),
        _p("premises", "l.premises", STRING, "Premises"),
        _p("leased_area_sq_ft", "l.leased_area_sq_ft", NUMBER, "Leased area (sq ft)"),
        _p("commencement_date", "l.commencement_date", DATE, "Commencement"),
        _p("end_date", "l.end_date", DATE, "End"),
        _p("term_months", "l.term_months", INTEGER, "Term (months)"),
        _p("terminated_on", "l.terminated_on", DATE, "Terminated on"),
        _p("measured", "l.measured", BOOLEAN, "Measured under GASB 87"),
        _p("discount_rate", "l.discount_rate", NUMBER, "Discount rate", decimal=True),
        _p("market_rent_annual", "l.market_rent_annual", NUMBER, "Market rent", decimal=True),
        _p("version", "l.version", INTEGER, "Version"),
    ),
)

DISTRICTS = Collection(
    id="districts",
    title="Council districts",
    description="The city's council district boundaries.",
    source="council_districts cd",
    feature_id="cd.district::text",
    geometry="cd.geom",
    geometry_type="MultiPolygon",
    version="cd.version",
    properties=(
        _p("district", "cd.district", INTEGER, "District", public=True),
        _p("name", "cd.name", STRING, "Name", public=True),
    ),
)

COLLECTIONS: dict[str, Collection] = {
    c.id: c for c in (PARCELS, BUILDINGS, LEASED_PARCELS, DISTRICTS)
}
