"""The queryables of a collection as JSON Schema (OGC API – Features Part 3, `/queryables`)."""

from __future__ import annotations

from typing import Any

from registry.features.collections import DATE
from registry.features.collections import DATETIME
from registry.features.collections import Collection

JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"
_GEOJSON_SCHEMA = "https://geojson.org/schema/{}.json"


def queryables(collection: Collection, public: bool, url: str) -> dict[str, Any]:
    """What a filter may name: the geometry and every property the caller may read."""
    properties: dict[str, Any] = {
        "geometry": {
            "title": "Geometry",
            "format": f"geometry-{collection.geometry_type.lower()}",
            "$ref": _GEOJSON_SCHEMA.format(collection.geometry_type),
            "x-ogc-role": "primary-geometry",
        }
    }
    for prop in collection.visible(public):
        schema: dict[str, Any] = {"title": prop.title}
        if prop.type in (DATE, DATETIME):
            schema.update(type="string", format=prop.type)
        else:
            schema["type"] = prop.type
        if prop.enum:
            schema["enum"] = list(prop.enum)
        if prop.decimal:
            schema["description"] = "exact decimal; written as a string in GeoJSON"
        properties[prop.name] = schema
    return {
        "$schema": JSON_SCHEMA,
        "$id": url,
        "type": "object",
        "title": collection.title,
        "properties": properties,
        "additionalProperties": False,
    }
