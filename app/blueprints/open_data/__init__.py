"""The city's open data: `/open` (the public page, its parcel pages, dictionary, downloads and
filtered tiles) and `/data.json` (the DCAT-US catalog). Only when the city publishes its map
(`REGISTRY_PUBLIC_MAP`); otherwise every one of them is a 404, as if it did not exist."""

from __future__ import annotations

from flask import abort
from flask import current_app


def only_when_published() -> None:
    """A blueprint's `before_request`: 404 unless the city publishes its map."""
    if not current_app.config["REGISTRY_SETTINGS"].public_map:
        abort(404)
