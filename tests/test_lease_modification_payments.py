"""A modification's payments worked out from the schedule in force: the derivation itself
(stepped rent, a termination inside a step, an extension, quarterly payments, an effective date
between payment dates), that the engine reads the derived steps as it would typed ones, and the
modification form (Flask client, real PostGIS): blank rows record the derived steps, "Work out
the payments" fills the rows and records nothing, typed rows win."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright.sync_api import Browser
from playwright.sync_api import expect

from app.database import session_factory
from registry.db import unit_of_work
from registry.leases.accounting import LeaseTerms
from registry.leases.accounting import PaymentStep
from registry.leases.accounting import lease_schedule
from registry.leases.accounting import modify_lease
from registry.leases.modification_payments import DerivedPayments
from registry.leases.modification_payments import PaymentsNotDerived
from registry.leases.modification_payments import remaining_payment_steps
from registry.leases.modification_payments import terms_in_force
from registry.leases.records import create_lease
from registry.leases.records import lease_as_dict
from registry.leases.records import lease_modifications
from registry.leases.remeasurement import RecordedModification
from registry.leases.remeasurement import remeasurement_terms
from tests.auth_fixtures import TEST_PASSWORD
from tests.auth_fixtures import SignedInClient
from tests.auth_fixtures import make_user
from tests.conftest import LiveServer
from tests.lease_fixtures import create_stepped_lease
from tests.lease_fixtures import seed_places
from tests.lease_fixtures import worked_example
from tests.lease_terms_builders import cell_site
from tests.lease_terms_builders import washington
from tests.sql import scalar

D = Decimal
THOUSAND, ELEVEN_HUNDRED = D("1000.00"), D("1100.00")


def stepped(**overrides: Any) -> LeaseTerms:
    """Monthly in advance from 2024-01-01: 12 x 1,000.00, then 12 x 1,100.00, at 4 %."""
    values: dict[str, Any] = {
        "commencement_date": dt.date(2024, 1, 1),
        "term_months": 24,
        "payments": (PaymentStep(12, THOUSAND), PaymentStep(12, ELEVEN_HUNDRED)),
        "discount_rate": D("0.04"),
        **overrides,
    }
    return washington(**values)


def _steps(*pairs: tuple[int, str]) -> tuple[PaymentStep, ...]:
    return tuple(PaymentStep(periods, D(amount)) for periods, amount in pairs)


def _engine_terms(terms: LeaseTerms, effective: dt.date, changes: dict[str, Any]) -> LeaseTerms:
    return remeasurement_terms(lease_schedule(terms), effective, changes)


def _a_year_later(day: dt.date) -> dt.date:
    return day.replace(year=day.year + 1)


def _as(derived: DerivedPayments) -> dict[str, Any]:
    return {"payments": derived.as_terms()}


# -- the derivation ----------------------------------------------------------------------------


def test_a_termination_inside_the_second_step_keeps_the_steps_up_to_the_new_end() -> None:
    derived = remaining_payment_steps(stepped(), dt.date(2024, 7, 1), dt.date(2025, 5, 31))
    assert derived.steps == _steps((6, "1000.00"), (5, "1100.00"))
    assert derived.current_period is None and derived.added_periods == 0


def test_a_termination_inside_a_period_counts_the_partial_last_period_once() -> None:
    derived = remaining_payment_steps(stepped(), dt.date(2025, 3, 1), dt.date(2025, 6, 15))
    assert derived.steps == _steps((4, "1100.00"))  # March to June, June prorated by the engine
    terms = _engine_terms(
        stepped(), dt.date(2025, 3, 1), {"end_date": "2025-06-15", "payments": derived.as_terms()}
    )
    schedule = lease_schedule(terms)
    assert [row.payment for row in schedule.rows][-1] == D("550.00")  # 15 of June's 30 days


def test_an_extension_by_twelve_months_adds_them_at_the_last_amount() -> None:
    derived = remaining_payment_steps(stepped(), dt.date(2024, 7, 1), dt.date(2026, 12, 31))
    assert derived.steps == _steps((6, "1000.00"), (24, "1100.00"))
    assert derived.added_periods == 12


def test_quarterly_payments_are_counted_in_quarters() -> None:
    lease = cell_site(payments=_steps((8, "2400.00"), (12, "2600.00")))
    extended = remaining_payment_steps(lease, dt.date(2023, 10, 1), dt.date(2028, 6, 30))
    assert extended.steps == _steps((3, "2400.00"), (16, "2600.00"))
    assert extended.added_periods == 4
    ended = remaining_payment_steps(lease, dt.date(2023, 10, 1), dt.date(2024, 12, 31))
    assert ended.steps == _steps((3, "2400.00"), (2, "2600.00"))


@pytest.mark.parametrize(
    ("lease", "effective", "current", "steps"),
    [
        (stepped(), dt.date(2024, 7, 15), (dt.date(2024, 7, 1), dt.date(2024, 7, 31)),
         ((5, "1000.00"), (24, "1100.00"))),
        (cell_site(), dt.date(2023, 11, 15), (dt.date(2023, 10, 1), dt.date(2023, 12, 31)),
         ((18, "2400.00"),)),
    ],
    ids=["monthly", "quarterly in arrears"],
)  # fmt: skip
def test_an_effective_date_between_payment_dates_leaves_its_period_as_billed(
    lease: LeaseTerms,
    effective: dt.date,
    current: tuple[dt.date, dt.date],
    steps: tuple[tuple[int, str], ...],
) -> None:
    end = _a_year_later(lease.last_day)
    derived = remaining_payment_steps(lease, effective, end)
    assert derived.current_period is not None
    assert (derived.current_period.start, derived.current_period.last_day) == current
    assert derived.steps == _steps(*steps)
    # the engine accepts them: the steps cover the periods after the one the date falls in
    terms = _engine_terms(lease, effective, {"end_date": end.isoformat(), **_as(derived)})
    assert sum(step.periods for step in terms.payments) == 1 + sum(p for p, _ in steps)


@pytest.mark.parametrize(
    "lease",
    [
        stepped(),
        stepped(escalation_pct=D("3"), free_periods=2),
        cell_site(),
        stepped(
            commencement_date=dt.date(2024, 1, 15), term_months=0, end_date=dt.date(2025, 12, 31)
        ),
    ],
    ids=["stepped", "escalated with free rent", "quarterly in arrears", "partial first period"],
)
@pytest.mark.parametrize("day", [1, 15])
def test_with_the_end_unchanged_the_steps_are_those_the_engine_carries(
    lease: LeaseTerms, day: int
) -> None:
    effective = dt.date(2024, 10, day)
    derived = remaining_payment_steps(lease, effective)
    carried = _engine_terms(lease, effective, {})
    typed = _engine_terms(lease, effective, _as(derived))
    assert typed == carried


def test_the_remeasurement_is_the_same_as_with_the_steps_typed() -> None:
    effective, end = dt.date(2024, 7, 15), "2026-12-31"
    derived = remaining_payment_steps(stepped(), effective, dt.date(2026, 12, 31))
    typed = {"end_date": end, "payments": [
        {"periods": 5, "amount": "1000.00"}, {"periods": 24, "amount": "1100.00"}]}  # fmt: skip
    by_hand = modify_lease(lease_schedule(stepped()), _engine_terms(stepped(), effective, typed))
    worked = _engine_terms(stepped(), effective, {"end_date": end, **_as(derived)})
    assert modify_lease(lease_schedule(stepped()), worked) == by_hand


@pytest.mark.parametrize(
    ("effective", "last_day", "field", "words"),
    [
        (dt.date(2023, 12, 1), None, "effective_date", "must fall after the commencement date"),
        (dt.date(2026, 1, 1), None, "effective_date", "before the term ends"),
        (dt.date(2025, 3, 1), dt.date(2025, 2, 28), "end_date", "on or after the effective"),
        (dt.date(2025, 3, 10), dt.date(2025, 3, 20), "end_date", "no payment period is left"),
    ],
    ids=["before commencement", "after the end", "end before effective", "inside one period"],
)
def test_dates_that_leave_nothing_to_work_out_say_why(
    effective: dt.date, last_day: dt.date | None, field: str, words: str
) -> None:
    with pytest.raises(PaymentsNotDerived) as raised:
        remaining_payment_steps(stepped(), effective, last_day)
    [(name, message)] = raised.value.errors
    assert name == field and words in message


def test_the_terms_in_force_are_those_of_the_last_modification_before_the_date() -> None:
    base = lease_schedule(stepped())
    changes = {"payments": [{"periods": 18, "amount": "900.00"}]}
    recorded = RecordedModification(dt.date(2024, 7, 1), changes, id=1)
    result = modify_lease(base, remeasurement_terms(base, recorded.effective_date, changes))
    applied = [(recorded, result)]
    assert terms_in_force(base, applied, dt.date(2024, 6, 30)) == base.terms
    later = terms_in_force(base, applied, dt.date(2024, 7, 1))
    assert remaining_payment_steps(later, dt.date(2025, 1, 1)).steps == _steps((12, "900.00"))


# -- the form ----------------------------------------------------------------------------------

NUMBER = "L-2024-010"
FORM = f"/leases/{NUMBER}/modifications/new"


@pytest.fixture
def lease(app: Flask) -> None:
    """The stepped lease twice: one to modify with worked-out payments, one typed by hand."""
    with app.app_context(), unit_of_work(session_factory(), "test-setup") as session:
        seed_places(session)
        for number in (NUMBER, "L-2024-011"):
            create_stepped_lease(session, number)


@pytest.fixture
def finance(signed_in: Callable[..., SignedInClient]) -> SignedInClient:
    return signed_in("finance", "fay@city.example")


def _lease(app: Flask, number: str = NUMBER) -> dict[str, Any]:
    with app.app_context(), session_factory()() as session:
        return lease_as_dict(session, number)


def _html(response: Any) -> str:
    return str(response.get_data(as_text=True))


def _rows(html: str) -> list[tuple[str, str]]:
    """The payment rows as shown (periods, amount), blank rows left out."""
    values = dict(re.findall(r'<input id="(payments-\d+-\w+)" name="[^"]+" type="text" '
                             r'value="([^"]*)"', html))  # fmt: skip
    rows = [(values[f"payments-{i}-periods"], values[f"payments-{i}-amount"])
            for i in range(len(values) // 2)]  # fmt: skip
    return [row for row in rows if any(row)]


def _worked_out(html: str) -> str:
    found = re.search(r'name="worked_out" value="([^"]*)"', html)
    assert found
    return found.group(1)


def _audit_count(app: Flask) -> int:
    return int(scalar(app.config["DATABASE_URL"], "SELECT count(*) FROM audit_events"))


EXTENSION = {"kind": "extension", "effective_date": "2024-07-01", "added_months": "12",
             "reason": "renewal", "payments-0-periods": "", "payments-0-amount": ""}  # fmt: skip


@pytest.mark.usefixtures("lease")
def test_an_extension_with_blank_rows_records_the_worked_out_steps(
    app: Flask, finance: SignedInClient
) -> None:
    response = finance.post(FORM, data={**EXTENSION, "action": "record"})
    assert response.status_code == 302, _html(response)
    [modification] = _lease(app)["modifications"]
    assert modification["terms"] == {
        "end_date": "2026-12-31",
        "payments": [{"periods": 6, "amount": "1000.00"}, {"periods": 24, "amount": "1100.00"}],
    }
    typed = {**EXTENSION, "payments-0-periods": "6", "payments-0-amount": "1000.00",
             "payments-1-periods": "24", "payments-1-amount": "1100.00"}  # fmt: skip
    assert finance.post("/leases/L-2024-011/modifications/new", data=typed).status_code == 302
    worked = finance.get(f"/api/leases/{NUMBER}/schedule").get_json()
    by_hand = finance.get("/api/leases/L-2024-011/schedule").get_json()
    assert [row for row in worked["rows"] if row["measurement"] == 1] == [
        row for row in by_hand["rows"] if row["measurement"] == 1
    ]
    assert (
        worked["remeasurements"][0]["balance_after"]
        == by_hand["remeasurements"][0]["balance_after"]
    )
    assert sum(row["measurement"] == 1 for row in worked["rows"]) == 30  # July 2024 to Dec 2026
    page = _html(finance.get(f"/leases/{NUMBER}"))
    assert page.count('<tr class="measurement-1">') == 30 and "renewal" in page


@pytest.mark.usefixtures("lease")
def test_work_out_fills_the_rows_and_records_nothing(app: Flask, finance: SignedInClient) -> None:
    events = _audit_count(app)
    response = finance.post(FORM, data={**EXTENSION, "action": "work_out"})
    assert response.status_code == 200
    html = _html(response)
    assert _rows(html) == [("6", "1000.00"), ("24", "1100.00")]
    assert "nothing is recorded yet" in html and "the last 12 periods are added" in html
    assert _lease(app)["modifications"] == [] and _audit_count(app) == events
    # sent back as shown, the rows are recorded as they were worked out
    form = {**EXTENSION, "worked_out": _worked_out(html), "action": "record"}
    form.update({"payments-0-periods": "6", "payments-0-amount": "1000.00",
                 "payments-1-periods": "24", "payments-1-amount": "1100.00"})  # fmt: skip
    assert finance.post(FORM, data=form).status_code == 302
    assert _lease(app)["current_end_date"] == "2026-12-31"


@pytest.mark.usefixtures("lease")
def test_rows_worked_out_for_other_dates_are_worked_out_again_before_recording(
    app: Flask, finance: SignedInClient
) -> None:
    html = _html(finance.post(FORM, data={**EXTENSION, "action": "work_out"}))
    form = {**EXTENSION, "added_months": "24", "worked_out": _worked_out(html), "action": "record"}
    form.update({"payments-0-periods": "6", "payments-0-amount": "1000.00",
                 "payments-1-periods": "24", "payments-1-amount": "1100.00"})  # fmt: skip
    response = finance.post(FORM, data=form)
    assert response.status_code == 200
    assert _rows(_html(response)) == [("6", "1000.00"), ("36", "1100.00")]
    assert "worked out again" in _html(response)
    assert _lease(app)["modifications"] == []


@pytest.mark.usefixtures("lease")
def test_typed_rows_win(app: Flask, finance: SignedInClient) -> None:
    typed = {**EXTENSION, "payments-0-periods": "30", "payments-0-amount": "1200.00"}
    response = finance.post(FORM, data={**typed, "action": "work_out"})
    html = _html(response)
    assert _rows(html) == [("30", "1200.00")] and "the rows you typed are kept" in html
    form = {**typed, "worked_out": _worked_out(html), "action": "record"}
    assert finance.post(FORM, data=form).status_code == 302
    [modification] = _lease(app)["modifications"]
    assert modification["terms"]["payments"] == [{"periods": 30, "amount": "1200.00"}]


@pytest.mark.usefixtures("lease")
def test_a_termination_between_payment_dates_records_the_steps_after_its_period(
    app: Flask, finance: SignedInClient
) -> None:
    form = {"kind": "termination", "effective_date": "2025-02-10",
            "termination_date": "2025-06-15", "action": "record"}  # fmt: skip
    html = _html(finance.post(FORM, data={**form, "action": "work_out"}))
    assert "inside the payment period 2025-02-01 to 2025-02-28" in html
    assert _rows(html) == [("4", "1100.00")]  # March to June 15
    assert finance.post(FORM, data=form).status_code == 302
    lease = _lease(app)
    assert lease["terminated_on"] == "2025-06-15"
    assert lease["modifications"][0]["terms"]["payments"] == [{"periods": 4, "amount": "1100.00"}]
    schedule = finance.get(f"/api/leases/{NUMBER}/schedule").get_json()
    last = [row for row in schedule["rows"] if row["measurement"] == 1][-1]
    assert last["date"] == "2025-06-01" and last["payment"] == "550.00"


@pytest.mark.usefixtures("lease")
def test_an_extension_after_a_payment_change_carries_the_changed_payments(
    app: Flask, finance: SignedInClient
) -> None:
    change = {"kind": "payment_change", "effective_date": "2024-07-01", "action": "record",
              "payments-0-periods": "18", "payments-0-amount": "900.00"}  # fmt: skip
    assert finance.post(FORM, data=change).status_code == 302
    extension = {"kind": "extension", "effective_date": "2025-01-01", "added_months": "6",
                 "action": "record"}  # fmt: skip
    assert finance.post(FORM, data=extension).status_code == 302, "blank rows: worked out"
    second = _lease(app)["modifications"][1]["terms"]
    assert second == {"end_date": "2026-06-30", "payments": [{"periods": 18, "amount": "900.00"}]}


@pytest.mark.usefixtures("lease")
def test_a_payment_change_starts_from_the_remaining_steps(
    app: Flask, finance: SignedInClient
) -> None:
    form = {"kind": "payment_change", "effective_date": "2024-10-01"}
    html = _html(finance.post(FORM, data={**form, "action": "work_out"}))
    assert _rows(html) == [("3", "1000.00"), ("12", "1100.00")]
    response = finance.post(FORM, data={**form, "action": "record"})
    assert response.status_code == 422 and "give at least one payment step" in _html(response)
    assert _lease(app)["modifications"] == []


@pytest.mark.usefixtures("lease")
def test_dates_that_leave_nothing_to_work_out_are_shown_on_their_inputs(
    app: Flask, finance: SignedInClient
) -> None:
    form = {"kind": "termination", "effective_date": "2025-03-01",
            "termination_date": "2025-02-28", "action": "record"}  # fmt: skip
    response = finance.post(FORM, data=form)
    assert response.status_code == 422
    html = _html(response)
    assert "Termination date: must be on or after the effective date" in html
    assert re.search(r'id="termination_date"[^>]*aria-invalid="true"', html)
    assert _lease(app)["modifications"] == []


# -- the JSON API: the same payments as the form ------------------------------------------------

API = "/api/leases/L-2024-011/modifications"
TERMINATION = {"kind": "termination", "effective_date": "2025-02-10",
               "termination_date": "2025-06-15", "reason": "ended early"}  # fmt: skip
TYPED = {**EXTENSION, "payments-0-periods": "30", "payments-0-amount": "1200.00"}


def _stored(app: Flask, number: str) -> list[dict[str, Any]]:
    """The lease's modifications as stored, without their ids."""
    return [
        {name: value for name, value in modification.items() if name != "id"}
        for modification in _lease(app, number)["modifications"]
    ]


