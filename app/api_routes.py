"""The endpoints of one kind of record, one copy for every kind the JSON API writes the same way
(leases, occupancy, costs): create, read, change and delete over `app.api`'s plumbing, so that
ETags, `If-Match`, audited writes and problem documents behave alike for all of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint
from flask import Response
from sqlalchemy.orm import Session

from app.api import Resource
from app.api import audited_delete
from app.api import audited_update
from app.api import audited_write
from app.api import json_object_body
from app.api import read_record
from app.auth import editing_roles
from app.auth import reading_roles
from app.auth import require_role


def record_routes(
    bp: Blueprint,
    resource: Resource,
    *,
    create: Callable[[Session, dict[str, Any]], Any],
    update: Callable[[Session, Any, int, dict[str, Any]], Any],
    delete: Callable[[Session, Any, int], None],
    key_converter: str = "",
    key_after_update: Callable[[Any, dict[str, Any]], Any] | None = None,
    writing_roles: tuple[str, ...] = editing_roles,
) -> None:
    """Add to `bp` the record endpoints every kind shaped like leases has: create (POST ""),
    read, change and delete (GET, PATCH, DELETE "/<key>"), named `create`, `read`, `patch` and
    `delete`. Every role reads; `writing_roles` (editors and admins unless given) create and
    change; editors and admins delete.

    `create(session, body)` returns the new record's key; `update(session, key,
    expected_version, body)` and `delete(session, key, expected_version)` act on one record.
    `key_converter` is the URL rule's (`int:`), and `key_after_update(key, body)` the key a
    change may give the record (a new lease number), the same key when not given.
    """
    rule = f"/<{key_converter}{resource.key}>"

    def create_view() -> Response:
        body = json_object_body()
        return audited_write(resource, lambda session: create(session, body), 201)

    def read_view(**key: Any) -> Response:
        return read_record(resource, key[resource.key])

    def patch_view(**key: Any) -> Response:
        def apply(session: Session, expected: int, body: dict[str, Any]) -> Any:
            update(session, key[resource.key], expected, body)
            if key_after_update is None:
                return key[resource.key]
            return key_after_update(key[resource.key], body)

        return audited_update(resource, apply)

    def delete_view(**key: Any) -> Response:
        return audited_delete(
            resource, lambda session, expected: delete(session, key[resource.key], expected)
        )

    for path, method, endpoint, roles, view in (
        ("", "POST", "create", writing_roles, create_view),
        (rule, "GET", "read", reading_roles, read_view),
        (rule, "PATCH", "patch", writing_roles, patch_view),
        (rule, "DELETE", "delete", editing_roles, delete_view),
    ):
        bp.add_url_rule(path, endpoint, require_role(*roles)(view), methods=[method])
