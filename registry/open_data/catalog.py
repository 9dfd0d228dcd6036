"""The DCAT-US 1.1 catalog (`/data.json`) of the city's open data, so data portals can harvest it.

Built from plain values (the URLs, the city's name, the last change, the settings) so it can be
checked against the schema without a web app. The city is not a federal agency: DCAT-US asks
state and local publishers to leave out the federal-only `bureauCode` and `programCode`, so they
are written only when a deployment sets them (`REGISTRY_OPEN_DATA_BUREAU_CODE`/`_PROGRAM_CODE`,
e.g. to feed a catalog validated with the federal schema).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from registry.open_data.downloads import DOWNLOAD_FORMATS
from registry.open_data.downloads import FORMAT_NAMES
from registry.open_data.downloads import MEDIA_TYPES

DCAT_US_SCHEMA = "https://project-open-data.cio.gov/v1.1/schema"
DCAT_US_CONTEXT = "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld"
OGC_FEATURES_CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
OPENAPI_MEDIA_TYPE = "application/vnd.oai.openapi+json"
DEFAULT_CONTACT_EMAIL = "opendata@example.gov"
_EMAIL = re.compile(r"^[\w_~!$&'()*+,;=:.-]+@[\w.-]+\.[\w.-]+$")
_BUREAU = re.compile(r"^\d{3}:\d{2}$")
_PROGRAM = re.compile(r"^\d{3}:\d{3}$")


@dataclass(frozen=True)
class CatalogSettings:
    """`REGISTRY_OPEN_DATA_*`: who answers questions about the data, under which license."""

    contact_name: str | None = None  # default: "<city> open data"
    contact_email: str = DEFAULT_CONTACT_EMAIL
    license: str | None = None  # a URL; none given, none claimed
    bureau_code: str | None = None
    program_code: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str | None] | None = None) -> CatalogSettings:
        env = os.environ if env is None else env
        email = (env.get("REGISTRY_OPEN_DATA_CONTACT_EMAIL") or DEFAULT_CONTACT_EMAIL).strip()
        email = email.removeprefix("mailto:")
        if not _EMAIL.match(email):
            raise ValueError("REGISTRY_OPEN_DATA_CONTACT_EMAIL must be an email address")
        bureau = (env.get("REGISTRY_OPEN_DATA_BUREAU_CODE") or "").strip() or None
        program = (env.get("REGISTRY_OPEN_DATA_PROGRAM_CODE") or "").strip() or None
        if bureau and not _BUREAU.match(bureau):
            raise ValueError("REGISTRY_OPEN_DATA_BUREAU_CODE must look like 015:11")
        if program and not _PROGRAM.match(program):
            raise ValueError("REGISTRY_OPEN_DATA_PROGRAM_CODE must look like 015:001")
        return cls(
            contact_name=(env.get("REGISTRY_OPEN_DATA_CONTACT_NAME") or "").strip() or None,
            contact_email=email,
            license=(env.get("REGISTRY_OPEN_DATA_LICENSE") or "").strip() or None,
            bureau_code=bureau,
            program_code=program,
        )


@dataclass(frozen=True)
class CatalogUrls:
    """Absolute URLs of what the catalog points at (built on `REGISTRY_PUBLIC_URL`)."""

    catalog: str
    landing_page: str
    dictionary_page: str
    dictionary_json: str
    downloads: Mapping[str, str]  # format -> URL
    ogc_landing: str
    ogc_openapi: str


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def catalog(
    urls: CatalogUrls,
    city_name: str,
    modified: dt.datetime,
    extent: tuple[float, float, float, float],
    settings: CatalogSettings,
) -> dict[str, Any]:
    """The catalog with its one dataset (the public parcels), its three files and its API."""
    title = f"City-owned parcels of {city_name}"
    distributions: list[dict[str, Any]] = [
        {
            "@type": "dcat:Distribution",
            "title": f"{title} ({FORMAT_NAMES[fmt]})",
            "description": f"Every public parcel as {FORMAT_NAMES[fmt]}, with the fields of the "
            "data dictionary.",
            "downloadURL": urls.downloads[fmt],
            "mediaType": MEDIA_TYPES[fmt],
            "format": FORMAT_NAMES[fmt],
            "describedBy": urls.dictionary_json,
            "describedByType": "application/json",
        }
        for fmt in DOWNLOAD_FORMATS
    ]
    distributions.append(
        {
            "@type": "dcat:Distribution",
            "title": "OGC API – Features",
            "description": "The same parcels through OGC API – Features (collection `parcels`): "
            "GIS clients (QGIS, ArcGIS, GDAL) read them by bounding box, filter and page.",
            "accessURL": urls.ogc_landing,
            "format": "API",
            "conformsTo": OGC_FEATURES_CORE,
            "describedBy": urls.ogc_openapi,
            "describedByType": OPENAPI_MEDIA_TYPE,
        }
    )
    dataset: dict[str, Any] = {
        "@type": "dcat:Dataset",
        "title": title,
        "description": f"The land parcels that {city_name} owns or manages, as its asset "
        "registry keeps them: each parcel's id, address, owning department, use, status and "
        "shape. Updated as the registry changes; retired parcels are left out.",
        "keyword": ["city-owned property", "parcels", "real estate", "public assets", city_name],
        "modified": _timestamp(modified),
        "publisher": {"@type": "org:Organization", "name": city_name},
        "contactPoint": {
            "@type": "vcard:Contact",
            "fn": settings.contact_name or f"{city_name} open data",
            "hasEmail": f"mailto:{settings.contact_email}",
        },
        "identifier": f"{urls.landing_page}#city-owned-parcels",
        "accessLevel": "public",
        "landingPage": urls.landing_page,
        "describedBy": urls.dictionary_json,
        "describedByType": "application/json",
        "references": [urls.dictionary_page],
        "spatial": ",".join(f"{value:.4f}" for value in extent),
        "language": ["en-US"],
        "distribution": distributions,
    }
    if settings.license:
        dataset["license"] = settings.license
    if settings.bureau_code:
        dataset["bureauCode"] = [settings.bureau_code]
    if settings.program_code:
        dataset["programCode"] = [settings.program_code]
    return {
        "@context": DCAT_US_CONTEXT,
        "@id": urls.catalog,
        "@type": "dcat:Catalog",
        "conformsTo": DCAT_US_SCHEMA,
        "describedBy": f"{DCAT_US_SCHEMA}/catalog.json",
        "dataset": [dataset],
    }
