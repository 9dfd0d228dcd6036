"""The operations of the JSON API, one entry per route of the app (`tests/test_openapi.py`
checks both ways against `app.url_map`, so a new route cannot go undescribed).

Every status an operation can answer is listed: the domain's errors (`app.api.domain_errors`:
404, 409, 412, 422), the plumbing's (`If-Match` missing 428, unreadable body 400, body too
large 413), authentication's (401 without or with an unknown token, 403 for a role that may not,
400 for a session without its CSRF header) and the request checks of `app.security` (400).
"""

from __future__ import annotations

from typing import Any

from app.openapi.examples import EXAMPLES
from app.openapi.schemas import Schema
from app.openapi.schemas import choice
from app.openapi.schemas import ref
from geo.tiles import MAX_ZOOM
from registry.kpis.export import KPI_EXPORT_FORMATS
from registry.kpis.export import MEDIA_TYPES as KPI_MEDIA_TYPES
from registry.leases.queries import LEASE_SORTS
from registry.leases.queries import LIST_ORDERS
from registry.leases.queries import MAX_PAGE_SIZE as MAX_LEASES
from registry.parcels.features import MAX_PAGE_SIZE as MAX_PARCELS
from registry.portfolio.export import MEDIA_TYPES as PORTFOLIO_MEDIA_TYPES
from registry.portfolio.export import PORTFOLIO_FORMATS
from registry.search_text import MAX_SEARCH_LENGTH
from registry.vocabulary import LEASE_DIRECTIONS
from registry.vocabulary import LEASE_PORTFOLIOS

JSON = "application/json"
GEOJSON = "application/geo+json"
PROBLEM = "application/problem+json"
MERGE_PATCH = "application/merge-patch+json"
MAX_OPERATIONS_RECORDS = 10_000  # app.blueprints.operations.api.MAX_LIMIT

SIGNED_IN: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"sessionCookie": []}]
ANYONE: list[dict[str, list[str]]] = [{}, *SIGNED_IN]

_PROBLEM_WHY = {
    400: "Bad request: an unreadable body or query, a NUL character, a value the database "
    "can't hold, or a signed-in session's write without its X-CSRF-Token",
    401: "Authentication required: no credentials where they are needed, or an unknown or "
    "revoked token",
    403: "The caller's role does not allow this",
    404: "No such record",
    409: "The lease is recorded incomplete (not measured): errors name what is missing",
    412: "If-Match names a version someone else replaced: who, when, and the current record",
    413: "The body is larger than the request limit",
    422: "The record is not valid: errors lists every field at fault",
    428: "If-Match is missing",
}


def problem(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _PROBLEM_WHY[status],
        "content": {PROBLEM: {"schema": ref("Problem")}},
    }
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return response


def _etag(required: bool = True) -> dict[str, Any]:
    return {
        "description": 'The version of the record, "v<version>"; send it back as If-Match',
        "required": required,
        "schema": {"type": "string", "pattern": '^"v[0-9]+"$'},
    }


def ok(
    description: str,
    schema: Schema,
    media_type: str = JSON,
    etag: bool = False,
    location: bool = False,
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {media_type: {"schema": schema}},
    }
    headers: dict[str, Any] = {}
    if etag:
        headers["ETag"] = _etag()
    if location:
        headers["Location"] = {
            "description": "The new record",
            "required": True,
            "schema": {"type": "string"},
        }
    if headers:
        response["headers"] = headers
    return response


def operation(
    operation_id: str,
    summary: str,
    tag: str,
    responses: dict[int, dict[str, Any]],
    problems: tuple[int, ...],
    parameters: tuple[dict[str, Any], ...] = (),
    body: Schema | None = None,
    body_types: tuple[str, ...] = (JSON,),
    security: list[dict[str, list[str]]] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"operationId": operation_id, "summary": summary, "tags": [tag]}
    if parameters:
        spec["parameters"] = list(parameters)
    if body is not None:
        example = EXAMPLES.get(body["$ref"].rsplit("/", 1)[-1]) if "$ref" in body else None
        media: dict[str, Any] = {"schema": body}
        if example is not None and not operation_id.startswith("change"):
            media["example"] = example  # a create's body; a change sends only what changes
        spec["requestBody"] = {
            "required": True,
            "content": {media_type: media for media_type in body_types},
        }
    answers = {str(status): response for status, response in responses.items()}
    answers.update({str(status): problem(status) for status in sorted({400, 401, *problems})})
    spec["responses"] = answers
    if security is not None:
        spec["security"] = security
    return spec


def path_parameter(
    name: str, schema: Schema, description: str, example: Any = None
) -> dict[str, Any]:
    parameter = {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }
    if example is not None:
        parameter["example"] = example
    return parameter


