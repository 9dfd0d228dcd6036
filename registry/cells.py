"""Cells that leave the registry for a spreadsheet (CSV and XLSX exports).

One rule for every export (KPIs, portfolio, GASB 87, critical dates): text a spreadsheet would run
as a formula is shown, not run.
"""

from __future__ import annotations

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """Defuse CSV formula injection (OWASP): text starting with = + - @ is shown, not run."""
    return "'" + value if value[:1] in _FORMULA_STARTS else value
