"""`/data.json`: the DCAT-US 1.1 catalog of the city's open data, for data portals to harvest.

Its links are absolute and built by `url_for(_external=True)`, which follows
`REGISTRY_PUBLIC_URL` when it is set (never the request's `Host`: see app.security).
"""

from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import url_for

from app.blueprints.open_data import only_when_published
from app.blueprints.open_data.pages import PUBLIC_CACHE
from app.city import current_city
from app.database import db_session
from app.security import setting
from registry.open_data.catalog import CatalogSettings
from registry.open_data.catalog import CatalogUrls
from registry.open_data.catalog import catalog
from registry.open_data.downloads import DOWNLOAD_FORMATS
from registry.open_data.queries import last_public_change

bp = Blueprint("open_data_catalog", __name__)
bp.before_request(only_when_published)

_SETTINGS = (
    "REGISTRY_OPEN_DATA_CONTACT_NAME",
    "REGISTRY_OPEN_DATA_CONTACT_EMAIL",
    "REGISTRY_OPEN_DATA_LICENSE",
    "REGISTRY_OPEN_DATA_BUREAU_CODE",
    "REGISTRY_OPEN_DATA_PROGRAM_CODE",
)


@bp.get("/data.json")
def data_json() -> Response:
    settings = CatalogSettings.from_env({name: setting(current_app, name) for name in _SETTINGS})
    urls = CatalogUrls(
        catalog=url_for("open_data_catalog.data_json", _external=True),
        landing_page=url_for("open_data.open_page", _external=True),
        dictionary_page=url_for("open_data.dictionary_page", _external=True),
        dictionary_json=url_for("open_data.dictionary_json", _external=True),
        downloads={
            fmt: url_for("open_data.download", fmt=fmt, _external=True) for fmt in DOWNLOAD_FORMATS
        },
        ogc_landing=url_for("ogc.landing", _external=True),
        ogc_openapi=url_for("ogc.api", _external=True),
    )
    city = current_city()
    modified = last_public_change(db_session()) or dt.datetime.now(dt.UTC)
    body = catalog(urls, city.name, modified, city.extent, settings)
    response = Response(json.dumps(body, indent=2), mimetype="application/json")
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response
