"""The OpenAPI 3.0 description of the JSON API (`/api/openapi.json`), built from plain dicts.

One source: `schemas.py` (records in and out, from the registry's own field lists and
vocabularies) and `paths.py` (one entry per route). No Flask here: the document is the same for
every request, so it is built once per process and served as it is.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from app.openapi.paths import paths
from app.openapi.schemas import schemas

OPENAPI_VERSION = "3.0.3"
API_VERSION = "1.0.0"


def api_document() -> dict[str, Any]:
    """The whole document as a new dict (callers may change their copy)."""
    return json.loads(api_document_text())


@functools.cache
def api_document_text() -> str:
    """The document serialized once: what `/api/openapi.json` sends."""
    document = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "City Asset Registry JSON API",
            "version": API_VERSION,
            "description": (
                "Parcels (GeoJSON), leases with their GASB 87 schedules, occupancy and O&M "
                "costs, exports, vector tiles. Errors are application/problem+json with title, "
                "status, detail and errors (a list of {field, message}). Money and rates are "
                "decimal strings or whole numbers: a JSON number with a fraction is refused "
                "where money goes. Writes need If-Match with the ETag read (428 without it, "
                "412 when someone saved first). Editors and admins write; every signed-in "
                "role reads; finance and admin export."
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": name}
            for name in ("parcels", "leases", "operations", "exports", "tiles", "service")
        ],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "paths": paths(),
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `asset-registry users token EMAIL`",
                },
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "The browser session of /login; its writes also need the "
                    "session's X-CSRF-Token header",
                },
            },
        },
    }
    return json.dumps(document, indent=1)