def query(name: str, schema: Schema, description: str = "") -> dict[str, Any]:
    parameter: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": "The ETag of the version edited (428 without it, 412 when it is stale)",
    "schema": {"type": "string", "maxLength": 100},
}
_KEY_TEXT: Schema = {"type": "string", "minLength": 1, "maxLength": 64}
PARCEL_ID = path_parameter("parcel_id", _KEY_TEXT, "The parcel's id", "2001-016-025")
LEASE_NUMBER = path_parameter("lease_number", _KEY_TEXT, "The lease number", "LI-2012-0078")
RECORD_ID = path_parameter("record_id", {"type": "integer", "minimum": 1}, "The record's id")
_LIMIT = "Features per page"
READ = (401, 404)
WRITE = (403, 404, 412, 413, 422, 428)


def _record_paths(
    prefix: str,
    name: str,
    tag: str,
    key: dict[str, Any],
    record: str,
    input_schema: str,
    problems: tuple[int, ...] = (),
) -> dict[str, dict[str, Any]]:
    """Create, read, change and delete of a kind built by `app.api_routes.record_routes`."""
    one = ok(f"The {name}", ref(record), etag=True)
    return {
        prefix: {
            "post": operation(
                f"create{record}",
                f"Create a {name}",
                tag,
                {201: ok(f"The new {name}", ref(record), etag=True, location=True)},
                (403, 413, 422, *problems),
                body=ref(input_schema),
            ),
        },
        f"{prefix}/{{{key['name']}}}": {
            "parameters": [key],
            "get": operation(f"read{record}", f"Read a {name}", tag, {200: one}, READ),
            "patch": operation(
                f"change{record}",
                f"Change a {name}: the fields sent, others as they are",
                tag,
                {200: one},
                (*WRITE, *problems),
                parameters=(IF_MATCH,),
                body=ref(input_schema),
            ),
            "delete": operation(
                f"delete{record}",
                f"Delete a {name}",
                tag,
                {204: {"description": "Deleted"}},
                (*WRITE, *problems),
                parameters=(IF_MATCH,),
            ),
        },
    }


def _parcel_paths() -> dict[str, dict[str, Any]]:
    feature = ok("The parcel", ref("ParcelFeature"), GEOJSON, etag=True)
    return {
        "/api/parcels": {
            "get": operation(
                "listParcels",
                "Parcels in parcel-id order, a keyset `next` link (public fields to anonymous "
                "callers when the city publishes its map)",
                "parcels",
                {200: ok("A page of parcels", ref("ParcelFeatureCollection"), GEOJSON)},
                (401,),
                parameters=(
                    query(
                        "bbox",
                        {"type": "string", "maxLength": 200},
                        "min_lon,min_lat,max_lon,max_lat (WGS 84)",
                    ),
                    query("q", {"type": "string"}, "Parcel-id prefix or address substring"),
                    query("status", {"type": "string"}, "Comma-separated statuses"),
                    query("department", {"type": "string"}, "Department code or name"),
                    query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PARCELS}),
                    query("cursor", {"type": "string"}, "From the `next` link"),
                    query("include_retired", choice(("true", "false")), "Signed-in users"),
                ),
                security=ANYONE,
            ),
            "post": operation(
                "createParcel",
                "Create a parcel from a GeoJSON Feature",
                "parcels",
                {201: ok("The new parcel", ref("ParcelFeature"), GEOJSON, True, True)},
                (403, 413, 422),
                body=ref("ParcelFeatureInput"),
                body_types=(JSON, GEOJSON),
            ),
        },
        "/api/parcels/{parcel_id}": {
            "parameters": [PARCEL_ID],
            "get": operation(
                "readParcel", "Read a parcel", "parcels", {200: feature}, READ, security=ANYONE
            ),
            "patch": operation(
                "changeParcel",
                "Change properties and/or the shape; nothing is written unless all is valid",
                "parcels",
                {200: feature},
                WRITE,
                parameters=(IF_MATCH,),
                body=ref("ParcelFeatureInput"),
                body_types=(JSON, GEOJSON, MERGE_PATCH),
            ),
            "delete": operation(
                "retireParcel",
                "Retire the parcel: off the map and lists, its history kept",
                "parcels",
                {204: {"description": "Retired"}},
                WRITE,
                parameters=(IF_MATCH,),
            ),
        },
        "/api/parcels/{parcel_id}/history": {
            "parameters": [PARCEL_ID],
            "get": operation(
                "parcelHistory",
                "Every change: who, when, action, fields old → new, geometry before and after",
                "parcels",
                {200: ok("The history", ref("ParcelHistory"))},
                READ,
            ),
        },
        "/api/parcels/{parcel_id}/history/{event_id}/restore": {
            "parameters": [
                PARCEL_ID,
                path_parameter("event_id", {"type": "integer", "minimum": 1}, "A history event"),
            ],
            "post": operation(
                "restoreParcel",
                "Make the parcel as it was after that change (a new audited change)",
                "parcels",
                {200: feature},
                WRITE,
                parameters=(IF_MATCH,),
            ),
        },
        "/api/parcels/{parcel_id}/split": {
            "parameters": [PARCEL_ID],
            "post": operation(
                "splitParcel",
                "Cut the parcel by a line into pieces with the ids given (west to east); the "
                "parcel is retired, the lineage kept: one audited change",
                "parcels",
                {200: ok("The new parcels", ref("ParcelFeatureCollection"), GEOJSON)},
                WRITE,
                parameters=(IF_MATCH,),
                body=ref("SplitRequest"),
            ),
        },
        "/api/parcels/merge": {
            "post": operation(
                "mergeParcels",
                "Merge touching parcels into the kept one (or a new id); the others are "
                "retired, the lineage kept: one audited change. If-Match: the kept parcel's",
                "parcels",
                {200: ok("The merged parcel", ref("ParcelFeatureCollection"), GEOJSON)},
                WRITE,
                parameters=(IF_MATCH,),
                body=ref("MergeRequest"),
            ),
        },
        "/api/parcels/repair-proposal": {
            "post": operation(
                "proposeRepair",
                "ST_MakeValid's repair of a shape and the area change, for review (not stored)",
                "parcels",
                {200: ok("The proposal", ref("RepairProposal"))},
                (403, 413, 422),
                body=ref("RepairRequest"),
            ),
        },
    }


