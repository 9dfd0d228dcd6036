"""Weight of the map page `/`: its HTML and all it links, which must not grow with parcels."""

from __future__ import annotations

import re
import urllib.request

from bench.harness import Report


def page_weight(app_url: str) -> tuple[int, int]:
    html = urllib.request.urlopen(app_url + "/", timeout=30).read()
    assets = re.findall(rb'<(?:script|link)[^>]+(?:src|href)="(/static/[^"]+)"', html)
    total = len(html) + sum(
        len(urllib.request.urlopen(app_url + a.decode(), timeout=30).read()) for a in assets
    )
    return len(html), total


def run(weights: dict[str, tuple[int, int]]) -> Report:
    lines = [
        f"  {label}: HTML {html / 1024:.1f} KiB, with its scripts and styles {total / 1024:.1f} KiB"
        for label, (html, total) in weights.items()
    ]
    return Report(
        "page_weight", lines, {k: {"html": h, "total": t} for k, (h, t) in weights.items()}
    )