@pytest.mark.usefixtures("lease")
@pytest.mark.parametrize(
    ("form", "body"),
    [
        (EXTENSION, {"effective_date": "2024-07-01", "reason": "renewal",
                     "terms": {"end_date": "2026-12-31"}}),
        (TERMINATION, {"effective_date": "2025-02-10", "reason": "ended early",
                       "terms": {"end_date": "2025-06-15"}}),
        (TYPED, {"effective_date": "2024-07-01", "reason": "renewal",
                 "terms": {"end_date": "2026-12-31",
                           "payments": [{"periods": 30, "amount": "1200.00"}]}}),
    ],
    ids=["extension without payments", "termination without payments", "payments given"],
)  # fmt: skip
def test_the_api_records_a_new_end_with_the_payments_the_form_records(
    app: Flask,
    signed_in: Callable[..., SignedInClient],
    form: dict[str, str],
    body: dict[str, Any],
) -> None:
    """An extension or a termination posted without payments gets the worked-out ones (it was
    refused: "give the payment steps for the new term"); payments given are recorded as given."""
    editor = signed_in("editor")
    assert editor.post(FORM, data={**form, "action": "record"}).status_code == 302
    response = editor.post(API, json=body)
    assert response.status_code == 201, response.get_json()
    assert _stored(app, "L-2024-011") == _stored(app, NUMBER)
    assert len(_stored(app, NUMBER)) == 1
    recorded_by_form = editor.get(f"/api/leases/{NUMBER}/schedule").get_json()
    assert response.get_json()["rows"] == recorded_by_form["rows"]


