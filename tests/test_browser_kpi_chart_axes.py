"""The KPI charts' y-axis labels fit inside the chart (walk report, defect 9): CST-2's ticks
read "0 per sq ft" and CST-3's "$0,000,000", cut off by a fixed left margin. Drawn in Chromium,
each label's box must start inside the SVG."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from playwright.sync_api import Page

from app.charts import line_chart_svg
from registry.kpis.units import format_kpi_value
from tests.browser import browser  # noqa: F401  (fixture)
from tests.browser import page  # noqa: F401  (fixture)

POINTS = [(dt.date(2026, 6, 30), Decimal("38.25")), (dt.date(2026, 12, 3), Decimal("41.10"))]


@pytest.mark.parametrize(
    ("unit", "scale", "width"),
    [("$/sq ft", 1, 300), ("$/sq ft", 1, 520), ("$", 1_600_000, 300), ("$", 1_600_000, 520)],
)
def test_kpi_chart_axis_labels_fit_inside_the_chart(
    page: Page,  # noqa: F811
    unit: str,
    scale: int,
    width: int,
) -> None:
    series = {"KPI": [(day, value * scale) for day, value in POINTS]}
    svg = line_chart_svg(
        series,
        title="axis",
        width=width,
        height=110,
        y_format=lambda value: format_kpi_value(Decimal(str(value)), unit),
    )
    page.set_content(f"<!doctype html><body style='margin:0'>{svg}</body>")
    lefts = page.eval_on_selector_all(
        "svg.chart text[text-anchor=end]",
        "nodes => nodes.map(n => [n.textContent, n.getBBox().x])",
    )
    assert lefts and any("$" in label for label, _ in lefts)
    assert [label for label, x in lefts if x < 0] == []
