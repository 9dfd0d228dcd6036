"""The whole reform KPI set and finance's portfolio XLSX on a large city: how long a dashboard
refresh, a `kpi snapshot` and an export take at 100,000 parcels (with the buildings, leases and
costs the sample generator makes for them). Median of 3 runs each, after one warm-up, so the
figures are the steady state, not the first cold read from disk."""

from __future__ import annotations

import datetime as dt
from functools import partial

from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from bench.harness import Report
from bench.harness import prepare_database
from bench.harness import time_call
from registry.db import create_registry_engine
from registry.kpis import compute_kpis
from registry.kpis.engine import FAMILIES
from registry.kpis.values import Period
from registry.portfolio.export import portfolio_export

REPEATS = 3
_COUNTS = """
SELECT (SELECT count(*) FROM parcels), (SELECT count(*) FROM buildings),
       (SELECT count(*) FROM leases), (SELECT count(*) FROM om_costs),
       (SELECT count(*) FROM occupancy)
"""


def run(parcels: int | None) -> Report:
    """Time both on a city of `parcels` (None: the shipped sample, a quick smoke run)."""
    url = prepare_database(parcels)
    label = f"{parcels:,} parcels" if parcels else "sample"
    engine = create_registry_engine(url, pool_size=1)
    as_of = dt.date.today()
    try:
        with sessionmaker(engine)() as session:
            counts = session.execute(text(_COUNTS)).one()
            values = compute_kpis(session, None, as_of)  # warm-up, and the row count
            workbook = portfolio_export(session, "xlsx", as_of)
            kpi_seconds = time_call(lambda: compute_kpis(session, None, as_of), REPEATS)
            xlsx_seconds = time_call(lambda: portfolio_export(session, "xlsx", as_of), REPEATS)
            period = Period.resolve(None, as_of)
            # each family alone, to show where the KPI set's time goes
            families = {
                family.__name__: time_call(partial(family, session, period), REPEATS)
                for family in FAMILIES
            }
    finally:
        engine.dispose()
    city = (
        f"{counts[0]:,} parcels, {counts[1]:,} buildings, {counts[2]:,} leases, "
        f"{counts[3]:,} cost records, {counts[4]:,} occupancy records"
    )
    lines = [
        f"  city: {city}",
        f"  whole KPI set ({len(values):,} rows, every breakdown): {kpi_seconds:.2f} s "
        f"(median of {REPEATS})",
        *(f"    {name}: {seconds:.2f} s" for name, seconds in families.items()),
        f"  portfolio XLSX export ({len(workbook) / 1e6:.1f} MB): {xlsx_seconds:.2f} s "
        f"(median of {REPEATS})",
    ]
    figures = {
        "database": label,
        "parcels": counts[0],
        "buildings": counts[1],
        "leases": counts[2],
        "om_costs": counts[3],
        "occupancy": counts[4],
        "kpi_rows": len(values),
        "kpi_set_seconds": round(kpi_seconds, 3),
        "portfolio_xlsx_seconds": round(xlsx_seconds, 3),
        "portfolio_xlsx_bytes": len(workbook),
        "repeats": REPEATS,
        "family_seconds": {name: round(seconds, 3) for name, seconds in families.items()},
    }
    return Report("kpis" if parcels else "kpis-sample", lines, figures)