def _lease_paths() -> dict[str, dict[str, Any]]:
    paths = _record_paths(
        "/api/leases", "lease", "leases", LEASE_NUMBER, "Lease", "LeaseInput", (409,)
    )
    paths["/api/leases"]["get"] = operation(
        "listLeases",
        "Leases found by q, in lease-number order or by sort and order, with a `next` link; "
        "format=geojson: leased parcels",
        "leases",
        {
            200: {
                "description": "A page of leases, or the leased parcels as points",
                "content": {
                    JSON: {"schema": ref("LeaseList")},
                    GEOJSON: {"schema": ref("LeasedParcels")},
                },
            }
        },
        (401,),
        parameters=(
            query("direction", choice(LEASE_DIRECTIONS)),
            query("portfolio", choice(LEASE_PORTFOLIOS)),
            query("department", {"type": "string"}),
            query("parcel_id", {"type": "string"}),
            query("expiring", {"type": "integer", "minimum": 0, "maximum": 36_500}, "Days"),
            query(
                "q",
                {"type": "string", "maxLength": MAX_SEARCH_LENGTH},
                "Part of the lease number, counterparty or premises (any case; % and _ are "
                "characters sought, not wildcards)",
            ),
            query(
                "sort",
                choice(tuple(LEASE_SORTS)),
                "The column the list is sorted by (default: lease, the lease number); ties in "
                "lease-number order, empty values last",
            ),
            query("order", choice(LIST_ORDERS), "asc (the default) or desc"),
            query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LEASES}),
            query(
                "cursor",
                {"type": "string"},
                "Where the page starts: take it from the `next` link, which keeps the query; a "
                "cursor of one sort and order is refused in another",
            ),
            query("format", choice(("json", "geojson"))),
        ),
    )
    paths["/api/leases/{lease_number}/schedule"] = {
        "parameters": [LEASE_NUMBER],
        "get": operation(
            "leaseSchedule",
            "The GASB 87 schedule (JSON, or CSV with format=csv)",
            "leases",
            {
                200: {
                    "description": "The schedule",
                    "content": {
                        JSON: {"schema": ref("LeaseSchedule")},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                }
            },
            (*READ, 409),
            parameters=(query("format", choice(("json", "csv"))),),
        ),
    }
    paths["/api/leases/{lease_number}/modifications"] = {
        "parameters": [LEASE_NUMBER],
        "post": operation(
            "modifyLease",
            "Record a modification; the lease is remeasured from its effective date",
            "leases",
            {201: ok("The remeasured schedule", ref("LeaseSchedule"), location=True)},
            (403, 404, 409, 413, 422),
            body=ref("LeaseModification"),
        ),
    }
    return paths


def _operations_paths() -> dict[str, dict[str, Any]]:
    paths: dict[str, dict[str, Any]] = {}
    filters = (
        query("parcel_id", {"type": "string"}),
        query("building_id", {"type": "string"}),
        query(
            "fiscal_year",
            {"type": "string", "pattern": "^(FY)?[0-9]{4}$"},
            "A fiscal year such as 2026 or FY2026",
        ),
        query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_OPERATIONS_RECORDS}),
    )
    for prefix, name, record, listing in (
        ("/api/occupancy", "occupancy record", "Occupancy", "OccupancyList"),
        ("/api/costs", "cost record", "Cost", "CostList"),
    ):
        kind = _record_paths(prefix, name, "operations", RECORD_ID, record, f"{record}Input")
        kind[prefix]["get"] = operation(
            f"list{record}",
            f"{name.capitalize()}s",
            "operations",
            {200: ok(f"The {name}s", ref(listing))},
            (401,),
            parameters=filters,
        )
        paths.update(kind)
    return paths


