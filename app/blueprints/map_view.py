"""The portfolio map at `/`: a Folium page whose parcel layer is the app's own vector tiles.

Editors also get the side panel and the editing tools; everybody else gets none of their code.
"""

from __future__ import annotations

import dataclasses

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import jsonify
from flask import render_template
from flask import request
from flask import url_for

from app.assets import map_assets
from app.auth import bearer_unauthorized
from app.auth import current_user
from app.city import current_city
from app.database import db_session
from app.security import nonced
from app.security import setting
from geo.districts import district_areas
from geo.extent import extent_bounds
from geo.extent import portfolio_bounds
from geo.map_builder import ParcelMapSpec
from geo.map_builder import build_parcel_map
from geo.map_builder import render_map_page
from registry.city.departments import department_choices
from registry.city.districts import district_numbers
from registry.vocabulary import ASSET_TYPES
from registry.vocabulary import DIGITIZATION_STATUSES
from registry.vocabulary import LEGAL_INTERESTS
from registry.vocabulary import PARCEL_STATUSES
from registry.vocabulary import STATUS_LABELS

bp = Blueprint("map_view", __name__)


def _url_template(endpoint: str, placeholder: str) -> str:
    """A URL with `{placeholder}` left for the browser to fill, e.g. /parcels/{parcel_id}."""
    url = url_for(endpoint, **{placeholder: "PLACEHOLDER"})  # type: ignore[arg-type]
    return url.replace("PLACEHOLDER", "{" + placeholder + "}")


def _editor_options() -> dict[str, object]:
    """The editor's data; `?edit=<parcel_id>` opens the panel on that record (the parcel page's
    *Draw its shape* links here)."""
    return {
        "apiUrl": url_for("parcel_api.list_parcels"),
        "editParcel": request.args.get("edit", "").strip() or None,
        "departments": department_choices(db_session()),
        "choices": {
            "status": [[value, STATUS_LABELS[value]] for value in PARCEL_STATUSES],
            "legal_interest": [[value, value] for value in LEGAL_INTERESTS],
            "asset_type": [[value, value.replace("_", " ")] for value in ASSET_TYPES],
            "digitization_status": [[value, value] for value in DIGITIZATION_STATUSES],
        },
    }


def _filter_fields(signed_in: bool) -> list[dict[str, object]]:
    """The map's filter panel: the parcel table's filter (registry.parcels.filters, the same
    parameter names), the public fields only for an anonymous visitor."""
    session = db_session()
    settings = current_app.config["REGISTRY_SETTINGS"]
    public: list[dict[str, object]] = [
        {"name": "q", "label": "Parcel id or address"},
        {"name": "department", "label": "Department", "choices": department_choices(session)},
        {
            "name": "status",
            "label": "Status",
            "choices": [[value, STATUS_LABELS[value]] for value in PARCEL_STATUSES],
        },
        {"name": "use", "label": "Use"},
    ]
    if not signed_in:
        return public
    return [
        *public,
        {
            "name": "district",
            "label": "Council district",
            "choices": [[n, f"District {n}"] for n in district_numbers(session, settings)],
        },
        {
            "name": "asset_type",
            "label": "Asset type",
            "choices": [[value, value.replace("_", " ")] for value in ASSET_TYPES],
        },
        {
            "name": "digitization",
            "label": "Digitization",
            "choices": [[value, value] for value in DIGITIZATION_STATUSES],
        },
        {"name": "verified", "label": "Verified", "choices": [["yes", "Yes"], ["no", "No"]]},
        {"name": "area_min", "label": "Area from (m²)", "type": "number"},
        {"name": "area_max", "label": "Area to (m²)", "type": "number"},
    ]


def _tool_options(signed_in: bool) -> dict[str, object]:
    """What map_tools.js needs: the filter's fields and the URLs of the other layers."""
    return {
        "filterFields": _filter_fields(signed_in),
        "tableUrl": url_for("parcels.parcel_page", parcel_id="x")[: -len("/x")],
        "districtsUrl": url_for("map_view.districts"),
        "buildingsUrl": url_for("ogc.items", collection_id="buildings"),
    }


def _lease_options() -> dict[str, object]:
    """The leased-parcels overlay's data (signed-in users only: lease data is never public)."""
    return {
        "leasesUrl": url_for("lease_api.list_all", format="geojson"),
        "leasePageUrl": _url_template("leases.lease_page", "lease_number"),
    }


@bp.get("/")
def portfolio_map() -> str:
    settings = current_app.config["REGISTRY_SETTINGS"]
    user = current_user()
    editing = bool(user and user.can_edit)
    assets = map_assets(editing, signed_in=user is not None)
    spec = ParcelMapSpec(
        assets=dataclasses.replace(
            assets,
            extra_js=(
                *assets.extra_js,
                ("map_tools", url_for("static", filename="js/map_tools.js")),
            ),
            extra_css=(
                *assets.extra_css,
                ("map_tools_css", url_for("static", filename="css/map_tools.css")),
            ),
        ),
        tile_url=url_for("tiles.parcel_tile_view", z=0, x=0, y=0).replace(
            "/0/0/0.mvt", "/{z}/{x}/{y}.mvt"
        ),
        parcel_page_url=_url_template("parcels.parcel_page", "parcel_id"),
        bounds=portfolio_bounds(db_session().connection(), extent_bounds(current_city().extent)),
        basemap_url=settings.basemap_url,
        basemap_attribution=settings.basemap_attribution,
        local_basemap_url=setting(current_app, "REGISTRY_LOCAL_BASEMAP_URL") or "",
        extra={
            "searchUrl": url_for("parcel_api.list_parcels"),
            "editing": editing,
            **_tool_options(user is not None),
            **(_lease_options() if user is not None else {}),
            **(_editor_options() if editing else {}),
        },
    )
    return nonced(
        render_map_page(
            build_parcel_map(spec),
            "City Asset Registry — map",
            head_html=render_template("_map_head.html"),
            header_html=render_template("_header.html", show_search=True),
            body_html=render_template("_map_tools.html", city_name=current_city().name)
            + (render_template("_parcel_panel.html") if editing else ""),
        )
    )


@bp.get("/map/districts.geojson")
def districts() -> Response:
    """The council districts (the city's polygons, else hulls of their parcels) for the map's
    districts layer and light base map: no lease or money in it, so public with the map."""
    if current_user() is None and not current_app.config["REGISTRY_SETTINGS"].public_map:
        return bearer_unauthorized(False, "Sign in to see the council districts.")
    response = jsonify(district_areas(db_session()))
    response.mimetype = "application/geo+json"
    response.headers["Cache-Control"] = "no-cache"
    return response
