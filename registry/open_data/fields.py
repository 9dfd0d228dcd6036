"""The public fields of the city's parcel dataset: the data dictionary, in one place.

The `/open/dictionary` page, its JSON form, the downloads' columns and the catalog's
`describedBy` all read this list, so the dictionary cannot drift from what is published.
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.vocabulary import PARCEL_STATUSES
from registry.vocabulary import STATUS_LABELS


@dataclass(frozen=True)
class PublicField:
    """One published field: `type` is the Frictionless Table Schema type, `formats` the
    downloads that carry it."""

    name: str
    title: str
    type: str
    meaning: str
    example: str
    formats: tuple[str, ...] = ("csv", "geojson", "gpkg")


_STATUS_WORDS = ", ".join(f"{value} ({STATUS_LABELS[value].lower()})" for value in PARCEL_STATUSES)

PUBLIC_FIELDS: tuple[PublicField, ...] = (
    PublicField(
        "parcel_id",
        "Parcel id",
        "string",
        "The parcel's id as the county assessor numbers it (APN); unique in the dataset.",
        "4614-057-010",
    ),
    PublicField(
        "address",
        "Address",
        "string",
        "The street address of the parcel; empty where the parcel has none (vacant strips, "
        "rights of way).",
        "3366 S Crenshaw Blvd",
    ),
    PublicField(
        "department",
        "Department",
        "string",
        "The city department that owns or manages the parcel.",
        "General Services",
    ),
    PublicField(
        "use",
        "Use",
        "string",
        "What the parcel is used for, in the department's words.",
        "Parking Lot",
    ),
    PublicField(
        "status",
        "Status",
        "string",
        f"Whether the city uses the parcel: one of {_STATUS_WORDS}.",
        "in_use",
    ),
    PublicField(
        "longitude",
        "Longitude",
        "number",
        "Longitude (WGS 84) of a point inside the parcel's shape, for spreadsheets and "
        "geocoders; empty where the shape is not yet digitized.",
        "-118.3276",
        formats=("csv",),
    ),
    PublicField(
        "latitude",
        "Latitude",
        "number",
        "Latitude (WGS 84) of the same point.",
        "34.0158",
        formats=("csv",),
    ),
    PublicField(
        "geometry",
        "Shape",
        "geojson",
        "The parcel's boundary as a MultiPolygon in WGS 84 (EPSG:4326), longitude first; empty "
        "where the shape is not yet digitized (a paper record).",
        '{"type": "MultiPolygon", "coordinates": [[[[-118.3276, 34.0156], …]]]}',
        formats=("geojson", "gpkg"),
    ),
)

#: The attribute columns every download carries, in order (the shape and the CSV's point aside).
ATTRIBUTE_NAMES: tuple[str, ...] = ("parcel_id", "address", "department", "use", "status")


def table_schema() -> dict[str, object]:
    """The dictionary as a Frictionless Table Schema (machine-readable, for `describedBy`)."""
    return {
        "fields": [
            {
                "name": field.name,
                "title": field.title,
                "type": field.type,
                "description": field.meaning,
                "example": field.example,
                "formats": list(field.formats),
            }
            for field in PUBLIC_FIELDS
        ],
        "primaryKey": "parcel_id",
    }
