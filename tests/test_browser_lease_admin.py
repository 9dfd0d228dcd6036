"""In a real browser (Debian's Chromium), finance administers a lease and closes the year: signs
in, records a new lease through the form (after the form has shown its problems), records a
payment change, attaches the signed lease as a PDF and downloads it back, then on /exports
downloads the GASB 87 report of the previous fiscal year and that year's journal entries, and
checks that they tie: the journal's interest, amortization (or lease revenue) and the movement of
the liability (or receivable) equal the report's, for every lease together and for the new lease
alone. axe-core finds no critical or serious violation on the new pages."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import FilePayload
from playwright.sync_api import Page
from playwright.sync_api import expect

from registry.leases.gasb87.journal import DEFAULT_ACCOUNTS
from tests.browser import sign_in
from tests.conftest import LiveServer
from tests.live_apps import sample_app
from tests.sql import query

pytestmark = pytest.mark.browser

FINANCE = "fay@city.example"
AXE = "/static/vendor/axe-core/axe.min.js"
NUMBER = "L-2025-900"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(scope="module")
def finance_app(template_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with sample_app(template_url, ((FINANCE, "finance"),)) as app:
        app.config["REGISTRY_DOCUMENT_DIR"] = str(tmp_path_factory.mktemp("documents"))
        yield app


@pytest.fixture(scope="module")
def server(finance_app: Flask) -> Iterator[LiveServer]:
    with LiveServer(finance_app) as live:
        yield live


@pytest.fixture
def page(browser: Browser, server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    sign_in(page, server.url, FINANCE)
    yield page
    context.close()


def _serious_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(url=AXE)
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("critical", "serious")
    ]


def _download(page: Page, button: str) -> str:
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    path = info.value.path()
    return Path(path).read_text(encoding="utf-8-sig")


def _record_the_lease(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/leases")
    page.get_by_role("link", name="New lease").click()
    page.wait_for_url("**/leases/new")
    assert _serious_violations(page) == [], "new lease form"
    page.fill("#lease_number", NUMBER)
    page.select_option("#direction", "in")
    page.fill("#commencement_date", "2024-07-01")
    page.fill("#term_months", "60")
    page.select_option("#payment_frequency", "monthly")
    page.select_option("#payment_timing", "advance")
    page.get_by_label("Payment step 1: periods").fill("60")
    page.get_by_label("Payment step 1: amount").fill("5000.005")  # a fraction of a cent
    page.fill("#discount_rate", "0.04")
    page.get_by_role("button", name="Record the lease").click()
    # the problems, next to their inputs, in the form's words; the values kept as typed
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Counterparty: is required")
    expect(summary).to_contain_text("Payment step 1: amount")
    expect(page.locator("#counterparty")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#counterparty")).to_have_attribute(
        "aria-describedby", "counterparty-error counterparty-hint"
    )
    expect(page.get_by_label("Payment step 1: amount")).to_have_value("5000.005")
    assert _serious_violations(page) == [], "new lease form with problems"
    page.fill("#counterparty", "Harbor Lofts LLC")
    page.fill("#premises", "Floor 3")
    page.get_by_label("Payment step 1: amount").fill("5000.00")
    page.get_by_role("button", name="Record the lease").click()
    page.wait_for_url(f"**/leases/{NUMBER}")
    expect(page.get_by_role("status").first).to_contain_text(f"Lease {NUMBER} is recorded.")


def _record_a_payment_change(page: Page) -> None:
    page.get_by_role("link", name="Record a modification").click()
    page.wait_for_url(f"**/leases/{NUMBER}/modifications/new")
    assert _serious_violations(page) == [], "modification form"
    page.get_by_label("Payment change").check()
    page.fill("#effective_date", "2025-10-01")
    page.fill("#reason", "Amendment 1: rent reduced")
    page.get_by_label("Payment step 1: periods").fill("45")
    page.get_by_label("Payment step 1: amount").fill("4500.00")
    page.get_by_role("button", name="Record the modification").click()
    page.wait_for_url(f"**/leases/{NUMBER}#modifications")
    expect(page.get_by_role("status").first).to_contain_text("Payment change of lease")
    expect(page.locator("table.remeasurements")).to_contain_text("Amendment 1: rent reduced")


def _attach_the_signed_lease(page: Page) -> None:
    signed: FilePayload = {"name": "Bail signé.pdf", "mimeType": "application/pdf", "buffer": PDF}
    page.set_input_files("#document-file", files=[signed])
    page.select_option("#document-kind", "signed_lease")
    page.get_by_role("button", name="Attach").click()
    expect(page.locator("tr.document-row")).to_contain_text("Bail signé.pdf")
    expect(page.locator("tr.document-row")).to_contain_text("Signed lease")
    with page.expect_download() as info:
        page.get_by_role("link", name="Bail signé.pdf").click()
    assert info.value.suggested_filename == "Bail signé.pdf"
    assert Path(info.value.path()).read_bytes() == PDF
    assert _serious_violations(page) == [], "lease page with a document"


def _cents(value: str) -> Decimal:
    return Decimal(value or "0")


def _tie(
    gasb: str, journal: str, lease_number: str | None = None
) -> list[tuple[str, Decimal, Decimal]]:
    """(figure, the journal's, the report's): for every lease (the report's totals) or one."""
    rows = list(csv.DictReader(io.StringIO(gasb)))
    if lease_number is None:
        lessee = next(
            r
            for r in rows
            if r["row_type"] == "total" and r["direction"] == "in" and r["fund_type"] == "all"
        )
        lessor = next(
            r
            for r in rows
            if r["row_type"] == "total" and r["direction"] == "out" and r["fund_type"] == "all"
        )
    else:
        lessee = next(r for r in rows if r["lease_number"] == lease_number)
        lessor = {}
    net: dict[str, Decimal] = defaultdict(Decimal)
    codes = {code: key for key, (code, _name) in DEFAULT_ACCOUNTS.items()}
    for line in csv.DictReader(io.StringIO(journal)):
        if lease_number is None or line["lease_number"] == lease_number:
            net[codes[line["account_code"]]] += _cents(line["debit"]) - _cents(line["credit"])
    ties = [
        ("lessee interest", net["interest_expense"], _cents(lessee["interest_expense"])),
        (
            "lessee amortization",
            net["amortization_expense"],
            _cents(lessee["amortization_expense"]),
        ),
        (
            "lessee liability movement",
            -net["lease_liability"],
            _cents(lessee["lease_liability"]) - _cents(lessee["opening_balance"]),
        ),
    ]
    if lessor:
        ties += [
            ("lessor interest", -net["interest_revenue"], _cents(lessor["interest_revenue"])),
            ("lessor revenue", -net["lease_revenue"], _cents(lessor["lease_revenue"])),
            (
                "lessor receivable movement",
                net["lease_receivable"],
                _cents(lessor["lease_receivable"]) - _cents(lessor["opening_balance"]),
            ),
        ]
    return ties


def test_finance_records_modifies_documents_a_lease_and_exports_a_year_that_ties(
    page: Page, server: LiveServer, finance_app: Flask
) -> None:
    _record_the_lease(page, server)
    _record_a_payment_change(page)
    _attach_the_signed_lease(page)

    page.goto(server.url + f"/leases?q={NUMBER}")
    expect(page.locator("tr.lease-row")).to_have_count(1)
    assert _serious_violations(page) == [], "lease list"
    page.goto(server.url + f"/leases/{NUMBER}/edit")
    assert _serious_violations(page) == [], "edit form"

    page.goto(server.url + "/exports")
    current = int(page.locator("#gasb87-fy").input_value())
    previous = str(current - 1)
    page.select_option("#gasb87-fy", previous)
    page.select_option("#gasb87-format", "csv")
    gasb = _download(page, "Download GASB 87 report")
    page.select_option("#journal-fy", previous)
    page.select_option("#journal-month", "")
    page.select_option("#journal-format", "csv")
    journal = _download(page, "Download journal entries")

    assert any(row["lease_number"] == NUMBER for row in csv.DictReader(io.StringIO(gasb)))
    mine = _tie(gasb, journal, NUMBER)
    assert all(report != 0 for _, _, report in mine), mine  # the new lease moved in that year
    for figure, ours, report in [*_tie(gasb, journal), *mine]:
        assert ours == report, (figure, ours, report)

    actors = query(
        finance_app.config["DATABASE_URL"],
        "SELECT DISTINCT table_name, actor FROM audit_events WHERE actor = :a ORDER BY 1",
        a=FINANCE,
    )
    tables = {row.table_name for row in actors}
    assert {"leases", "lease_modifications", "lease_documents", "stored_files"} <= tables
