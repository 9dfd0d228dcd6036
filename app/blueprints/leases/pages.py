"""Lease pages: the list (search, filters, sort, totals of what the filters select), and one
lease with its GASB 87 schedule and chart, its documents and notices.

Signed-in users only (every role reads lease financials; anonymous visitors never do).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from flask import Blueprint
from flask import abort
from flask import render_template
from flask import request
from flask import url_for

from app.auth import current_user
from app.auth import lease_managing_roles
from app.auth import reading_roles
from app.auth import require_role
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
from registry.leases.documents import DOCUMENT_KINDS
from registry.leases.documents import lease_documents
from registry.leases.list_totals import current_rents
from registry.leases.list_totals import list_totals
from registry.leases.notices import notices_of
from registry.leases.notices import responsibles
from registry.leases.queries import LEASE_SORTS
from registry.leases.queries import MAX_OFFSET
from registry.leases.queries import LeaseQuery
from registry.leases.queries import lease_list_order
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
    """The list's filters, search and sort from the query string; unknown values are ignored,
    not errors (`lease_list_order` says how each is read, for this page and the API). A sorted
    list pages by `page` (bounded by `MAX_OFFSET`), the lease-number order by its keyset
    `after`."""
    args = request.args
    direction = args.get("direction") if args.get("direction") in LEASE_DIRECTIONS else None
    portfolio = args.get("portfolio") if args.get("portfolio") in LEASE_PORTFOLIOS else None
    expiring = args.get("expiring", "")
    days = whole_number(expiring)
    days = days if days is not None and days <= 36_500 else None
    order, _ignored = lease_list_order(args)
    page = whole_number(args.get("page", "")) or 1
    page = max(1, min(page, MAX_OFFSET // PAGE_SIZE))
    query = LeaseQuery(
        direction=direction,
        portfolio=portfolio,
        department=args.get("department") or None,
        expiring_days=days,
        limit=PAGE_SIZE,
        cursor=args.get("after") or None,
        search=order.search,
        sort=order.sort,
        descending=order.descending,
    )
    if not query.keyset:
        query = dataclasses.replace(query, offset=(page - 1) * PAGE_SIZE)
    shown = {
        "q": order.search or "",
        "direction": direction or "",
        "portfolio": portfolio or "",
        "department": args.get("department") or "",
        "expiring": "" if days is None else str(days),
        "sort": "" if order.sort == "lease" else order.sort,
        "order": "desc" if order.descending else "",
    }
    return query, shown


def _as_of() -> dt.date:
    """The list's as-of date (`?as_of=`, default today) for its rents and balances."""
    try:
        return dt.date.fromisoformat(request.args.get("as_of", "")[:10])
    except ValueError:
        return dt.date.today()


@bp.get("/leases")
@require_role(*reading_roles)
def lease_list() -> str:
    query, shown = _filters()
    as_of = _as_of()
    page = list_leases(db_session(), query)
    active: dict[str, Any] = {key: value for key, value in shown.items() if value}
    if as_of != dt.date.today():
        active["as_of"] = as_of.isoformat()
    page_number = query.offset // PAGE_SIZE + 1
    if not page.next_cursor:
        next_url = None
    elif query.keyset:
        next_url = url_for("leases.lease_list", **active, after=page.next_cursor)
    else:
        next_url = url_for("leases.lease_list", **active, page=page_number + 1)
    user = current_user()
    return render_template(
        "leases.html",
        leases=page.leases,
        rents=current_rents(db_session(), [lease["id"] for lease in page.leases], as_of),
        totals=list_totals(db_session(), query, as_of),
        filters=shown,
        as_of=as_of,
        sort_urls=_sort_urls(active, query),
        next_url=next_url,
        first_url=url_for("leases.lease_list", **active)
        if query.cursor or page_number > 1
        else None,
        departments=department_choices(db_session()),
        direction_labels=DIRECTION_LABELS,
        portfolio_labels=PORTFOLIO_LABELS,
        today=dt.date.today(),
        can_manage=user is not None and user.role in lease_managing_roles,
    )


def _sort_urls(active: dict[str, Any], query: LeaseQuery) -> dict[str, tuple[str, str]]:
    """Each sortable column's link (the other order when it is the sort) and its aria-sort."""
    urls = {}
    base = {key: value for key, value in active.items() if key not in ("sort", "order")}
    for key in LEASE_SORTS:
        current = query.sort == key
        descending = current and not query.descending
        args = {**base, **({"sort": key} if key != "lease" else {})}
        if descending:
            args["order"] = "desc"
        state = ("descending" if query.descending else "ascending") if current else "none"
        urls[key] = (url_for("leases.lease_list", **args), state)
    return urls


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
        documents=lease_documents(db_session(), lease_number),
        document_kinds=DOCUMENT_KINDS,
        can_manage_notices=user is not None and user.role in lease_managing_roles,
        today=dt.date.today(),
        direction_labels=DIRECTION_LABELS,
        portfolio_labels=PORTFOLIO_LABELS,
    )
