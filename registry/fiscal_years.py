"""Fiscal years, named by the calendar year in which they end (FY2026 with a July start runs
2025-07-01..2026-06-30).

One implementation for the lease engine, the KPIs, operations, the portfolio and the pages: a
city whose year starts in October (or January) changes one setting, and every figure follows.
The start month is always a parameter, never read here from the settings, so the pure lease
engine can use this module too.
"""

from __future__ import annotations

from datetime import date
from datetime import timedelta

DEFAULT_FISCAL_YEAR_START_MONTH = 7
ONE_DAY = timedelta(days=1)


def check_start_month(month: int) -> None:
    """Refuse a start month outside 1..12 (ValueError), before it names a wrong year."""
    if not isinstance(month, int) or isinstance(month, bool) or not 1 <= month <= 12:
        raise ValueError("the fiscal year's start month must be a month number 1..12")


def fiscal_year_of(
    day: date, fiscal_year_start_month: int = DEFAULT_FISCAL_YEAR_START_MONTH
) -> int:
    """Fiscal year containing ``day``, named by the calendar year in which it ends."""
    check_start_month(fiscal_year_start_month)
    if fiscal_year_start_month == 1 or day.month < fiscal_year_start_month:
        return day.year
    return day.year + 1


def fiscal_year_bounds(
    fiscal_year: int, fiscal_year_start_month: int = DEFAULT_FISCAL_YEAR_START_MONTH
) -> tuple[date, date]:
    """First and last day of ``fiscal_year`` (FY2026 with July start: 2025-07-01..2026-06-30)."""
    check_start_month(fiscal_year_start_month)
    start_year = fiscal_year if fiscal_year_start_month == 1 else fiscal_year - 1
    start = date(start_year, fiscal_year_start_month, 1)
    end = date(start_year + 1, fiscal_year_start_month, 1) - ONE_DAY
    return start, end
