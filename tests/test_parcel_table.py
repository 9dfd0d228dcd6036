"""The parcel table (`/parcels`, issue 12 item 1): one filter for table, exports and tiles,
sorting both ways, keyset paging without duplicates or gaps, column choice, selections, exports
read back by real readers, and bulk edit (preview, one audit event per parcel, all or nothing).
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from typing import Any

import mapbox_vector_tile
import openpyxl
import pyogrio
import pytest
from flask import Flask
from sqlalchemy import text

from app.database import session_factory
from registry.db import unit_of_work
from registry.parcels.filters import SQ_FT_PER_SQ_M
from registry.parcels.filters import FilterInvalid
from registry.parcels.filters import ParcelFilter
from registry.settings import STORAGE_SRID
from tests.auth_fixtures import SignedInClient
from tests.parcel_fixtures import DEPARTMENTS
from tests.parcel_fixtures import LAT
from tests.parcel_fixtures import LON
from tests.parcel_fixtures import SETUP_ACTOR
from tests.parcel_fixtures import add_departments
from tests.parcel_fixtures import rows
from tests.parcel_fixtures import scalar

COUNT = 120
STATUSES = ("in_use", "no_current_use", "leased_out", "surplus")
ASSET_TYPES = ("office", "park", "library")


def parcel_id(i: int) -> str:
    return f"9000-{i:03d}-001"


def seed_parcels(app: Flask) -> None:
    """COUNT parcels on a grid, attributes cycling so every filter selects a known part."""
    add_departments(app)
    codes = [code for code, _ in DEPARTMENTS]
    with app.app_context(), unit_of_work(session_factory(), SETUP_ACTOR) as session:
        session.execute(
            text(
                f"""
INSERT INTO parcels (parcel_id, address, department_id, council_district, use, asset_type,
                     status, digitization_status, verified_by, verified_at, geom)
SELECT format('9000-%s-001', lpad(i::text, 3, '0')),
       i || CASE WHEN i % 3 = 0 THEN ' Main St' ELSE ' Oak Ave' END,
       (SELECT id FROM departments WHERE code = (CAST(:codes AS text[]))[1 + i % 3]),
       1 + i % 5,
       CASE WHEN i % 2 = 0 THEN 'Office' ELSE 'Park' END,
       (CAST(:types AS text[]))[1 + i % 3],
       (CAST(:statuses AS text[]))[1 + i % 4],
       CASE WHEN i % 10 = 0 THEN 'verified' ELSE 'digitized' END,
       CASE WHEN i % 10 = 0 THEN 'checker@city.example' END,
       CASE WHEN i % 10 = 0 THEN now() END,
       ST_Multi(ST_Transform(ST_MakeEnvelope(
           :lon + (i % 12) * 0.002, :lat + (i / 12) * 0.002,
           :lon + (i % 12) * 0.002 + 0.0002 * (1 + i % 5),
           :lat + (i / 12) * 0.002 + 0.0002 * (1 + i % 5), 4326), {STORAGE_SRID}))
  FROM generate_series(0, :count - 1) AS i
