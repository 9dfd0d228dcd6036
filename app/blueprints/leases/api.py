"""JSON API for leases (CONTRACT: /api/leases…): records, GASB 87 schedules, modifications.

Lease financials are never public: every endpoint needs a signed-in user or a token (401
otherwise); every role reads, editors and admins write. Money and rates travel as decimal
strings; a JSON number with a fraction where money is expected is refused with a message that
says so, because it was already a binary float on the sender's side.
"""

from __future__ import annotations

import base64
import dataclasses

from flask import Blueprint
from flask import Response
from flask import request
from flask import url_for
from sqlalchemy.orm import Session

from app import api
from app import api_routes
from app.auth import lease_managing_roles
from app.auth import reading_roles
from app.auth import require_role
from app.database import db_session
from app.problems import ProblemError
from registry.fields import FieldProblem
from registry.fields import whole_number
from registry.leases.queries import LEASE_SORTS
from registry.leases.queries import MAX_OFFSET
from registry.leases.queries import MAX_PAGE_SIZE
from registry.leases.queries import LeaseQuery
from registry.leases.queries import lease_list_order
from registry.leases.queries import leased_parcels_geojson
from registry.leases.queries import list_leases
from registry.leases.records import create_lease
from registry.leases.records import delete_lease
from registry.leases.records import lease_as_dict
from registry.leases.records import lease_modifications
from registry.leases.records import record_modification
from registry.leases.records import update_lease
from registry.leases.schedule_output import schedule_csv
from registry.leases.schedule_output import schedule_document
from registry.vocabulary import LEASE_DIRECTIONS
from registry.vocabulary import LEASE_PORTFOLIOS

bp = Blueprint("lease_api", __name__, url_prefix="/api/leases")


def _lease(session: Session, lease_number: str) -> api.Record:
    return api.dict_record(lease_as_dict(session, lease_number))


LEASE = api.Resource("lease", _lease, "lease_api.read", "lease_number")


def _query() -> LeaseQuery:
    args, errors = request.args, []
    for name, allowed in (("direction", LEASE_DIRECTIONS), ("portfolio", LEASE_PORTFOLIOS)):
        if args.get(name) and args[name] not in allowed:
            errors.append(FieldProblem(name, f"must be one of: {', '.join(allowed)}"))
    expiring = args.get("expiring") or None
    days = whole_number(expiring) if expiring is not None else None
    if expiring is not None and not (days is not None and days <= 36_500):
        errors.append(FieldProblem("expiring", "must be a number of days (0 to 36500)"))
    limit = api.page_limit(errors, 100, MAX_PAGE_SIZE)
    if args.get("format") not in (None, "", "json", "geojson"):
        errors.append(FieldProblem("format", "must be json or geojson"))
    order, problems = lease_list_order(args)
    errors += problems
    query = LeaseQuery(
        direction=args.get("direction") or None,
        portfolio=args.get("portfolio") or None,
        department=args.get("department") or None,
        parcel_id=args.get("parcel_id") or None,
        expiring_days=days,
        limit=limit,
        search=order.search,
        sort=order.sort,
        descending=order.descending,
    )
    cursor = args.get("cursor") or None
    if cursor is not None and query.keyset:
        if _offset_cursor_parts(cursor) is None:
            query = dataclasses.replace(query, cursor=cursor)
        else:  # a sorted list's cursor would be read as a lease number: a wrong page
            errors.append(_not_this_sorts_cursor())
    elif cursor is not None and not problems:
        query = dataclasses.replace(query, offset=_cursor_offset(cursor, query, errors))
    api.bad_query(errors)
    return query


def _not_this_sorts_cursor() -> FieldProblem:
    return FieldProblem("cursor", "is not a cursor of this sort and order: follow the next link")


def _offset_cursor(query: LeaseQuery, offset: int) -> str:
    """The `cursor` of a sorted list's page starting at `offset`: opaque to clients (they
    follow `next`), bound to its sort and order so that it is not read in another."""
    way = "desc" if query.descending else "asc"
    return base64.urlsafe_b64encode(f"{query.sort}.{way}.{offset}".encode()).decode()


