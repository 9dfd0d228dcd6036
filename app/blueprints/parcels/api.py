"""JSON API for parcels (CONTRACT: /api/parcels…): GeoJSON in and out, ETags, problem+json."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from sqlalchemy.orm import Session

from app.auth import current_user, editing_roles, require_role
from app.database import db_session, session_factory
from app.etags import expected_version, version_conflict_problem
from app.problems import ProblemError
from registry.db import unit_of_work
from registry.errors import NotFound, VersionConflict
from registry.fields import FieldProblem, RecordInvalid
from registry.parcels.features import (
    MAX_PAGE_SIZE,
    ParcelQuery,
    feature_collection,
    list_parcel_features,
    parcel_feature,
)
from registry.parcels.history import parcel_history, restore_parcel_version
from registry.parcels.records import (
    ParcelChange,
    create_parcel,
    retire_parcel,
    update_parcel,
)
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


@contextmanager
def _domain_errors() -> Iterator[None]:
    """Map the domain's exceptions to problem documents, in one place."""
    try:
        yield
    except RecordInvalid as error:
        raise ProblemError(
            422, "The parcel is not valid", "Correct the fields listed in errors.",
            [problem.as_dict() for problem in error.problems],
        ) from error
    except NotFound as error:
        raise ProblemError(404, f"{error.kind.capitalize()} not found", str(error)) from error
    except VersionConflict as conflict:
        current = json.loads(parcel_feature(db_session(), str(conflict.key)).geojson)
        raise version_conflict_problem(
            "parcel", conflict.current_version, conflict.changed_by, conflict.changed_at, current
        ) from conflict


def _feature_response(session: Session, parcel_id: str, status: int = 200,
                      public: bool = False) -> Response:
    feature = parcel_feature(session, parcel_id, public=public)
    response = Response(feature.geojson, status=status, mimetype=GEOJSON)
    response.set_etag(f"v{feature.version}")
    return response


def _json_body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise ProblemError(400, "Bad request", "The body must be JSON (a GeoJSON Feature).")
    return body


def _write(operation: Callable[[Session], str], status: int = 200) -> Response:
    """Run `operation` in one audited transaction and answer with the parcel it names."""
    from app.auth import actor_name

    # Hand back the connection of the request's read session (signing in by cookie used it)
    # before taking one for the write: a request never holds two, so a burst of concurrent
    # saves cannot take the whole pool and then wait for each other's second connection.
    db_session().close()
    with _domain_errors(), unit_of_work(session_factory(), actor_name()) as session:
        parcel_id = operation(session)
        return _feature_response(session, parcel_id, status)


def _parse_query() -> ParcelQuery:
    args, errors = request.args, []
    errors += [FieldProblem(name, "must not contain NUL characters")  # PostgreSQL refuses them
               for name, value in args.items(multi=True) if "\x00" in value]
    bbox = None
    if args.get("bbox"):
        try:
            parts = tuple(float(part) for part in args["bbox"].split(","))
            if len(parts) != 4 or parts[0] > parts[2] or parts[1] > parts[3]:
                raise ValueError
            bbox = (parts[0], parts[1], parts[2], parts[3])
        except ValueError:
            errors.append(FieldProblem("bbox", "must be min_lon,min_lat,max_lon,max_lat"))
    statuses = tuple(s for s in args.get("status", "").split(",") if s)
    errors += [FieldProblem("status", f"unknown status {s!r}") for s in statuses
               if s not in PARCEL_STATUSES]
    limit = args.get("limit") or "100"  # like the other parameters, empty means not given
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_PAGE_SIZE:
        errors.append(FieldProblem("limit", f"must be a whole number from 1 to {MAX_PAGE_SIZE}"))
        limit = "100"
    if errors:
        raise ProblemError(400, "Bad query", "", [e.as_dict() for e in errors])
    return ParcelQuery(
        bbox=bbox, q=args.get("q") or None, statuses=statuses,
        department=args.get("department") or None,
        include_retired=args.get("include_retired") == "true",
        limit=int(limit), cursor=args.get("cursor") or None,
    )


@bp.get("")
def list_parcels() -> Response:
    query = _parse_query()
    page = list_parcel_features(db_session(), query, public=_public_view())
    links = [{"rel": "self", "href": request.url, "type": GEOJSON}]
    if page.next_cursor:
        args = {**request.args.to_dict(), "cursor": page.next_cursor}
        links.append({"rel": "next", "href": url_for("parcel_api.list_parcels", _external=True,
                                                      **args), "type": GEOJSON})
    return Response(feature_collection(page, links), mimetype=GEOJSON)


@bp.post("")
@require_role(*editing_roles)
def create() -> Response:
    with _domain_errors():
        change = ParcelChange.from_feature(_json_body())
    response = _write(lambda session: create_parcel(session, change, _settings()), 201)
    parcel_id = json.loads(response.get_data())["id"]
    response.headers["Location"] = url_for("parcel_api.read", parcel_id=parcel_id)
    return response


@bp.get("/<parcel_id>")
def read(parcel_id: str) -> Response:
    with _domain_errors():
        return _feature_response(db_session(), parcel_id, public=_public_view())


@bp.patch("/<parcel_id>")
@require_role(*editing_roles)
def patch(parcel_id: str) -> Response:
    expected = expected_version("parcel")
    with _domain_errors():
        change = ParcelChange.from_feature(_json_body())

    def apply(session: Session) -> str:
        update_parcel(session, parcel_id, expected, change, _settings())
        return str(change.properties.get("parcel_id") or parcel_id).strip()

    return _write(apply)


@bp.delete("/<parcel_id>")
@require_role(*editing_roles)
def retire(parcel_id: str) -> Response:
    expected = expected_version("parcel")
    def apply(session: Session) -> str:
        retire_parcel(session, parcel_id, expected)
        return parcel_id

    _write(apply)
    return Response(status=204)


@bp.get("/<parcel_id>/history")
def history(parcel_id: str) -> Response:
    if current_user() is None:
        raise ProblemError(401, "Authentication required", "Sign in to read a parcel's history.")
    with _domain_errors():
        entries = parcel_history(db_session(), parcel_id)
    return Response(
        json.dumps({"parcel_id": parcel_id, "history": [e.as_dict() for e in entries]},
                   default=str),
        mimetype="application/json",
    )


@bp.post("/<parcel_id>/history/<int:event_id>/restore")
@require_role(*editing_roles)
def restore(parcel_id: str, event_id: int) -> Response:
    expected = expected_version("parcel")

    def apply(session: Session) -> str:
        restore_parcel_version(session, parcel_id, event_id, expected, _settings())
        return parcel_id

    return _write(apply)


@bp.post("/repair-proposal")
@require_role(*editing_roles)
def repair_proposal() -> Response:
    body = _json_body()
    geometry = body.get("geometry") if isinstance(body, dict) else None
    if not isinstance(geometry, dict):
        raise ProblemError(422, "No geometry", "",
                           [FieldProblem("geometry", "send the shape to repair").as_dict()])
    try:
        proposal = propose_repair(db_session(), geometry)
    except Exception as error:  # any failure here means unreadable GeoJSON
        raise ProblemError(422, "No geometry", "", [FieldProblem(
            "geometry", f"is not readable GeoJSON: {getattr(error, 'orig', error)!s}"
        ).as_dict()]) from error
    return Response(json.dumps(proposal), mimetype="application/json")
