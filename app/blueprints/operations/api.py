"""JSON API for occupancy (`/api/occupancy`) and O&M costs (`/api/costs`), shaped like leases.

Both are the same five endpoints over `registry.operations.records`, so one factory builds the
two blueprints: lists filtered by `parcel_id`, `building_id` and `fiscal_year`, reads with an
`ETag`, writes with `If-Match`. Costs and headcounts are internal figures: every signed-in role
reads, editors and admins write, anonymous callers get 401. Money travels as decimal strings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from sqlalchemy.orm import Session

from app.auth import actor_name, editing_roles, reading_roles, require_role
from app.database import db_session, session_factory
from app.etags import expected_version, version_conflict_problem
from app.problems import ProblemError
from app.request_json import json_object_body
from registry.db import unit_of_work
from registry.errors import NotFound, VersionConflict
from registry.fields import FieldProblem, RecordInvalid
from registry.operations import records as records

JSON = "application/json"
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class _Kind:
    """What differs between the two record kinds: names and the service functions."""

    name: str  # "occupancy", "cost"
    plural: str  # the list's key
    as_dict: Callable[[Session, int], dict[str, Any]]
    listing: Callable[[Session, records.OperationsQuery], list[dict[str, Any]]]
    create: Callable[[Session, Any], int]
    update: Callable[[Session, int, int, Any], int]
    delete: Callable[[Session, int, int], None]


OCCUPANCY = _Kind("occupancy", "occupancy", records.occupancy_as_dict, records.list_occupancy,
                  records.create_occupancy, records.update_occupancy, records.delete_occupancy)
COSTS = _Kind("cost", "costs", records.cost_as_dict, records.list_costs, records.create_cost,
              records.update_cost, records.delete_cost)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, default=str), status=status, mimetype=JSON)


@contextmanager
def _domain_errors(kind: _Kind) -> Iterator[None]:
    """Map the domain's exceptions to problem documents, in one place."""
    try:
        yield
    except RecordInvalid as error:
        raise ProblemError(422, f"The {kind.name} record is not valid",
                           "Correct the fields listed in errors.",
                           [problem.as_dict() for problem in error.problems]) from error
    except NotFound as error:
        raise ProblemError(404, f"{kind.name.capitalize()} record not found",
                           str(error)) from error
    except VersionConflict as conflict:
        raise version_conflict_problem(
            f"{kind.name} record", conflict.current_version, conflict.changed_by,
            conflict.changed_at, kind.as_dict(db_session(), int(conflict.key)),
        ) from conflict



def _query() -> records.OperationsQuery:
    args, errors = request.args, []
    year = args.get("fiscal_year", "").strip().upper().removeprefix("FY") or None
    if year is not None and not (year.isdigit() and 1901 <= int(year) <= 2199):
        errors.append(FieldProblem("fiscal_year", "must be a fiscal year such as 2026"))
    limit = args.get("limit") or "1000"
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
        errors.append(FieldProblem("limit", f"must be a whole number from 1 to {MAX_LIMIT}"))
    if errors:
        raise ProblemError(400, "Bad query", "", [error.as_dict() for error in errors])
    return records.OperationsQuery(
        parcel_id=args.get("parcel_id") or None, building_id=args.get("building_id") or None,
        fiscal_year=int(year) if year else None, limit=int(limit),
        fiscal_year_start_month=current_app.config["REGISTRY_SETTINGS"].fiscal_year_start_month,
    )


def _record_response(kind: _Kind, session: Session, record_id: int,
                     status: int = 200) -> Response:
    record = kind.as_dict(session, record_id)
    response = _json(record, status)
    response.set_etag(f"v{record['version']}")
    return response


def make_blueprint(kind: _Kind, name: str, prefix: str) -> Blueprint:
    """The list, create, read, change and delete endpoints of one record kind."""
    bp = Blueprint(name, __name__, url_prefix=prefix)

    def write(operation: Callable[[Session], int], status: int = 200) -> Response:
        db_session().close()  # a request never holds two pooled connections (see parcel_api)
        with _domain_errors(kind), unit_of_work(session_factory(), actor_name()) as session:
            return _record_response(kind, session, operation(session), status)

    @bp.get("")
    @require_role(*reading_roles)
    def list_all() -> Response:
        return _json({kind.plural: kind.listing(db_session(), _query())})

    @bp.post("")
    @require_role(*editing_roles)
    def create() -> Response:
        body = json_object_body()
        response = write(lambda session: kind.create(session, body), 201)
        record_id = json.loads(response.get_data())["id"]
        response.headers["Location"] = url_for(f"{name}.read", record_id=record_id)
        return response

    @bp.get("/<int:record_id>")
    @require_role(*reading_roles)
    def read(record_id: int) -> Response:
        with _domain_errors(kind):
            return _record_response(kind, db_session(), record_id)

    @bp.patch("/<int:record_id>")
    @require_role(*editing_roles)
    def patch(record_id: int) -> Response:
        expected = expected_version(f"{kind.name} record")
        body = json_object_body()

        def apply(session: Session) -> int:
            kind.update(session, record_id, expected, body)
            return record_id

        return write(apply)

    @bp.delete("/<int:record_id>")
    @require_role(*editing_roles)
    def delete(record_id: int) -> Response:
        expected = expected_version(f"{kind.name} record")
        db_session().close()
        with _domain_errors(kind), unit_of_work(session_factory(), actor_name()) as session:
            kind.delete(session, record_id, expected)
        return Response(status=204)

    return bp


occupancy_bp = make_blueprint(OCCUPANCY, "occupancy_api", "/api/occupancy")
costs_bp = make_blueprint(COSTS, "cost_api", "/api/costs")
