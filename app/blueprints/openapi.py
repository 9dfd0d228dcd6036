"""`GET /api/openapi.json`: the JSON API's OpenAPI document, public and cacheable (it holds no
data, and it changes only with a new release)."""

from __future__ import annotations

import hashlib

from flask import Blueprint
from flask import Response
from flask import request
from werkzeug.wrappers import Response as BaseResponse

from app.openapi import api_document_text

bp = Blueprint("openapi", __name__)


@bp.get("/api/openapi.json")
def openapi_document() -> BaseResponse:
    text = api_document_text()
    response = Response(text, mimetype="application/json")
    response.set_etag(hashlib.sha256(text.encode()).hexdigest()[:32])
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response.make_conditional(request)
