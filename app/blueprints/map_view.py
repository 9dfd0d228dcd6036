"""The portfolio map at `/`: a Folium page whose parcel layer is the app's own vector tiles.

Editors also get the side panel and the editing tools; everybody else gets none of their code.
"""

from __future__ import annotations

from flask import Blueprint
from flask import current_app
from flask import render_template
from flask import request
from flask import url_for

from app.assets import map_assets
from app.auth import current_user
from app.city import current_city
from app.database import db_session
from app.security import nonced
from geo.extent import extent_bounds
from geo.extent import portfolio_bounds
from geo.map_builder import ParcelMapSpec
from geo.map_builder import build_parcel_map
from geo.map_builder import render_map_page
from registry.city.departments import department_choices
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
    spec = ParcelMapSpec(
        assets=map_assets(editing, signed_in=user is not None),
        tile_url=url_for("tiles.parcel_tile_view", z=0, x=0, y=0).replace(
            "/0/0/0.mvt", "/{z}/{x}/{y}.mvt"
        ),
        parcel_page_url=_url_template("parcels.parcel_page", "parcel_id"),
        bounds=portfolio_bounds(db_session().connection(), extent_bounds(current_city().extent)),
        basemap_url=settings.basemap_url,
        basemap_attribution=settings.basemap_attribution,
        extra={
            "searchUrl": url_for("parcel_api.list_parcels"),
            "editing": editing,
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
            body_html=render_template("_parcel_panel.html") if editing else "",
        )
    )
