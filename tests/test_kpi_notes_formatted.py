"""KPI notes carry their money and counts as the tiles show them (walk report, defect 10):
"annual rent $4,959,627", not "annual rent 4959627.08". The notes are built in
`registry/kpis` with the one formatter, `registry.kpis.units`."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy.orm import Session

from registry.kpis import compute_kpis
from registry.kpis.units import format_kpi_value

# a bare decimal of four or more digits, or any amount with cents, as Python's "{:.2f}" wrote it
RAW_NUMBER = re.compile(r"(?<![\d,$.])\d{4,}(?:\.\d+)?|(?<![\d,$])\d+\.\d\d(?!\d)")


def test_kpi_notes_show_money_and_counts_formatted_by_unit(sample_session: Session) -> None:
    values = compute_kpis(sample_session, None, dt.date(2026, 12, 3), 7)
    city = {value.kpi_id: value for value in values if value.breakdown == "city"}
    for kpi_id in ("LSE-1", "CST-3", "CST-4"):
        note = city[kpi_id].note or ""
        unformatted = [m for m in RAW_NUMBER.findall(note) if not re.fullmatch(r"20\d\d", m)]
        assert not unformatted, f"{kpi_id}: {note}"
    assert "rent paid $" in (city["CST-3"].note or "")
    cst4 = city["CST-4"]
    assert cst4.denominator is not None
    assert f"against {format_kpi_value(cst4.denominator, '$')}" in (cst4.note or "")
    assert "annual rent $" in (city["LSE-1"].note or "")
