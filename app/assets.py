"""URLs of the front-end assets, all served by the app from app/static (see `make assets`)."""

from __future__ import annotations

from flask import url_for

from geo.map_builder import MapAssets


def _static(filename: str) -> str:
    return url_for("static", filename=filename)


def map_assets(editing: bool, signed_in: bool = False) -> MapAssets:
    """Everyone gets the map and search; signed-in users the leased-parcels overlay; editors
    also Leaflet-Geoman and the editor bridge."""
    extra_js = [("parcel_search", _static("js/parcel_search.js"))]
    if signed_in:
        extra_js.append(("lease_overlay", _static("js/lease_overlay.js")))
    extra_css = []
    if editing:
        extra_js += [
            ("leaflet_geoman", _static("vendor/leaflet-geoman/leaflet-geoman.min.js")),
            ("parcel_editor", _static("js/parcel_editor.js")),
        ]
        extra_css += [("leaflet_geoman_css", _static("vendor/leaflet-geoman/leaflet-geoman.css"))]
    return MapAssets(
        leaflet_js=_static("vendor/leaflet/leaflet.js"),
        leaflet_css=_static("vendor/leaflet/leaflet.css"),
        vectorgrid_js=_static("vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js"),
        registry_map_js=_static("js/parcel_map.js"),
        registry_map_css=_static("css/map.css"),
        extra_js=tuple(extra_js),
        extra_css=tuple(extra_css),
    )
