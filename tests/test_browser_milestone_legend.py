"""The burn-up chart's legend on `/milestone` (walk report, defect 11): "Target: Half of the
portfolio verified" ran into "Target date …", and "Forecast at recent pace" was drawn past the
chart's right edge. Drawn in Chromium, no two legend entries overlap and each lies inside the
chart."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page

from app.blueprints.milestones.pages import _burn_up_chart
from registry.milestones.progress import BurnUpWeek
from registry.milestones.progress import MilestoneForecast
from registry.models import Milestone
from tests.browser import browser  # noqa: F401  (fixture)
from tests.browser import page  # noqa: F401  (fixture)

TODAY = dt.date(2026, 12, 3)
WEEKS = [
    BurnUpWeek(TODAY - dt.timedelta(weeks=100 - n), 10 * n, 8 * n) for n in range(100)
]  # fmt: skip


@pytest.mark.parametrize(
    "name", ["Half of the portfolio verified", "Whole portfolio verified, every department's"]
)
def test_the_burn_up_legend_entries_do_not_overlap_and_all_are_inside_the_chart(
    page: Page,  # noqa: F811
    name: str,
) -> None:
    milestone = Milestone(
        name=name, target_pct_verified=Decimal(50), target_date=dt.date(2026, 12, 31)
    )
    outlook = MilestoneForecast(1200, 825, Decimal("5.9"), dt.date(2028, 2, 14), -410)
    svg = _burn_up_chart(WEEKS, milestone, outlook, TODAY)
    page.set_content(f"<!doctype html><body style='margin:0'>{svg}</body>")
    chart = page.locator("svg.chart").bounding_box()
    names = [
        "Digitized", "Verified", f"Target: {name}", "Target date 2026-12-31",
        "Forecast at recent pace",
    ]  # fmt: skip
    texts = page.locator("svg.chart > text, svg.chart .legend-entry text")
    entries = [texts.filter(has_text=re.compile(f"^{re.escape(n)}$")) for n in names]
    boxes = [entry.bounding_box() for entry in entries]
    assert chart is not None and all(box is not None for box in boxes)
    for box in boxes:
        assert box is not None
        assert chart["x"] <= box["x"] and box["x"] + box["width"] <= chart["x"] + chart["width"]
        assert chart["y"] <= box["y"]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a is not None and b is not None
            apart = (
                a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]
            )  # fmt: skip
            assert apart, (a, b)
    assert all(entry.is_visible() for entry in entries)
    plot_top = page.locator("svg.chart polyline.series").first.bounding_box()
    assert plot_top is not None
    assert max(box["y"] + box["height"] for box in boxes if box) <= plot_top["y"] + 1
