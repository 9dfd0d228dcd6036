"""The parcels UTL-4 counts, so that a link from its figure can list exactly them.

UTL-4 adds two kinds of record: parcels with no current use and office buildings under 60 %
utilization. The parcel table filters by parcel attributes only, so `status=no_current_use`
lists the first kind and misses the parcels holding the second (walk defect 8: 35 shown, 29
listed). This reads both with the very SQL the KPI is computed with (`utilization._FACTS` and
its under-60 % test), over the same subset (`KpiFilters`) and as-of date, and names each parcel
with the kind that made it count; the caller lists them by id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.kpis.common_sql import FILTER_SQL
from registry.kpis.common_sql import PARCEL_DIMS_SQL
from registry.kpis.common_sql import PARCEL_IN_REGISTRY_SQL
from registry.kpis.utilization import _FACTS as _UTILIZATION_FACTS
from registry.kpis.utilization import _UNDERUSED as _UNDERUSED_OFFICE
from registry.kpis.values import KpiFilters

NO_CURRENT_USE = "no_current_use"
OFFICE_UNDER_60 = "office_under_60"

_SQL = (
    _UTILIZATION_FACTS
    + f"""
    SELECT p.parcel_id, p.dim_district AS district, 'no_current_use' AS kind
      FROM (SELECT p.*, {PARCEL_DIMS_SQL} FROM parcels p
              LEFT JOIN departments d ON d.id = p.department_id
             WHERE {PARCEL_IN_REGISTRY_SQL}) AS p
     WHERE p.status = 'no_current_use' AND {FILTER_SQL}
    UNION ALL
    SELECT p.parcel_id, building.dim_district, 'office_under_60'
      FROM building JOIN buildings b ON b.building_id = building.building_key
      JOIN parcels p ON p.id = b.parcel_id
     WHERE {_UNDERUSED_OFFICE} AND {FILTER_SQL}
     ORDER BY 1, 3
"""
)


@dataclass(frozen=True)
class CountedParcels:
    """UTL-4's records over a subset: the distinct parcels (sorted) and how many of each kind
    the figure adds up (a parcel with no current use that also holds an under-used office, or
    holds two, is one parcel but counts twice)."""

    parcel_ids: tuple[str, ...]
    no_current_use: int
    offices_under_60: int

    @property
    def figure(self) -> int:
        return self.no_current_use + self.offices_under_60


@dataclass(frozen=True)
class _Row:
    parcel_id: str
    district: str
    kind: str


class UnderusedRecords:
    """The rows of one read, sliced per council district without reading again (the desk's
    district table links each district's figure)."""

    def __init__(self, rows: list[_Row]) -> None:
        self._rows = rows

    def counted(self, district: str | None = None) -> CountedParcels:
        rows = [row for row in self._rows if district is None or row.district == district]
        return CountedParcels(
            parcel_ids=tuple(sorted({row.parcel_id for row in rows})),
            no_current_use=sum(row.kind == NO_CURRENT_USE for row in rows),
            offices_under_60=sum(row.kind == OFFICE_UNDER_60 for row in rows),
        )


def underused_records(
    session: Session, as_of: dt.date, filters: KpiFilters | None = None
) -> UnderusedRecords:
    """UTL-4's parcels and under-used office buildings at `as_of` over `filters`, each row
    named by its parcel: one set-based read, as the KPI's."""
    params = {"as_of": as_of, **(filters or KpiFilters()).params()}
    rows = [_Row(*row) for row in session.execute(text(_SQL), params).all()]
    return UnderusedRecords(rows)
