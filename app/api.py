"""The JSON API's plumbing, one copy for parcels, leases, occupancy and costs: bodies in, records
out with their ETags, `If-Match` on writes, the domain's errors as problem documents, and writes
in one audited transaction.

Bodies follow the exact rule of `registry.fields`: a JSON number with a fraction is read as a
`JsonFloat` (exact, never a binary `float`), so the validators refuse it where money or a rate
goes. Optimistic locking: `ETag: "v<version>"` out, `If-Match` in; a write without `If-Match` is
refused (428) rather than allowed to overwrite someone's change unseen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Response
from flask import request
from flask import url_for
from sqlalchemy.orm import Session

from app.auth import actor_name
from app.database import db_session
from app.database import session_factory
from app.problems import ProblemError
from registry.db import unit_of_work
from registry.errors import NotFound
from registry.errors import NotMeasured
from registry.errors import VersionConflict
from registry.fields import FieldProblem
from registry.fields import JsonFloat
from registry.fields import RecordInvalid
from registry.fields import loads_json
from registry.fields import whole_number

JSON = "application/json"


@dataclass(frozen=True)
class Record:
    """One record as the API answers with it: its JSON text and the version its ETag names."""

    body: str
    version: int
    media_type: str = JSON

    def response(self, status: int = 200) -> Response:
        response = Response(self.body, status=status, mimetype=self.media_type)
        response.headers["ETag"] = etag_for(self.version)
        return response


@dataclass(frozen=True)
class Resource:
    """What the plumbing needs to know of one kind of record."""

    name: str  # as messages say it: "parcel", "lease", "occupancy record"
    show: Callable[[Session, Any], Record]  # the record by its key (raises NotFound)
    endpoint: str  # the view that reads one record, for `Location`
    key: str  # that view's URL parameter
    # the record's URL by its key, where one URL parameter is not enough (an OGC item's)
    location: Callable[[Any], str] | None = None


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, default=str), status=status, mimetype=JSON)


def dict_record(record: dict[str, Any]) -> Record:
    """A record given as a dict holding its `version`."""
    return Record(json.dumps(record, default=str), int(record["version"]))


def json_body(doubles: tuple[str, ...] = ()) -> Any:
    """The request's JSON document; a missing or unreadable body is a 400.

    Numbers with a fraction are `JsonFloat`s, except inside the top-level members named in
    `doubles` (a GeoJSON `geometry`, whose coordinates PostGIS keeps as binary doubles anyway).
    """
    text = request.get_data(as_text=True)
    if not text.strip():
        raise ProblemError(400, "Bad request", "The body is empty: send a JSON document.")
    if json_depth(text) > MAX_JSON_DEPTH:
        raise ProblemError(
            400,
            "Bad request",
            f"The body is too deeply nested: more than "
            f"{MAX_JSON_DEPTH} levels of arrays and objects.",
        )
    try:
        body = loads_json(text)
    except ValueError as error:
        raise ProblemError(400, "Bad request", f"The body is not JSON: {error}") from error
    if isinstance(body, dict):
        body.update((name, _as_doubles(body[name])) for name in doubles if name in body)
    return body


MAX_JSON_DEPTH = 100
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """How deeply `text`'s arrays and objects nest, counted without parsing (or recursing)."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def json_object_body() -> dict[str, Any]:
    """The request's JSON object (anything else is a 400), numbers kept exact."""
    body = json_body()
    if not isinstance(body, dict):
        raise ProblemError(400, "Bad request", "The body must be a JSON object.")
    return body


def _as_doubles(value: Any) -> Any:
    if isinstance(value, JsonFloat):
        return float(value)
    if isinstance(value, list):
        return [_as_doubles(item) for item in value]
    if isinstance(value, dict):
        return {name: _as_doubles(item) for name, item in value.items()}
    return value


def bad_query(errors: list[FieldProblem]) -> None:
    """A 400 listing every query parameter at fault, when there is any."""
    if errors:
        raise ProblemError(400, "Bad query", "", [error.as_dict() for error in errors])


def page_limit(errors: list[FieldProblem], default: int, maximum: int) -> int:
    """The `limit` parameter: empty means not given; out of 1..maximum is an error."""
    limit = whole_number(request.args.get("limit") or str(default))
    if limit is None or not 1 <= limit <= maximum:
        errors.append(FieldProblem("limit", f"must be a whole number from 1 to {maximum}"))
        return default
    return limit