def _offset_cursor_parts(cursor: str) -> tuple[str, bool, int] | None:
    """The sort, whether descending, and the offset `_offset_cursor` put in `cursor`; None when
    it is not one of its cursors (not base64 of "sort.way.offset" with a known sort).

    The keyset's cursors are lease numbers, which are refused when they read as one of these:
    this assumes no lease number is the base64 of such a text (that would take a number such
    as "ZW5kcy5hc2MuMg==", which no city's numbering makes)."""
    try:
        sort, way, offset_text = base64.urlsafe_b64decode(cursor).decode().split(".")
    except ValueError:  # not base64, not text, not three parts
        return None
    offset = whole_number(offset_text)
    if sort not in LEASE_SORTS or offset is None:
        return None
    return sort, way == "desc", offset


def _cursor_offset(cursor: str, query: LeaseQuery, errors: list[FieldProblem]) -> int:
    """The offset `_offset_cursor` put in `cursor`; a problem when it is not one of its
    cursors for this sort and order, or lies deeper than a sorted list reads."""
    parts = _offset_cursor_parts(cursor)
    if parts is None or parts[:2] != (query.sort, query.descending):
        errors.append(_not_this_sorts_cursor())
        return 0
    offset = parts[2]
    if offset > MAX_OFFSET:
        errors.append(
            FieldProblem(
                "cursor",
                f"a sorted list reads at most {MAX_OFFSET:,} leases; the lease-number order "
                "(no sort) reads every one",
            )
        )
        return 0
    return offset


@bp.get("")
@require_role(*reading_roles)
def list_all() -> Response:
    """Leases in lease-number order with a keyset `next` link, or found by `q` and sorted by
    `sort` and `order` (a `next` link of an offset cursor); `format=geojson`: the leased
    parcels as points (one per parcel, its leases listed) for the map."""
    query = _query()
    if request.args.get("format") == "geojson":
        return Response(
            leased_parcels_geojson(db_session(), query), mimetype="application/geo+json"
        )
    page = list_leases(db_session(), query)
    links = [{"rel": "self", "href": request.url, "type": api.JSON}]
    if page.next_cursor:
        cursor = (
            page.next_cursor
            if query.keyset
            else _offset_cursor(query, query.offset + len(page.leases))
        )
        args = {**request.args.to_dict(), "cursor": cursor}
        links.append(
            {
                "rel": "next",
                "type": api.JSON,
                "href": url_for("lease_api.list_all", _external=True, **args),
            }
        )
    return api.json_response({"leases": page.leases, "links": links})


api_routes.record_routes(
    bp,
    LEASE,
    create=create_lease,
    update=update_lease,
    delete=delete_lease,
    key_after_update=lambda number, body: str(body.get("lease_number") or number).strip(),
    writing_roles=lease_managing_roles,
)


@bp.get("/<lease_number>/schedule")
@require_role(*reading_roles)
def schedule(lease_number: str) -> Response:
    """The GASB 87 schedule: JSON, or CSV with `?format=csv` (same column names)."""
    with api.domain_errors(LEASE):
        base, remeasurements = lease_modifications(db_session(), lease_number)
    if request.args.get("format") == "csv":
        return Response(
            schedule_csv(base, remeasurements),
            mimetype="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="lease-{lease_number}-schedule.csv"'
            },
        )
    return api.json_response(schedule_document(lease_number, base, remeasurements))


@bp.post("/<lease_number>/modifications")
@require_role(*lease_managing_roles)
def modify(lease_number: str) -> Response:
    """Record a modification: `effective_date`, `terms` (what changes, from then on), `reason`,
    and optionally `kind` (extension, termination, payment_change), as the lease page's form
    records them. The lease is remeasured from that date; the earlier measurement stays as
    booked. A new `end_date` without `payments` (an extension, a termination) gets the payments
    worked out from the schedule in force; a termination also sets the lease's `terminated_on`."""
    body = api.json_object_body()
    unknown = sorted(set(body) - {"effective_date", "terms", "reason", "kind"})
    if unknown:
        raise ProblemError(
            422,
            "The modification is not valid",
            "",
            [
                FieldProblem(
                    name, "is not a modification field (effective_date, terms, reason, kind)"
                ).as_dict()
                for name in unknown
            ],
        )
    with api.audited_transaction(LEASE) as session:
        record_modification(
            session,
            lease_number,
            body.get("effective_date"),
            body.get("terms", {}),
            body.get("reason"),
            kind=body.get("kind"),
        )
        base, remeasurements = lease_modifications(session, lease_number)
        document = schedule_document(lease_number, base, remeasurements)
    response = api.json_response(document, 201)
    response.headers["Location"] = url_for("lease_api.schedule", lease_number=lease_number)
    return response
