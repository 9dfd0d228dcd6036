"""OGC API – Features, read side (Parts 1–3), through the Flask client against the shipped sample
(2,400 parcels in real PostGIS): resources and links, formats, who sees which fields, paging over
every feature, CRS output and bbox-crs, CQL2 filters in both encodings, sortby, properties,
datetime, and errors as problem documents naming the parameter."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pyproj import Transformer
from sqlalchemy import text

from app.database import session_factory
from registry.settings import Settings
from tests.auth_fixtures import LoginHelper
from tests.auth_fixtures import bearer
from tests.parcel_fixtures import add_departments
from tests.parcel_fixtures import create
from tests.parcel_fixtures import etag
from tests.parcel_fixtures import square
from tests.parcel_fixtures import token_client

ITEMS = "/ogc/collections/parcels/items"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
PUBLIC_FIELDS = {"parcel_id", "address", "department", "use", "status"}
# a box in the sample's north-west (Chatsworth), holding a few dozen parcels
BOX = (-118.66, 34.22, -118.55, 34.33)


@pytest.fixture(scope="module")
def staff(sample_app: Flask) -> dict[str, str]:
    return bearer(LoginHelper().token(sample_app, "ogc-reader@city.example", "viewer"))


def _json(client: FlaskClient, url: str, status: int = 200, **kwargs: Any) -> dict[str, Any]:
    response = client.get(url, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return json.loads(response.get_data())


def _ids(collection: dict[str, Any]) -> list[str]:
    return [feature["id"] for feature in collection["features"]]


def _database(app: Flask, sql: str, **params: Any) -> Any:
    with app.app_context(), session_factory()() as session:
        return session.execute(text(sql), params).all()


def _box(values: tuple[float, ...]) -> str:
    return ",".join(str(v) for v in values)


# -- resources -------------------------------------------------------------------------------


def test_the_landing_page_links_the_api_definition_conformance_and_collections(
    sample_client: FlaskClient,
) -> None:
    response = sample_client.get("/ogc")
    assert response.mimetype == "application/json"  # no Accept: JSON
    links = {link["rel"]: link for link in json.loads(response.get_data())["links"]}
    assert {"self", "alternate", "service-desc", "conformance", "data"} <= set(links)
    assert links["service-desc"]["href"].endswith("/ogc/api")
    assert links["service-desc"]["type"].startswith("application/vnd.oai.openapi+json")
    assert links["data"]["href"].endswith("/ogc/collections")


@pytest.mark.parametrize(
    "path",
    [
        "/ogc",
        "/ogc/conformance",
        "/ogc/api",
        "/ogc/collections",
        "/ogc/collections/parcels",
        "/ogc/collections/parcels/queryables",
        ITEMS + "?limit=5",
        "/ogc/collections/districts/items",
    ],
)
def test_every_resource_is_html_for_a_browser_and_json_with_f_json(
    sample_client: FlaskClient, path: str
) -> None:
    page = sample_client.get(path, headers={"Accept": BROWSER_ACCEPT})
    assert page.mimetype == "text/html"
    body = page.get_data(as_text=True)
    assert '<html lang="en">' in body and "<h1>" in body
    joined = "&" if "?" in path else "?"
    as_json = sample_client.get(path + joined + "f=json", headers={"Accept": BROWSER_ACCEPT})
    assert as_json.mimetype != "text/html"
    json.loads(as_json.get_data())


def test_conformance_declares_parts_1_to_4_and_cql2(sample_client: FlaskClient) -> None:
    declared = set(_json(sample_client, "/ogc/conformance")["conformsTo"])
    for uri in (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
        "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    ):
        assert uri in declared


def test_the_api_definition_bounds_limit_and_marks_part_4_as_needing_a_token(
    sample_client: FlaskClient,
) -> None:
    document = _json(sample_client, "/ogc/api")
    assert document["openapi"].startswith("3.0")
    limit = document["components"]["parameters"]["limit"]["schema"]
    assert (limit["maximum"], limit["default"]) == (10_000, 100)
    writes = document["paths"]["/collections/parcels/items/{featureId}"]
    assert {"put", "patch", "delete"} <= set(writes)
    assert writes["patch"]["security"] == [{"bearerToken": []}]
    assert "get" in document["paths"]["/collections/{collectionId}/items"]


def test_the_collections_offer_four_crs_with_the_citys_local_one_and_an_extent(
    sample_client: FlaskClient,
) -> None:
    listed = _json(sample_client, "/ogc/collections")["collections"]
    assert [c["id"] for c in listed] == ["parcels", "buildings", "leased-parcels", "districts"]
    parcels = _json(sample_client, "/ogc/collections/parcels")
    assert parcels["crs"] == [
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "http://www.opengis.net/def/crs/EPSG/0/4326",
        "http://www.opengis.net/def/crs/EPSG/0/3857",
        "http://www.opengis.net/def/crs/EPSG/0/32611",  # Los Angeles: UTM zone 11 north
    ]
    assert parcels["storageCrs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    west, south, east, north = parcels["extent"]["spatial"]["bbox"][0]
    assert -119 < west < east < -118 and 33.5 < south < north < 34.5
    rels = {link["rel"] for link in parcels["links"]}
    assert {"items", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= rels


def test_an_unknown_collection_is_a_404_problem(sample_client: FlaskClient) -> None:
    response = sample_client.get("/ogc/collections/users/items")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert "parcels" in json.loads(response.get_data())["detail"]
    nowhere = sample_client.get("/ogc/collections/parcels/elsewhere")
    assert nowhere.status_code == 404 and nowhere.mimetype == "application/problem+json"
    in_a_browser = sample_client.get("/ogc/nowhere", headers={"Accept": BROWSER_ACCEPT})
    assert in_a_browser.status_code == 404 and in_a_browser.mimetype == "text/html"


# -- who sees what ---------------------------------------------------------------------------


def test_anonymous_visitors_see_the_public_fields_and_staff_see_the_rest(
    sample_client: FlaskClient, staff: dict[str, str]
) -> None:
    public = _json(sample_client, ITEMS + "?limit=20")
    assert all(set(f["properties"]) == PUBLIC_FIELDS for f in public["features"])
    signed_in = _json(sample_client, ITEMS + "?limit=20", headers=staff)
    assert all(
        {"acquisition_cost", "council_district", "version"} <= set(f["properties"])
        for f in signed_in["features"]
    )
    queryables = _json(sample_client, "/ogc/collections/parcels/queryables")["properties"]
    assert set(queryables) == PUBLIC_FIELDS | {"geometry"}
    assert (
        "acquisition_cost"
        in _json(sample_client, "/ogc/collections/parcels/queryables", headers=staff)["properties"]
    )


def test_lease_money_is_never_public(sample_client: FlaskClient, staff: dict[str, str]) -> None:
    public = _json(sample_client, "/ogc/collections/leased-parcels/items?limit=500")
    assert public["features"]
    for feature in public["features"]:
        assert not {"market_rent_annual", "discount_rate", "counterparty"} & set(
            feature["properties"]
        )
    signed_in = _json(sample_client, "/ogc/collections/leased-parcels/items?limit=5", headers=staff)
    assert "market_rent_annual" in signed_in["features"][0]["properties"]


def test_filtering_or_sorting_on_a_hidden_field_is_refused_to_the_public(
    sample_client: FlaskClient, staff: dict[str, str]
) -> None:
    for query in ("filter=acquisition_cost > 0", "sortby=acquisition_cost", "properties=version"):
        problem = _json(sample_client, f"{ITEMS}?{query}", 400)
        assert problem["errors"][0]["field"] in {"filter", "sortby", "properties"}
        _json(sample_client, f"{ITEMS}?{query}", headers=staff)


@pytest.fixture
def private_registry(sample_app: Flask) -> Iterator[None]:
    settings = sample_app.config["REGISTRY_SETTINGS"]
    sample_app.config["REGISTRY_SETTINGS"] = dataclasses.replace(settings, public_map=False)
    yield
    sample_app.config["REGISTRY_SETTINGS"] = settings


@pytest.mark.usefixtures("private_registry")
def test_a_city_that_does_not_publish_asks_for_a_sign_in(
    sample_client: FlaskClient, staff: dict[str, str]
) -> None:
    assert sample_client.get(ITEMS).status_code == 401
    assert sample_client.get("/ogc/collections").status_code == 401
    assert sample_client.get(ITEMS, headers=staff).status_code == 200


# -- paging ----------------------------------------------------------------------------------


def test_next_links_walk_every_parcel_once(sample_app: Flask, sample_client: FlaskClient) -> None:
    expected = {
        row[0]
        for row in _database(sample_app, "SELECT parcel_id FROM parcels WHERE retired_at IS NULL")
    }
    page = _json(sample_client, ITEMS + "?limit=700")
    assert page["numberMatched"] == len(expected)
    seen: list[str] = []
    while True:
        seen += _ids(page)
        assert page["numberReturned"] == len(page["features"])
        following = [link["href"] for link in page["links"] if link["rel"] == "next"]
        if not following:
            break
        page = _json(sample_client, following[0].removeprefix("http://localhost"))
    assert len(seen) == len(set(seen)) and set(seen) == expected


def test_limit_goes_up_to_10000_and_no_further(sample_client: FlaskClient) -> None:
    everything = _json(sample_client, ITEMS + "?limit=10000")
    assert everything["numberReturned"] == everything["numberMatched"] == 2400
    assert not [link for link in everything["links"] if link["rel"] == "next"]
    problem = _json(sample_client, ITEMS + "?limit=10001", 400)
    assert problem["errors"][0]["field"] == "limit"
    assert len(_ids(_json(sample_client, ITEMS))) == 100  # the default
    head = sample_client.head(ITEMS + "?limit=10000")  # run, and closed unread
    assert head.status_code == 200 and head.get_data() == b""


def test_sortby_orders_and_pages_by_offset(sample_client: FlaskClient) -> None:
    first = _json(sample_client, ITEMS + "?sortby=-parcel_id&limit=50")
    ids = _ids(first)
    assert ids == sorted(ids, reverse=True)
    following = next(link["href"] for link in first["links"] if link["rel"] == "next")
    assert "offset=50" in following
    second = _json(sample_client, following.removeprefix("http://localhost"))
    assert _ids(second)[0] < ids[-1]
    by_address = _ids(_json(sample_client, ITEMS + "?sortby=+address,parcel_id&limit=3"))
    assert len(by_address) == 3


def test_a_property_as_a_query_parameter_filters_on_equality(
    sample_client: FlaskClient, staff: dict[str, str]
) -> None:
    by_parameter = _ids(_json(sample_client, ITEMS + "?status=surplus&limit=1000"))
    by_filter = _ids(_json(sample_client, ITEMS + "?filter=status='surplus'&limit=1000"))
    assert by_parameter and by_parameter == by_filter
    both = _ids(_json(sample_client, ITEMS + "?status=surplus&filter=status='in_use'&limit=1000"))
    assert both == []
    assert _json(sample_client, ITEMS + "?council_district=4", 400)["errors"][0]["field"] == (
        "council_district"
    )  # not a public field: not a parameter for the public
    district = _json(sample_client, ITEMS + "?council_district=4&limit=1", headers=staff)
    assert district["numberMatched"] > 0
    assert _json(sample_client, ITEMS + "?council_district=four", 400, headers=staff)


def test_properties_chooses_the_fields(sample_client: FlaskClient) -> None:
    page = _json(sample_client, ITEMS + "?properties=status,address&limit=3")
    assert all(set(f["properties"]) == {"status", "address"} for f in page["features"])


# -- CRS ---------------------------------------------------------------------------------------


def _first_corner(collection: dict[str, Any]) -> tuple[float, float]:
    x, y = collection["features"][0]["geometry"]["coordinates"][0][0][0]
    return x, y


@pytest.mark.parametrize(
    ("crs", "epsg", "tolerance"),
    [("EPSG:3857", 3857, 0.02), ("http://www.opengis.net/def/crs/EPSG/0/32611", 32611, 0.02)],
)
def test_a_known_corner_comes_out_in_web_mercator_and_in_the_local_crs(
    sample_client: FlaskClient, crs: str, epsg: int, tolerance: float
) -> None:
    lon, lat = _first_corner(_json(sample_client, ITEMS + "?limit=1"))
    response = sample_client.get(f"{ITEMS}?limit=1&crs={crs}")
    assert response.headers["Content-Crs"] == f"<http://www.opengis.net/def/crs/EPSG/0/{epsg}>"
    x, y = _first_corner(json.loads(response.get_data()))
    expected = Transformer.from_crs("OGC:CRS84", f"EPSG:{epsg}", always_xy=True).transform(lon, lat)
    assert abs(x - expected[0]) < tolerance and abs(y - expected[1]) < tolerance


@pytest.fixture
def state_plane(sample_app: Flask) -> Iterator[None]:
    settings = sample_app.config["REGISTRY_SETTINGS"]
    sample_app.config["REGISTRY_SETTINGS"] = dataclasses.replace(settings, local_srid=2229)
    yield
    sample_app.config["REGISTRY_SETTINGS"] = settings


@pytest.mark.usefixtures("state_plane")
def test_a_city_that_names_its_projected_crs_gets_it_instead_of_utm(
    sample_client: FlaskClient,
) -> None:
    offered = _json(sample_client, "/ogc/collections/parcels")["crs"]
    assert offered[-1] == "http://www.opengis.net/def/crs/EPSG/0/2229"
    lon, lat = _first_corner(_json(sample_client, ITEMS + "?limit=1"))
    x, y = _first_corner(_json(sample_client, f"{ITEMS}?limit=1&crs=EPSG:2229"))
    expected = Transformer.from_crs("OGC:CRS84", "EPSG:2229", always_xy=True).transform(lon, lat)
    assert abs(x - expected[0]) < 0.05 and abs(y - expected[1]) < 0.05  # US survey feet


def test_epsg_4326_puts_latitude_first_in_output_and_in_bbox(sample_client: FlaskClient) -> None:
    lon, lat = _first_corner(_json(sample_client, ITEMS + "?limit=1"))
    flipped = _json(sample_client, f"{ITEMS}?limit=1&crs=EPSG:4326")
    assert _first_corner(flipped) == (lat, lon)
    west, south, east, north = BOX
    by_lon_lat = _ids(_json(sample_client, f"{ITEMS}?bbox={_box(BOX)}&limit=1000"))
    by_lat_lon = _ids(
        _json(
            sample_client,
            f"{ITEMS}?bbox={_box((south, west, north, east))}&bbox-crs=EPSG:4326&limit=1000",
        )
    )
    assert by_lon_lat and by_lon_lat == by_lat_lon


def test_a_bbox_in_web_mercator_finds_what_the_same_box_in_degrees_finds(
    sample_client: FlaskClient,
) -> None:
    to_mercator = Transformer.from_crs("OGC:CRS84", "EPSG:3857", always_xy=True)
    x0, y0 = to_mercator.transform(BOX[0], BOX[1])
    x1, y1 = to_mercator.transform(BOX[2], BOX[3])
    in_degrees = _ids(_json(sample_client, f"{ITEMS}?bbox={_box(BOX)}&limit=1000"))
    in_metres = _ids(
        _json(sample_client, f"{ITEMS}?bbox={_box((x0, y0, x1, y1))}&bbox-crs=EPSG:3857&limit=1000")
    )
    assert in_degrees and in_degrees == in_metres


def test_an_unknown_crs_is_refused_naming_the_parameter(sample_client: FlaskClient) -> None:
    problem = _json(sample_client, f"{ITEMS}?crs=EPSG:2229&bbox-crs=EPSG:9999", 400)
    assert {e["field"] for e in problem["errors"]} == {"crs", "bbox-crs"}


# -- filters -----------------------------------------------------------------------------------


def _filtered(client: FlaskClient, cql: str, lang: str = "cql2-text", **extra: str) -> list[str]:
    response = client.get(
        ITEMS, query_string={"filter": cql, "filter-lang": lang, "limit": "10000", **extra}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return _ids(json.loads(response.get_data()))


def test_text_and_json_filters_find_the_same_parcels(
    sample_app: Flask, sample_client: FlaskClient
) -> None:
    expected = sorted(
        row[0]
        for row in _database(
            sample_app,
            "SELECT parcel_id FROM parcels WHERE retired_at IS NULL AND status IN "
            "('surplus', 'no_current_use') AND address LIKE '%St'",
        )
    )
    assert expected
    as_text = _filtered(
        sample_client, "status IN ('surplus', 'no_current_use') AND address LIKE '%St'"
    )
    as_json = _filtered(
        sample_client,
        json.dumps(
            {
                "op": "and",
                "args": [
                    {
                        "op": "in",
                        "args": [{"property": "status"}, ["surplus", "no_current_use"]],
                    },
                    {"op": "like", "args": [{"property": "address"}, "%St"]},
                ],
            }
        ),
        "cql2-json",
    )
    assert as_text == as_json == expected


def test_between_is_null_not_and_comparisons_against_the_database(
    sample_app: Flask, sample_client: FlaskClient, staff: dict[str, str]
) -> None:
    def count(where: str) -> int:
        return int(
            _database(
                sample_app, f"SELECT count(*) FROM parcels p WHERE retired_at IS NULL AND {where}"
            )[0][0]
        )

    cases = {
        "council_district BETWEEN 3 AND 5": "council_district BETWEEN 3 AND 5",
        "acquisition_date IS NULL": "acquisition_date IS NULL",
        "NOT (status = 'in_use') AND council_district <> 4": (
            "NOT (status = 'in_use') AND council_district <> 4"
        ),
        "acquisition_cost >= 1000000 OR land_area_sq_ft < 5000": (
            "acquisition_cost >= 1000000 OR land_area_sq_ft < 5000"
        ),
        "acquisition_date > DATE('2000-01-01')": "acquisition_date > DATE '2000-01-01'",
    }
    for cql, sql in cases.items():
        response = sample_client.get(
            ITEMS, query_string={"filter": cql, "limit": "1"}, headers=staff
        )
        assert response.status_code == 200, (cql, response.get_data(as_text=True))
        assert json.loads(response.get_data())["numberMatched"] == count(sql), cql


def test_s_intersects_with_wkt_geojson_and_bbox_agree_with_the_bbox_parameter(
    sample_client: FlaskClient,
) -> None:
    west, south, east, north = BOX
    polygon = (
        f"POLYGON(({west} {south}, {east} {south}, {east} {north}, {west} {north}, {west} {south}))"
    )
    by_parameter = _ids(_json(sample_client, f"{ITEMS}?bbox={_box(BOX)}&limit=1000"))
    assert by_parameter
    assert _filtered(sample_client, f"S_INTERSECTS(geometry, {polygon})") == by_parameter
    assert _filtered(sample_client, f"s_intersects(geometry, BBOX({_box(BOX)}))") == by_parameter
    geojson = {
        "op": "s_intersects",
        "args": [
            {"property": "geometry"},
            {
                "type": "Polygon",
                "coordinates": [
                    [[west, south], [east, south], [east, north], [west, north], [west, south]]
                ],
            },
        ],
    }
    assert _filtered(sample_client, json.dumps(geojson), "cql2-json") == by_parameter


def test_filter_crs_reads_the_filters_geometry_in_web_mercator(sample_client: FlaskClient) -> None:
    to_mercator = Transformer.from_crs("OGC:CRS84", "EPSG:3857", always_xy=True)
    x0, y0 = to_mercator.transform(BOX[0], BOX[1])
    x1, y1 = to_mercator.transform(BOX[2], BOX[3])
    in_degrees = _filtered(sample_client, f"S_INTERSECTS(geometry, BBOX({_box(BOX)}))")
    in_metres = _filtered(
        sample_client,
        f"S_INTERSECTS(geometry, BBOX({_box((x0, y0, x1, y1))}))",
        **{"filter-crs": "http://www.opengis.net/def/crs/EPSG/0/3857"},
    )
    assert in_degrees and in_degrees == in_metres


@pytest.mark.parametrize(
    ("cql", "says"),
    [
        ("status = ", "character 10"),
        ("status == 'x'", "character 9"),
        ("status = 'in_use", "not closed"),
        ("status = 5", "status is text"),
        ("owner_ssn = '1'", "not a queryable property"),
        ("status = 'a' OR", "end of the filter"),
        ("S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1)))", "end where it starts"),
    ],
)
def test_a_malformed_filter_is_a_400_saying_what_and_where(
    sample_client: FlaskClient, cql: str, says: str
) -> None:
    response = sample_client.get(ITEMS, query_string={"filter": cql})
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    error = json.loads(response.get_data())["errors"][0]
    assert error["field"] == "filter" and says in error["message"], error


def test_datetime_filters_on_the_acquisition_date_for_staff_and_is_refused_elsewhere(
    sample_app: Flask, sample_client: FlaskClient, staff: dict[str, str]
) -> None:
    in_2010s = int(
        _database(
            sample_app,
            "SELECT count(*) FROM parcels WHERE retired_at IS NULL "
            "AND acquisition_date BETWEEN '2010-01-01' AND '2019-12-31'",
        )[0][0]
    )
    page = _json(sample_client, f"{ITEMS}?datetime=2010-01-01/2019-12-31&limit=1", headers=staff)
    assert page["numberMatched"] == in_2010s
    _json(sample_client, f"{ITEMS}?datetime=2010-01-01/..&limit=1", headers=staff)
    assert _json(sample_client, f"{ITEMS}?datetime=2010-01-01", 400)["errors"][0]["field"] == (
        "datetime"
    )  # the public cannot see the acquisition date
    _json(sample_client, "/ogc/collections/buildings/items?datetime=2010-01-01", 400)
    _json(sample_client, f"{ITEMS}?datetime=yesterday", 400, headers=staff)


def test_an_unknown_parameter_is_refused(sample_client: FlaskClient) -> None:
    problem = _json(sample_client, f"{ITEMS}?colour=red", 400)
    assert problem["errors"][0]["field"] == "colour"
    across = _json(sample_client, f"{ITEMS}?bbox=179,0,-179,1", 400)  # across the antimeridian
    assert across["errors"][0]["field"] == "bbox"


# -- one feature -------------------------------------------------------------------------------


def test_one_feature_has_an_etag_and_answers_304_when_unchanged(
    sample_client: FlaskClient,
) -> None:
    feature_id = _ids(_json(sample_client, ITEMS + "?limit=1"))[0]
    response = sample_client.get(f"{ITEMS}/{feature_id}")
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    etag = response.headers["ETag"]
    assert etag.startswith('"v')
    feature = json.loads(response.get_data())
    assert feature["id"] == feature_id and set(feature["properties"]) == PUBLIC_FIELDS
    assert (
        sample_client.get(f"{ITEMS}/{feature_id}", headers={"If-None-Match": etag}).status_code
        == 304
    )
    hidden = sample_client.get(f"{ITEMS}/{feature_id}?properties=acquisition_cost")
    assert hidden.status_code == 400  # not a public field
    missing = sample_client.get(f"{ITEMS}/no-such-parcel")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_the_items_page_in_html_is_a_table_with_a_map(sample_client: FlaskClient) -> None:
    page = sample_client.get(ITEMS + "?limit=5&f=html").get_data(as_text=True)
    assert 'id="ogc-map"' in page and '<th scope="col">Parcel id</th>' in page
    assert page.count("<tr>") == 6


def test_a_retired_parcel_is_in_no_collection_for_anyone(app: Flask, client: FlaskClient) -> None:
    add_departments(app)
    editor = token_client(app)
    create(editor, "5555-012-034")
    create(editor, "5555-012-035", square(-118.2489))
    retired = editor.delete(
        "/api/parcels/5555-012-035", headers={"If-Match": etag(editor, "5555-012-035")}
    )
    assert retired.status_code == 204
    for reader in (client, editor):
        assert _ids(_json(reader, ITEMS)) == ["5555-012-034"]
        assert reader.get(f"{ITEMS}/5555-012-035").status_code == 404
        assert not _ids(_json(reader, "/ogc/collections/buildings/items"))


def test_registry_local_srid_is_read_from_the_environment() -> None:
    assert Settings.from_env({"REGISTRY_LOCAL_SRID": "2229"}).local_srid == 2229
    assert Settings.from_env({}).local_srid is None
    with pytest.raises(ValueError, match="REGISTRY_LOCAL_SRID"):
        Settings.from_env({"REGISTRY_LOCAL_SRID": "-5"})


def test_the_part_4_operations_declare_every_answer_they_give(
    sample_client: FlaskClient,
) -> None:
    """A client generated from /ogc/api must know a write's 201 carries Location and ETag, and
    that an unreadable (400), oversized (413) or non-GeoJSON (415) body, or the database gone
    (503), are answered as problems; the document stays valid OpenAPI 3.0."""
    from openapi_spec_validator import validate

    document = _json(sample_client, "/ogc/api")
    validate(document)
    create = document["paths"]["/collections/parcels/items"]["post"]["responses"]
    assert {"Location", "ETag"} <= set(create["201"]["headers"])
    one = document["paths"]["/collections/parcels/items/{featureId}"]
    for method in ("post", "put", "patch"):
        operation = create if method == "post" else one[method]["responses"]
        assert {"400", "413", "415", "503"} <= set(operation), method
    assert "ETag" in one["put"]["responses"]["200"]["headers"]
    assert "503" in one["delete"]["responses"]