def etag_for(version: int) -> str:
    return f'"v{version}"'


def expected_version(what: str = "record") -> int:
    """The version named by the request's `If-Match` (428 without it, 412 if not ours)."""
    header = request.headers.get("If-Match")
    if not header:
        raise ProblemError(
            428,
            "Precondition required",
            f"Send If-Match with the ETag of the {what} version you edited, so that nobody's "
            "change is overwritten unseen.",
        )
    match = re.fullmatch(r'\s*(?:W/)?"v(\d+)"\s*', header)
    if not match:
        raise ProblemError(
            412, "Precondition failed", f"If-Match {header} is not an ETag of this API."
        )
    return int(match.group(1))


def _version_conflict_problem(resource: Resource, conflict: VersionConflict) -> ProblemError:
    """412 saying who saved which version when, with the current record to re-apply onto."""
    changed_at = conflict.changed_at.isoformat() if conflict.changed_at else None
    when = f" at {changed_at}" if changed_at else ""
    current = json.loads(resource.show(db_session(), conflict.key).body)
    return ProblemError(
        412,
        f"The {resource.name} was changed by someone else",
        f"{conflict.changed_by or 'Someone'} saved version {conflict.current_version}{when}; "
        "review the current version and apply your change again.",
        current_version=conflict.current_version,
        changed_by=conflict.changed_by,
        changed_at=changed_at,
        current=current,
        etag=etag_for(conflict.current_version),
    )


@contextmanager
def domain_errors(resource: Resource) -> Iterator[None]:
    """The domain's errors as problem documents: an invalid record is a 422 listing every field
    at fault, a missing one a 404, a stale version a 412 with the current record, one recorded
    incomplete that an action needs measured a 409 naming what is missing."""
    try:
        yield
    except RecordInvalid as error:
        raise ProblemError(
            422,
            f"The {resource.name} is not valid",
            "Correct the fields listed in errors.",
            [problem.as_dict() for problem in error.problems],
        ) from error
    except NotFound as error:
        raise ProblemError(404, f"{error.kind.capitalize()} not found", str(error)) from error
    except NotMeasured as error:
        raise ProblemError(
            409,
            f"The {error.kind} is not measured",
            str(error),
            [FieldProblem(name, "is missing").as_dict() for name in error.missing],
        ) from error
    except VersionConflict as conflict:
        raise _version_conflict_problem(resource, conflict) from conflict


@contextmanager
def audited_transaction(resource: Resource) -> Iterator[Session]:
    """A session in one transaction that the audit trail credits to the caller, committed on
    success, with the domain's errors mapped to problems."""
    # Hand back the connection of the request's read session (signing in by cookie used it)
    # before taking one for the write: a request never holds two, so a burst of concurrent
    # saves cannot take the whole pool and then wait for each other's second connection.
    db_session().close()
    with domain_errors(resource), unit_of_work(session_factory(), actor_name()) as session:
        yield session


def audited_write(
    resource: Resource, operation: Callable[[Session], Any], status: int = 200
) -> Response:
    """Run `operation` (which returns the key of the record it wrote) in one audited
    transaction and answer with that record and its ETag; a 201 also gets its `Location`."""
    with audited_transaction(resource) as session:
        key = operation(session)
        response = resource.show(session, key).response(status)
    if status == 201:
        response.headers["Location"] = (
            resource.location(key)
            if resource.location is not None
            else url_for(resource.endpoint, **{resource.key: key})
        )
    return response


def audited_update(
    resource: Resource, update: Callable[[Session, int, dict[str, Any]], Any]
) -> Response:
    """PATCH: `update(session, expected_version, body)` with the version of `If-Match` and the
    JSON object sent, answered with the record under the key `update` returns."""
    expected = expected_version(resource.name)
    body = json_object_body()
    return audited_write(resource, lambda session: update(session, expected, body))


def audited_delete(resource: Resource, delete: Callable[[Session, int], None]) -> Response:
    """DELETE: `delete(session, expected_version)` with the version of `If-Match`; 204."""
    expected = expected_version(resource.name)
    with audited_transaction(resource) as session:
        delete(session, expected)
    return Response(status=204)


def read_record(resource: Resource, key: Any) -> Response:
    """GET: the record with its ETag, or a 404."""
    with domain_errors(resource):
        return resource.show(db_session(), key).response()
