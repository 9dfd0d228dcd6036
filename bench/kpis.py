"""The whole reform KPI set and finance's portfolio XLSX on a large city: how long a dashboard
refresh, a `kpi snapshot` and an export take at 100,000 parcels (with the buildings, leases and
costs the sample generator makes for them). Median of 3 runs each, after one warm-up, so the
figures are the steady state, not the first cold read from disk.

Each figure is also given as a ratio to the README's previous one (`PREVIOUS`, measured before
the GASB 87 schedules and rent streams were stored), and the same run times the peer LSE-2 kept
for reference: every lease's balances from the engine's schedules rebuilt in Python, as LSE-2
was computed before, against the stored rows summed in SQL. `/kpi`'s first view is timed on the
served app (waitress), signed in with a viewer's API token: the day's first request (it computes
the set and stores the day's snapshot, as no scheduled snapshot was taken in the bench city), and
the median of 3 more, which read that snapshot, as every first view does once the day's
snapshot is taken; the goal is checked against the latter. The KPI set is timed as the app
computes it (its families on `REGISTRY_KPI_CONNECTIONS` connections in one snapshot) and, for
reference, on one connection, the families one after another."""

from __future__ import annotations

import datetime as dt
import os
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import text
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from bench.harness import Report
from bench.harness import prepare_database
from bench.harness import served_app
from bench.harness import time_call
from registry.db import create_registry_engine
from registry.db import unit_of_work
from registry.fiscal_years import fiscal_year_of
from registry.kpis import compute_kpis
from registry.kpis.engine import FAMILIES
from registry.kpis.lease_kpis import _add_engine_balances
from registry.kpis.lease_kpis import _balances
from registry.kpis.values import Period
from registry.leases.gasb87.journal import journal_entries
from registry.leases.gasb87.journal import journal_workbook
from registry.leases.gasb87.journal import tie_out
from registry.leases.gasb87.report import gasb87_report
from registry.leases.gasb87.workbook import gasb87_workbook
from registry.leases.records import store_stale_schedules
from registry.portfolio.export import portfolio_export
from registry.settings import Settings
from registry.users.records import create_user
from registry.users.records import find_user
from registry.users.records import issue_token

REPEATS = 3
#: The README's figures before this work (2026-11-25, same machine, other work running).
PREVIOUS = {"kpi_set_seconds": 14.37, "portfolio_xlsx_seconds": 22.61}
#: Done-when of issue 13: whole set, /kpi first view, portfolio XLSX.
GOALS = {"kpi_set_seconds": 2.0, "kpi_first_view_seconds": 1.0, "portfolio_xlsx_seconds": 5.0}
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
    with unit_of_work(sessionmaker(engine), "bench") as session:
        # a city generated before the schedules were stored: what `db upgrade` does
        remeasured = store_stale_schedules(session)
    if remeasured:
        print(f"  stored the schedules of {remeasured:,} leases")
    as_of = dt.date.today()
    try:
        with sessionmaker(engine)() as session:
            counts = session.execute(text(_COUNTS)).one()
            values = compute_kpis(session, None, as_of)  # warm-up, and the row count
            workbook = portfolio_export(session, "xlsx", as_of)
            kpi_seconds = time_call(lambda: compute_kpis(session, None, as_of), REPEATS)
            one_connection = _on_one_connection(
                lambda: time_call(lambda: compute_kpis(session, None, as_of), REPEATS)
            )
            xlsx_seconds = time_call(lambda: portfolio_export(session, "xlsx", as_of), REPEATS)
            period = Period.resolve(None, as_of)
            # each family alone, to show where the KPI set's time goes
            families = {
                family.__name__: time_call(partial(family, session, period), REPEATS)
                for family in FAMILIES
            }
            lease_ids = list(
                session.execute(text("SELECT id FROM leases WHERE measured")).scalars()
            )
            lse2_stored = time_call(lambda: _balances(session, period), REPEATS)
            lse2_engine = time_call(
                lambda: _add_engine_balances(session, period, lease_ids, defaultdict(Decimal)), 1
            )
            session.rollback()
            gasb = _gasb87_exports(session, as_of)
        first_view, later_views = _kpi_first_view(url, engine)
    finally:
        engine.dispose()
    city = (
        f"{counts[0]:,} parcels, {counts[1]:,} buildings, {counts[2]:,} leases, "
        f"{counts[3]:,} cost records, {counts[4]:,} occupancy records"
    )
    lines = [
        f"  city: {city}",
        f"  whole KPI set ({len(values):,} rows, every breakdown): {kpi_seconds:.2f} s "
        f"(median of {REPEATS}, {kpi_connections()} connections at once); on one connection "
        f"{one_connection:.2f} s",
        *(f"    {name}: {seconds:.2f} s" for name, seconds in families.items()),
        f"  portfolio XLSX export ({len(workbook) / 1e6:.1f} MB): {xlsx_seconds:.2f} s "
        f"(median of {REPEATS})",
        f"  /kpi (served, signed in): first request after start {first_view:.2f} s (computes "
        f"and stores the day's snapshot if none yet), then {later_views:.2f} s (median of "
        f"{REPEATS}, the first view as every visitor after it and after the scheduled "
        "snapshot gets it)",
        f"  LSE-2 balances: stored rows in SQL {lse2_stored:.2f} s; peer, every schedule "
        f"rebuilt by the engine {lse2_engine:.2f} s (ratio {lse2_engine / lse2_stored:.1f})",
        f"  GASB 87 report XLSX FY{gasb['fiscal_year']} ({gasb['report_leases']:,} leases): "
        f"stored rows in SQL {gasb['report_stored']:.2f} s (median of {REPEATS}); peer, every "
        f"schedule rebuilt by the engine {gasb['report_engine']:.2f} s "
        f"(ratio {gasb['report_engine'] / gasb['report_stored']:.1f})",
        f"  journal entries FY{gasb['fiscal_year']}, 12 months XLSX with tie-out "
        f"({gasb['journal_lines']:,} lines): stored rows in SQL {gasb['journal_stored']:.2f} s; "
        f"peer, the engine {gasb['journal_engine']:.2f} s "
        f"(ratio {gasb['journal_engine'] / gasb['journal_stored']:.1f})",
        *_against_previous(
            {
                "kpi_set_seconds": kpi_seconds,
                "kpi_first_view_seconds": later_views,
                "portfolio_xlsx_seconds": xlsx_seconds,
            }
        ),
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
        "kpi_set_connections": kpi_connections(),
        "kpi_set_one_connection_seconds": round(one_connection, 3),
        "portfolio_xlsx_seconds": round(xlsx_seconds, 3),
        "portfolio_xlsx_bytes": len(workbook),
        "kpi_first_view_seconds": round(first_view, 3),
        "kpi_later_view_seconds": round(later_views, 3),
        "lse2_stored_seconds": round(lse2_stored, 3),
        "lse2_engine_peer_seconds": round(lse2_engine, 3),
        "gasb87": {k: round(v, 3) if isinstance(v, float) else v for k, v in gasb.items()},
        "previous": PREVIOUS,
        "repeats": REPEATS,
        "family_seconds": {name: round(seconds, 3) for name, seconds in families.items()},
    }
    return Report("kpis" if parcels else "kpis-sample", lines, figures)


