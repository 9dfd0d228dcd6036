"""What every KPI family returns, and the pieces the families share: the period, the breakdown
GROUPING SETS and the rule that a ratio over nothing is empty with a reason, never 0."""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import fields
from datetime import date
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.fiscal_years import fiscal_year_bounds
from registry.fiscal_years import fiscal_year_of
from registry.kpis.definitions import DEFAULT_TARGETS
from registry.kpis.definitions import DEFINITIONS_BY_ID

BREAKDOWNS = ("city", "department", "council_district", "asset_type")
NONE_LABEL = "(none)"  # a record without a department, district or asset type: its own group
_FY = re.compile(r"^FY(\d{4})$")


@dataclass(frozen=True)
class KpiValue:
    """One exported row: exactly the columns of the KPI set, in its order."""

    kpi_id: str
    kpi_name: str
    period: str
    as_of: date
    breakdown: str
    breakdown_value: str | None
    value: Decimal | None
    unit: str
    numerator: Decimal | None
    denominator: Decimal | None
    target: Decimal | None
    status: str | None
    note: str | None


EXPORT_COLUMNS = tuple(field.name for field in fields(KpiValue))


@dataclass(frozen=True)
class KpiFilters:
    """A subset of the portfolio to compute the KPI set over: any combination of one
    department (code), one council district and one asset type; empty means all. The families
    apply it to their facts (`common_sql.FILTER_SQL`), so every breakdown row, the city row
    included, is over that subset only; `NONE_LABEL` selects records without the dimension."""

    department: str | None = None
    council_district: str | None = None
    asset_type: str | None = None

    def params(self) -> dict[str, str | None]:
        return {
            "f_department": self.department or None,
            "f_district": self.council_district or None,
            "f_asset_type": self.asset_type or None,
        }

    def is_empty(self) -> bool:
        return not (self.department or self.council_district or self.asset_type)


NO_FILTERS = KpiFilters()


@dataclass(frozen=True)
class Period:
    """A fiscal year (`FY2026`), the as-of date stock KPIs are measured at, and the subset
    of the portfolio measured (`filters`, default all of it)."""

    label: str
    fiscal_year: int
    start: date
    end: date
    as_of: date
    filters: KpiFilters = NO_FILTERS

    @classmethod
    def resolve(
        cls,
        period: str | None,
        as_of: date,
        start_month: int = 7,
        filters: KpiFilters | None = None,
    ) -> Period:
        """`period` names a fiscal year; without one, the fiscal year containing `as_of`."""
        if period is None:
            year = fiscal_year_of(as_of, start_month)
        else:
            match = _FY.match(period.strip().upper())
            if match is None:
                raise ValueError(f"period {period!r}: expected a fiscal year such as FY2026")
            year = int(match.group(1))
        start, end = fiscal_year_bounds(year, start_month)
        return cls(f"FY{year}", year, start, end, as_of, filters or NO_FILTERS)

    def params(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "fy": self.fiscal_year,
            "start": self.start,
            "end": self.end,
            **self.filters.params(),
        }


def grouping_select(dims: Mapping[str, str]) -> tuple[str, str]:
    """SELECT columns naming each row's breakdown and value, and the GROUPING SETS clause, for
    `dims` (breakdown → column expression, never NULL: see NONE_LABEL)."""
    order = [name for name in BREAKDOWNS[1:] if name in dims]
    cases = " ".join(f"WHEN GROUPING({dims[name]}) = 0 THEN '{name}'" for name in order)
    values = ", ".join(
        f"CASE WHEN GROUPING({dims[name]}) = 0 THEN CAST({dims[name]} AS text) END"
        for name in order
    )
    select = f"CASE {cases} ELSE 'city' END AS breakdown, coalesce({values}) AS breakdown_value"
    sets = ", ".join(["()"] + [f"({dims[name]})" for name in order])
    return select, f"GROUPING SETS ({sets})"


def part_name(value: KpiValue) -> str:
    """What part of its KPI a row measures, for a KPI with several rows per breakdown value
    (LSE-2: one per balance kind, "lease liability (lessee) at 2027-06-30"): its family names
    the part at the start of the note, before any "; " that adds detail. Such a KPI's first row
    is its headline (the engine's order, which snapshots keep): the tile's value and trend."""
    return (value.note or "").split("; ", 1)[0]


def status_of(kpi_id: str, value: Decimal | None, target: Decimal | None) -> str | None:
    """`on target` / `off target` against the target in the KPI's better direction."""
    if value is None or target is None:
        return None
    better = DEFINITIONS_BY_ID[kpi_id].better
    met = value >= target if better == "higher" else value <= target
    return "on target" if met else "off target"


def _round(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def make_value(
    kpi_id: str,
    period: Period,
    row: Mapping[str, Any],
    value: Decimal | int | None,
    numerator: Any,
    denominator: Any,
    note: str | None = None,
    target: Decimal | None = None,
    empty_reason: str | None = None,
) -> KpiValue:
    """A KpiValue for one breakdown row; `value` None needs `empty_reason` (why there is none)."""
    definition = DEFINITIONS_BY_ID[kpi_id]
    target = DEFAULT_TARGETS.get(kpi_id) if target is None else target
    if value is not None:
        value = _round(Decimal(value))
    elif empty_reason:
        note = empty_reason if note is None else f"{empty_reason}; {note}"
    return KpiValue(
        kpi_id=kpi_id,
        kpi_name=definition.name,
        period=period.label,
        as_of=period.as_of,
        breakdown=row["breakdown"],
        breakdown_value=row["breakdown_value"],
        value=value,
        unit=definition.unit,
        numerator=_decimal(numerator),
        denominator=_decimal(denominator),
        target=target,
        status=status_of(kpi_id, value, target),
        note=note,
    )


def ratio(
    kpi_id: str,
    period: Period,
    row: Mapping[str, Any],
    numerator: Any,
    denominator: Any,
    empty_reason: str,
    scale: int = 100,
    note: str | None = None,
) -> KpiValue:
    """`scale × numerator ÷ denominator`, or empty with `empty_reason` when the denominator is 0."""
    num, den = _decimal(numerator) or Decimal(0), _decimal(denominator) or Decimal(0)
    value = scale * num / den if den else None
    return make_value(kpi_id, period, row, value, num, den, note, empty_reason=empty_reason)


def nothing(kpi_id: str, period: Period, reason: str) -> KpiValue:
    """The city row of a KPI with no data at all: empty, saying why."""
    row = {"breakdown": "city", "breakdown_value": None}
    return make_value(kpi_id, period, row, None, None, None, empty_reason=reason)


def with_city_row(
    kpi_id: str, period: Period, values: Iterable[KpiValue], reason: str
) -> list[KpiValue]:
    """`values`, or the city row saying `reason` when the query found no rows at all."""
    out = list(values)
    return out if out else [nothing(kpi_id, period, reason)]


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def grouped_rows(
    session: Session, sql: str, period: Period, params: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The rows of a GROUPING SETS query, sums of nothing read as 0. The grand-total set `()`
    always yields the city row, so an empty registry still gets a city row (with its reason).
    `params` adds bind values to the period's (`:as_of`, `:fy`, `:start`, `:end`)."""
    rows = session.execute(text(sql), {**period.params(), **(params or {})}).mappings().all()
    return [
        {key: (0 if value is None and key not in _LABELS else value) for key, value in row.items()}
        for row in rows
    ]


_LABELS = {"breakdown", "breakdown_value"}
