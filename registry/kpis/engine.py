"""`compute_kpis`: every implemented KPI family for a period and as-of date, in one ordered list
(KPI set order, then city, department, council district, asset type, building)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from registry.fields import whole_number
from registry.kpis.costs import cost_kpis
from registry.kpis.definitions import KPI_DEFINITIONS
from registry.kpis.digitization import digitization_kpis
from registry.kpis.lease_kpis import lease_kpis
from registry.kpis.milestone_forecast import milestone_forecast_kpis
from registry.kpis.occupancy_costs import occupancy_cost_kpis
from registry.kpis.revenue import revenue_kpis
from registry.kpis.utilization import utilization_kpis
from registry.kpis.values import BREAKDOWNS
from registry.kpis.values import KpiFilters
from registry.kpis.values import KpiValue
from registry.kpis.values import Period
from registry.leases.rent_sql import without_jit

FAMILIES = (
    digitization_kpis,
    milestone_forecast_kpis,
    utilization_kpis,
    cost_kpis,
    occupancy_cost_kpis,
    revenue_kpis,
    lease_kpis,
)
_KPI_ORDER = {definition.id: index for index, definition in enumerate(KPI_DEFINITIONS)}
_BREAKDOWN_ORDER = {name: index for index, name in enumerate((*BREAKDOWNS, "building"))}


def _sort_key(value: KpiValue) -> tuple[int, int, int, str]:
    text = value.breakdown_value or ""
    # council districts are numbers: 2 before 10
    number = whole_number(text) or 0
    return (_KPI_ORDER[value.kpi_id], _BREAKDOWN_ORDER[value.breakdown], number, text)


def compute_kpis(
    session: Session,
    period: str | None,
    as_of: date,
    fiscal_year_start_month: int = 7,
    filters: KpiFilters | None = None,
) -> list[KpiValue]:
    """The KPI values of fiscal year `period` (e.g. "FY2026"; default: the fiscal year holding
    `as_of`), stock KPIs measured at `as_of`, over the subset `filters` selects (default: the
    whole portfolio; then the city row is the subset's). Read-only: nothing is written."""
    resolved = Period.resolve(period, as_of, fiscal_year_start_month, filters)
    without_jit(session)
    values = [value for family in FAMILIES for value in family(session, resolved)]
    return sorted(values, key=_sort_key)
