"""A modification recorded as finance means it, the same through the form and the JSON API
(`registry.leases.records.record_modification`): a termination posted to the API ends the lease
(`terminated_on`) as the form's does; a `kind` needs what that kind changes; and payments worked
out for an extension are worked out under the lease's lock, from the schedule the modification
follows even when another writer modified the lease a moment before (real PostGIS, a second
connection holding the lock)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from app.database import session_factory
from registry.leases.records import lease_as_dict
from tests.auth_fixtures import SignedInClient
from tests.lease_fixtures import sent_while_another_writer_changes_the_rent
from tests.sql import scalar
from tests.test_lease_modification_payments import FORM
from tests.test_lease_modification_payments import NUMBER
from tests.test_lease_modification_payments import TERMINATION
from tests.test_lease_modification_payments import lease  # noqa: F401  (the fixture)

OTHER = "L-2024-011"
API = f"/api/leases/{OTHER}/modifications"


def _lease(app: Flask, number: str) -> dict[str, Any]:
    with app.app_context(), session_factory()() as session:
        return lease_as_dict(session, number)


@pytest.mark.usefixtures("lease")
def test_a_termination_posted_to_the_api_ends_the_lease_as_the_form_does(
    app: Flask, signed_in: Callable[..., SignedInClient]
) -> None:
    """It did not: the API recorded the new end, but the lease's `terminated_on` stayed empty,
    so its rent and critical dates ran on past the termination."""
    finance = signed_in("finance")
    assert finance.post(FORM, data={**TERMINATION, "action": "record"}).status_code == 302
    body = {"kind": "termination", "effective_date": "2025-02-10", "reason": "ended early",
            "terms": {"end_date": "2025-06-15"}}  # fmt: skip
    response = finance.post(API, json=body)
    assert response.status_code == 201, response.get_json()
    by_form, by_api = _lease(app, NUMBER), _lease(app, OTHER)
    assert by_form["terminated_on"] == by_api["terminated_on"] == "2025-06-15"
    strip = [{k: v for k, v in m.items() if k != "id"} for m in by_api["modifications"]]
    assert strip == [{k: v for k, v in m.items() if k != "id"} for m in by_form["modifications"]]
    # one audited unit: the modification and the lease's end, credited to the same user
    changed_by = scalar(
        app.config["DATABASE_URL"],
        "SELECT string_agg(DISTINCT actor, ',') FROM audit_events "
        f"WHERE table_name = 'leases' AND row_key = '{OTHER}' AND action = 'UPDATE' "
        "AND 'terminated_on' = ANY(changed_fields)",
    )
    assert changed_by == "finance@city.example"


@pytest.mark.usefixtures("lease")
@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"kind": "termination", "effective_date": "2025-02-10", "terms": {}},
         "terms.end_date", "is required for termination"),
        ({"kind": "extension", "effective_date": "2025-02-10", "terms": {"escalation_pct": "3"}},
         "terms.end_date", "is required for extension"),
        ({"kind": "payment_change", "effective_date": "2025-02-10", "terms": {}},
         "terms.payments", "give at least one payment step"),
        ({"kind": "renewal", "effective_date": "2025-02-10", "terms": {"end_date": "2026-12-31"}},
         "kind", "choose extension, termination or payment change"),
    ],
    ids=["termination without an end", "extension without an end",
         "payment change without payments", "an unknown kind"],
)  # fmt: skip
def test_a_kind_of_modification_needs_what_that_kind_changes(
    app: Flask,
    signed_in: Callable[..., SignedInClient],
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = signed_in("editor").post(API, json=body)
    assert response.status_code == 422, response.get_json()
    [error] = response.get_json()["errors"]
    assert error["field"] == field and message in error["message"]
    stored = _lease(app, OTHER)
    assert stored["modifications"] == [] and stored["terminated_on"] is None


@pytest.mark.usefixtures("lease")
def test_payments_are_worked_out_from_a_modification_recorded_a_moment_before(
    app: Flask, signed_in: Callable[..., SignedInClient]
) -> None:
    """Another writer holds the lease, recording a payment change (1,250.00 from July 2024);
    an extension posted meanwhile without payments waits for it and carries 1,250.00. The
    payments were worked out before the lock was taken, from the rent as it was (1,100.00)."""
    editor = signed_in("editor")
    extension = {"effective_date": "2025-01-01", "terms": {"end_date": "2026-12-31"}}
    response = sent_while_another_writer_changes_the_rent(
        app, OTHER, lambda: editor.post(API, json=extension)
    )
    assert response.status_code == 201, response.get_json()
    latest = _lease(app, OTHER)["modifications"][-1]
    assert latest["terms"]["payments"] == [{"periods": 24, "amount": "1250.00"}]


@pytest.mark.usefixtures("lease")
def test_an_end_moved_earlier_without_a_kind_ends_the_lease(
    app: Flask, signed_in: Callable[..., SignedInClient]
) -> None:
    """Sent without `kind`, the lease stayed in force: from its new end it was listed as holding
    over, its rent counted in the list's totals and a holdover notice due."""
    body = {"effective_date": "2025-02-10", "terms": {"end_date": "2025-06-15"}}
    response = signed_in("editor").post(API, json=body)
    assert response.status_code == 201, response.get_json()
    assert _lease(app, OTHER)["terminated_on"] == "2025-06-15"
    held_over = scalar(
        app.config["DATABASE_URL"],
        "SELECT count(*) FROM leases WHERE lease_number = :n AND terminated_on IS NULL",
        n=OTHER,
    )
    assert held_over == 0


