"""The reform KPI engine (../shared/kpi-set.md, version 1): one module per KPI family, each a
set-based query grouped by city, department, council district and asset type."""

from registry.kpis.definitions import DEFAULT_TARGETS
from registry.kpis.definitions import DEFINITIONS_BY_ID
from registry.kpis.definitions import KPI_DEFINITIONS
from registry.kpis.definitions import KPI_SET_VERSION
from registry.kpis.definitions import KpiDefinition
from registry.kpis.engine import compute_kpis
from registry.kpis.values import BREAKDOWNS
from registry.kpis.values import EXPORT_COLUMNS
from registry.kpis.values import KpiFilters
from registry.kpis.values import KpiValue
from registry.kpis.values import Period

__all__ = [
    "BREAKDOWNS",
    "DEFAULT_TARGETS",
    "DEFINITIONS_BY_ID",
    "EXPORT_COLUMNS",
    "KPI_DEFINITIONS",
    "KPI_SET_VERSION",
    "KpiDefinition",
    "KpiFilters",
    "KpiValue",
    "Period",
    "compute_kpis",
]
