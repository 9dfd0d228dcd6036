"""The open-data page (`/open`), its parcel pages, downloads, tiles and the DCAT-US `data.json`,
read as an anonymous visitor against the shipped sample in a database of this module's own, in
which one parcel is retired and one has an address a spreadsheet would run as a formula."""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas
import jsonschema
import mapbox_vector_tile
import pyogrio
import pytest
from flask import Flask
from flask.testing import FlaskClient
from referencing import Registry
from referencing import Resource
from referencing.jsonschema import DRAFT4
from sqlalchemy import text

from app import create_app
from app import database
from app.database import session_factory
from registry.db import unit_of_work
from registry.parcels.records import retire_parcel
from tests.live_apps import sample_app as live_sample_app
from tests.parcel_fixtures import rows
from tests.parcel_fixtures import scalar
from tests.tiles import tile_of

SCHEMAS = Path(__file__).parent / "data" / "dcat-us-1.1"
SCHEMA_BASE = "https://project-open-data.cio.gov/v1.1/schema/"
FORMULA_ADDRESS = '=HYPERLINK("http://evil.example","Click")'
PUBLIC_COLUMNS = {"parcel_id", "address", "department", "use", "status"}
# Names of fields that are never public: any of them in a public answer is a leak.
PRIVATE_NAMES = (
    "acquisition_cost",
    "acquisition_date",
    "disposition_",
    "legal_interest",
    "council_district",
    "digitization_status",
    "verified_by",
    "overlap_accepted",
    "needs_confirmation",
    "land_area",
    "lease_number",
    "counterparty",
    "payments",
    "retired_at",
)
PUBLIC_URL = "https://assets.city.example"


@pytest.fixture(scope="module")
def open_app(template_url: str) -> Iterator[Flask]:
    with live_sample_app(template_url) as app:
        app.config["REGISTRY_PUBLIC_URL"] = None
        with app.app_context(), unit_of_work(session_factory(), "tests") as session:
            first, second = session.execute(
                text("SELECT parcel_id, version FROM parcels ORDER BY parcel_id LIMIT 2")
            ).all()
            retire_parcel(session, first.parcel_id, first.version)
            session.execute(
                text("UPDATE parcels SET address = :address WHERE parcel_id = :id"),
                {"address": FORMULA_ADDRESS, "id": second.parcel_id},
            )
        app.config["TEST_RETIRED"] = first.parcel_id
        app.config["TEST_FORMULA"] = second.parcel_id
        yield app


@pytest.fixture
def anonymous(open_app: Flask) -> FlaskClient:
    return open_app.test_client()


def _public_ids(app: Flask, where: str = "true", **params: Any) -> list[str]:
    return [
        row["parcel_id"]
        for row in rows(
            app,
            "SELECT p.parcel_id FROM parcels p LEFT JOIN departments d ON d.id = p.department_id"
            f" WHERE p.retired_at IS NULL AND {where} ORDER BY p.parcel_id",
            **params,
        )
    ]


def _table_ids(html: str) -> list[str]:
    return re.findall(r'<tr data-parcel-id="([^"]+)"', html)