"""
            ),
            {
                "codes": codes,
                "types": list(ASSET_TYPES),
                "statuses": list(STATUSES),
                "lon": LON,
                "lat": LAT,
                "count": COUNT,
            },
        )


@pytest.fixture
def table_app(app: Flask) -> Flask:
    seed_parcels(app)
    return app


@pytest.fixture
def viewer(table_app: Flask, signed_in: Any) -> SignedInClient:
    return signed_in("viewer")


@pytest.fixture
def editor(table_app: Flask, signed_in: Any) -> SignedInClient:
    return signed_in("editor", "ana@city.example")


def listed(client: SignedInClient, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(True)
    return re.findall(r'<tr data-parcel-id="([^"]+)"', response.get_data(True))


def all_pages(client: SignedInClient, url: str) -> list[str]:
    """Every parcel id over every page, following the "Next page" links."""
    found: list[str] = []
    while url:
        response = client.get(url)
        body = response.get_data(True)
        found += re.findall(r'<tr data-parcel-id="([^"]+)"', body)
        link = re.search(r'<a rel="next" href="([^"]+)"', body)
        url = link.group(1).replace("&amp;", "&") if link else ""
        assert len(found) <= COUNT * 2, "paging does not end"
    return found


def ids_where(app: Flask, condition: str) -> set[str]:
    return {
        r["parcel_id"]
        for r in rows(
            app,
            "SELECT p.parcel_id FROM parcels p LEFT JOIN departments d "
            f"ON d.id = p.department_id WHERE {condition}",
        )
    }


@pytest.mark.parametrize(
    ("query", "condition"),
    [
        ("q=main", "p.address ILIKE '%main%'"),
        ("q=9000-01", "p.parcel_id LIKE '9000-01%'"),
        ("department=rap", "d.code = 'RAP'"),
        ("district=3", "p.council_district = 3"),
        ("status=surplus", "p.status = 'surplus'"),
        ("use=office", "p.use = 'Office'"),
        ("asset_type=library", "p.asset_type = 'library'"),
        ("digitization=verified", "p.digitization_status = 'verified'"),
        ("verified=no", "p.digitization_status <> 'verified'"),
        (
            "area_min=1500&area_max=5000",
            f"p.land_area_sq_ft BETWEEN 1500 * {SQ_FT_PER_SQ_M} AND 5000 * {SQ_FT_PER_SQ_M}",
        ),
        ("status=in_use&department=GSD", "p.status = 'in_use' AND d.code = 'GSD'"),
    ],
)
def test_each_filter_lists_exactly_the_matching_parcels(
    table_app: Flask, viewer: SignedInClient, query: str, condition: str
) -> None:
    expected = ids_where(table_app, condition)
    assert expected and len(expected) < COUNT
    assert set(all_pages(viewer, f"/parcels?{query}&size=25")) == expected


def test_area_filter_is_in_square_metres(table_app: Flask) -> None:
    smallest = scalar(table_app, "SELECT min(land_area_sq_ft) FROM parcels")
    assert ParcelFilter.from_args({"area_max": "1"}).where()[1]["f_area_max"] < smallest
    assert ParcelFilter.from_args({"area_min": "1"}).where()[1]["f_area_min"] == pytest.approx(
        10.7639, rel=1e-4
    )


@pytest.mark.parametrize(
    "args",
    [
        {"status": "sold"},
        {"district": "100"},
        {"district": "²"},
        {"verified": "maybe"},
        {"area_min": "-1"},
        {"area_max": "nan"},
        {"ids": ",".join(f"id{i}" for i in range(501))},
        {"q": "x" * 101},
    ],
)
def test_a_filter_the_registry_cannot_read_is_refused_in_words(args: dict[str, str]) -> None:
    with pytest.raises(FilterInvalid) as refused:
        ParcelFilter.from_args(args)
    message = str(refused.value)  # the form's words: no parameter or SQL names
    assert message[0].isupper() and message.endswith(".")
    assert "f_" not in message and "_" not in message.split(" ")[0]


def test_a_bad_filter_on_the_page_is_a_400_naming_the_field(viewer: SignedInClient) -> None:
    response = viewer.get("/parcels?status=sold")
    assert response.status_code == 400
    assert "Status must be one of" in response.get_data(True)


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("parcel_id", lambda r: r["parcel_id"]),
        ("address", lambda r: (r["address"], r["parcel_id"])),
        ("district", lambda r: (r["council_district"], r["parcel_id"])),
        ("area", lambda r: (r["land_area_sq_ft"], r["parcel_id"])),
        ("department", lambda r: (r["code"], r["parcel_id"])),
        ("status", lambda r: (r["status"], r["parcel_id"])),
    ],
)
def test_sort_both_ways_pages_through_every_parcel_once(
    table_app: Flask, viewer: SignedInClient, sort: str, key: Any
) -> None:
    records = rows(
        table_app,
        "SELECT p.parcel_id, p.address, p.council_district, p.land_area_sq_ft, p.status, d.code "
        "FROM parcels p LEFT JOIN departments d ON d.id = p.department_id",
    )
    ascending = [r["parcel_id"] for r in sorted(records, key=key)]
    up = all_pages(viewer, f"/parcels?sort={sort}&size=25")
    down = all_pages(viewer, f"/parcels?sort={sort}&order=desc&size=25")
    assert up == ascending  # every parcel once: no duplicate, no omission across 5 pages
    assert down == list(reversed(ascending))


def test_headers_say_how_the_table_is_sorted(viewer: SignedInClient) -> None:
    body = viewer.get("/parcels?sort=address&order=desc").get_data(True)
    assert re.search(r'<th scope="col" aria-sort="descending"><a class="sort"[^>]*>Address', body)
    assert re.search(r'<th scope="col" aria-sort="none"><a class="sort"[^>]*>Parcel', body)
    assert '<th scope="row"><a href="/parcels/9000-' in body  # each row links to its parcel


def test_column_choice_shows_only_the_columns_asked_for(viewer: SignedInClient) -> None:
    body = viewer.get("/parcels?cols=asset_type,version").get_data(True)
    headings = re.findall(r'<th scope="col"[^>]*>(?:<a[^>]*>)?([^<]+)', body)
    assert [h.strip() for h in headings] == ["Parcel", "Asset type", "Version"]
    body = viewer.get("/parcels?col=use&col=status").get_data(True)
    headings = re.findall(r'<th scope="col"[^>]*>(?:<a[^>]*>)?([^<]+)', body)
    assert [h.strip() for h in headings] == ["Parcel", "Use", "Status"]


def test_a_selection_lists_its_parcels_only(viewer: SignedInClient) -> None:
    chosen = [parcel_id(i) for i in (5, 17, 99)]
    assert listed(viewer, f"/parcels?ids={','.join(chosen)}") == chosen


def test_the_count_says_how_many_match(viewer: SignedInClient) -> None:
    body = viewer.get("/parcels?status=surplus").get_data(True)
    assert "30 parcels match the filter" in body


def test_anonymous_visitors_are_sent_to_sign_in(table_app: Flask) -> None:
    response = table_app.test_client().get("/parcels")
    assert response.status_code in (302, 401)


def test_kpi_drill_down_lands_on_the_table_with_its_filter(table_app: Flask) -> None:
    from app.kpi_links import records_url

    with table_app.test_request_context():
        url = records_url("UTL-1", "department", "GSD")
    assert url.startswith("/parcels?") and "status=no_current_use" in url
    assert "department=GSD" in url


# --- exports ---------------------------------------------------------------------------


@pytest.fixture
def finance(table_app: Flask, signed_in: Any) -> SignedInClient:
    return signed_in("finance")


def test_export_csv_is_the_filter_and_formula_safe(
    table_app: Flask, finance: SignedInClient
) -> None:
    with table_app.app_context(), unit_of_work(session_factory(), SETUP_ACTOR) as session:
        session.execute(
            text("UPDATE parcels SET address = '=HYPERLINK(1)' WHERE parcel_id = :id"),
            {"id": parcel_id(2)},  # a leased-out parcel
        )
    response = finance.get("/parcels/selection/export.csv?status=leased_out")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    records = list(csv.DictReader(io.StringIO(response.get_data(True))))
    assert {r["parcel_id"] for r in records} == ids_where(table_app, "p.status = 'leased_out'")
    hostile = next(r for r in records if r["parcel_id"] == parcel_id(2))
    assert not hostile["address"].startswith("=")


def test_export_xlsx_reads_back_with_openpyxl(finance: SignedInClient) -> None:
    chosen = [parcel_id(i) for i in (1, 2, 3)]
    response = finance.get(f"/parcels/selection/export.xlsx?ids={','.join(chosen)}")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    sheet = book.worksheets[0]
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][0] == "parcel_id"
    assert [row[0] for row in values[1:]] == chosen


@pytest.mark.parametrize("export_format", ["geojson", "gpkg"])
def test_gis_exports_read_back_with_pyogrio(
    tmp_path: Any, finance: SignedInClient, export_format: str
) -> None:
    chosen = [parcel_id(i) for i in (10, 11)]
    response = finance.get(f"/parcels/selection/export.{export_format}?ids={','.join(chosen)}")
    assert response.status_code == 200
    path = tmp_path / f"parcels.{export_format}"
    path.write_bytes(response.data)
    frame = pyogrio.read_dataframe(path)
    assert sorted(frame["parcel_id"]) == chosen
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry.notna().all()


def test_viewers_may_not_export(viewer: SignedInClient) -> None:
    assert viewer.get("/parcels/selection/export.csv").status_code == 403


def test_export_of_an_unknown_format_is_404(finance: SignedInClient) -> None:
    assert finance.get("/parcels/selection/export.exe").status_code == 404


# --- bulk edit ---------------------------------------------------------------------------


def _form(ids: list[str], **values: Any) -> dict[str, Any]:
    return {"ids": ",".join(ids), **values}


def test_bulk_edit_preview_shows_before_and_after_and_saves_nothing(
    table_app: Flask, editor: SignedInClient
) -> None:
    chosen = [parcel_id(i) for i in range(4)]
    audit_before = scalar(table_app, "SELECT count(*) FROM audit_events")
    response = editor.post(
        "/parcels/selection/bulk-edit", data=_form(chosen, status="surplus", action="preview")
    )
    body = response.get_data(True)
    assert response.status_code == 200, body
    assert "Status before" in body and "Status after" in body
    assert "3 of 4 parcels change" in body  # parcel 3 is surplus already
    for parcel in chosen:
        assert f'name="version_{parcel}" value="1"' in body
    assert scalar(table_app, "SELECT count(*) FROM audit_events") == audit_before
    assert scalar(table_app, "SELECT count(*) FROM parcels WHERE status = 'surplus'") == 30


def test_bulk_edit_of_50_parcels_writes_one_audited_change_each(
    table_app: Flask, editor: SignedInClient
) -> None:
    chosen = [parcel_id(i) for i in range(50)]
    form = _form(chosen, department_code="RAP", use="Depot", action="apply")
    form.update({f"version_{p}": "1" for p in chosen})
    response = editor.post("/parcels/selection/bulk-edit", data=form)
    assert response.status_code == 200, response.get_data(True)
    assert "50 parcels changed" in response.get_data(True)
    events = rows(
        table_app,
        "SELECT row_key, actor, changed_fields FROM audit_events "
        "WHERE table_name = 'parcels' AND action = 'UPDATE' ORDER BY id",
    )
    assert sorted(e["row_key"] for e in events) == sorted(chosen)  # one event per parcel
    assert {e["actor"] for e in events} == {"ana@city.example"}
    changed = rows(
        table_app,
        "SELECT p.version, p.use, d.code FROM parcels p JOIN departments d "
        "ON d.id = p.department_id WHERE p.parcel_id = ANY(:ids)",
        ids=chosen,
    )
    assert {(r["version"], r["use"], r["code"]) for r in changed} == {(2, "Depot", "RAP")}


def _whole_state(app: Flask) -> tuple[Any, ...]:
    return (
        scalar(app, "SELECT count(*) FROM audit_events"),
        rows(app, "SELECT parcel_id, version, status, use FROM parcels ORDER BY parcel_id"),
    )


def test_one_invalid_parcel_refuses_the_whole_bulk_edit(
    table_app: Flask, editor: SignedInClient
) -> None:
    chosen = [parcel_id(i) for i in range(10)]
    before = _whole_state(table_app)
    form = _form(chosen, council_district="150", action="apply")
    form.update({f"version_{p}": "1" for p in chosen})
    response = editor.post("/parcels/selection/bulk-edit", data=form)
    assert response.status_code == 422
    assert "Nothing was changed" in response.get_data(True)
    assert _whole_state(table_app) == before
    # the same validation as a single edit: an unknown department, named per parcel
    form = _form(chosen, department_code="NOPE", action="apply")
    form.update({f"version_{p}": "1" for p in chosen})
    body = editor.post("/parcels/selection/bulk-edit", data=form).get_data(True)
    assert f"{parcel_id(0)}: Department" in body
    assert _whole_state(table_app) == before


def test_a_stale_version_refuses_the_whole_bulk_edit(
    table_app: Flask, editor: SignedInClient
) -> None:
    chosen = [parcel_id(i) for i in range(10)]
    with table_app.app_context(), unit_of_work(session_factory(), "bob@city.example") as session:
        session.execute(
            text("UPDATE parcels SET use = 'Yard', version = version + 1 WHERE parcel_id = :id"),
            {"id": parcel_id(7)},
        )
    before = _whole_state(table_app)
    form = _form(chosen, status="surplus", action="apply")
    form.update({f"version_{p}": "1" for p in chosen})
    response = editor.post("/parcels/selection/bulk-edit", data=form)
    body = response.get_data(True)
    assert response.status_code == 422
    assert f"{parcel_id(7)}: changed by bob@city.example" in body
    assert _whole_state(table_app) == before


def test_viewers_may_not_bulk_edit(table_app: Flask, viewer: SignedInClient) -> None:
    before = _whole_state(table_app)
    response = viewer.post(
        "/parcels/selection/bulk-edit", data=_form([parcel_id(1)], status="surplus", action="apply")
    )
    assert response.status_code == 403
    assert _whole_state(table_app) == before


def test_bulk_edit_without_a_selection_or_a_field_says_so(editor: SignedInClient) -> None:
    body = editor.post("/parcels/selection/bulk-edit", data=_form([], action="preview")).get_data(
        True
    )
    assert "Select at least one parcel" in body and "Choose at least one attribute" in body


# --- tiles ---------------------------------------------------------------------------------


def _tile_ids(data: bytes) -> set[str]:
    if not data:
        return set()
    layer = mapbox_vector_tile.decode(data).get("parcels", {"features": []})
    return {f["properties"]["parcel_id"] for f in layer["features"]}


def _tile_of(lon: float, lat: float, zoom: int) -> str:
    n = 2**zoom
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"/tiles/parcels/{zoom}/{x}/{y}.mvt"


TILE = _tile_of(LON + 0.01, LAT + 0.01, 13)  # holds (most of) the seeded grid


def test_tiles_filtered_by_the_same_filter_hold_only_matching_parcels(
    table_app: Flask, viewer: SignedInClient
) -> None:
    everything = _tile_ids(viewer.get(TILE).data)
    assert len(everything) > 20
    surplus = _tile_ids(viewer.get(f"{TILE}?status=surplus&district=2").data)
    expected = ids_where(table_app, "p.status = 'surplus' AND p.council_district = 2")
    assert surplus and surplus == expected & everything
    chosen = set(sorted(everything)[:2])
    assert _tile_ids(viewer.get(f"{TILE}?ids={','.join(sorted(chosen))}").data) == chosen


def test_a_bad_tile_filter_is_a_400(viewer: SignedInClient) -> None:
    assert viewer.get(f"{TILE}?status=sold").status_code == 400


def test_public_tiles_filter_by_public_fields_only(fresh_database_url: str) -> None:
    from app import create_app
    from app import database

    public = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": fresh_database_url,
            "SECRET_KEY": "test",
            "REGISTRY_PUBLIC_MAP": True,
        }
    )
    try:
        seed_parcels(public)
        anonymous = public.test_client()
        response = anonymous.get(f"{TILE}?status=surplus")
        assert response.status_code == 200
        assert response.headers["Cache-Control"].startswith("public")
        assert _tile_ids(response.data) and all(
            parcel in ids_where(public, "p.status = 'surplus'")
            for parcel in _tile_ids(response.data)
        )
        refused = anonymous.get(f"{TILE}?district=2")  # not a public field
        assert refused.status_code in (302, 401)
    finally:
        database.dispose(public)


def test_xlsx_is_a_zip_workbook(finance: SignedInClient) -> None:
    response = finance.get("/parcels/selection/export.xlsx?status=surplus")
    assert zipfile.is_zipfile(io.BytesIO(response.data))