def kpi_connections() -> int:
    """The connections the KPI set is computed on here (`REGISTRY_KPI_CONNECTIONS`)."""
    return Settings.from_env().kpi_connections


def _on_one_connection(measure: Callable[[], float]) -> float:
    """`measure()` with the KPI set computed on one connection, the families one after another
    (as before they shared the caller's snapshot on several)."""
    previous = os.environ.get("REGISTRY_KPI_CONNECTIONS")
    os.environ["REGISTRY_KPI_CONNECTIONS"] = "1"
    try:
        return measure()
    finally:
        if previous is None:
            del os.environ["REGISTRY_KPI_CONNECTIONS"]
        else:
            os.environ["REGISTRY_KPI_CONNECTIONS"] = previous


def _gasb87_exports(session: Session, as_of: dt.date) -> dict[str, Any]:
    """Seconds of finance's two year-end files, the GASB 87 report and the year's journal (with
    its tie-out to the report), as XLSX: from the stored schedules (what the app does), and
    once with every stored schedule gone in a rolled-back savepoint, so that the engine
    rebuilds every lease's schedule in Python (what the exports did before)."""
    fiscal_year = fiscal_year_of(as_of) - 1  # the year finance closes
    start_month = 7

    def report() -> bytes:
        return gasb87_workbook(gasb87_report(session, fiscal_year, start_month))

    def journal() -> bytes:
        entries = journal_entries(session, fiscal_year, start_month)
        ties = tie_out(entries, gasb87_report(session, fiscal_year, start_month))
        return journal_workbook(entries, ties)

    figures: dict[str, Any] = {
        "fiscal_year": fiscal_year,
        "report_leases": len(gasb87_report(session, fiscal_year, start_month).leases),
        "journal_lines": len(journal_entries(session, fiscal_year, start_month).lines),
        "report_stored": time_call(report, REPEATS),
        "journal_stored": time_call(journal, REPEATS),
    }
    savepoint = session.begin_nested()
    try:
        session.execute(text("DELETE FROM lease_measurements"))  # every lease stale
        figures["report_engine"] = time_call(report, 1)
        figures["journal_engine"] = time_call(journal, 1)
    finally:
        savepoint.rollback()
    session.rollback()
    return figures


def _against_previous(figures: dict[str, float]) -> list[str]:
    """Each figure against the README's previous one (as a ratio) and the issue's goal."""
    lines = []
    for name, seconds in figures.items():
        previous = PREVIOUS.get(name)
        before = (
            f"README before {previous:.2f} s, {previous / seconds:.1f}× faster; "
            if previous
            else ""
        )
        met = "met" if seconds <= GOALS[name] else "not met"
        lines.append(f"    {name}: {seconds:.2f} s ({before}goal ≤ {GOALS[name]:.0f} s {met})")
    return lines


def _kpi_first_view(url: str, engine: Engine) -> tuple[float, float]:
    """Seconds of `/kpi` on the served app for a signed-in viewer: the first request after the
    server starts, and the median of `REPEATS` more."""
    with unit_of_work(sessionmaker(engine, expire_on_commit=False), "bench") as session:
        email = "bench-kpi-viewer@city.example"
        user = find_user(session, email) or create_user(session, email, "viewer")
        token = issue_token(session, user)
    with served_app(url) as base:
        request = urllib.request.Request(
            base + "/kpi", headers={"Authorization": f"Bearer {token}"}
        )

        def view() -> None:
            with urllib.request.urlopen(request, timeout=300) as response:
                response.read()

        first = time_call(view, 1)
        return first, time_call(view, REPEATS)