def _all_table_ids(client: FlaskClient, url: str) -> list[str]:
    """Every parcel id of the table, following its Next links to the end."""
    ids: list[str] = []
    while url:
        page = client.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        ids += _table_ids(html)
        found = re.search(r'<a rel="next" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&").split("#")[0] if found else ""
    return ids


def test_the_open_page_shows_every_public_parcel_to_an_anonymous_visitor(
    anonymous: FlaskClient, open_app: Flask
) -> None:
    page = anonymous.get("/open")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    public = _public_ids(open_app)
    assert f'data-total="{len(public)}"' in html
    assert "<h1>City-owned property of " in html
    assert 'role="search"' in html and "<main" in html
    assert _table_ids(html) == public[:25]
    assert open_app.config["TEST_RETIRED"] not in _all_table_ids(anonymous, "/open?size=100")


def test_the_table_pages_through_every_parcel_in_any_order_without_repeats(
    anonymous: FlaskClient, open_app: Flask
) -> None:
    expected = [
        row["parcel_id"]
        for row in rows(
            open_app,
            "SELECT parcel_id FROM parcels WHERE retired_at IS NULL"
            " ORDER BY COALESCE(address, '') DESC, parcel_id DESC",
        )
    ]
    seen = _all_table_ids(anonymous, "/open?sort=address&order=desc&size=100")
    assert seen == expected


def test_previous_and_last_pages_step_back_through_the_same_order(
    anonymous: FlaskClient, open_app: Flask
) -> None:
    everything = _public_ids(open_app)
    last = anonymous.get("/open?size=10&last=1").get_data(as_text=True)
    assert _table_ids(last) == everything[-10:]
    assert 'rel="next"' not in last
    previous = re.search(r'<a rel="prev" href="([^"]+)"', last)
    assert previous
    before = anonymous.get(previous.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert _table_ids(before) == everything[-20:-10]
    assert 'rel="next"' in before and 'rel="prev"' in before


@pytest.mark.parametrize(
    ("args", "where", "params"),
    [
        ({"q": "crenshaw"}, "p.address ILIKE '%crenshaw%'", {}),
        ({"q": "4614-"}, "(p.parcel_id LIKE '4614-%' OR p.address ILIKE '%4614-%')", {}),
        ({"status": "surplus"}, "p.status = 'surplus'", {}),
        ({"district": "8"}, "p.council_district = 8", {}),
        ({"use": "parking lot"}, "lower(p.use) = 'parking lot'", {}),
        (
            {"department": "__department__", "status": "in_use"},
            "d.name = :department AND p.status = 'in_use'",
            {},
        ),
    ],
)
def test_each_filter_selects_the_same_parcels_in_the_table_and_the_count(
    anonymous: FlaskClient, open_app: Flask, args: dict[str, str], where: str, params: dict
) -> None:
    args = dict(args)
    if args.get("department") == "__department__":
        department = scalar(
            open_app,
            "SELECT d.name FROM parcels p JOIN departments d ON d.id = p.department_id"
            " GROUP BY d.name ORDER BY count(*) DESC LIMIT 1",
        )
        args["department"] = department
        params = {"department": department}
    expected = _public_ids(open_app, where, **params)
    assert expected, "the sample must hold parcels for this filter"
    query = "&".join(f"{k}={v}" for k, v in args.items())
    assert _all_table_ids(anonymous, f"/open?size=100&{query}") == expected
    html = anonymous.get(f"/open?{query}").get_data(as_text=True)
    assert f'data-total="{len(expected)}"' in html


def test_a_bad_filter_is_refused_in_plain_words(anonymous: FlaskClient) -> None:
    for query, words in (
        ("status=gone", "The status must be one of"),
        ("district=abc", "The council district must be a number"),
        ("q=" + "x" * 201, "longer than 200 characters"),
        ("sort=acquisition_cost", "The table sorts by"),
        ("after=%25%25%25", "This page link is damaged"),
    ):
        answer = anonymous.get(f"/open?{query}")
        assert answer.status_code == 400, query
        assert words in answer.get_data(as_text=True)


def test_the_parcel_page_shows_public_fields_and_never_a_retired_parcel(
    anonymous: FlaskClient, open_app: Flask
) -> None:
    parcel_id = _public_ids(open_app, "p.geom IS NOT NULL AND p.address IS NOT NULL")[0]
    page = anonymous.get(f"/open/parcels/{parcel_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"<h1>Parcel {parcel_id}</h1>" in html
    facts = re.findall(r'<th scope="row">([^<]+)</th>', html)
    assert facts == ["Parcel id", "Address", "Department", "Use", "Status"]
    assert "shape-map" in html
    for word in ("Acquired", "Legal interest", "Lease", "History", "Buildings", "$"):
        assert word not in html
    assert anonymous.get(f"/open/parcels/{open_app.config['TEST_RETIRED']}").status_code == 404
    assert anonymous.get("/open/parcels/0000-000-000").status_code == 404


def test_the_csv_download_holds_every_public_parcel_defused_against_formulas(
    anonymous: FlaskClient, open_app: Flask
) -> None:
    answer = anonymous.get("/open/download/parcels.csv")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [row["parcel_id"] for row in table] == _public_ids(open_app)
    assert set(table[0]) == PUBLIC_COLUMNS | {"longitude", "latitude"}
    formula = next(row for row in table if row["parcel_id"] == open_app.config["TEST_FORMULA"])
    assert formula["address"] == "'" + FORMULA_ADDRESS
    placed = next(row for row in table if row["longitude"])
    assert -119 < float(placed["longitude"]) < -117 and 33 < float(placed["latitude"]) < 35


@pytest.mark.parametrize("fmt", ["geojson", "gpkg"])
def test_the_gis_downloads_read_back_with_every_public_parcel_and_no_other_field(
    anonymous: FlaskClient, open_app: Flask, tmp_path: Path, fmt: str
) -> None:
    answer = anonymous.get(f"/open/download/parcels.{fmt}")
    assert answer.status_code == 200
    path = tmp_path / f"parcels.{fmt}"
    path.write_bytes(answer.get_data())
    answer.close()  # a server closes the file it streamed; the test client leaves it to us
    frame = geopandas.read_file(path)
    assert sorted(frame["parcel_id"]) == _public_ids(open_app)
    if "id" in frame.columns:  # GDAL shows a GeoJSON feature's string id as a field
        assert list(frame.pop("id")) == list(frame["parcel_id"])
    assert set(frame.columns) == PUBLIC_COLUMNS | {"geometry"}
    assert frame.crs.to_epsg() == 4326
    info = pyogrio.read_info(path)
    assert info["features"] == len(_public_ids(open_app))
    assert info["geometry_type"] in ("MultiPolygon", "Unknown")
    with_shape = _public_ids(open_app, "p.geom IS NOT NULL")
    assert int(frame.geometry.notna().sum()) == len(with_shape)
    assert set(frame.geometry.dropna().geom_type) == {"MultiPolygon"}


def test_a_filtered_download_holds_the_filtered_parcels(
    anonymous: FlaskClient, open_app: Flask
) -> None:
    answer = anonymous.get("/open/download/parcels.geojson?status=surplus")
    collection = json.loads(answer.get_data(as_text=True))
    assert [f["id"] for f in collection["features"]] == _public_ids(
        open_app, "p.status = 'surplus'"
    )
    assert {key for f in collection["features"] for key in f["properties"]} == PUBLIC_COLUMNS


def test_nothing_private_appears_on_a_leased_parcel_or_in_any_public_answer(
    anonymous: FlaskClient, open_app: Flask
) -> None:
    lease = rows(
        open_app,
        "SELECT p.parcel_id, l.lease_number, l.counterparty, p.acquisition_cost::text AS cost"
        " FROM leases l JOIN parcels p ON p.id = l.parcel_id WHERE p.retired_at IS NULL"
        " AND l.counterparty IS NOT NULL AND p.acquisition_cost IS NOT NULL LIMIT 1",
    )[0]
    assert lease, "the sample must hold a leased parcel with a known acquisition cost"
    private_values = [lease["lease_number"], lease["counterparty"], lease["cost"]]
    for url in (
        f"/open/parcels/{lease['parcel_id']}",
        f"/open?q={lease['parcel_id']}",
        f"/open/download/parcels.csv?q={lease['parcel_id']}",
        f"/open/download/parcels.geojson?q={lease['parcel_id']}",
        "/data.json",
    ):
        answer = anonymous.get(url)
        assert answer.status_code == 200, url
        body = answer.get_data(as_text=True)
        assert lease["parcel_id"] in body or url == "/data.json"
        assert [value for value in private_values if value in body] == [], url
        names = [word for word in PRIVATE_NAMES if word in body]
        assert names == [], f"{url} shows {names}"
        assert open_app.config["TEST_RETIRED"] not in body, url


def test_the_filtered_tiles_hold_only_the_filtered_parcels(
    anonymous: FlaskClient, open_app: Flask
) -> None:
    row = rows(
        open_app,
        "SELECT ST_X(c) AS lon, ST_Y(c) AS lat FROM (SELECT ST_Centroid(ST_Collect(geom)) AS c"
        " FROM parcels WHERE status = 'surplus' AND retired_at IS NULL) s",
    )[0]
    x, y = tile_of(row["lon"], row["lat"], 10)
    everyone = mapbox_vector_tile.decode(anonymous.get(f"/tiles/parcels/10/{x}/{y}.mvt").data)
    filtered = mapbox_vector_tile.decode(
        anonymous.get(f"/tiles/open/10/{x}/{y}.mvt?status=surplus").data
    )
    statuses = {f["properties"]["status"] for f in filtered["parcels"]["features"]}
    assert statuses == {"surplus"}
    all_surplus = {
        f["properties"]["parcel_id"]
        for f in everyone["parcels"]["features"]
        if f["properties"]["status"] == "surplus"
    }
    assert {f["properties"]["parcel_id"] for f in filtered["parcels"]["features"]} == all_surplus
    assert set(filtered["parcels"]["features"][0]["properties"]) == PUBLIC_COLUMNS


def test_the_data_dictionary_names_each_public_field_with_type_meaning_and_example(
    anonymous: FlaskClient,
) -> None:
    html = anonymous.get("/open/dictionary").get_data(as_text=True)
    schema = anonymous.get("/open/dictionary.json").get_json()
    names = [field["name"] for field in schema["fields"]]
    assert set(names) == PUBLIC_COLUMNS | {"longitude", "latitude", "geometry"}
    for field in schema["fields"]:
        assert field["type"] and field["description"] and field["example"]
        assert f'id="field-{field["name"]}"' in html


def _validator(federal: bool) -> jsonschema.Draft4Validator:
    """The pinned DCAT-US 1.1 catalog schema with its sub-schemas from tests/data (no network);
    `federal=False` drops bureauCode and programCode from the dataset's required fields, as
    DCAT-US tells state and local publishers to leave them out."""
    resources = []
    for path in SCHEMAS.glob("*.json"):
        contents = json.loads(path.read_text())
        if path.name == "dataset.json" and not federal:
            contents = copy.deepcopy(contents)
            contents["required"] = [
                name for name in contents["required"] if name not in ("bureauCode", "programCode")
            ]
        resources.append((SCHEMA_BASE + path.name, Resource.from_contents(contents, DRAFT4)))
    registry: Registry = Registry().with_resources(resources)
    catalog = registry.contents(SCHEMA_BASE + "catalog.json")
    return jsonschema.Draft4Validator(
        catalog, registry=registry, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )


def _data_json(app: Flask, **settings: str) -> dict[str, Any]:
    saved = {name: app.config.get(name) for name in settings}
    app.config.update(settings)
    try:
        return app.test_client().get("/data.json").get_json()
    finally:
        app.config.update(saved)


def test_data_json_validates_against_the_pinned_dcat_us_schema(open_app: Flask) -> None:
    body = _data_json(open_app)
    errors = [error.message for error in _validator(federal=False).iter_errors(body)]
    assert errors == []
    federal_only = {e.message for e in _validator(federal=True).iter_errors(body)}
    assert federal_only == {
        "'bureauCode' is a required property",
        "'programCode' is a required property",
    }
    with_codes = _data_json(
        open_app,
        REGISTRY_OPEN_DATA_BUREAU_CODE="015:11",
        REGISTRY_OPEN_DATA_PROGRAM_CODE="015:001",
        REGISTRY_OPEN_DATA_CONTACT_NAME="Open Data Team",
        REGISTRY_OPEN_DATA_CONTACT_EMAIL="opendata@city.example",
        REGISTRY_OPEN_DATA_LICENSE="https://creativecommons.org/publicdomain/zero/1.0/",
    )
    assert [e.message for e in _validator(federal=True).iter_errors(with_codes)] == []
    dataset = with_codes["dataset"][0]
    assert dataset["contactPoint"] == {
        "@type": "vcard:Contact",
        "fn": "Open Data Team",
        "hasEmail": "mailto:opendata@city.example",
    }
    assert dataset["license"] == "https://creativecommons.org/publicdomain/zero/1.0/"


def test_data_json_describes_the_downloads_the_dictionary_and_the_ogc_api(
    anonymous: FlaskClient, open_app: Flask
) -> None:
    body = anonymous.get("/data.json").get_json()
    dataset = body["dataset"][0]
    city = scalar(open_app, "SELECT name FROM city_profile WHERE id = 1")
    assert dataset["publisher"]["name"] == city
    assert dataset["accessLevel"] == "public"
    last_change = scalar(
        open_app,
        "SELECT to_char(max(occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        " FROM audit_events WHERE table_name IN ('parcels', 'departments')",
    )
    assert dataset["modified"] == last_change
    by_format = {d["format"]: d for d in dataset["distribution"]}
    assert set(by_format) == {"CSV", "GeoJSON", "GeoPackage", "API"}
    api = by_format["API"]
    assert re.search(r"/ogc/?$", api["accessURL"]) and api["describedBy"].endswith("/ogc/api")
    assert "ogcapi-features" in api["conformsTo"]
    for url in (api["accessURL"], api["describedBy"]):  # the OGC API answers the public
        assert anonymous.get(url.split("localhost", 1)[1]).status_code == 200, url
    for fmt, name in (("csv", "CSV"), ("geojson", "GeoJSON"), ("gpkg", "GeoPackage")):
        url = by_format[name]["downloadURL"]
        assert url.endswith(f"/open/download/parcels.{fmt}")
        with anonymous.get(url.split("localhost", 1)[1]) as answer:
            assert answer.status_code == 200
    assert dataset["describedBy"].endswith("/open/dictionary.json")


def test_data_json_links_are_built_on_the_public_url_whatever_the_host_says(
    template_url: str, open_app: Flask
) -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": open_app.config["DATABASE_URL"],
            "SECRET_KEY": "test",
            "REGISTRY_PUBLIC_URL": PUBLIC_URL,
        }
    )
    try:
        body = app.test_client().get("/data.json", headers={"Host": "evil.example"}).get_json()
    finally:
        database.dispose(app)
    urls = re.findall(r'"(https?://[^"]+)"', json.dumps(body))
    own = [url for url in urls if "project-open-data" not in url and "opengis" not in url]
    assert own and all(url.startswith(PUBLIC_URL + "/") for url in own), own
    assert "evil.example" not in json.dumps(body)


def test_nothing_of_the_open_data_exists_when_the_city_does_not_publish(
    anonymous: FlaskClient, open_app: Flask
) -> None:
    settings = open_app.config["REGISTRY_SETTINGS"]
    open_app.config["REGISTRY_SETTINGS"] = dataclasses.replace(settings, public_map=False)
    try:
        parcel_id = _public_ids(open_app)[0]
        for url in (
            "/open",
            f"/open/parcels/{parcel_id}",
            "/open/dictionary",
            "/open/dictionary.json",
            "/open/download/parcels.csv",
            "/open/download/parcels.gpkg",
            "/tiles/open/10/175/408.mvt",
            "/data.json",
        ):
            assert anonymous.get(url).status_code == 404, url
    finally:
        open_app.config["REGISTRY_SETTINGS"] = settings
