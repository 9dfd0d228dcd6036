"""JSON or HTML for every `/ogc` resource, links between them, and who is asking.

JSON unless the caller asks for HTML (`f=html`, or an `Accept` that prefers `text/html`, as a
browser's does): GIS clients often send no `Accept` at all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Response
from flask import current_app
from flask import render_template
from flask import request
from flask import url_for
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.auth import current_user
from app.database import read_engine
from app.problems import ProblemError
from registry.city.profile import city_profile
from registry.features.crs import Crs
from registry.features.crs import supported_crs
from registry.settings import Settings

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA = "application/schema+json"


def settings() -> Settings:
    return current_app.config["REGISTRY_SETTINGS"]


def public_view() -> bool:
    """Anonymous callers see the public fields, and only when the city publishes its map."""
    if current_user() is not None:
        return False
    if not settings().public_map:
        raise ProblemError(401, "Authentication required", "Sign in to read the city's features.")
    return True


def wants_html() -> bool:
    wanted = request.args.get("f")
    if wanted in ("html", "json"):
        return wanted == "html"
    if wanted is not None:
        raise ProblemError(400, "Bad query", "f must be json or html.", [_field("f")])
    accept = request.accept_mimetypes
    if not request.headers.get("Accept"):
        return False
    return accept.quality(HTML) > max(
        accept.quality(JSON), accept.quality(GEOJSON), accept.quality(SCHEMA)
    ) or (accept.best == HTML)


def _field(name: str) -> dict[str, str]:
    return {"field": name, "message": "must be json or html"}


@contextmanager
def reading() -> Iterator[Connection]:
    """A connection of the read engine (the replica when one is configured)."""
    with read_engine().connect() as connection:
        yield connection


#: how long the CRS offer is kept per app: it changes only when the city's extent does, and
#: reading the profile on every page would be two more statements per request
CRS_OFFER_SECONDS = 60.0
_CRS_OFFER = "ogc_crs_offer"


def crs_offer() -> tuple[Crs, ...]:
    """The CRSs offered: they include the city's local one, found from its extent."""
    cached = current_app.extensions.get(_CRS_OFFER)
    now, local = time.monotonic(), settings().local_srid
    if cached is not None and now - cached[0] < CRS_OFFER_SECONDS and cached[1] == local:
        return cached[2]
    with reading() as connection, Session(bind=connection) as session:
        offer = supported_crs(city_profile(session, settings()).extent, local)
    current_app.extensions[_CRS_OFFER] = (now, local, offer)
    return offer


def link(rel: str, href: str, type_: str, title: str = "") -> dict[str, str]:
    found = {"rel": rel, "href": href, "type": type_}
    if title:
        found["title"] = title
    return found


def self_links(endpoint: str, json_type: str = JSON, **values: Any) -> list[dict[str, str]]:
    """`self` in the format answered and `alternate` in the other one."""
    as_html = wants_html()
    json_link = url_for(endpoint, _external=True, **values, f="json")
    html_link = url_for(endpoint, _external=True, **values, f="html")
    return [
        link("self", html_link if as_html else json_link, HTML if as_html else json_type),
        link("alternate", json_link if as_html else html_link, json_type if as_html else HTML),
    ]


def respond(
    body: dict[str, Any], template: str, media_type: str = JSON, **context: Any
) -> Response:
    """`body` as JSON, or the HTML page `template` showing it."""
    if wants_html():
        return Response(render_template(f"ogc/{template}", body=body, **context), mimetype=HTML)
    return Response(json.dumps(body, default=str), mimetype=media_type)
