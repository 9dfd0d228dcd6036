"""`/open`: what the city owns, for anybody, as a table and a map that show the same parcels.

The page is a plain GET form: the filter lives in the query string, the table is rendered by the
server (keyset pages in any sort order) and the map draws the same filter's tiles, so both agree
and the page works without JavaScript (except the map).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import render_template
from flask import request
from flask import send_file
from flask import url_for
from werkzeug.wrappers import Response as BaseResponse

from app.assets import map_assets
from app.blueprints.open_data import only_when_published
from app.blueprints.open_data.tiles import TILE_PATH
from app.city import current_city
from app.database import db_session
from app.database import engine
from geo.extent import extent_bounds
from geo.extent import portfolio_bounds
from geo.map_builder import PARCEL_LAYER_MIN_ZOOM
from geo.map_builder import status_legend
from registry.city.districts import district_numbers
from registry.errors import NotFound
from registry.fields import RecordInvalid
from registry.open_data.downloads import DOWNLOAD_FORMATS
from registry.open_data.downloads import FORMAT_NAMES
from registry.open_data.downloads import MEDIA_TYPES
from registry.open_data.downloads import csv_chunks
from registry.open_data.downloads import geojson_chunks
from registry.open_data.downloads import geopackage_file
from registry.open_data.fields import PUBLIC_FIELDS
from registry.open_data.fields import table_schema
from registry.open_data.queries import PAGE_SIZES
from registry.open_data.queries import SORTS
from registry.open_data.queries import OpenDataFilter
from registry.open_data.queries import filter_bounds
from registry.open_data.queries import filter_choices
from registry.open_data.queries import parse_filter
from registry.open_data.queries import parse_table_request
from registry.open_data.queries import public_parcel
from registry.open_data.queries import table_page
from registry.vocabulary import STATUS_LABELS

bp = Blueprint("open_data", __name__)

SORT_LABELS = {
    "parcel_id": "Parcel id",
    "address": "Address",
    "department": "Department",
    "use": "Use",
    "status": "Status",
}
#: Public files may be cached a little by browsers and proxies (the security headers keep it).
PUBLIC_CACHE = "public, max-age=300"
DOWNLOAD_NAME = "city-owned-parcels"


bp.before_request(only_when_published)


def _filter() -> OpenDataFilter:
    try:
        return parse_filter(request.args)
    except RecordInvalid as invalid:
        abort(400, description=" ".join(problem.message for problem in invalid.problems))


def _map_options(flt: OpenDataFilter) -> dict[str, Any]:
    settings = current_app.config["REGISTRY_SETTINGS"]
    if flt.is_empty:  # the public tiles themselves, served before Flask and cached by anyone
        tile_url = url_for("tiles.parcel_tile_view", z=0, x=0, y=0)
        tile_url = tile_url.replace("/0/0/0.mvt", "/{z}/{x}/{y}.mvt")
    else:
        tile_url = f"{request.script_root}{TILE_PATH}/{{z}}/{{x}}/{{y}}.mvt?" + urlencode(
            flt.as_args()
        )
    city_bounds = extent_bounds(current_city().extent)
    bounds = (
        portfolio_bounds(db_session().connection(), city_bounds)
        if flt.is_empty
        else filter_bounds(db_session(), flt) or city_bounds
    )
    parcel_page = url_for("open_data.parcel_page", parcel_id="PLACEHOLDER")
    return {
        "tileUrl": tile_url,
        "parcelPageUrl": parcel_page.replace("PLACEHOLDER", "{parcel_id}"),
        "statuses": status_legend(),
        "minZoom": PARCEL_LAYER_MIN_ZOOM,
        "bounds": [list(bounds[0]), list(bounds[1])],
        "basemapUrl": settings.basemap_url,
        "basemapAttribution": settings.basemap_attribution,
        "editing": False,
    }


@bp.get("/open")
def open_page() -> str:
    flt = _filter()
    try:
        table = parse_table_request(request.args)
    except RecordInvalid as invalid:
        abort(400, description=" ".join(problem.message for problem in invalid.problems))
    session = db_session()
    page = table_page(session, flt, table)
    choices = filter_choices(
        session, district_numbers(session, current_app.config["REGISTRY_SETTINGS"])
    )
    order = "desc" if table.descending else "asc"
    keep: dict[str, Any] = {**flt.as_args(), "sort": table.sort, "order": order}
    if table.size != PAGE_SIZES[1]:
        keep["size"] = str(table.size)

    def page_url(**cursor: Any) -> str:
        return url_for("open_data.open_page", **keep, **cursor) + "#results"

    def sort_url(column: str) -> str:
        descending = column == table.sort and not table.descending
        order = "desc" if descending else "asc"
        args: dict[str, Any] = {**flt.as_args(), "sort": column, "order": order}
        return url_for("open_data.open_page", **args) + "#results"

    return render_template(
        "open/index.html",
        city=current_city(),
        flt=flt,
        table=table,
        page=page,
        choices=choices,
        status_labels=STATUS_LABELS,
        sort_labels=SORT_LABELS,
        sorts=SORTS,
        sort_url=sort_url,
        page_sizes=PAGE_SIZES,
        first_url=page_url() if page.first_cursor else None,
        previous_url=page_url(before=page.first_cursor) if page.first_cursor else None,
        next_url=page_url(after=page.next_cursor) if page.next_cursor else None,
        last_url=page_url(last="1") if page.next_cursor else None,
        map_options=json.dumps(_map_options(flt)),
        assets=map_assets(editing=False),
        downloads=[(fmt, FORMAT_NAMES[fmt]) for fmt in DOWNLOAD_FORMATS],
    )


@bp.get("/open/parcels/<parcel_id>")
def parcel_page(parcel_id: str) -> str:
    if len(parcel_id) > 64:
        abort(404)
    try:
        record = public_parcel(db_session(), parcel_id)
    except NotFound:
        abort(404, description=f"The city publishes no parcel {parcel_id}.")
    return render_template(
        "open/parcel.html",
        city=current_city(),
        parcel=record.parcel,
        geometry=record.geometry,
        status_labels=STATUS_LABELS,
    )


@bp.get("/open/dictionary")
def dictionary_page() -> str:
    return render_template(
        "open/dictionary.html",
        city=current_city(),
        fields=PUBLIC_FIELDS,
        format_names=FORMAT_NAMES,
    )


@bp.get("/open/dictionary.json")
def dictionary_json() -> Response:
    response = Response(json.dumps(table_schema(), indent=2), mimetype="application/json")
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response


@bp.get("/open/download/parcels.<fmt>")
def download(fmt: str) -> BaseResponse:
    if fmt not in DOWNLOAD_FORMATS:
        abort(404)
    flt = _filter()
    filename = f"{DOWNLOAD_NAME}.{fmt}"
    if fmt == "gpkg":
        response = send_file(
            geopackage_file(engine(), flt),
            mimetype=MEDIA_TYPES[fmt],
            as_attachment=True,
            download_name=filename,
            conditional=False,
            etag=False,
        )
    else:
        chunks = csv_chunks if fmt == "csv" else geojson_chunks
        response = Response(chunks(engine(), flt), mimetype=MEDIA_TYPES[fmt])
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response
