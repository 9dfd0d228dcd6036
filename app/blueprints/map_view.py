"""The portfolio map at `/`: a Folium page whose parcel layer is the app's own vector tiles."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for

from app.assets import map_assets
from app.database import db_session
from geo.extent import portfolio_bounds
from geo.map_builder import ParcelMapSpec, build_parcel_map, render_map_page

bp = Blueprint("map_view", __name__)


@bp.get("/")
def portfolio_map() -> str:
    settings = current_app.config["REGISTRY_SETTINGS"]
    spec = ParcelMapSpec(
        assets=map_assets(),
        tile_url=url_for("tiles.parcel_tile_view", z=0, x=0, y=0).replace(
            "/0/0/0.mvt", "/{z}/{x}/{y}.mvt"
        ),
        parcel_page_url=url_for("parcels.parcel_page", parcel_id="PARCEL_ID").replace(
            "PARCEL_ID", "{parcel_id}"
        ),
        bounds=portfolio_bounds(db_session().connection()),
        basemap_url=settings.basemap_url,
        basemap_attribution=settings.basemap_attribution,
    )
    header = render_template("_header.html")
    return render_map_page(build_parcel_map(spec), "City Asset Registry — map", header)
