"""What the KPI desk says about a combination's trends: where each starts and why there is
nothing earlier, in the reader's words. A combination's figures are kept from the first day
someone views it; DIG-1..3 before that are back-filled from the audit trail just after
(`backfill_runner`, and at the month end: `registry.kpis.combinations`); the other KPIs' past
cannot be rebuilt (docs/kpis.md)."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass

from registry.kpis import KPI_DEFINITIONS
from registry.kpis.snapshots import BACKFILLED_KPIS
from registry.kpis.trends import SeriesStart
from registry.kpis.trends import TrendPoint

NOTHING_KEPT = (
    "No figures are kept for this combination yet: its trend starts on the first day it is "
    "viewed in the current fiscal year."
)
NO_PARCELS = (
    "No figures are kept for this combination: it holds no parcels, so its values are empty and "
    "no trend is kept for it until it does."
)


@dataclass(frozen=True)
class TrendNotes:
    selection: str  # the page's note about the combination
    per_kpi: dict[str, str]  # KPI id → the note under its trend


def trend_notes(
    trends: Mapping[str, Sequence[TrendPoint]], start: SeriesStart, holds_parcels: bool = True
) -> TrendNotes:
    """The notes of a combination whose series starts at `start`, drawn as `trends`;
    `holds_parcels` False: its subset is empty, and a view keeps nothing of it."""
    if start.measured is None:
        nothing = NOTHING_KEPT if holds_parcels else NO_PARCELS
        return TrendNotes(nothing, {d.id: nothing for d in KPI_DEFINITIONS})
    first = start.measured.isoformat()
    if start.back_filled is not None and start.back_filled < start.measured:
        earlier = (
            f"DIG-1..3 are back-filled from the audit trail from {start.back_filled.isoformat()}"
        )
    else:
        earlier = "DIG-1..3 before it are being read back from the audit trail"
    selection = (
        f"This combination's trends start on {first}, the day it was first viewed; {earlier}. "
        "The other KPIs' past cannot be rebuilt from the audit trail."
    )
    return TrendNotes(
        selection, {d.id: _kpi_note(d.id, trends.get(d.id, ()), start) for d in KPI_DEFINITIONS}
    )


def _kpi_note(kpi_id: str, trend: Sequence[TrendPoint], start: SeriesStart) -> str:
    assert start.measured is not None
    first = start.measured.isoformat()
    if trend and trend[0][0] < start.measured:
        return (
            f"From {trend[0][0].isoformat()}: back-filled from the audit trail until the "
            f"first view on {first}."
        )
    missing = f"No earlier figures for this combination: first viewed on {first}"
    if kpi_id not in BACKFILLED_KPIS:
        return f"{missing}; this KPI's past cannot be rebuilt from the audit trail."
    if start.back_filled is not None and start.back_filled < start.measured:
        return f"{missing}; the audit trail holds no parcels of it before."
    return f"{missing}; earlier month ends are being read back from the audit trail."
