"""CQL2 (text and JSON) read and compiled to parameterised SQL: each operator, errors that say
what and where, and injection attempts that stay values (run against the sample in PostGIS)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.features.collections import PARCELS
from registry.features.cql2 import compile_filter
from registry.features.cql2 import parse_filter
from registry.features.cql2_text import parse_cql2_text
from registry.features.crs import CRS84
from registry.features.crs import Crs
from registry.features.filter_errors import FilterError
from tests.auth_fixtures import LoginHelper
from tests.auth_fixtures import bearer

STATUS = {"property": "status"}
DISTRICT = {"property": "council_district"}
LON_LAT = Crs(CRS84, 4326)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status = 'in_use'", {"op": "=", "args": [STATUS, "in_use"]}),
        ("council_district <> 4", {"op": "<>", "args": [DISTRICT, Decimal(4)]}),
        ("council_district < 4", {"op": "<", "args": [DISTRICT, Decimal(4)]}),
        ("council_district <= 4.5", {"op": "<=", "args": [DISTRICT, Decimal("4.5")]}),
        ("council_district > -1", {"op": ">", "args": [DISTRICT, Decimal(-1)]}),
        ("council_district >= 1e1", {"op": ">=", "args": [DISTRICT, Decimal("1e1")]}),
        (
            "status = 'a' and (council_district = 1 OR council_district = 2)",
            {
                "op": "and",
                "args": [
                    {"op": "=", "args": [STATUS, "a"]},
                    {
                        "op": "or",
                        "args": [
                            {"op": "=", "args": [DISTRICT, Decimal(1)]},
                            {"op": "=", "args": [DISTRICT, Decimal(2)]},
                        ],
                    },
                ],
            },
        ),
        ("NOT status = 'a'", {"op": "not", "args": [{"op": "=", "args": [STATUS, "a"]}]}),
        ("\"status\" LIKE 'in%'", {"op": "like", "args": [STATUS, "in%"]}),
        (
            "status NOT LIKE 'in%'",
            {"op": "not", "args": [{"op": "like", "args": [STATUS, "in%"]}]},
        ),
        ("status IN ('a', 'b')", {"op": "in", "args": [STATUS, ["a", "b"]]}),
        (
            "council_district BETWEEN 1 AND 3",
            {"op": "between", "args": [DISTRICT, Decimal(1), Decimal(3)]},
        ),
        ("status IS NULL", {"op": "isNull", "args": [STATUS]}),
        (
            "status IS NOT NULL",
            {"op": "not", "args": [{"op": "isNull", "args": [STATUS]}]},
        ),
        (
            "acquisition_date < DATE('2020-01-01')",
            {"op": "<", "args": [{"property": "acquisition_date"}, {"date": "2020-01-01"}]},
        ),
        (
            "S_INTERSECTS(geometry, POINT(-118.2 34.05))",
            {
                "op": "s_intersects",
                "args": [
                    {"property": "geometry"},
                    {"type": "Point", "coordinates": [-118.2, 34.05]},
                ],
            },
        ),
        (
            "s_intersects(geometry, BBOX(-118.3, 34, -118.2, 34.1))",
            {
                "op": "s_intersects",
                "args": [{"property": "geometry"}, {"bbox": [-118.3, 34.0, -118.2, 34.1]}],
            },
        ),
        (
            "S_INTERSECTS(geometry, MULTIPOINT((1 2), (3 4)))",
            {
                "op": "s_intersects",
                "args": [
                    {"property": "geometry"},
                    {"type": "MultiPoint", "coordinates": [[1.0, 2.0], [3.0, 4.0]]},
                ],
            },
        ),
        ("status = 'it''s'", {"op": "=", "args": [STATUS, "it's"]}),
    ],
)
def test_cql2_text_reads_into_its_json_form(text: str, expected: dict[str, Any]) -> None:
    assert parse_cql2_text(text) == expected


def test_every_value_is_a_bound_parameter_and_never_part_of_the_sql() -> None:
    compiled = compile_filter(
        parse_cql2_text(
            "status IN ('surplus', 'x') AND address LIKE '%Main%' AND "
            "S_INTERSECTS(geometry, POLYGON((-118 34, -118.1 34, -118.1 34.1, -118 34)))"
        ),
        PARCELS,
        False,
        LON_LAT,
    )
    for value in ("surplus", "Main", "-118"):
        assert value not in compiled.sql
    assert "p.status IN" in compiled.sql and "ST_Intersects(p.geom" in compiled.sql
    assert "surplus" in compiled.params.values()


def test_a_polygon_in_wkt_and_in_geojson_compile_alike() -> None:
    wkt = parse_cql2_text("S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 0)))")
    geojson = parse_filter(
        json.dumps(
            {
                "op": "s_intersects",
                "args": [
                    {"property": "geometry"},
                    {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
                ],
            }
        ),
        "cql2-json",
    )
    one, other = (compile_filter(node, PARCELS, True, LON_LAT) for node in (wkt, geojson))
    assert one.sql == other.sql and one.params == other.params


def test_filter_crs_epsg_4326_flips_the_geometry_to_longitude_first() -> None:
    compiled = compile_filter(
        parse_cql2_text("S_INTERSECTS(geometry, POINT(34 -118))"),
        PARCELS,
        True,
        Crs("http://www.opengis.net/def/crs/EPSG/0/4326", 4326, lat_first=True),
    )
    assert "ST_FlipCoordinates" in compiled.sql


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("status", "expected a comparison"),
        ("status = 'a' AND", "at character 17"),
        ("(status = 'a'", "closing ')'"),
        ("status IN ()", "property name or a value"),
        ("council_district BETWEEN 1 2", "AND between the two bounds"),
        ("status ~ 'a'", "unexpected character '~'"),
        ("S_INTERSECTS(geometry, POINT(1))", "2 or 3 numbers"),
        ("S_INTERSECTS(geometry, BBOX(1, 2, 3))", "BBOX takes 4 numbers"),
        ("S_INTERSECTS(status, POINT(1 2))", "geometry property"),
        ("S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(1 2)))", "not supported"),
        ("acquisition_date = DATE('2020-02-30')", "not a date"),
        ("status LIKE 5", "LIKE compares text"),
        ("council_district BETWEEN 'a' AND 'b'", "council_district is a number"),
        ("status = TRUE", "status is text"),
        ("geometry = 'x'", "compare it with S_INTERSECTS"),
        ("(" * 60 + "status = 'a'" + ")" * 60, "deeper than 50"),
    ],
)
def test_a_malformed_text_filter_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(FilterError) as raised:
        compile_filter(parse_cql2_text(text), PARCELS, False, LON_LAT)
    assert says in str(raised.value)


@pytest.mark.parametrize(
    ("node", "says"),
    [
        ({"op": "=", "args": [STATUS]}, "takes 2 argument(s)"),
        ({"op": "xor", "args": [True, False]}, "unknown operator 'xor'"),
        ({"op": "=", "args": "status"}, "as a list"),
        ({"args": []}, "expected a condition"),
        ({"op": "in", "args": [STATUS, []]}, "non-empty list"),
        ({"op": "=", "args": [{"property": 5}, 1]}, "property name must be text"),
        ({"op": "=", "args": [STATUS, [1]]}, "expected a property or a value"),
        (
            {"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Circle"}]},
            "not supported",
        ),
        (
            {
                "op": "s_intersects",
                "args": [
                    {"property": "geometry"},
                    {"type": "Point", "coordinates": ["x", "y"]},
                ],
            },
            "must be a number",
        ),
    ],
)
def test_a_malformed_json_filter_says_what_is_wrong(node: dict[str, Any], says: str) -> None:
    with pytest.raises(FilterError) as raised:
        compile_filter(node, PARCELS, False, LON_LAT)
    assert says in str(raised.value)


def test_invalid_json_names_the_character() -> None:
    with pytest.raises(FilterError) as raised:
        parse_filter('{"op": "=", "args": [', "cql2-json")
    assert "not valid JSON" in str(raised.value) and "character" in str(raised.value)


def test_a_geometry_of_too_many_points_is_refused() -> None:
    ring = [[float(i), 0.0] for i in range(10_001)]
    node = {
        "op": "s_intersects",
        "args": [{"property": "geometry"}, {"type": "LineString", "coordinates": ring}],
    }
    with pytest.raises(FilterError, match="at most 10,000 points"):
        compile_filter(node, PARCELS, False, LON_LAT)


ITEMS = "/ogc/collections/parcels/items"


def _matched(client: FlaskClient, cql: str, lang: str = "cql2-text") -> int:
    response = client.get(ITEMS, query_string={"filter": cql, "filter-lang": lang, "limit": "1"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return int(json.loads(response.get_data())["numberMatched"])


@pytest.mark.parametrize(
    "attack",
    [
        "status = 'x'' OR ''1''=''1'",
        "status = 'x''; DROP TABLE parcels; --'",
        "address LIKE '%'' OR true --'",
    ],
)
def test_injection_in_a_value_stays_a_value(sample_client: FlaskClient, attack: str) -> None:
    assert _matched(sample_client, attack) == 0
    assert _matched(sample_client, "status IS NOT NULL") == 2400  # the table is still there


@pytest.mark.parametrize(
    "attack",
    [
        "\"status = status OR true --\" = 'x'",
        "\"status; DROP TABLE parcels\" = 'x'",
        "p.status = 'in_use'",
    ],
)
def test_injection_in_a_property_name_is_an_unknown_property(
    sample_client: FlaskClient, attack: str
) -> None:
    response = sample_client.get(ITEMS, query_string={"filter": attack})
    assert response.status_code == 400
    assert "not a queryable property" in json.loads(response.get_data())["errors"][0]["message"]


def test_injection_through_the_json_encoding_stays_a_value(sample_client: FlaskClient) -> None:
    attack = {"op": "=", "args": [STATUS, "in_use' OR '1'='1"]}
    assert _matched(sample_client, json.dumps(attack), "cql2-json") == 0


def test_what_the_database_refuses_is_a_400_not_a_500(
    sample_app: Flask, sample_client: FlaskClient
) -> None:
    staff = bearer(LoginHelper().token(sample_app, "ogc-cql2@city.example", "viewer"))
    response = sample_client.get(
        ITEMS, query_string={"filter": "land_area_sq_ft > 1e200000"}, headers=staff
    )
    assert response.status_code == 400, response.get_data(as_text=True)
    problem = json.loads(response.get_data())
    assert (
        problem["errors"][0]["field"] == "filter" and "overflow" in problem["errors"][0]["message"]
    )
