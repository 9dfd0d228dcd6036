"""`/api/openapi.json`: a valid OpenAPI 3.0 document that stays true to the routes of the app."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from app.openapi import api_document

# Besides /api/…, the routes the JSON API's document describes (CONTRACT's JSON API table).
DESCRIBED_OUTSIDE_API = ("/kpi/export", "/portfolio/export", "/healthz", "/tiles/")
_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def _routes(app: Flask) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every route the document must describe."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/", *DESCRIBED_OUTSIDE_API)):
            continue
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        routes |= {(method.lower(), path) for method in rule.methods or () if method.isupper()}
    return {(method, path) for method, path in routes if method not in ("head", "options")}


def _described() -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, item in api_document()["paths"].items()
        for method in item
        if method != "parameters"
    }


def test_every_api_route_is_in_the_document_and_every_operation_is_a_route(app: Flask) -> None:
    routes, described = _routes(app), _described()
    assert routes - described == set(), "routes the document does not describe"
    assert described - routes == set(), "operations the app does not have"


def test_the_document_is_valid_openapi_3() -> None:
    document = api_document()
    assert document["openapi"].startswith("3.0")
    validate(document)


def test_every_write_requires_if_match_and_every_creation_answers_location_and_etag() -> None:
    for path, item in api_document()["paths"].items():
        for method in ("patch", "delete"):
            if method in item:
                names = [p["name"] for p in item[method]["parameters"] if p["in"] == "header"]
                assert names == ["If-Match"], (method, path)
                assert "412" in item[method]["responses"] and "428" in item[method]["responses"]
        created = item.get("post", {}).get("responses", {}).get("201")
        if created:
            assert created["headers"]["Location"]["required"], path


def test_money_in_a_request_is_a_decimal_string_or_a_whole_number_never_a_fraction() -> None:
    money = api_document()["components"]["schemas"]["CostInput"]["properties"]["amount"]
    kinds = {alternative["type"] for alternative in money["oneOf"]}
    assert kinds == {"string", "integer"}, "a JSON number with a fraction is never money"


def test_errors_are_problem_documents_listing_field_and_message() -> None:
    document = api_document()
    problem = document["components"]["schemas"]["Problem"]
    assert {"title", "status", "detail", "errors"} <= set(problem["properties"])
    assert document["components"]["schemas"]["FieldError"]["required"] == ["field", "message"]
    create = document["paths"]["/api/parcels"]["post"]["responses"]["422"]
    assert list(create["content"]) == ["application/problem+json"]


def test_the_document_is_public_and_cacheable(client: FlaskClient) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "public" in response.headers["Cache-Control"]
    assert response.get_json()["paths"]["/api/parcels"]
    again = client.get("/api/openapi.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
