"""Parcel pages."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from app.database import db_session
from registry.parcels import ParcelNotFound, get_parcel_record
from registry.vocabulary import STATUS_LABELS

bp = Blueprint("parcels", __name__)


@bp.get("/parcels/<parcel_id>")
def parcel_page(parcel_id: str) -> str:
    try:
        record = get_parcel_record(db_session(), parcel_id)
    except ParcelNotFound:
        abort(404, description=f"There is no parcel {parcel_id} in the registry.")
    return render_template("parcel.html", record=record, status_labels=STATUS_LABELS)