def _download(formats: tuple[str, ...], media_types: dict[str, str]) -> dict[str, Any]:
    return {
        "description": "The file (Content-Disposition: attachment)",
        "content": {
            media_types[name]: {
                "schema": {"type": "object"}
                if media_types[name].endswith("json")
                else {"type": "string", "format": "binary"}
            }
            for name in formats
        },
    }


_LOGIN_REDIRECT = {
    "description": "Anonymous browser (no JSON asked for): to the sign-in page",
    "headers": {"Location": {"schema": {"type": "string"}}},
}
_AS_OF = query("as_of", {"type": "string", "format": "date"}, "The day the figures are as of")


def _page_or_problem(status: int) -> dict[str, Any]:
    """Outside /api, errors are problem documents to JSON clients and pages to browsers."""
    response = problem(status)
    response["content"]["text/html"] = {"schema": {"type": "string"}}
    return response


def _other_paths() -> dict[str, dict[str, Any]]:
    exports: dict[str, dict[str, Any]] = {}
    for path, operation_id, summary, formats, media_types, extra in (
        (
            "/kpi/export",
            "exportKpis",
            "The reform KPI set (finance, admin)",
            KPI_EXPORT_FORMATS,
            KPI_MEDIA_TYPES,
            (query("period", {"type": "string", "pattern": "^FY[0-9]{4}$"}, "e.g. FY2026"),),
        ),
        (
            "/portfolio/export",
            "exportPortfolio",
            "The portfolio summary (finance, admin)",
            PORTFOLIO_FORMATS,
            PORTFOLIO_MEDIA_TYPES,
            (),
        ),
    ):
        exports[path] = {
            "get": {
                "operationId": operation_id,
                "summary": summary,
                "tags": ["exports"],
                "parameters": [query("format", choice(formats)), *extra, _AS_OF],
                "responses": {
                    "200": _download(formats, media_types),
                    "302": _LOGIN_REDIRECT,
                    **{str(code): _page_or_problem(code) for code in (400, 401, 403)},
                },
            }
        }
    return {
        **exports,
        "/healthz": {
            "get": {
                "operationId": "health",
                "summary": "200 when the app and the database answer, else 503",
                "tags": ["service"],
                "security": ANYONE,
                "responses": {
                    "200": ok("Up", ref("Health")),
                    "401": problem(401),
                    "503": ok("The database does not answer", ref("Health")),
                },
            }
        },
        "/tiles/parcels/{z}/{x}/{y}.mvt": {
            "parameters": [
                path_parameter("z", {"type": "integer", "minimum": 0, "maximum": MAX_ZOOM}, "Zoom"),
                path_parameter("x", {"type": "integer", "minimum": 0}, "Column (< 2^z)"),
                path_parameter("y", {"type": "integer", "minimum": 0}, "Row (< 2^z)"),
            ],
            "get": {
                "operationId": "parcelTile",
                "summary": "Parcel vector tile (layer parcels: parcel_id, address, department, "
                "use, status); public when the city publishes its map",
                "tags": ["tiles"],
                "security": ANYONE,
                "responses": {
                    "200": {
                        "description": "The tile (empty where no parcel is)",
                        "headers": {"ETag": {"schema": {"type": "string"}, "required": True}},
                        "content": {
                            "application/vnd.mapbox-vector-tile": {
                                "schema": {"type": "string", "format": "binary"}
                            }
                        },
                    },
                    "302": _LOGIN_REDIRECT,
                    "304": {"description": "Unchanged since the ETag sent as If-None-Match"},
                    "401": problem(401),
                    "404": {
                        "description": "No such tile at that zoom",
                        "content": {
                            "text/plain": {"schema": {"type": "string"}},
                            "text/html": {"schema": {"type": "string"}},
                            PROBLEM: {"schema": ref("Problem")},
                        },
                    },
                },
            },
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "tags": ["service"],
                "security": ANYONE,
                "responses": {
                    "200": ok("OpenAPI 3.0", {"type": "object"}, etag=False),
                    "401": problem(401),
                },
            }
        },
    }


def paths() -> dict[str, dict[str, Any]]:
    """`paths` of the document."""
    return {**_parcel_paths(), **_lease_paths(), **_operations_paths(), **_other_paths()}
