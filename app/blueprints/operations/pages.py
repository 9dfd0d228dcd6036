"""Entry of occupancy and O&M cost records from the parcel page (editors, CSRF-checked forms).

The forms post here; the record goes through `registry.operations.records`, the same rules as
the API and the imports, and the answer is the parcel page again with what was saved or every
problem by field, so an editor never loses the page they were on.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from app.auth import actor_name
from app.auth import editing_roles
from app.auth import require_role
from app.city import fiscal_year_start_month
from app.database import db_session
from app.database import session_factory
from registry.db import unit_of_work
from registry.fields import RecordInvalid
from registry.operations.queries import OperationsQuery
from registry.operations.queries import list_costs
from registry.operations.queries import list_occupancy
from registry.operations.records import create_cost
from registry.operations.records import create_occupancy
from registry.operations.validation import COST_FIELDS
from registry.operations.validation import OCCUPANCY_FIELDS
from registry.parcels.queries import building_is_on_parcel
from registry.vocabulary import COST_CATEGORIES

bp = Blueprint("parcel_operations", __name__)

ANCHOR = "#operations"


def parcel_operations(session: Session, parcel_id: str) -> dict[str, Any]:
    """What the parcel page's "Occupancy and costs" section shows: its records and the
    categories the cost form offers."""
    start_month = fiscal_year_start_month()
    query = OperationsQuery(parcel_id=parcel_id, fiscal_year_start_month=start_month)
    return {
        "occupancy": list_occupancy(session, query),
        "costs": list_costs(session, query),
        "cost_categories": COST_CATEGORIES,
    }


def _form(fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: request.form[name] for name in fields if request.form.get(name, "").strip()}


def _save(parcel_id: str, what: str, saving: Any) -> Response:
    db_session().close()  # a request never holds two pooled connections
    try:
        with unit_of_work(session_factory(), actor_name()) as session:
            record_id = saving(session)
        flash(f"Saved {what} record {record_id}.")
    except RecordInvalid as invalid:
        problems = "; ".join(f"{p.field}: {p.message}" for p in invalid.problems)
        flash(f"The {what} record was not saved: {problems}", "error")
    return redirect(url_for("parcels.parcel_page", parcel_id=parcel_id) + ANCHOR)


def _own_building(parcel_id: str, building_id: str | None) -> None:
    """The occupancy form offers this parcel's buildings; another's is a tampered form."""
    if building_id and not building_is_on_parcel(db_session(), building_id, parcel_id):
        abort(400, description=f"Building {building_id} is not on parcel {parcel_id}.")


@bp.post("/parcels/<parcel_id>/costs")
@require_role(*editing_roles)
def add_cost(parcel_id: str) -> Response:
    data = {**_form(COST_FIELDS), "parcel_id": parcel_id}
    return _save(parcel_id, "cost", lambda session: create_cost(session, data))


@bp.post("/parcels/<parcel_id>/occupancy")
@require_role(*editing_roles)
def add_occupancy(parcel_id: str) -> Response:
    data = _form(OCCUPANCY_FIELDS)
    _own_building(parcel_id, data.get("building_id"))
    return _save(parcel_id, "occupancy", lambda session: create_occupancy(session, data))
