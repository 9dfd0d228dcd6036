"""OGC API – Features under `/ogc` (CONTRACT: Parts 1–4): a thin web adapter over
`registry.features`.

Modules: `formats` (JSON or HTML, links, errors), `params` (the query parameters of items),
`resources` (landing page, conformance, the OpenAPI document, collections, queryables), `items`
(features, read side) and `openapi` (the document, built by one function, which describes
Part 4's writes on parcels too). Part 4 (create, replace, update, delete) is `transactions`, a
blueprint of its own under the same prefix. Every read goes through
`app.database.read_engine()`, and the blueprint is declared `reads_from_replica`, so its GET and
HEAD requests read from the replica when one is configured (and from the primary for a caller
whose own write it has not replayed yet).
"""

from __future__ import annotations

from flask import Blueprint

from app.database import reads_from_replica

bp = reads_from_replica(Blueprint("ogc", __name__, url_prefix="/ogc"))

from app.blueprints.ogc import items  # noqa: E402,F401  (routes register on bp)
from app.blueprints.ogc import resources  # noqa: E402,F401
