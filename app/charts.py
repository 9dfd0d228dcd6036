"""Small line charts drawn on the server as inline SVG.

No JavaScript library and nothing fetched: the chart is part of the page, so it shows offline,
prints, and reads the same in every browser. Colours are Okabe-Ito (colour-blind safe), like the
map's legend; each series also gets its own dash pattern so it reads in greyscale.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup
from markupsafe import escape

Number = int | float | Decimal
XValue = dt.date | int | float | Decimal
COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
DASHES = ("", "6 3", "2 3", "8 3 2 3")


MIN_LEFT = 64  # px left of the plot: room for a short y label ("$40", "75 %")
LABEL_FONT_PX = 11
# Widest glyph advance of the axis font at 11 px, as a share of the size: digits, "$" and ","
# of sans-serif fonts are ~0.55-0.6 em; 0.62 errs wide, so no label is cut at the left edge.
_GLYPH_EM = 0.62


def label_width(label: str, font_px: int = LABEL_FONT_PX) -> int:
    """Pixels a label needs at `font_px`, over-estimated: the server cannot measure the
    browser's font, and a margin a little too wide costs less than a cut-off "$60,000,000"."""
    return math.ceil(len(label) * font_px * _GLYPH_EM)


LEGEND_FONT_PX = 12
_LEGEND_ROW_PX = 18
_LEGEND_SWATCH_PX = 28  # the line sample and the gap before its name
_LEGEND_GAP_PX = 16


def _legend_layout(names: Sequence[str], start: float, end: float) -> list[tuple[float, int]]:
    """Each legend entry's x and row: side by side, each as wide as its (over-estimated) name,
    the next row where the line is full, so long names ("Target: Half of the portfolio
    verified") never run into the next and none is pushed off the chart."""
    placed: list[tuple[float, int]] = []
    x, row = start, 0
    for name in names:
        entry = _LEGEND_SWATCH_PX + label_width(name, LEGEND_FONT_PX)
        if x > start and x + entry > end:
            x, row = start, row + 1
        placed.append((x, row))
        x += entry + _LEGEND_GAP_PX
    return placed


def _x_number(value: XValue) -> float:
    return float(value.toordinal()) if isinstance(value, dt.date) else float(value)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten apart) covering [low, high]."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def compact_money(value: float) -> str:
    """$1.2M, $350k, $900: short labels for an axis."""
    size = abs(value)
    if size >= 1_000_000:
        return f"${value / 1_000_000:,.1f}M".replace(".0M", "M")
    if size >= 1_000:
        return f"${value / 1_000:,.0f}k"
    return f"${value:,.0f}"


def _year_ticks(low: float, high: float) -> list[tuple[float, str]]:
    first, last = dt.date.fromordinal(int(low)).year, dt.date.fromordinal(int(high)).year
    step = max(1, math.ceil((last - first + 1) / 8))
    ticks = [
        (float(dt.date(year, 1, 1).toordinal()), str(year)) for year in range(first, last + 2, step)
    ]
    return [(x, label) for x, label in ticks if low <= x <= high] or [(low, str(first))]


def line_chart_svg(
    series: Mapping[str, Sequence[tuple[XValue, Number]]],
    *,
    title: str,
    width: int = 720,
    height: int = 280,
    y_format: Callable[[float], str] = compact_money,
) -> Markup:
    """An accessible SVG line chart of one or more named series of (x, y) points.

    x may be dates (year ticks) or numbers; the y axis starts at zero. Returned as `Markup`, so a
    template embeds it as is; every label is escaped.
    """
    points = {
        name: [(_x_number(x), float(y)) for x, y in values]
        for name, values in series.items()
        if values
    }
    right, top, bottom = 16, 28, 34
    left = MIN_LEFT  # widened below to the longest y label, once the ticks are known
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} '
        f'{height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    if not points:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">No data</text>')
        return Markup("".join(parts) + "</svg>")
    xs = [x for values in points.values() for x, _ in values]
    ys = [y for values in points.values() for _, y in values]
    x_low = min(xs)
    x_high = max(xs) if max(xs) > x_low else x_low + 1
    y_ticks = nice_ticks(min(0.0, min(ys)), max(ys) or 1.0)
    y_low, y_high = y_ticks[0], y_ticks[-1]
    y_labels = [y_format(tick) for tick in y_ticks]
    left = max(MIN_LEFT, label_width(max(y_labels, key=len)) + 10)
    plot_w = width - left - right
    legend = _legend_layout(list(points), left + 8, width - right)
    top += _LEGEND_ROW_PX * legend[-1][1]  # each further legend row moves the plot down
    plot_h = height - top - bottom

    def sx(x: float) -> float:
        return round(left + (x - x_low) / (x_high - x_low) * plot_w, 1)

    def sy(y: float) -> float:
        return round(top + plot_h - (y - y_low) / (y_high - y_low) * plot_h, 1)

    for tick, label in zip(y_ticks, y_labels, strict=True):
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{sy(tick)}" '
            f'y2="{sy(tick)}" stroke="#ddd"/><text x="{left - 6}" y="{sy(tick) + 4}" '
            f'text-anchor="end" font-size="{LABEL_FONT_PX}">{escape(label)}</text>'
        )
    dated = all(isinstance(x, dt.date) for values in series.values() for x, _ in values)
    x_ticks = (
        _year_ticks(x_low, x_high)
        if dated
        else [(t, f"{t:g}") for t in nice_ticks(x_low, x_high) if x_low <= t <= x_high]
    )
    for x, label in x_ticks:
        parts.append(
            f'<line x1="{sx(x)}" x2="{sx(x)}" y1="{top + plot_h}" y2="{top + plot_h + 4}"'
            f' stroke="#555"/><text x="{sx(x)}" y="{top + plot_h + 18}" '
            f'text-anchor="middle" font-size="11">{escape(label)}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{sy(y_low)}" y2="{sy(y_low)}" stroke="#555"/>'
    )
    for index, (name, values) in enumerate(points.items()):
        colour, dash = COLOURS[index % len(COLOURS)], DASHES[index % len(DASHES)]
        path = " ".join(f"{sx(x)},{sy(y)}" for x, y in values)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline class="series" data-series="{escape(name)}" fill="none" '
            f'stroke="{colour}" stroke-width="2"{dash_attr} points="{path}">'
            f"<title>{escape(name)}</title></polyline>"
        )
        if len(values) == 1:  # a line of one point draws nothing: mark the point (a first snapshot)
            x, y = values[0]
            parts.append(
                f'<circle class="point" data-series="{escape(name)}" cx="{sx(x)}" '
                f'cy="{sy(y)}" r="4" fill="{colour}"><title>{escape(name)}: '
                f"{escape(y_format(y))}</title></circle>"
            )
        legend_x, row = legend[index]
        line_y = 12 + row * _LEGEND_ROW_PX
        parts.append(
            f'<g class="legend-entry" data-series="{escape(name)}"><line x1="{legend_x}" '
            f'x2="{legend_x + 22}" y1="{line_y}" y2="{line_y}" stroke="{colour}" '
            f'stroke-width="2"{dash_attr}/><text x="{legend_x + _LEGEND_SWATCH_PX}" '
            f'y="{line_y + 4}" font-size="{LEGEND_FONT_PX}">{escape(name)}</text></g>'
        )
    return Markup("".join(parts) + "</svg>")
