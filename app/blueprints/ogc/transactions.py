"""OGC API – Features Part 4 (create, replace, update, delete) for the parcels collection:
`POST /ogc/collections/parcels/items`, and `PUT`, `PATCH` (JSON merge patch), `DELETE` on
`/ogc/collections/parcels/items/{featureId}`.

Nothing here is a second implementation of a parcel write: the bodies are the parcel API's
GeoJSON Features, the writes are `registry.parcels.records` (validation, optimistic locking,
audit), and the plumbing is `app.api`'s (If-Match, ETags, problem documents, one audited
transaction crediting the caller). So an edit made through a GIS client is checked, locked and
recorded exactly as one made on the map, and shows in `/api/parcels/{id}/history`.

Editors and admins write (401 anonymous, 403 other roles). Other collections are read-only:
their write methods answer 405 with `Allow`. The conformance classes and the operations in
`/ogc/api` are declared with the read side's (`resources.CONFORMANCE`, `openapi.WRITABLE`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from typing import ParamSpec
from typing import TypeVar

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import request
from flask import url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from app import api
from app.auth import bearer_unauthorized
from app.auth import current_user
from app.auth import editing_roles
from app.auth import require_role
from app.blueprints.ogc.openapi import WRITABLE
from app.blueprints.parcels.api import PARCEL
from app.problems import ProblemError
from app.problems import problem
from registry.features.collections import COLLECTIONS
from registry.parcels.records import ParcelChange
from registry.parcels.records import create_parcel
from registry.parcels.records import replace_parcel
from registry.parcels.records import retire_parcel
from registry.parcels.records import update_parcel
from registry.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")
bp = Blueprint("ogc_transactions", __name__, url_prefix="/ogc")

PARCELS = "parcels"  # the collection whose items are registry.parcels records
MERGE_PATCH = "application/merge-patch+json"
_JSON_TYPES = ("application/json", "application/geo+json")


def _item_url(parcel_id: str) -> str:
    return url_for(
        "ogc_transactions.replace", collection_id=PARCELS, feature_id=parcel_id, _external=True
    )


ITEM = api.Resource(PARCEL.name, PARCEL.show, PARCEL.endpoint, PARCEL.key, _item_url)


def editors_only(view: Callable[P, R]) -> Callable[P, R | BaseResponse]:
    """Editors and admins (403 for other roles). Anonymous: a 401 with the Bearer challenge
    whatever the client accepts: a GIS client writing features has no sign-in page to follow."""
    guarded = require_role(*editing_roles)(view)

    @functools.wraps(view)
    def check(*args: P.args, **kwargs: P.kwargs) -> R | BaseResponse:
        if current_user() is None:
            return bearer_unauthorized(False, "Send Authorization: Bearer <token> of an editor.")
        return guarded(*args, **kwargs)

    return check


def _settings() -> Settings:
    return current_app.config["REGISTRY_SETTINGS"]


def _not_writable(collection_id: str) -> Response | None:
    """404 for no such collection, 405 (with `Allow`) for one that is read-only."""
    if collection_id in WRITABLE:
        return None
    if collection_id not in COLLECTIONS:
        return problem(404, "Collection not found", f"There is no collection {collection_id}.")
    response = problem(
        405,
        "Method not allowed",
        f"The collection {collection_id} is read-only; only {', '.join(WRITABLE)} is edited here.",
    )
    response.headers["Allow"] = "GET, HEAD"
    return response


def _feature(*media_types: str) -> ParcelChange:
    """The request's GeoJSON Feature as a parcel change (415 for a body of another type)."""
    sent = request.mimetype
    if sent and sent not in media_types:
        raise ProblemError(
            415, "Unsupported media type", f"Send the feature as {' or '.join(media_types)}."
        )
    body = api.json_body(doubles=("geometry",))
    with api.domain_errors(ITEM):
        return ParcelChange.from_feature(body)


@bp.post("/collections/<collection_id>/items")
@editors_only
def create(collection_id: str) -> Response:
    refused = _not_writable(collection_id)
    if refused is not None:
        return refused
    change = _feature(*_JSON_TYPES)
    return api.audited_write(ITEM, lambda session: create_parcel(session, change, _settings()), 201)


def _edit(feature_id: str, write: Any, *media_types: str) -> Response:
    expected = api.expected_version(ITEM.name)
    change = _feature(*media_types)

    def apply(session: Session) -> str:
        write(session, feature_id, expected, change, _settings())
        return str(change.properties.get("parcel_id") or feature_id).strip()

    return api.audited_write(ITEM, apply)


@bp.put("/collections/<collection_id>/items/<path:feature_id>")
@editors_only
def replace(collection_id: str, feature_id: str) -> Response:
    """The whole record: fields left out are cleared (`registry.parcels.records.replace_parcel`)."""
    return _not_writable(collection_id) or _edit(feature_id, replace_parcel, *_JSON_TYPES)


@bp.patch("/collections/<collection_id>/items/<path:feature_id>")
@editors_only
def update(collection_id: str, feature_id: str) -> Response:
    """RFC 7396 merge patch of the Feature: members sent replace, `null` clears, others stay;
    the same document the parcel API's PATCH takes."""
    refused = _not_writable(collection_id)
    return refused or _edit(feature_id, update_parcel, MERGE_PATCH, *_JSON_TYPES)


@bp.delete("/collections/<collection_id>/items/<path:feature_id>")
@editors_only
def delete(collection_id: str, feature_id: str) -> Response:
    """Retire the parcel (its history kept), as the parcel API's DELETE."""
    return _not_writable(collection_id) or api.audited_delete(
        ITEM, lambda session, expected: retire_parcel(session, feature_id, expected)
    )
