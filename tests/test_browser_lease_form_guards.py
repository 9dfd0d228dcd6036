"""In a real browser (Debian's Chromium), the lease forms guard finance's input: the modification
form works its payments out once the dates are typed (not on every digit of a year, which
queued enough requests to get finance's own submit refused), a date the browser cannot read is
named on its input instead of being sent blank, and removing a document asks first."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import FilePayload
from playwright.sync_api import Page
from playwright.sync_api import Request
from playwright.sync_api import Route
from playwright.sync_api import expect

from app.database import session_factory
from registry.db import unit_of_work
from registry.leases.records import lease_as_dict
from tests.auth_fixtures import TEST_PASSWORD
from tests.auth_fixtures import make_user
from tests.browser import sign_in
from tests.conftest import LiveServer
from tests.lease_fixtures import create_stepped_lease
from tests.lease_fixtures import seed_places
from tests.sql import scalar

pytestmark = pytest.mark.browser

FINANCE = "fay@city.example"
NUMBER = "L-2024-010"
FORM = f"/leases/{NUMBER}/modifications/new"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
#: A key every 100 ms: the walk typed at 60-150 ms a key.
KEY_DELAY_MS = 100


@pytest.fixture
def server(app: Flask, tmp_path: Path) -> Iterator[LiveServer]:
    """A monthly lease from 2024-01-01 for 24 months (12 x 1,000.00, then 12 x 1,100.00)."""
    app.config["REGISTRY_DOCUMENT_DIR"] = str(tmp_path / "documents")
    with app.app_context(), unit_of_work(session_factory(), "test-setup") as session:
        seed_places(session)
        create_stepped_lease(session, NUMBER)
    make_user(app, FINANCE, "finance")
    with LiveServer(app) as live:
        yield live


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, server.url, FINANCE)
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def _type_date(page: Page, selector: str, month_day_year: str) -> None:
    """Type a date into a date input key by key, as finance does (Chromium moves from month to
    day to year by itself)."""
    page.focus(selector)
    page.keyboard.type(month_day_year, delay=KEY_DELAY_MS)


def _work_outs(page: Page) -> list[Request]:
    """The background work-out POSTs the page sends from now on."""
    sent: list[Request] = []

    def seen(request: Request) -> None:
        if request.method == "POST" and request.resource_type == "fetch" and FORM in request.url:
            sent.append(request)

    page.on("request", seen)
    return sent


def _modifications(app: Flask) -> list[dict[str, object]]:
    with app.app_context(), session_factory()() as session:
        return list(lease_as_dict(session, NUMBER)["modifications"])


# -- defect 5: the work-out while typing dates ------------------------------------------------


def test_typing_two_dates_works_the_payments_out_once_not_per_digit(
    page: Page, server: LiveServer
) -> None:
    page.goto(server.url + FORM)
    page.check("#kind-termination")
    sent = _work_outs(page)
    _type_date(page, "#effective_date", "07012024")
    _type_date(page, "#termination_date", "06302025")
    expect(page.locator("#worked-out")).to_contain_text("nothing is recorded yet")
    expect(page.locator("#payments-0-periods")).to_have_value("6")
    page.wait_for_timeout(1000)  # a late debounced request would show by now
    assert 1 <= len(sent) <= 2, [r.post_data for r in sent]


def test_recording_right_after_typing_sends_no_work_out_and_records(
    app: Flask, page: Page, server: LiveServer
) -> None:
    """The submit cancels a work-out still waiting, so it never competes with the record."""
    page.goto(server.url + FORM)
    page.check("#kind-termination")
    sent = _work_outs(page)
    _type_date(page, "#effective_date", "07012024")  # alone: nothing to work out yet
    # the record is held on its way, so the page lives on past the work-out's 0.4 s: a timer
    # the submit left pending would send its work-out meanwhile
    held: list[Route] = []
    page.route(
        f"**{FORM}",
        lambda route: (
            held.append(route) if route.request.resource_type == "document" else route.continue_()
        ),
    )
    # the last date completed and the record pressed in one task, so the work-out's timer is
    # pending when the submit comes, however slow the machine
    page.evaluate(
        """() => {
            const input = document.querySelector('#termination_date');
            input.value = '2025-06-30';
            input.dispatchEvent(new Event('input', {bubbles: true}));
            input.dispatchEvent(new Event('change', {bubbles: true}));
            const buttons = Array.from(document.querySelectorAll('button'));
            buttons.find(b => b.textContent.trim() === 'Record the modification').click();
        }"""
    )
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the record was not sent"
    page.wait_for_timeout(1_000)  # past the debounce, the record still on its way
    held[0].continue_()
    page.wait_for_url(f"**/leases/{NUMBER}#modifications")
    assert sent == []
    [termination] = _modifications(app)
    assert termination["effective_date"] == "2024-07-01"


# -- defect 6: a date the browser cannot read -------------------------------------------------


def test_a_date_the_browser_cannot_read_is_named_on_its_input_and_nothing_is_sent(
    app: Flask, page: Page, server: LiveServer
) -> None:
    """02/30/2031 shows in the input but its value is empty (validity.badInput): sent, it read
    as "Term (months): is required (or give end date)" and came back blank."""
    leases = scalar(app.config["DATABASE_URL"], "SELECT count(*) FROM leases")
    page.goto(server.url + "/leases/new")
    page.fill("#lease_number", "L-2031-001")
    _type_date(page, "#end_date", "02302031")
    assert page.eval_on_selector("#end_date", "input => input.validity.badInput")
    posts: list[Request] = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    page.get_by_role("button", name="Record the lease").click()
    end_date = page.locator("#end_date")
    expect(end_date).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#end_date-error")).to_have_text("is not a date")
    expect(end_date).to_have_attribute("aria-describedby", re.compile(r"\bend_date-error\b"))
    expect(page.locator(".error-summary")).to_contain_text("End date: is not a date")
    expect(end_date).to_be_focused()
    assert posts == [] and page.url.endswith("/leases/new")
    assert page.eval_on_selector("#end_date", "input => input.validity.badInput")  # still typed
    assert scalar(app.config["DATABASE_URL"], "SELECT count(*) FROM leases") == leases
    page.fill("#end_date", "2031-02-28")  # corrected: the message goes, the form is sent
    expect(page.locator("#end_date-error")).to_have_count(0)
    # the server's answer, not the page before it, keeps the date (the script's summary was
    # already gone, so the checks below held before the form was even sent)
    with page.expect_navigation():
        page.get_by_role("button", name="Record the lease").click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.locator(".error-summary")).not_to_contain_text("End date: is not a date")
    expect(page.locator("#end_date")).to_have_value("2031-02-28")


def test_the_modification_form_names_a_date_it_cannot_read_too(
    app: Flask, page: Page, server: LiveServer
) -> None:
    page.goto(server.url + FORM)
    page.check("#kind-termination")
    _type_date(page, "#effective_date", "07012024")
    _type_date(page, "#termination_date", "02302025")
    page.get_by_role("button", name="Record the modification").click()
    expect(page.locator("#termination_date")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".error-summary")).to_contain_text("Termination date: is not a date")
    assert page.url.endswith(FORM) and _modifications(app) == []


# -- defect 14: removing a document asks first ------------------------------------------------


def test_removing_a_document_asks_first_as_deleting_a_milestone_does(
    app: Flask, page: Page, server: LiveServer
) -> None:
    page.goto(server.url + f"/leases/{NUMBER}")
    page.set_input_files(
        "#document-file", FilePayload(name="signed.pdf", mimeType="application/pdf", buffer=PDF)
    )
    page.get_by_role("button", name="Attach").click()
    expect(page.locator("tr.document-row")).to_have_count(1)
    page.locator("tr.document-row summary").click()  # "Remove…": nothing is removed yet
    expect(page.locator("tr.document-row")).to_contain_text("Remove “signed.pdf” from the lease?")
    assert scalar(app.config["DATABASE_URL"], "SELECT count(*) FROM lease_documents") == 1
    page.get_by_role("button", name="Yes, remove “signed.pdf”").click()
    expect(page.get_by_text("signed.pdf is removed from the lease.")).to_be_visible()
    assert scalar(app.config["DATABASE_URL"], "SELECT count(*) FROM lease_documents") == 0


def test_without_scripts_removing_a_document_still_asks_first(
    browser: Browser, server: LiveServer
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url + "/login")
    page.fill("#email", FINANCE)
    page.fill("#password", TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(server.url + f"/leases/{NUMBER}")
    page.set_input_files(
        "#document-file", FilePayload(name="signed.pdf", mimeType="application/pdf", buffer=PDF)
    )
    page.get_by_role("button", name="Attach").click()
    confirm = page.get_by_role("button", name="Yes, remove “signed.pdf”")
    expect(confirm).to_be_hidden()
    page.get_by_text("Remove…").click()
    confirm.click()
    expect(page.get_by_text("signed.pdf is removed from the lease.")).to_be_visible()
    context.close()
