from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from flask import Flask

from tests.auth_fixtures import SignedInClient
from tests.sql import execute
from tests.sql import query

SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [
            [-118.25, 34.05],
            [-118.2495, 34.05],
            [-118.2495, 34.0505],
            [-118.25, 34.0505],
            [-118.25, 34.05],
        ]
    ],
}
COMPLETE = {
    "parcel_id": "5555-012-034",
    "address": "200 N Spring St",
    "department_code": "GSD",
    "use": "Office",
    "legal_interest": "owned",
    "status": "in_use",
    "digitization_status": "attributed",
}


@pytest.fixture
def editors(app: Flask, auth: Any) -> tuple[SignedInClient, SignedInClient]:
    execute(
        app.config["DATABASE_URL"],
        "INSERT INTO departments (code, name) VALUES ('GSD', 'General Services')",
    )
    return (
        auth.signed_in_client(app, "editor", email="ana@city.example"),
        auth.signed_in_client(app, "editor", email="ben@city.example"),
    )


def _create(client: SignedInClient, **properties: Any) -> None:
    response = client.post(
        "/api/parcels",
        json={"type": "Feature", "geometry": SQUARE, "properties": {**COMPLETE, **properties}},
    )
    assert response.status_code == 201, response.get_json()


def _state(app: Flask) -> tuple[Any, ...]:
    (row,) = query(
        app.config["DATABASE_URL"], "SELECT digitization_status, verified_by, version FROM parcels"
    )
    return tuple(row)


def _verify(client: SignedInClient, version: int) -> str:
    response = client.post(
        "/parcels/5555-012-034/verify",
        data={"version": version, "csrf_token": client.csrf_token},
        follow_redirects=True,
    )
    return response.get_data(as_text=True)


def test_the_last_editor_cannot_verify_their_own_record(
    app: Flask, editors: tuple[SignedInClient, SignedInClient]
) -> None:
    ana, _ = editors
    _create(ana)
    page = _verify(ana, 1)
    assert "second person" in page
    assert _state(app)[:2] == ("attributed", None)


def test_a_second_person_verifies_and_the_page_says_who_and_when(
    app: Flask, editors: tuple[SignedInClient, SignedInClient]
) -> None:
    ana, ben = editors
    _create(ana)
    page = _verify(ben, 1)
    assert "Verified parcel 5555-012-034" in page
    assert "Verified by <strong>ben@city.example</strong>" in page
    assert _state(app)[:2] == ("verified", "ben@city.example")


def test_an_incomplete_record_cannot_be_verified(
    app: Flask, editors: tuple[SignedInClient, SignedInClient]
) -> None:
    ana, ben = editors
    _create(ana, use=None, digitization_status="digitized")
    page = _verify(ben, 1)
    assert "missing: use" in page
    assert _state(app)[0] == "digitized"


def test_a_later_change_to_the_shape_or_a_key_attribute_revokes_the_verification(
    app: Flask, editors: tuple[SignedInClient, SignedInClient]
) -> None:
    ana, ben = editors
    _create(ana)
    _verify(ben, 1)
    version = _state(app)[2]
    response = ana.patch(
        "/api/parcels/5555-012-034",
        headers={"If-Match": f'"v{version}"'},
        json={"type": "Feature", "properties": {"address": "201 N Spring St"}},
    )
    assert response.status_code == 200
    assert _state(app)[:2] == ("attributed", None)


def test_a_change_of_status_keeps_the_verification(
    app: Flask, editors: tuple[SignedInClient, SignedInClient]
) -> None:
    ana, ben = editors
    _create(ana)
    _verify(ben, 1)
    version = _state(app)[2]
    ana.patch(
        "/api/parcels/5555-012-034",
        headers={"If-Match": f'"v{version}"'},
        json={"type": "Feature", "properties": {"status": "surplus"}},
    )
    assert _state(app)[:2] == ("verified", "ben@city.example")


def test_a_stale_verification_is_refused(
    app: Flask, editors: tuple[SignedInClient, SignedInClient]
) -> None:
    ana, ben = editors
    _create(ana)
    ana.patch(
        "/api/parcels/5555-012-034",
        headers={"If-Match": '"v1"'},
        json={"type": "Feature", "properties": {"address": "9 Main St"}},
    )
    page = _verify(ben, 1)
    assert "the record changed" in page
    assert _state(app)[0] == "attributed"


def test_the_queue_lists_complete_records_awaiting_verification_by_department(
    editors: tuple[SignedInClient, SignedInClient],
) -> None:
    ana, ben = editors
    _create(ana)
    page = ben.get("/verification?department=GSD").get_data(as_text=True)
    assert "5555-012-034" in page and "ana@city.example" in page
    _verify(ben, 1)
    assert "5555-012-034" not in ben.get("/verification").get_data(as_text=True)


