"""A Folium choropleth of one KPI by council district, with Leaflet from the app's own assets.

Built from `folium.GeoJson` with a style function rather than `folium.Choropleth`: the latter
draws its legend with branca, which loads d3 from a CDN, and these maps must work offline.
The classes are computed here and written into each feature, so the page needs no scale code.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from typing import cast

import folium
from branca.element import Figure
from markupsafe import escape

from geo.map_builder import MapAssets

# ColorBrewer Blues, 5 classes: darker is a higher value whatever the KPI's better direction.
CLASS_COLOURS = ("#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c")
NO_VALUE_COLOUR = "#bdbdbd"


def class_breaks(values: list[Decimal]) -> list[Decimal]:
    """Upper bounds of equal-interval classes over `values` (one class when they are equal)."""
    low, high = min(values), max(values)
    if high == low:
        return [high]
    step = (high - low) / len(CLASS_COLOURS)
    return [low + step * (index + 1) for index in range(len(CLASS_COLOURS))]


def _colour(value: Decimal | None, breaks: list[Decimal]) -> str:
    if value is None:
        return NO_VALUE_COLOUR
    if len(breaks) == 1:
        return CLASS_COLOURS[-1]
    index = next((i for i, bound in enumerate(breaks) if value <= bound), len(breaks) - 1)
    return CLASS_COLOURS[index]


def _styled(
    districts: Mapping[str, Any], values: Mapping[str, Decimal | None], unit: str
) -> tuple[dict[str, Any], list[Decimal]]:
    present = [value for value in values.values() if value is not None]
    breaks = class_breaks(present) if present else []
    features = []
    for feature in districts["features"]:
        district = feature["properties"]["council_district"]
        value = values.get(district)
        label = "no value" if value is None else f"{value:,} {unit}"
        features.append(
            {
                **feature,
                "properties": {
                    **feature["properties"],
                    "fill": _colour(value, breaks),
                    "label": label,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}, breaks


def _legend(title: str, unit: str, breaks: list[Decimal]) -> str:
    rows, low = [], None
    for colour, bound in zip(
        CLASS_COLOURS[len(CLASS_COLOURS) - len(breaks) :], breaks, strict=True
    ):
        span = f"≤ {bound:,.2f}" if low is None else f"{low:,.2f} – {bound:,.2f}"
        rows.append(f'<li><span style="background:{colour}"></span>{span} {escape(unit)}</li>')
        low = bound
    rows.append(f'<li><span style="background:{NO_VALUE_COLOUR}"></span>no value</li>')
    return (
        f'<div class="choropleth-legend"><strong>{escape(title)}</strong>'
        f"<ul>{''.join(rows)}</ul></div>"
    )


def build_kpi_choropleth(
    districts: Mapping[str, Any],
    values: Mapping[str, Decimal | None],
    *,
    title: str,
    unit: str,
    assets: MapAssets,
) -> folium.Map:
    """`districts` (see geo.districts.district_areas) coloured by `values` (council district →
    KPI value; None for a district where the KPI has no value). The dashboard lists the same
    values beside the map with links to their records; the map's tooltip names the value."""
    kpi_map = folium.Map(location=None, tiles=None, control_scale=True)
    kpi_map.default_js = [("leaflet", assets.leaflet_js)]
    kpi_map.default_css = [("leaflet_css", assets.leaflet_css)]
    collection, breaks = _styled(districts, values, unit)
    layer = folium.GeoJson(
        collection,
        name=title,
        style_function=lambda feature: {
            "fillColor": feature["properties"]["fill"],
            "fillOpacity": 0.75,
            "color": "#333333",
            "weight": 1,
        },
        # folium refuses a tooltip over no features (a registry without districts yet)
        tooltip=folium.GeoJsonTooltip(
            ["council_district", "label"], aliases=["Council district", title]
        )
        if collection["features"]
        else None,
    )
    layer.add_to(kpi_map)
    if collection["features"]:
        kpi_map.fit_bounds(cast(list[list[float]], layer.get_bounds()))
    root = kpi_map.get_root()
    assert isinstance(root, Figure)
    root.html.add_child(folium.Element(_legend(title, unit, breaks)), name="legend")
    return kpi_map
