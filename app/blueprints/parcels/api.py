"""JSON API for parcels (CONTRACT: /api/parcels…): GeoJSON in and out, ETags, problem+json."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import request
from flask import url_for
from sqlalchemy.orm import Session

from app import api
from app.auth import current_user
from app.auth import editing_roles
from app.auth import require_role
from app.database import db_session
from app.database import reads_from_replica
from app.problems import ProblemError
from registry.fields import FieldProblem
from registry.parcels.features import MAX_PAGE_SIZE
from registry.parcels.features import ParcelQuery
from registry.parcels.features import feature_collection
from registry.parcels.features import list_parcel_features
from registry.parcels.features import parcel_feature
from registry.parcels.history import parcel_history
from registry.parcels.history import restore_parcel_version
from registry.parcels.records import ParcelChange
from registry.parcels.records import create_parcel
from registry.parcels.records import retire_parcel
from registry.parcels.records import update_parcel
from registry.parcels.split_merge import merge_parcels
from registry.parcels.split_merge import split_parcel
from registry.parcels.validation import propose_repair
from registry.settings import Settings
from registry.vocabulary import PARCEL_STATUSES

bp = Blueprint("parcel_api", __name__, url_prefix="/api/parcels")

GEOJSON = "application/geo+json"


def _settings() -> Settings:
    return current_app.config["REGISTRY_SETTINGS"]


def _public_view() -> bool:
    """Anonymous callers see the public view, and only when the city publishes its map."""
    if current_user() is not None:
        return False
    if not _settings().public_map:
        raise ProblemError(401, "Authentication required", "Sign in to read parcels.")
    return True


def _feature(session: Session, parcel_id: str, public: bool = False) -> api.Record:
    feature = parcel_feature(session, parcel_id, public=public)
    return api.Record(feature.geojson, feature.version, GEOJSON)


PARCEL = api.Resource("parcel", _feature, "parcel_api.read", "parcel_id")


def _feature_body() -> Any:
    """The request's GeoJSON Feature: exact numbers in its properties (money), binary doubles
    in its geometry (coordinates)."""
    return api.json_body(doubles=("geometry",))


def _parse_query() -> ParcelQuery:
    args, errors = request.args, []
    errors += [
        FieldProblem(name, "must not contain NUL characters")  # PostgreSQL refuses them
        for name, value in args.items(multi=True)
        if "\x00" in value
    ]
    bbox = None
    if args.get("bbox"):
        try:
            parts = tuple(float(part) for part in args["bbox"].split(","))
            if (
                len(parts) != 4
                or not all(math.isfinite(part) for part in parts)
                or parts[0] > parts[2]
                or parts[1] > parts[3]
            ):
                raise ValueError
            bbox = (parts[0], parts[1], parts[2], parts[3])
        except ValueError:
            errors.append(FieldProblem("bbox", "must be min_lon,min_lat,max_lon,max_lat"))
    statuses = tuple(s for s in args.get("status", "").split(",") if s)
    errors += [
        FieldProblem("status", f"unknown status {s!r}")
        for s in statuses
        if s not in PARCEL_STATUSES
    ]
    limit = api.page_limit(errors, 100, MAX_PAGE_SIZE)
    api.bad_query(errors)
    return ParcelQuery(
        bbox=bbox,
        q=args.get("q") or None,
        statuses=statuses,
        department=args.get("department") or None,
        include_retired=args.get("include_retired") == "true",
        limit=limit,
        cursor=args.get("cursor") or None,
    )


@bp.get("")
@reads_from_replica
def list_parcels() -> Response:
    query = _parse_query()
    page = list_parcel_features(db_session(), query, public=_public_view())
    links = [{"rel": "self", "href": request.url, "type": GEOJSON}]
    if page.next_cursor:
        args = {**request.args.to_dict(), "cursor": page.next_cursor}
        links.append(
            {
                "rel": "next",
                "href": url_for("parcel_api.list_parcels", _external=True, **args),
                "type": GEOJSON,
            }
        )
    return Response(feature_collection(page, links), mimetype=GEOJSON)


@bp.post("")
@require_role(*editing_roles)
def create() -> Response:
    with api.domain_errors(PARCEL):
        change = ParcelChange.from_feature(_feature_body())
    return api.audited_write(
        PARCEL, lambda session: create_parcel(session, change, _settings()), 201
    )


@bp.get("/<parcel_id>")
def read(parcel_id: str) -> Response:
    with api.domain_errors(PARCEL):
        return _feature(db_session(), parcel_id, public=_public_view()).response()


@bp.patch("/<parcel_id>")
@require_role(*editing_roles)
def patch(parcel_id: str) -> Response:
    expected = api.expected_version(PARCEL.name)
    with api.domain_errors(PARCEL):
        change = ParcelChange.from_feature(_feature_body())

    def apply(session: Session) -> str:
        update_parcel(session, parcel_id, expected, change, _settings())
        return str(change.properties.get("parcel_id") or parcel_id).strip()

    return api.audited_write(PARCEL, apply)


@bp.delete("/<parcel_id>")
@require_role(*editing_roles)
def retire(parcel_id: str) -> Response:
    return api.audited_delete(
        PARCEL, lambda session, expected: retire_parcel(session, parcel_id, expected)
    )


@bp.get("/<parcel_id>/history")
def history(parcel_id: str) -> Response:
    if current_user() is None:
        raise ProblemError(401, "Authentication required", "Sign in to read a parcel's history.")
    with api.domain_errors(PARCEL):
        entries = parcel_history(db_session(), parcel_id)
    return api.json_response({"parcel_id": parcel_id, "history": [e.as_dict() for e in entries]})


@bp.post("/<parcel_id>/history/<int:event_id>/restore")
@require_role(*editing_roles)
def restore(parcel_id: str, event_id: int) -> Response:
    expected = api.expected_version(PARCEL.name)

    def apply(session: Session) -> str:
        restore_parcel_version(session, parcel_id, event_id, expected, _settings())
        return parcel_id

    return api.audited_write(PARCEL, apply)


@bp.post("/repair-proposal")
@require_role(*editing_roles)
def repair_proposal() -> Response:
    body = _feature_body()
    geometry = body.get("geometry") if isinstance(body, dict) else None
    if not isinstance(geometry, dict):
        raise ProblemError(
            422, "No geometry", "", [FieldProblem("geometry", "send the shape to repair").as_dict()]
        )
    try:
        with api.domain_errors(PARCEL):  # a shape over the size limits: a 422 naming it
            proposal = propose_repair(db_session(), geometry, _settings())
    except ProblemError:
        raise
    except Exception as error:  # any other failure here means unreadable GeoJSON
        raise ProblemError(
            422,
            "No geometry",
            "",
            [
                FieldProblem(
                    "geometry", f"is not readable GeoJSON: {getattr(error, 'orig', error)!s}"
                ).as_dict()
            ],
        ) from error
    return api.json_response(proposal)


def _features_response(session: Session, parcel_ids: list[str], status: int = 200) -> Response:
    """A FeatureCollection of the parcels written, each with its `version` (its ETag's)."""
    features = [json.loads(parcel_feature(session, key).geojson) for key in parcel_ids]
    return Response(
        json.dumps({"type": "FeatureCollection", "features": features}),
        status=status,
        mimetype=GEOJSON,
    )


@bp.post("/<parcel_id>/split")
@require_role(*editing_roles)
def split(parcel_id: str) -> Response:
    """Body: `{"line": <GeoJSON LineString>, "parcel_ids": [ids of the pieces, west to east]}`;
    `If-Match`: the parcel's ETag. The pieces, created; the parcel retired; one audited change."""
    expected = api.expected_version(PARCEL.name)
    body = api.json_body(doubles=("line",))  # coordinates as binary doubles, as a shape's
    if not isinstance(body, dict):
        raise ProblemError(400, "Bad request", "The body must be a JSON object.")
    line = body.get("line")
    with api.audited_transaction(PARCEL) as session:
        ids = split_parcel(session, parcel_id, expected, line, body.get("parcel_ids"), _settings())
        response = _features_response(session, ids)
    return response


@bp.post("/merge")
@require_role(*editing_roles)
def merge() -> Response:
    """Body: `{"parcels": {id: ETag, ...}, "keep": id, "parcel_id": optional new id}`;
    `If-Match`: the kept parcel's ETag. The merged parcel; the others retired; one change."""
    expected = api.expected_version(PARCEL.name)
    body = api.json_object_body()
    given, keep, new_id = body.get("parcels"), body.get("keep"), body.get("parcel_id")
    problems = []
    versions: dict[str, int] = {}
    if not isinstance(given, dict) or not given:
        problems.append(FieldProblem("parcels", "must map each parcel id to its ETag"))
    else:
        for key, tag in given.items():
            match = re.fullmatch(r'\s*(?:W/)?"v(\d+)"\s*', tag) if isinstance(tag, str) else None
            if match is None:
                problems.append(FieldProblem("parcels", f"give the ETag of parcel {key}"))
            else:
                versions[str(key)] = int(match.group(1))
    if not isinstance(keep, str) or not keep:
        problems.append(FieldProblem("keep", "name the parcel whose record is kept"))
    if new_id is not None and (not isinstance(new_id, str) or not new_id.strip()):
        problems.append(FieldProblem("parcel_id", "must be the new parcel's id, or left out"))
    if problems:
        raise ProblemError(
            422, "The merge is not valid", "", [problem.as_dict() for problem in problems]
        )
    assert isinstance(keep, str)
    if keep in versions:
        versions[keep] = expected
    with api.audited_transaction(PARCEL) as session:
        merged = merge_parcels(
            session, versions, keep, _settings(), new_id.strip() if new_id else None
        )
        response = _features_response(session, [merged])
    return response