def test_the_api_applies_the_same_rules(
    app: Flask, editors: tuple[SignedInClient, SignedInClient]
) -> None:
    ana, ben = editors
    _create(ana, use=None, digitization_status="digitized")
    attributed = ana.patch(
        "/api/parcels/5555-012-034",
        headers={"If-Match": '"v1"'},
        json={"type": "Feature", "properties": {"digitization_status": "attributed"}},
    )
    assert attributed.status_code == 422
    assert "missing: use" in attributed.get_json()["errors"][0]["message"]
    completed = ana.patch(
        "/api/parcels/5555-012-034",
        headers={"If-Match": '"v1"'},
        json={
            "type": "Feature",
            "properties": {"use": "Office", "digitization_status": "attributed"},
        },
    )
    assert completed.status_code == 200
    own = ana.patch(
        "/api/parcels/5555-012-034",
        headers={"If-Match": '"v2"'},
        json={"type": "Feature", "properties": {"digitization_status": "verified"}},
    )
    assert own.status_code == 422
    verified = ben.patch(
        "/api/parcels/5555-012-034",
        headers={"If-Match": '"v2"'},
        json={"type": "Feature", "properties": {"digitization_status": "verified"}},
    )
    assert verified.status_code == 200
    assert _state(app) == ("verified", "ben@city.example", 3)


def test_the_api_shows_who_verified_and_when(
    editors: tuple[SignedInClient, SignedInClient],
) -> None:
    ana, ben = editors
    _create(ana)
    _verify(ben, 1)
    properties = ana.get("/api/parcels/5555-012-034").get_json()["properties"]
    assert properties["verified_by"] == "ben@city.example"
    assert properties["verified_at"]


def _waiting_records(app: Flask, count: int, first: int, department: str) -> None:
    """`count` complete, attributed records of `department` (parcel ids from `first` on)."""
    execute(
        app.config["DATABASE_URL"],
        """
        INSERT INTO parcels (parcel_id, address, department_id, use, legal_interest, status,
                             digitization_status, geom)
        SELECT '7777-001-' || lpad(i::text, 3, '0'), i || ' Main St',
               (SELECT id FROM departments WHERE code = :department), 'Office', 'owned',
               'in_use', 'attributed',
               ST_Multi(ST_MakeEnvelope(-118.3 + i * 0.0002, 34.05,
                                        -118.3 + i * 0.0002 + 0.0001, 34.0501, 4326))
          FROM generate_series(:first, :first + :count - 1) AS i""",
        first=first,
        count=count,
        department=department,
    )


def _listed(page: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'href="/parcels/(7777-001-\d{3})"', page)))


def test_the_queue_states_how_many_wait_and_pages_through_every_one(
    app: Flask, editors: tuple[SignedInClient, SignedInClient]
) -> None:
    """More records wait than one page shows (500): the page says how many, and its next
    page lists the rest; a department's filter keeps its own count."""
    _, ben = editors
    execute(
        app.config["DATABASE_URL"], "INSERT INTO departments (code, name) VALUES ('LIB', 'Library')"
    )
    _waiting_records(app, 320, 1, "GSD")
    _waiting_records(app, 210, 321, "LIB")
    first = ben.get("/verification").get_data(as_text=True)
    assert "530 records await verification" in first
    assert "Showing 1–500" in first
    on_first = _listed(first)
    assert len(on_first) == 500
    assert on_first[:320] == [f"7777-001-{i:03d}" for i in range(1, 321)]  # by department
    next_link = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert next_link is not None
    second = ben.get(unescape(next_link.group(1))).get_data(as_text=True)
    assert "530 records await verification" in second and "Showing 501–530" in second
    on_second = _listed(second)
    assert sorted(on_first + on_second) == [f"7777-001-{i:03d}" for i in range(1, 531)]
    assert 'rel="next"' not in second
    # the page's last record leaves the queue meanwhile: the next page still starts after it
    execute(
        app.config["DATABASE_URL"],
        "UPDATE parcels SET digitization_status = 'digitized' WHERE parcel_id = :parcel_id",
        parcel_id=on_first[-1],
    )
    again = ben.get(unescape(next_link.group(1))).get_data(as_text=True)
    assert _listed(again) == on_second
    assert "529 records await verification" in again and "Showing 500–529" in again

    library = ben.get("/verification?department=LIB").get_data(as_text=True)
    assert "209 records await verification in this department" in library  # 210, one left
    assert len(_listed(library)) == 209 and 'rel="next"' not in library
    assert ben.get("/verification?after=not-a-cursor").status_code == 400
