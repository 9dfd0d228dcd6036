"""Lease pages: the list with filters, and one lease with its GASB 87 schedule and chart.

Signed-in users only (every role reads lease financials; anonymous visitors never do).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import Blueprint
from flask import abort
from flask import render_template
from flask import request
from flask import url_for

from app.auth import current_user
from app.auth import reading_roles
from app.auth import require_role
from app.blueprints.leases.notices import MANAGING_ROLES
from app.charts import line_chart_svg
from app.city import fiscal_year_start_month
from app.database import db_session
from registry.city.departments import department_choices
from registry.errors import NotFound
from registry.errors import NotMeasured
from registry.fields import whole_number
from registry.fiscal_years import fiscal_year_of
from registry.leases.accounting import LeaseTermsError
from registry.leases.accounting import fiscal_year_balances
from registry.leases.accounting import lease_history
from registry.leases.accounting import maturity_table
from registry.leases.notices import notices_of
from registry.leases.notices import responsibles
from registry.leases.queries import LeaseQuery
from registry.leases.queries import count_leases
from registry.leases.queries import list_leases
from registry.leases.records import lease_as_dict
from registry.leases.records import lease_modifications
from registry.leases.schedule_output import balance_series
from registry.leases.schedule_output import measured_rows
from registry.vocabulary import LEASE_DIRECTIONS
from registry.vocabulary import LEASE_PORTFOLIOS

bp = Blueprint("leases", __name__)

PAGE_SIZE = 50
DIRECTION_LABELS = {"in": "City is tenant (lessee)", "out": "City is landlord (lessor)"}
PORTFOLIO_LABELS = {"payable": "Payable", "receivable": "Receivable", "non_profit": "Non-profit"}


@bp.app_template_filter("money")
def money(value: Decimal | str | None) -> str:
    """$1,066,109.82 from a Decimal or a decimal string; an em dash for nothing."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value)
    return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"


@bp.app_template_filter("percent")
def percent(value: Decimal | str | None) -> str:
    """An annual fraction as a percent: "0.0089" → 0.89 %."""
    if value is None or value == "":
        return "—"
    return f"{(Decimal(value) * 100).normalize():f} %"


def _filters() -> tuple[LeaseQuery, dict[str, str]]:
    """The list's filters from the query string; unknown values are ignored, not errors."""
    args = request.args
    direction = args.get("direction") if args.get("direction") in LEASE_DIRECTIONS else None
    portfolio = args.get("portfolio") if args.get("portfolio") in LEASE_PORTFOLIOS else None
    expiring = args.get("expiring", "")
    days = whole_number(expiring)
    days = days if days is not None and days <= 36_500 else None
    query = LeaseQuery(
        direction=direction,
        portfolio=portfolio,
        department=args.get("department") or None,
        expiring_days=days,
        limit=PAGE_SIZE,
        cursor=args.get("after") or None,
    )
    shown = {
        "direction": direction or "",
        "portfolio": portfolio or "",
        "department": args.get("department") or "",
        "expiring": "" if days is None else str(days),
    }
    return query, shown


@bp.get("/leases")
@require_role(*reading_roles)
def lease_list() -> str:
    query, shown = _filters()
    page = list_leases(db_session(), query)
    active: dict[str, Any] = {key: value for key, value in shown.items() if value}
    next_url = (
        url_for("leases.lease_list", **active, after=page.next_cursor) if page.next_cursor else None
    )
    return render_template(
        "leases.html",
        leases=page.leases,
        filters=shown,
        next_url=next_url,
        first_url=url_for("leases.lease_list", **active) if query.cursor else None,
        total=count_leases(db_session(), query),
        departments=department_choices(db_session()),
        direction_labels=DIRECTION_LABELS,
        portfolio_labels=PORTFOLIO_LABELS,
        today=dt.date.today(),
    )


def _fiscal_year(start_month: int) -> int:
    """The reporting fiscal year: `?fy=` or the year containing today."""
    wanted = request.args.get("fy", "")
    year = whole_number(wanted)
    if year is not None and 1900 < year < 2200:
        return year
    return fiscal_year_of(dt.date.today(), start_month)


def _accounting(lease_number: str, start_month: int) -> dict[str, Any]:
    """Schedule, balances, maturity and chart of one lease, for the template.

    Fiscal years and the maturity table come from the engine's `LeaseHistory` of every
    measurement, so years before the latest modification read the schedule in force then."""
    base, remeasurements = lease_modifications(db_session(), lease_number)
    history = lease_history(base, [modification for _, modification in remeasurements])
    fiscal_year = _fiscal_year(start_month)
    lessee = base.direction == "in"
    return {
        "base": base,
        "remeasurements": remeasurements,
        "rows": measured_rows(base, remeasurements),
        "fiscal_years": fiscal_year_balances(history, start_month),
        "fiscal_year": fiscal_year,
        "maturity": maturity_table(history, fiscal_year, start_month),
        "chart": line_chart_svg(
            balance_series(base, remeasurements),
            title=(
                "Lease liability and right-to-use asset"
                if lessee
                else "Lease receivable and deferred inflow"
            )
            + f" of lease {lease_number}",
        ),
    }


@bp.get("/leases/<lease_number>")
@require_role(*reading_roles)
def lease_page(lease_number: str) -> str:
    start_month = fiscal_year_start_month()
    try:
        lease = lease_as_dict(db_session(), lease_number)
        accounting = _accounting(lease_number, start_month)
    except NotFound:
        abort(404, description=f"There is no lease {lease_number} in the registry.")
    except NotMeasured as error:  # recorded incomplete: say what it lacks
        lease, accounting = (
            lease_as_dict(db_session(), lease_number),
            {"not_measured": error.missing},
        )
    except LeaseTermsError as error:  # stored terms the engine refuses: show, do not crash
        lease, accounting = lease_as_dict(db_session(), lease_number), {"error": str(error)}
    user = current_user()
    return render_template(
        "lease.html",
        lease=lease,
        accounting=accounting,
        responsibles=responsibles(db_session(), lease_number),
        notices=notices_of(db_session(), lease_number),
        can_manage_notices=user is not None and user.role in MANAGING_ROLES,
        today=dt.date.today(),
        direction_labels=DIRECTION_LABELS,
        portfolio_labels=PORTFOLIO_LABELS,
    )
