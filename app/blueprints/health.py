from __future__ import annotations

from flask import Blueprint
from flask import jsonify

from app.database import engine
from registry.db import database_answers

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    if database_answers(engine()):
        return jsonify(status="ok", database="ok")
    return jsonify(status="unavailable", database="unreachable"), 503
