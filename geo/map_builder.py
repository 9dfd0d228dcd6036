"""Folium maps of the portfolio, wired to the app's own vector tiles and local JS/CSS.

Folium's defaults load Leaflet, jQuery and Bootstrap from CDNs; a city intranet (and these
machines) may have no internet, so every map built here links only the asset URLs it is given.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import folium
from branca.element import Figure
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from registry.vocabulary import PARCEL_STATUSES
from registry.vocabulary import STATUS_COLOURS
from registry.vocabulary import STATUS_LABELS

# Parcels below this zoom would be sub-pixel slivers: the layer starts where they can be read.
PARCEL_LAYER_MIN_ZOOM = 10
# The map's own floor. Without it Leaflet takes the highest `minZoom` of its layers (the parcel
# layer's 10) and the map cannot be zoomed out past the start; districts stay drawn below 10.
MAP_MIN_ZOOM = 3


@dataclass(frozen=True)
class MapAssets:
    """URLs of the JS/CSS the map needs, as served by the app (never a CDN)."""

    leaflet_js: str
    leaflet_css: str
    vectorgrid_js: str
    registry_map_js: str
    registry_map_css: str
    # (name, url) of optional plugins, e.g. the editing tools given only to editors
    extra_js: tuple[tuple[str, str], ...] = ()
    extra_css: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ParcelMapSpec:
    assets: MapAssets
    tile_url: str  # with {z}/{x}/{y}
    parcel_page_url: str  # with {parcel_id}
    bounds: tuple[tuple[float, float], tuple[float, float]]
    basemap_url: str = ""
    basemap_attribution: str = ""
    # an intranet tile server (REGISTRY_LOCAL_BASEMAP_URL); "" offers the districts as a light base
    local_basemap_url: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


class ParcelTileLayer(JSCSSMixin, Layer):
    """The parcel layer: vector tiles styled by status, with a popup and a legend."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = RegistryMap.parcelLayer(
                {{ this._parent.get_name() }}, {{ this.options|tojson }}
            );
        {% endmacro %}
        """
    )

    def __init__(
        self, options: dict[str, Any], js: list[tuple[str, str]], css: list[tuple[str, str]]
    ) -> None:
        super().__init__(name="Parcels", overlay=True, control=True, show=True)
        self._name = "ParcelTileLayer"
        self.options = options
        # instance lists: folium's class-level lists are shared by every map in the process
        self.default_js = js
        self.default_css = css


def status_legend() -> list[dict[str, str]]:
    return [
        {"value": status, "label": STATUS_LABELS[status], "colour": STATUS_COLOURS[status]}
        for status in PARCEL_STATUSES
    ]


def basemap_choices(spec: ParcelMapSpec) -> list[dict[str, str]]:
    """The base maps the switcher offers, in order; the first is shown unless the page's URL
    names another. Never a CDN: "none", the configured one, and a local one."""
    choices = []
    if spec.basemap_url:
        choices.append(
            {
                "id": "configured",
                "label": "Base map",
                "url": spec.basemap_url,
                "attribution": spec.basemap_attribution,
            }
        )
    if spec.local_basemap_url:
        choices.append(
            {
                "id": "local",
                "label": "Local base map",
                "url": spec.local_basemap_url,
                "attribution": "",
            }
        )
    else:
        choices.append({"id": "local", "label": "Districts (light)", "url": "", "attribution": ""})
    choices.append({"id": "none", "label": "No base map", "url": "", "attribution": ""})
    return choices


def build_parcel_map(spec: ParcelMapSpec) -> folium.Map:
    """The portfolio map. Base maps are added by the page's script (parcel_map.js), so that
    the layer switcher and the page's URL choose among them."""
    assets = spec.assets
    parcel_map = folium.Map(location=None, tiles=None, control_scale=True, zoom_control=True)
    parcel_map.default_js = [("leaflet", assets.leaflet_js)]
    parcel_map.default_css = [("leaflet_css", assets.leaflet_css)]
    ParcelTileLayer(
        {
            "tileUrl": spec.tile_url,
            "parcelPageUrl": spec.parcel_page_url,
            "statuses": status_legend(),
            "minZoom": PARCEL_LAYER_MIN_ZOOM,
            "mapMinZoom": MAP_MIN_ZOOM,
            "basemaps": basemap_choices(spec),
            "bounds": [list(spec.bounds[0]), list(spec.bounds[1])],
            **spec.extra,
        },
        js=[
            ("vectorgrid", assets.vectorgrid_js),
            ("registry_map", assets.registry_map_js),
            *assets.extra_js,
        ],
        css=[("registry_map_css", assets.registry_map_css), *assets.extra_css],
    ).add_to(parcel_map)
    # no fit_bounds here: the script fits `bounds` unless the page's URL holds a view
    return parcel_map


def render_map_page(
    parcel_map: folium.Map,
    title: str,
    head_html: str = "",
    header_html: str = "",
    body_html: str = "",
) -> str:
    """The whole HTML page: the map filling the window under a header of the app's own.

    `head_html` goes into <head> (meta tags), `header_html` above the map, `body_html` after it
    (side panels); all three are the app's own rendered templates.
    """
    root = parcel_map.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(folium.Element(f"<title>{title}</title>{head_html}"), name="page_head")
    if header_html:
        root.html.add_child(folium.Element(header_html), name="page_header", index=0)
    if body_html:
        root.html.add_child(folium.Element(body_html), name="page_body")
    # Folium's viewport meta forbids pinch-zoom (maximum-scale=1, user-scalable=no: WCAG 1.4.4)
    # and its <html> names no language: the page gets the app's own.
    page = _FOLIUM_VIEWPORT.sub(VIEWPORT, root.render(), count=1)
    return page.replace("<html>", '<html lang="en">', 1)


_FOLIUM_VIEWPORT = re.compile(r'<meta name="viewport"[^>]*>')
VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'
