"""The reform KPI engine (../shared/kpi-set.md, version 1): one module per KPI family, each a
set-based query grouped by city, department, council district and asset type."""

from registry.kpis.definitions import (
    DEFAULT_TARGETS,
    DEFINITIONS_BY_ID,
    KPI_DEFINITIONS,
    KPI_SET_VERSION,
    KpiDefinition,
)
from registry.kpis.engine import compute_kpis
from registry.kpis.values import BREAKDOWNS, EXPORT_COLUMNS, KpiValue, Period

__all__ = [
    "BREAKDOWNS",
    "DEFAULT_TARGETS",
    "DEFINITIONS_BY_ID",
    "EXPORT_COLUMNS",
    "KPI_DEFINITIONS",
    "KPI_SET_VERSION",
    "KpiDefinition",
    "KpiValue",
    "Period",
    "compute_kpis",
]
