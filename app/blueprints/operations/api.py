"""JSON API for occupancy (`/api/occupancy`) and O&M costs (`/api/costs`), shaped like leases.

Both are the same five endpoints over `registry.operations.records`, so one factory builds the
two blueprints: lists filtered by `parcel_id`, `building_id` and `fiscal_year`, reads with an
`ETag`, writes with `If-Match`. Costs and headcounts are internal figures: every signed-in role
reads, editors and admins write, anonymous callers get 401. Money travels as decimal strings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import request
from sqlalchemy.orm import Session

from app import api
from app import api_routes
from app.auth import reading_roles
from app.auth import require_role
from app.database import db_session
from registry.fields import FieldProblem
from registry.fields import whole_number
from registry.operations import queries
from registry.operations import records

MAX_LIMIT = 10_000


@dataclass(frozen=True)
class _Kind:
    """What differs between the two record kinds: names and the service functions."""

    name: str  # "occupancy", "cost"
    plural: str  # the list's key
    as_dict: Callable[[Session, int], dict[str, Any]]
    listing: Callable[[Session, queries.OperationsQuery], list[dict[str, Any]]]
    create: Callable[[Session, Any], int]
    update: Callable[[Session, int, int, Any], int]
    delete: Callable[[Session, int, int], None]


OCCUPANCY = _Kind(
    "occupancy",
    "occupancy",
    records.occupancy_as_dict,
    queries.list_occupancy,
    records.create_occupancy,
    records.update_occupancy,
    records.delete_occupancy,
)
COSTS = _Kind(
    "cost",
    "costs",
    records.cost_as_dict,
    queries.list_costs,
    records.create_cost,
    records.update_cost,
    records.delete_cost,
)


def _query() -> queries.OperationsQuery:
    args, errors = request.args, []
    year = args.get("fiscal_year", "").strip().upper().removeprefix("FY") or None
    number = whole_number(year) if year is not None else None
    if year is not None and not (number is not None and 1901 <= number <= 2199):
        errors.append(FieldProblem("fiscal_year", "must be a fiscal year such as 2026"))
    limit = api.page_limit(errors, 1000, MAX_LIMIT)
    api.bad_query(errors)
    return queries.OperationsQuery(
        parcel_id=args.get("parcel_id") or None,
        building_id=args.get("building_id") or None,
        fiscal_year=number,
        limit=limit,
        fiscal_year_start_month=current_app.config["REGISTRY_SETTINGS"].fiscal_year_start_month,
    )


def make_blueprint(kind: _Kind, name: str, prefix: str) -> Blueprint:
    """The list, create, read, change and delete endpoints of one record kind."""
    bp = Blueprint(name, __name__, url_prefix=prefix)
    resource = api.Resource(
        f"{kind.name} record",
        lambda session, record_id: api.dict_record(kind.as_dict(session, record_id)),
        f"{name}.read",
        "record_id",
    )

    @bp.get("")
    @require_role(*reading_roles)
    def list_all() -> Response:
        return api.json_response({kind.plural: kind.listing(db_session(), _query())})

    api_routes.record_routes(
        bp,
        resource,
        create=kind.create,
        update=kind.update,
        delete=kind.delete,
        key_converter="int:",
    )
    return bp


occupancy_bp = make_blueprint(OCCUPANCY, "occupancy_api", "/api/occupancy")
costs_bp = make_blueprint(COSTS, "cost_api", "/api/costs")
