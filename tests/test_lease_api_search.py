"""`GET /api/leases`: search (`q`), sort (`sort`, `order`) and `next` links through every page,
read by the same rules as the lease list page (`registry.leases.queries.lease_list_order`),
against a real PostGIS database of the test's own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.database import session_factory
from registry.db import unit_of_work
from registry.leases.queries import LEASE_SORTS
from registry.leases.records import create_lease
from tests.lease_fixtures import lessor_example
from tests.lease_fixtures import seed_places
from tests.lease_fixtures import worked_example

# Counterparties and premises differ in their first letter (or only in case), so that Python's
# order is the database collation's whatever the locale.
LEASES = (
    worked_example(lease_number="L-101", counterparty="Delta Storage", premises="Suite 1200"),
    lessor_example(
        lease_number="L-102",
        counterparty="alpine Wireless",
        premises="Rooftop cell site",
    ),
    worked_example(
        lease_number="L-103",
        counterparty="Cedar Clinic",
        department_code="RAP",
        premises="Annex B",
        commencement_date="2019-01-01",
        term_months=120,
        payments=[{"periods": 120, "amount": "1000.00"}],
    ),
    lessor_example(
        lease_number="L-104",
        portfolio="non_profit",
        counterparty="Birch Youth League",
        department_code="RAP",
        premises=None,
        commencement_date="2023-03-01",
        term_months=24,
        payments=[{"periods": 8, "amount": "1.00"}],
    ),
    worked_example(
        lease_number="L-105",
        counterparty="Elm Street Offices",
        department_code=None,  # with the lessor leases, last when sorted by department
        premises="suite 300",
        commencement_date="2020-10-01",
        term_months=48,
        payments=[{"periods": 48, "amount": "5000.00"}],
    ),
    worked_example(
        lease_number="L-107",
        counterparty="DELTA STORAGE",  # the same as L-101's to a case-blind sort: a tie
        premises="Warehouse 9",
        term_months=12,
        payments=[{"periods": 12, "amount": "800.00"}],
    ),
)
# Recorded as found, without a start: no commencement and no end, last in either order.
UNDATED = lessor_example(
    lease_number="L-106",
    counterparty="Fir Cafe",
    premises="Kiosk by the pool",
    commencement_date=None,
)

# What each sort key orders by, read from the API's own JSON of a lease.
SORT_VALUES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "lease": lambda lease: lease["lease_number"],
    "direction": lambda lease: lease["direction"],
    "portfolio": lambda lease: lease["portfolio"],
    "counterparty": lambda lease: lease["counterparty"].lower(),
    "department": lambda lease: lease["department_code"],
    "premises": lambda lease: lease["premises"] and lease["premises"].lower(),
    "commencement": lambda lease: lease["commencement_date"],
    "ends": lambda lease: lease["end_date"],
}


@pytest.fixture
def leases(app: Flask) -> None:
    with app.app_context(), unit_of_work(session_factory(), "test-setup") as session:
        seed_places(session)
        for lease in LEASES:
            create_lease(session, lease)
        create_lease(session, UNDATED, as_found=True)


def numbers(client: FlaskClient, query: str) -> list[str]:
    answer = client.get(f"/api/leases?{query}")
    assert answer.status_code == 200, answer.get_json()
    return [lease["lease_number"] for lease in answer.get_json()["leases"]]


def every_page(client: FlaskClient, query: str) -> tuple[list[dict[str, Any]], int]:
    """The leases of every page, following `next` links from `query`; and the pages read."""
    url: str | None = f"/api/leases?{query}"
    leases: list[dict[str, Any]] = []
    pages = 0
    while url is not None:
        answer = client.get(url)
        assert answer.status_code == 200, answer.get_json()
        body = answer.get_json()
        leases += body["leases"]
        pages += 1
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        assert pages <= 20, "the next links go round in a circle"
    return leases, pages


def expected_order(leases: list[dict[str, Any]], sort: str, descending: bool) -> list[str]:
    """Lease numbers as `sort` orders them: empty values last either way, ties in lease-number
    order (the same way round)."""
    value = SORT_VALUES[sort]
    valued = sorted(
        (lease for lease in leases if value(lease) is not None),
        key=lambda lease: (value(lease), lease["lease_number"]),
        reverse=descending,
    )
    empty = sorted(
        (lease for lease in leases if value(lease) is None),
        key=lambda lease: str(lease["lease_number"]),
        reverse=descending,
    )
    return [lease["lease_number"] for lease in (*valued, *empty)]


def problem_fields(client: FlaskClient, query: str) -> dict[str, str]:
    answer = client.get(f"/api/leases?{query}")
    assert answer.status_code == 400, answer.get_data(as_text=True)
    assert answer.mimetype == "application/problem+json"
    return {error["field"]: error["message"] for error in answer.get_json()["errors"]}


@pytest.mark.usefixtures("leases")
def test_the_search_finds_part_of_a_counterparty_in_any_case(viewer_client: FlaskClient) -> None:
    assert numbers(viewer_client, "q=WIRELESS") == ["L-102"]
    assert numbers(viewer_client, "q=storage") == ["L-101", "L-107"]
    assert numbers(viewer_client, "q=+youth+league+") == ["L-104"]  # trimmed


@pytest.mark.usefixtures("leases")
def test_the_search_finds_a_lease_number(viewer_client: FlaskClient) -> None:
    assert numbers(viewer_client, "q=L-103") == ["L-103"]
    assert numbers(viewer_client, "q=l-10") == ["L-101", "L-102", "L-103", "L-104", "L-105",
                                               "L-106", "L-107"]  # fmt: skip


@pytest.mark.usefixtures("leases")
def test_the_search_finds_part_of_the_premises(viewer_client: FlaskClient) -> None:
    assert numbers(viewer_client, "q=rooftop") == ["L-102"]
    assert numbers(viewer_client, "q=suite") == ["L-101", "L-105"]
    assert numbers(viewer_client, "q=by+the+pool") == ["L-106"]


@pytest.mark.usefixtures("leases")
def test_a_wildcard_typed_is_a_character_sought(viewer_client: FlaskClient) -> None:
    assert numbers(viewer_client, "q=%25") == []
    assert numbers(viewer_client, "q=_") == []


@pytest.mark.usefixtures("leases")
def test_the_search_combines_with_the_filters(viewer_client: FlaskClient) -> None:
    assert numbers(viewer_client, "q=storage&direction=out") == []
    assert numbers(viewer_client, "q=e&portfolio=non_profit") == ["L-104"]


@pytest.mark.usefixtures("leases")
@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
@pytest.mark.parametrize("sort", list(LEASE_SORTS))
def test_each_sort_pages_through_every_lease_once_in_order(
    viewer_client: FlaskClient, sort: str, descending: bool
) -> None:
    everything = viewer_client.get("/api/leases?limit=1000").get_json()["leases"]
    assert len(everything) == 7
    order = "&order=desc" if descending else ""
    read, pages = every_page(viewer_client, f"sort={sort}{order}&limit=2")
    assert [lease["lease_number"] for lease in read] == expected_order(everything, sort, descending)
    assert pages == 4  # 2 + 2 + 2 + 1, and no empty page after the last


@pytest.mark.usefixtures("leases")
def test_ties_are_in_lease_number_order_the_same_way_round(viewer_client: FlaskClient) -> None:
    assert numbers(viewer_client, "q=storage&sort=counterparty") == ["L-101", "L-107"]
    assert numbers(viewer_client, "q=storage&sort=counterparty&order=desc") == ["L-107", "L-101"]


@pytest.mark.usefixtures("leases")
def test_an_explicit_ascending_order_is_the_default(viewer_client: FlaskClient) -> None:
    assert numbers(viewer_client, "order=asc") == numbers(viewer_client, "")
    assert numbers(viewer_client, "sort=lease&order=asc") == numbers(viewer_client, "")


@pytest.mark.usefixtures("leases")
def test_the_next_link_keeps_the_search_and_sort(viewer_client: FlaskClient) -> None:
    read, pages = every_page(viewer_client, "q=e&sort=premises&order=desc&limit=1")
    numbers_read = [lease["lease_number"] for lease in read]
    assert numbers_read == ["L-107", "L-105", "L-101", "L-102", "L-106", "L-103", "L-104"]
    assert pages == 7


@pytest.mark.usefixtures("leases")
def test_the_lease_number_order_pages_by_its_keyset(viewer_client: FlaskClient) -> None:
    """Unchanged for clients of the default order: the cursor is the last lease number."""
    first = viewer_client.get("/api/leases?limit=3&q=l-").get_json()
    (href,) = [link["href"] for link in first["links"] if link["rel"] == "next"]
    assert "cursor=L-103" in href and "q=l-" in href
    read, _ = every_page(viewer_client, "limit=3&order=desc")
    assert [lease["lease_number"] for lease in read] == [f"L-{n}" for n in range(107, 100, -1)]


@pytest.mark.usefixtures("leases")
def test_an_unknown_sort_is_refused_naming_sort(viewer_client: FlaskClient) -> None:
    fields = problem_fields(viewer_client, "sort=rent")
    assert set(fields) == {"sort"}
    assert fields["sort"] == f"must be one of: {', '.join(LEASE_SORTS)}"


@pytest.mark.usefixtures("leases")
def test_an_unknown_order_is_refused_naming_order(viewer_client: FlaskClient) -> None:
    assert problem_fields(viewer_client, "order=down") == {"order": "must be asc or desc"}


@pytest.mark.usefixtures("leases")
def test_a_search_too_long_is_refused_naming_q(viewer_client: FlaskClient) -> None:
    assert problem_fields(viewer_client, "q=" + "x" * 101) == {
        "q": "must be at most 100 characters"
    }
    assert numbers(viewer_client, "q=" + "x" * 100) == []


@pytest.mark.usefixtures("leases")
def test_every_bad_parameter_is_named_at_once(viewer_client: FlaskClient) -> None:
    fields = problem_fields(viewer_client, "sort=rent&order=up&limit=0&q=" + "y" * 500)
    assert set(fields) == {"sort", "order", "limit", "q"}


@pytest.mark.usefixtures("leases")
@pytest.mark.parametrize(
    "cursor", ["L-103", "%FF%FE", "bm90IGEgY3Vyc29y", "!!!", "ZW5kcy5hc2MuMg==", "\u00e9"]
)
def test_a_cursor_not_of_the_sort_is_refused_naming_cursor(
    viewer_client: FlaskClient, cursor: str
) -> None:
    """A lease number, bytes, base64 of other text, not base64, another sort's cursor ("ends.asc.2"
    with `sort=counterparty`), a letter outside ASCII: a 400, never a server error."""
    fields = problem_fields(viewer_client, f"sort=counterparty&cursor={cursor}")
    assert set(fields) == {"cursor"}
    assert "follow the next link" in fields["cursor"]


@pytest.mark.usefixtures("leases")
@pytest.mark.parametrize("default_order", ["", "sort=lease&order=asc&"], ids=["implicit", "named"])
def test_an_offset_cursor_sent_to_the_lease_number_order_is_refused_naming_cursor(
    viewer_client: FlaskClient, default_order: str
) -> None:
    """A sorted list's cursor (here "ends.asc.2", and the lease number's own descending one)
    was read as a lease number: a wrong page, silently. The keyset's own cursors still page."""
    first = viewer_client.get("/api/leases?sort=ends&limit=2").get_json()
    href = next(link["href"] for link in first["links"] if link["rel"] == "next")
    offset_cursor = href.split("cursor=")[1].split("&")[0]
    descending = viewer_client.get("/api/leases?order=desc&limit=2").get_json()
    desc_href = next(link["href"] for link in descending["links"] if link["rel"] == "next")
    desc_cursor = desc_href.split("cursor=")[1].split("&")[0]
    for cursor in (offset_cursor, desc_cursor):
        fields = problem_fields(viewer_client, f"{default_order}cursor={cursor}")
        assert fields == {
            "cursor": "is not a cursor of this sort and order: follow the next link"
        }, cursor
    assert numbers(viewer_client, f"{default_order}cursor=L-103&limit=2") == ["L-104", "L-105"]


@pytest.mark.usefixtures("leases")
def test_a_cursor_deeper_than_a_sorted_list_reads_is_refused(
    viewer_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.blueprints.leases.api.MAX_OFFSET", 2)
    first = viewer_client.get("/api/leases?sort=ends&limit=2").get_json()
    second_link = next(link["href"] for link in first["links"] if link["rel"] == "next")
    second = viewer_client.get(second_link).get_json()
    third_link = next(link["href"] for link in second["links"] if link["rel"] == "next")
    third = viewer_client.get(third_link)
    assert third.status_code == 400
    (error,) = third.get_json()["errors"]
    assert error["field"] == "cursor" and "lease-number order" in error["message"]


@pytest.mark.usefixtures("leases")
def test_the_map_points_are_found_by_the_search(viewer_client: FlaskClient) -> None:
    points = viewer_client.get("/api/leases?format=geojson&q=wireless").get_json()
    (feature,) = points["features"]
    assert [lease["lease_number"] for lease in feature["properties"]["leases"]] == ["L-102"]