@pytest.mark.usefixtures("lease")
@pytest.mark.parametrize(
    ("terms", "field", "message"),
    [
        ({"end_date": "2025-02-28"}, "terms.end_date", "must be on or after the effective date"),
        ({"end_date": "2025-03-10"}, "terms.end_date", "falls in the payment period"),
    ],
)
def test_an_api_new_end_that_leaves_no_payments_to_work_out_says_why(
    app: Flask,
    signed_in: Callable[..., SignedInClient],
    terms: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = signed_in("editor").post(API, json={"effective_date": "2025-03-05", "terms": terms})
    assert response.status_code == 422
    [error] = response.get_json()["errors"]
    assert error["field"] == field and message in error["message"]
    assert _stored(app, "L-2024-011") == []


def test_the_form_is_refused_to_a_viewer(app: Flask, viewer_client: FlaskClient) -> None:
    with app.app_context(), unit_of_work(session_factory(), "test-setup") as session:
        seed_places(session)
        create_lease(session, worked_example())
    response = viewer_client.post(
        "/leases/L-2021-001/modifications/new", data={**EXTENSION, "action": "work_out"}
    )
    assert response.status_code == 403
    with app.app_context(), session_factory()() as session:
        assert lease_modifications(session, "L-2021-001")[1] == []


# -- in a browser ------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.usefixtures("lease")
def test_the_form_works_the_payments_out_as_the_dates_change(app: Flask, browser: Browser) -> None:
    make_user(app, "fay@city.example", "finance")
    with LiveServer(app) as server:
        context = browser.new_context()
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(server.url + "/login")
        page.fill("#email", "fay@city.example")
        page.fill("#password", TEST_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(server.url + FORM)
        page.get_by_label("Extension").check()
        page.fill("#effective_date", "2024-07-01")
        page.fill("#added_months", "12")
        page.locator("#added_months").blur()
        expect(page.locator("#payments-1-periods")).to_have_value("24")
        expect(page.locator("#payments-0-amount")).to_have_value("1000.00")
        expect(page.locator("#worked-out")).to_contain_text("nothing is recorded yet")
        page.fill("#added_months", "24")  # the rows are still as worked out: worked out again
        page.locator("#added_months").blur()
        expect(page.locator("#payments-1-periods")).to_have_value("36")
        page.fill("#payments-1-amount", "1150.00")  # typed: kept from now on
        page.fill("#reason", "renewal at a new rent")
        page.locator("#reason").blur()
        expect(page.locator("#payments-1-amount")).to_have_value("1150.00")
        page.get_by_role("button", name="Record the modification").click()
        page.wait_for_url(f"**/leases/{NUMBER}#modifications")
        context.close()
        assert errors == []
    [modification] = _lease(app)["modifications"]
    assert modification["terms"]["payments"] == [
        {"periods": 6, "amount": "1000.00"},
        {"periods": 36, "amount": "1150.00"},
    ]
