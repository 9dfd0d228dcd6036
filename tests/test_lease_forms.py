"""Lease administration in the browser's forms (Flask client against real PostGIS): create, edit,
a stale edit, the three kinds of modification, problems next to their inputs in the form's words,
documents (type by content, size limit, download headers, audited removal), the list's search,
sort and totals, and roles: a viewer is refused every write."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.database import session_factory
from registry.db import unit_of_work
from registry.leases.accounting import balances_at
from registry.leases.records import create_lease
from registry.leases.records import lease_as_dict
from registry.leases.records import lease_schedule_of
from registry.leases.records import update_lease
from registry.leases.stored_schedules import delete_schedules
from tests.auth_fixtures import SignedInClient
from tests.lease_fixtures import PARCEL
from tests.lease_fixtures import lessor_example
from tests.lease_fixtures import seed_places
from tests.lease_fixtures import worked_example
from tests.sql import query
from tests.sql import scalar

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def documents(app: Flask, tmp_path: Path) -> Path:
    folder = tmp_path / "documents"
    app.config["REGISTRY_DOCUMENT_DIR"] = str(folder)
    return folder


@pytest.fixture
def leases(app: Flask, documents: Path) -> None:
    with app.app_context(), unit_of_work(session_factory(), "test-setup") as session:
        seed_places(session)
        create_lease(session, worked_example())
        create_lease(session, lessor_example(payment_timing="advance"))


@pytest.fixture
def finance(signed_in: Callable[..., SignedInClient]) -> SignedInClient:
    return signed_in("finance", "fay@city.example")


def _lease(app: Flask, number: str) -> dict[str, Any]:
    with app.app_context(), session_factory()() as session:
        return lease_as_dict(session, number)


def _new_lease_form(**overrides: str) -> dict[str, str]:
    form = {
        "lease_number": "L-2026-050",
        "direction": "in",
        "portfolio": "payable",
        "counterparty": "Harbor Lofts LLC",
        "department_code": "GSD",
        "parcel_id": PARCEL,
        "premises": "Floor 3",
        "commencement_date": "2024-07-01",
        "term_months": "60",
        "occupied": "yes",
        "payment_frequency": "monthly",
        "payment_timing": "advance",
        "payments-0-periods": "24",
        "payments-0-amount": "10000.00",
        "payments-1-periods": "36",
        "payments-1-amount": "10500.00",
        "payments-2-periods": "",
        "payments-2-amount": "",
        "discount_rate": "0.035",
        "fund_type": "governmental",
        "options-0-kind": "extension",
        "options-0-holder": "lessee",
        "options-0-months": "60",
        "options-0-notice_months": "6",
        "options-0-reasonably_certain": "",
        "options-1-kind": "",
        "options-1-holder": "",
        "options-1-months": "",
        "options-1-notice_months": "",
        "options-1-reasonably_certain": "",
    }
    form.update(overrides)
    return form


def _html(response: Any) -> str:
    return str(response.get_data(as_text=True))


@pytest.mark.usefixtures("leases")
def test_finance_records_a_new_lease_with_its_steps_and_options(
    app: Flask, finance: SignedInClient
) -> None:
    assert finance.get("/leases/new").status_code == 200
    response = finance.post("/leases/new", data=_new_lease_form())
    assert response.status_code == 302, _html(response)
    assert response.headers["Location"].endswith("/leases/L-2026-050")
    lease = _lease(app, "L-2026-050")
    assert lease["payments"] == [
        {"periods": 24, "amount": "10000.00"},
        {"periods": 36, "amount": "10500.00"},
    ]
    assert lease["options"][0]["months"] == 60 and lease["max_possible_term_months"] == 120
    assert lease["end_date"] == "2029-06-30" and lease["department_code"] == "GSD"
    actor = scalar(
        app.config["DATABASE_URL"],
        "SELECT actor FROM audit_events WHERE table_name = 'leases' AND row_key = 'L-2026-050'",
    )
    assert actor == "fay@city.example"
    page = _html(finance.get(response.headers["Location"]))
    assert "Lease L-2026-050 is recorded." in page


@pytest.mark.usefixtures("leases")
def test_problems_are_shown_next_to_their_inputs_in_the_forms_words(
    finance: SignedInClient, app: Flask
) -> None:
    form = _new_lease_form(
        commencement_date="",
        counterparty="Typed Exactly  As This",
        **{"payments-1-amount": "10500.005", "options-0-months": "many"},
    )
    response = finance.post("/leases/new", data=form)
    assert response.status_code == 422
    html = _html(response)
    assert "Nothing was saved" in html
    assert "Commencement date: is required" in html
    assert re.search(
        r'id="commencement_date"[^>]*aria-describedby="commencement_date-error"[^>]*'
        r'aria-invalid="true"',
        html,
    )
    assert '<p class="field-error" id="commencement_date-error">is required</p>' in html
    # the second step's amount, on the second row: labelled, described, invalid
    assert "Payment step 2: amount:" in html
    assert re.search(r'id="payments-1-amount"[^>]*value="10500.005"[^>]*aria-invalid="true"', html)
    assert "Option 1: months:" in html
    assert 'value="Typed Exactly  As This"' in html  # kept as typed
    # no API field names reach the page's messages
    messages = " ".join(re.findall(r'class="field-error"[^>]*>([^<]*)<', html))
    assert "_" not in messages and "commencement_date" not in messages
    assert scalar(app.config["DATABASE_URL"], "SELECT count(*) FROM leases") == 2


@pytest.mark.usefixtures("leases")
def test_a_message_naming_another_field_names_it_by_its_label(finance: SignedInClient) -> None:
    html = _html(finance.post("/leases/new", data=_new_lease_form(term_months="")))
    assert "Term (months): is required (or give end date)" in html


@pytest.mark.usefixtures("leases")
def test_a_discount_rate_typed_in_percent_is_read_as_finance_means_it(
    app: Flask, finance: SignedInClient
) -> None:
    """The escalation beside it is typed in percent; "4.5%" was refused ("not an annual rate
    such as 0.04") and "4.5" said only "must be at most 0.999999"."""
    response = finance.post("/leases/new", data=_new_lease_form(discount_rate="4.5%"))
    assert response.status_code == 302, _html(response)
    assert _lease(app, "L-2026-050")["discount_rate"] == "0.045"
    form = _new_lease_form(lease_number="L-2026-051", discount_rate="4.5")
    html = _html(finance.post("/leases/new", data=form))
    assert "Discount rate: 4.5 is not a rate below 1: for 4.5 %, give 0.045 or 4.5%" in html


@pytest.mark.usefixtures("leases")
def test_an_edit_saves_only_what_was_changed(app: Flask, finance: SignedInClient) -> None:
    before = _lease(app, "L-2021-001")
    html = _html(finance.get("/leases/L-2021-001/edit"))
    assert f'name="version" value="{before["version"]}"' in html
    form = _form_values(html)
    form["counterparty"] = "Spring Street Towers II LLC"
    form["end_date"] = "2024-09-30"  # six months longer: the term follows the end date
    form["payments-1-periods"], form["payments-1-amount"] = "6", "31000.00"  # and its rent
    response = finance.post("/leases/L-2021-001/edit", data=form)
    assert response.status_code == 302, _html(response)
    after = _lease(app, "L-2021-001")
    assert after["counterparty"] == "Spring Street Towers II LLC"
    assert after["term_months"] == 42 and after["version"] == before["version"] + 1
    assert after["payments"] == [*before["payments"], {"periods": 6, "amount": "31000.00"}]
    assert after["discount_rate"] == "0.0089" and after["premises"] == before["premises"]
    changed = query(
        app.config["DATABASE_URL"],
        "SELECT actor, changed_fields FROM audit_events WHERE table_name = 'leases' "
        "AND action = 'UPDATE' ORDER BY id DESC LIMIT 1",
    )[0]
    assert changed.actor == "fay@city.example"
    assert {"counterparty", "term_months", "end_date", "payments"} <= set(changed.changed_fields)
    assert "premises" not in changed.changed_fields


@pytest.mark.usefixtures("leases")
def test_a_stale_edit_says_who_saved_the_lease_and_when_and_writes_nothing(
    app: Flask, finance: SignedInClient
) -> None:
    form = _form_values(_html(finance.get("/leases/L-2021-001/edit")))
    with app.app_context(), unit_of_work(session_factory(), "ana@city.example") as session:
        current = lease_as_dict(session, "L-2021-001")
        update_lease(session, "L-2021-001", current["version"], {"premises": "Suite 1400"})
    form["counterparty"] = "My Typed Counterparty"
    response = finance.post("/leases/L-2021-001/edit", data=form)
    assert response.status_code == 409
    html = _html(response)
    assert "ana@city.example saved version" in html and " UTC" in html
    assert 'value="My Typed Counterparty"' in html
    lease = _lease(app, "L-2021-001")
    assert lease["counterparty"] == "Spring Street Towers LLC" and lease["premises"] == "Suite 1400"


def _form_values(html: str) -> dict[str, str]:
    """The values a browser would send back from the form as shown (inputs and selects)."""
    values: dict[str, str] = {}
    for tag in re.findall(r"<input [^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="file"' in tag:
            continue
        if 'type="checkbox"' in tag or 'type="radio"' in tag:
            if " checked" in tag:
                values[name.group(1)] = re.search(r'value="([^"]*)"', tag).group(1)  # type: ignore[union-attr]
            continue
        value = re.search(r'value="([^"]*)"', tag)
        values[name.group(1)] = value.group(1) if value else ""
    for name, body in re.findall(
        r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', html, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        values[name] = chosen.group(1) if chosen else ""
    for name, body in re.findall(
        r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S
    ):
        values[name] = body
    return {key: value.replace("&amp;", "&") for key, value in values.items()}


@pytest.mark.usefixtures("leases")
def test_an_extension_by_months_added_moves_the_end(app: Flask, finance: SignedInClient) -> None:
    assert finance.get("/leases/L-2021-001/modifications/new").status_code == 200
    response = finance.post(
        "/leases/L-2021-001/modifications/new",
        data={"kind": "extension", "effective_date": "2023-04-01", "added_months": "12",
              "reason": "renewal", "payments-0-periods": "24", "payments-0-amount": "31000.00"},
    )  # fmt: skip
    assert response.status_code == 302, _html(response)
    lease = _lease(app, "L-2021-001")
    assert lease["current_end_date"] == "2025-03-31"
    assert lease["modifications"][0]["terms"] == {
        "end_date": "2025-03-31",
        "payments": [{"periods": 24, "amount": "31000.00"}],
    }
    row = re.search(r'data-lease-number="L-2021-001">.*?</tr>', _html(finance.get("/leases")), re.S)
    assert row and "<td>2025-03-31" in row.group(0)  # the list shows the end in force


@pytest.mark.usefixtures("leases")
def test_an_extension_to_a_new_end_date(app: Flask, finance: SignedInClient) -> None:
    response = finance.post(
        "/leases/R-2022-007/modifications/new",
        data={"kind": "extension", "effective_date": "2024-07-01", "end_date": "2029-06-30",
              "payments-0-periods": "20", "payments-0-amount": "2600.00"},
    )  # fmt: skip
    assert response.status_code == 302, _html(response)
    assert _lease(app, "R-2022-007")["current_end_date"] == "2029-06-30"


@pytest.mark.usefixtures("leases")
def test_a_termination_ends_the_term_and_marks_the_lease_terminated(
    app: Flask, finance: SignedInClient
) -> None:
    response = finance.post(
        "/leases/R-2022-007/modifications/new",
        data={"kind": "termination", "effective_date": "2024-01-01",
              "termination_date": "2024-12-31", "reason": "tenant left",
              "payments-0-periods": "4", "payments-0-amount": "2400.00"},
    )  # fmt: skip
    assert response.status_code == 302, _html(response)
    lease = _lease(app, "R-2022-007")
    assert lease["current_end_date"] == "2024-12-31" and lease["terminated_on"] == "2024-12-31"


@pytest.mark.usefixtures("leases")
def test_a_payment_change_records_the_new_steps(app: Flask, finance: SignedInClient) -> None:
    response = finance.post(
        "/leases/L-2021-001/modifications/new",
        data={"kind": "payment_change", "effective_date": "2022-04-01",
              "payments-0-periods": "24", "payments-0-amount": "28000.00",
              "payments-1-periods": "", "payments-1-amount": ""},
    )  # fmt: skip
    assert response.status_code == 302, _html(response)
    terms = _lease(app, "L-2021-001")["modifications"][0]["terms"]
    assert terms == {"payments": [{"periods": 24, "amount": "28000.00"}]}


@pytest.mark.usefixtures("leases")
def test_a_modification_with_problems_shows_them_on_its_inputs(
    app: Flask, finance: SignedInClient
) -> None:
    response = finance.post(
        "/leases/L-2021-001/modifications/new",
        data={"kind": "payment_change", "effective_date": "",
              "payments-0-periods": "24", "payments-0-amount": "28000.001"},
    )  # fmt: skip
    assert response.status_code == 422
    html = _html(response)
    assert "Effective date: is required" in html
    response = finance.post(
        "/leases/L-2021-001/modifications/new",
        data={"kind": "payment_change", "effective_date": "2022-04-01",
              "payments-0-periods": "24", "payments-0-amount": "28000.001"},
    )  # fmt: skip
    html = _html(response)
    assert "Payment step 1: amount:" in html
    assert re.search(r'id="payments-0-amount"[^>]*aria-invalid="true"', html)
    response = finance.post(
        "/leases/R-2022-007/modifications/new",
        data={"kind": "termination", "effective_date": "2024-01-01",
              "termination_date": ""},
    )  # fmt: skip
    html = _html(response)
    assert response.status_code == 422 and "Termination date: is required" in html
    assert re.search(r'id="termination_date"[^>]*aria-invalid="true"', html)
    assert _lease(app, "L-2021-001")["modifications"] == []
    assert _lease(app, "R-2022-007")["terminated_on"] is None


def _attach(
    client: FlaskClient,
    content: bytes,
    name: str,
    kind: str = "signed_lease",
    lease: str = "L-2021-001",
) -> Any:
    # encoded in memory: the test client's own spooled file stays open when nothing reads it
    boundary, body = encode_multipart(
        {"kind": kind, "file": FileStorage(io.BytesIO(content), name)}
    )
    return client.post(
        f"/leases/{lease}/documents",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _documents(app: Flask) -> list[Any]:
    return query(
        app.config["DATABASE_URL"],
        "SELECT d.id, d.file_name, d.kind, d.sha256, d.uploaded_by, f.media_type, f.size_bytes "
        "FROM lease_documents d JOIN stored_files f USING (sha256) ORDER BY d.id",
    )


@pytest.mark.usefixtures("leases")
def test_a_pdf_is_attached_and_downloaded_as_an_attachment(
    app: Flask, finance: SignedInClient, documents: Path, viewer_client: FlaskClient
) -> None:
    response = _attach(finance, PDF, "Bail signé 2021.pdf")
    assert response.status_code == 302
    [document] = _documents(app)
    assert document.file_name == "Bail signé 2021.pdf" and document.media_type == "application/pdf"
    assert document.uploaded_by == "fay@city.example" and document.size_bytes == len(PDF)
    assert (documents / document.sha256[:2] / document.sha256).read_bytes() == PDF
    page = _html(finance.get("/leases/L-2021-001"))
    assert "Bail signé 2021.pdf is attached (signed lease)." in page
    assert "Bail signé 2021.pdf</a>" in page
    with viewer_client.get(f"/leases/L-2021-001/documents/{document.id}") as download:
        assert download.status_code == 200 and download.data == PDF
        assert download.headers["Content-Type"] == "application/pdf"
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert download.headers["Content-Disposition"] == (
            'attachment; filename="Bail_signe_2021.pdf"; '
            "filename*=UTF-8''Bail%20sign%C3%A9%202021.pdf"
        )
    assert viewer_client.get(f"/leases/R-2022-007/documents/{document.id}").status_code == 404


@pytest.mark.usefixtures("leases")
def test_a_pdf_that_is_really_html_is_refused(
    app: Flask, finance: SignedInClient, documents: Path
) -> None:
    response = _attach(finance, b"<!doctype html><script>alert(1)</script>", "lease.pdf")
    assert response.status_code == 302
    page = _html(finance.get("/leases/L-2021-001"))
    assert "Not attached: lease.pdf is not a PDF, PNG, JPEG or TIFF image" in page
    assert _documents(app) == []
    assert scalar(app.config["DATABASE_URL"], "SELECT count(*) FROM stored_files") == 0


@pytest.mark.usefixtures("leases")
def test_word_and_excel_files_are_known_by_their_parts(app: Flask, finance: SignedInClient) -> None:
    def office(*parts: str) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for part in ("[Content_Types].xml", *parts):
                archive.writestr(part, "<x/>")
        return buffer.getvalue()

    _attach(finance, office("word/document.xml"), "amendment.docx", "amendment")
    _attach(finance, office("xl/workbook.xml"), "rent roll.xlsx", "other")
    _attach(finance, office("content.xml"), "not office.docx", "other")  # a zip of another kind
    types = {row.file_name: row.media_type for row in _documents(app)}
    assert types == {
        "amendment.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "rent roll.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }


@pytest.mark.usefixtures("leases")
def test_a_document_over_the_size_limit_is_refused(app: Flask, finance: SignedInClient) -> None:
    app.config["REGISTRY_MAX_DOCUMENT_MB"] = "1"
    _attach(finance, PDF + b"0" * (1024 * 1024), "big.pdf")
    page = _html(finance.get("/leases/L-2021-001"))
    assert "Not attached: big.pdf is larger than the limit of 1 MB" in page
    assert _documents(app) == []


@pytest.mark.usefixtures("leases")
def test_removing_a_document_is_audited_and_its_file_goes_when_unused(
    app: Flask, finance: SignedInClient, documents: Path
) -> None:
    _attach(finance, PDF, "signed.pdf", lease="L-2021-001")
    _attach(finance, PDF, "same bytes.pdf", lease="R-2022-007")
    first, second = _documents(app)
    path = documents / first.sha256[:2] / first.sha256
    assert first.sha256 == second.sha256
    response = finance.post(f"/leases/L-2021-001/documents/{first.id}/remove")
    assert response.status_code == 302
    assert path.exists()  # still attached to the other lease
    finance.post(f"/leases/R-2022-007/documents/{second.id}/remove")
    assert not path.exists() and _documents(app) == []
    url = app.config["DATABASE_URL"]
    events = query(
        url,
        "SELECT table_name, action, actor FROM audit_events "
        "WHERE table_name IN ('lease_documents', 'stored_files') ORDER BY id",
    )
    assert [(e.table_name, e.action) for e in events] == [
        ("stored_files", "INSERT"),
        ("lease_documents", "INSERT"),
        ("lease_documents", "INSERT"),
        ("lease_documents", "DELETE"),
        ("lease_documents", "DELETE"),
        ("stored_files", "DELETE"),
    ]
    assert {e.actor for e in events} == {"fay@city.example"}


@pytest.mark.usefixtures("leases")
def test_a_viewer_is_refused_every_write(
    app: Flask, viewer_client: FlaskClient, finance: SignedInClient
) -> None:
    _attach(finance, PDF, "signed.pdf")
    [document] = _documents(app)
    for method, path, data in (
        ("get", "/leases/new", None),
        ("post", "/leases/new", _new_lease_form()),
        ("get", "/leases/L-2021-001/edit", None),
        ("post", "/leases/L-2021-001/edit", {"version": "1", "counterparty": "X"}),
        ("get", "/leases/L-2021-001/modifications/new", None),
        (
            "post",
            "/leases/L-2021-001/modifications/new",
            {"kind": "extension", "effective_date": "2023-01-01", "added_months": "1"},
        ),
        (
            "post",
            "/leases/L-2021-001/documents",
            {"kind": "other", "file": (io.BytesIO(PDF), "x.pdf")},
        ),
        ("post", f"/leases/L-2021-001/documents/{document.id}/remove", None),
    ):
        response = getattr(viewer_client, method)(path, data=data)
        assert response.status_code == 403, (method, path)
    assert len(_documents(app)) == 1 and _lease(app, "L-2021-001")["modifications"] == []
    page = _html(viewer_client.get("/leases/L-2021-001"))
    assert "Edit the lease" not in page and 'enctype="multipart/form-data"' not in page
    assert "New lease" not in _html(viewer_client.get("/leases"))


@pytest.mark.usefixtures("leases")
def test_an_editor_manages_leases_too(signed_in: Callable[..., SignedInClient]) -> None:
    editor = signed_in("editor")
    assert editor.get("/leases/L-2021-001/edit").status_code == 200
    assert "New lease" in _html(editor.get("/leases"))


def _numbers(client: FlaskClient, query_string: str) -> list[str]:
    return re.findall(r'data-lease-number="([^"]+)"', _html(client.get(f"/leases?{query_string}")))


@pytest.mark.usefixtures("leases")
def test_the_list_searches_number_counterparty_and_premises(viewer_client: FlaskClient) -> None:
    assert _numbers(viewer_client, "q=spring+street") == ["L-2021-001"]
    assert _numbers(viewer_client, "q=rooftop") == ["R-2022-007"]
    assert _numbers(viewer_client, "q=R-2022") == ["R-2022-007"]
    assert _numbers(viewer_client, "q=%25") == []  # a wildcard typed is a character sought
    assert _numbers(viewer_client, "q=_") == []
    assert _numbers(viewer_client, "q=" + "x" * 5000) == []  # bounded, not an error


@pytest.mark.usefixtures("leases")
def test_the_list_sorts_by_any_column_both_ways(viewer_client: FlaskClient) -> None:
    assert _numbers(viewer_client, "sort=counterparty") == ["R-2022-007", "L-2021-001"]
    assert _numbers(viewer_client, "sort=counterparty&order=desc") == ["L-2021-001", "R-2022-007"]
    assert _numbers(viewer_client, "sort=commencement&order=desc") == ["R-2022-007", "L-2021-001"]
    assert _numbers(viewer_client, "sort=nonsense") == ["L-2021-001", "R-2022-007"]
    html = _html(viewer_client.get("/leases?sort=counterparty"))
    assert re.search(r'aria-sort="ascending"><a class="sort" href="[^"]*order=desc', html)


@pytest.mark.usefixtures("leases")
def test_the_list_pages_a_sorted_order_without_losing_a_lease(
    app: Flask, viewer_client: FlaskClient
) -> None:
    with app.app_context(), unit_of_work(session_factory(), "test-setup") as session:
        for index in range(60):
            create_lease(
                session,
                worked_example(lease_number=f"B-{index:03d}", counterparty=f"Co {index % 7}"),
            )
    seen: list[str] = []
    url = "/leases?sort=counterparty&order=desc"
    while url:
        html = _html(viewer_client.get(url))
        seen += re.findall(r'data-lease-number="([^"]+)"', html)
        found = re.search(r'rel="next" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else ""
    assert len(seen) == 62 and len(set(seen)) == 62


@pytest.mark.usefixtures("leases")
def test_the_totals_cover_every_lease_the_filters_select(
    app: Flask, viewer_client: FlaskClient
) -> None:
    as_of = dt.date(2023, 1, 15)
    html = _html(viewer_client.get(f"/leases?as_of={as_of}"))

    def cell(name: str, page: str = html) -> str:
        found = re.search(rf'class="num totals-{name}">([^<]*)<', page)
        assert found, name
        return found.group(1).strip()

    assert cell("rent-payable") == "$360,000.00" and cell("rent-receivable") == "$9,600.00"
    with app.app_context(), session_factory()() as session:
        lessee = balances_at(lease_schedule_of(session, "L-2021-001"), as_of)
        lessor = balances_at(lease_schedule_of(session, "R-2022-007"), as_of)
    assert cell("liability") == f"${lessee.balance:,.2f}"
    assert cell("asset") == f"${lessee.right_of_use_asset_net:,.2f}"
    assert cell("receivable") == f"${lessor.balance:,.2f}"
    assert cell("inflow") == f"${lessor.deferred_inflow_balance:,.2f}"
    only_out = _html(viewer_client.get(f"/leases?as_of={as_of}&direction=out"))
    assert cell("liability", only_out) == "$0.00" and cell("rent-payable", only_out) == "$0.00"
    assert cell("receivable", only_out) == f"${lessor.balance:,.2f}"
    with app.app_context(), unit_of_work(session_factory(), "test-setup") as session:
        lease_id = lease_as_dict(session, "L-2021-001")["id"]
        delete_schedules(session, [lease_id])  # stale: the engine computes it instead
    stale = _html(viewer_client.get(f"/leases?as_of={as_of}"))
    assert cell("liability", stale) == f"${lessee.balance:,.2f}"
    assert cell("receivable", stale) == f"${lessor.balance:,.2f}"
    searched = _html(viewer_client.get(f"/leases?as_of={as_of}&q=spring"))
    assert (
        cell("rent-payable", searched) == "$360,000.00"
        and cell("rent-receivable", searched) == "$0.00"
    )