@pytest.mark.usefixtures("lease")
@pytest.mark.parametrize(
    ("kind", "end", "message"),
    [
        ("extension", "2025-06-15", "must be after the current end 2025-12-31"),
        ("extension", "2025-12-31", "must be after the current end 2025-12-31"),
        ("termination", "2026-06-30", "must be before the current end 2025-12-31"),
    ],
)
def test_an_extension_moves_the_end_later_and_a_termination_earlier(
    app: Flask, signed_in: Callable[..., SignedInClient], kind: str, end: str, message: str
) -> None:
    body = {"kind": kind, "effective_date": "2025-02-01", "terms": {"end_date": end}}
    response = signed_in("finance").post(API, json=body)
    assert response.status_code == 422
    [error] = response.get_json()["errors"]
    assert (error["field"], error["message"]) == ("terms.end_date", message)
    assert _lease(app, OTHER)["modifications"] == []


@pytest.mark.usefixtures("lease")
def test_a_year_typed_short_is_refused_on_its_field(
    app: Flask, signed_in: Callable[..., SignedInClient]
) -> None:
    """A browser's date input makes year 26 of "26": a lease commencing 0026-07-01 was stored
    and listed as holding over since the year 31."""
    finance = signed_in("finance")
    response = finance.patch(
        f"/api/leases/{OTHER}",
        json={"commencement_date": "0026-07-01"},
        headers={"If-Match": '"v1"'},
    )
    assert response.status_code == 422
    [error] = response.get_json()["errors"]
    assert error["field"] == "commencement_date"
    assert "0026-07-01 is not a likely date" in error["message"]
    assert "year typed in full" in error["message"]
    assert _lease(app, OTHER)["commencement_date"] == "2024-01-01"


@pytest.mark.usefixtures("lease")
def test_a_date_outside_the_terms_in_force_names_the_modification_they_began_with(
    signed_in: Callable[..., SignedInClient],
) -> None:
    """The terms in force since a termination began on its date, which the message called
    "the commencement date 2025-02-10": finance read it as the lease's own (2024-01-01)."""
    finance = signed_in("finance")
    assert finance.post(FORM, data={**TERMINATION, "action": "record"}).status_code == 302
    change = {"kind": "payment_change", "effective_date": "2025-07-01", "reason": "",
              "payments-0-periods": "1", "payments-0-amount": "900.00",
              "action": "record"}  # fmt: skip
    html = finance.post(FORM, data=change).get_data(as_text=True)
    assert (
        "Effective date: 2025-07-01 must fall after the modification before it, effective "
        "2025-02-10, and before the term ends (2025-06-15 is its last day)"
    ) in html
    api = finance.post(
        f"/api/leases/{NUMBER}/modifications",
        json={
            "effective_date": "2025-07-01",
            "terms": {"payments": [{"periods": 1, "amount": "9"}]},
        },
    )
    [error] = api.get_json()["errors"]
    assert "after the modification before it, effective 2025-02-10," in error["message"]


@pytest.mark.usefixtures("lease")
def test_a_modification_dated_before_a_recorded_one_says_that_one_still_holds(
    app: Flask, signed_in: Callable[..., SignedInClient]
) -> None:
    """An extension dated before a recorded termination was recorded without a word, though
    the termination, applied again on top of it, still ends the lease."""
    finance = signed_in("finance")
    assert finance.post(FORM, data={**TERMINATION, "action": "record"}).status_code == 302
    extension = {"kind": "extension", "effective_date": "2024-07-01", "end_date": "2026-06-30",
                 "added_months": "", "reason": "renewal", "action": "record"}  # fmt: skip
    response = finance.post(FORM, data=extension, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Extension of lease L-2024-010 from 2024-07-01 is recorded" in html
    assert "It is dated before the modification effective 2025-02-10, applied again on top" in html
    assert _lease(app, NUMBER)["current_end_date"] == "2025-06-15"
