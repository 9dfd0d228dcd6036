"""URLs of the front-end assets, all served by the app from app/static (see `make assets`)."""

from __future__ import annotations

from flask import url_for

from geo.map_builder import MapAssets


def map_assets() -> MapAssets:
    return MapAssets(
        leaflet_js=url_for("static", filename="vendor/leaflet/leaflet.js"),
        leaflet_css=url_for("static", filename="vendor/leaflet/leaflet.css"),
        vectorgrid_js=url_for("static", filename="vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js"),
        registry_map_js=url_for("static", filename="js/parcel_map.js"),
        registry_map_css=url_for("static", filename="css/map.css"),
    )
