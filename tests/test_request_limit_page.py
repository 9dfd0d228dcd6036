"""The per-user limit of requests running (app/request_limits.py) as a browser meets it: a form
POST refused with 429 answers a page of the site that says why and keeps what was sent, ready
to send again (it was a bare plain-text line, and the modification finance typed was lost:
walk defect 5). API and non-HTML clients keep their answers."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask

from app.database import session_factory
from app.request_limits import InFlight
from registry.db import unit_of_work
from registry.leases.records import create_lease
from tests.auth_fixtures import SignedInClient
from tests.lease_fixtures import seed_places
from tests.lease_fixtures import worked_example
from tests.sql import scalar

FORM = "/leases/L-2021-001/modifications/new"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
TERMINATION = {
    "kind": "termination",
    "effective_date": "2022-01-01",
    "termination_date": "2022-12-31",
    "reason": "the department moved out",
    "action": "record",
}


@pytest.fixture
def finance(app: Flask, signed_in: Callable[..., SignedInClient]) -> SignedInClient:
    with app.app_context(), unit_of_work(session_factory(), "test-setup") as session:
        seed_places(session)
        create_lease(session, worked_example())
    return signed_in("finance", "fay@city.example")


@contextmanager
def _all_running(app: Flask, client: SignedInClient) -> Iterator[None]:
    """The client's user with as many requests running as allowed (as a burst of background
    work-outs held them)."""
    user_id = scalar(
        app.config["DATABASE_URL"], "SELECT id FROM users WHERE email = :e", e=client.email
    )
    in_flight: InFlight = app.extensions["registry_in_flight"]
    key = ("user", str(user_id))
    for _ in range(in_flight.limit):
        assert in_flight.enter(key)
    try:
        yield
    finally:
        for _ in range(in_flight.limit):
            in_flight.leave(key)


@pytest.fixture
def busy(app: Flask, finance: SignedInClient) -> Iterator[None]:
    with _all_running(app, finance):
        yield


def _hidden_inputs(page: str) -> list[tuple[str, str]]:
    return [
        (html.unescape(name), html.unescape(value))
        for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page)
    ]


def _modifications(app: Flask) -> int:
    return int(scalar(app.config["DATABASE_URL"], "SELECT count(*) FROM lease_modifications"))


def test_a_refused_form_post_answers_a_page_that_keeps_the_form_to_send_again(
    app: Flask, finance: SignedInClient, busy: None
) -> None:
    response = finance.post(
        FORM,
        data={**TERMINATION, "csrf_token": finance.csrf_token},
        headers={"Accept": BROWSER_ACCEPT, "Referer": "http://localhost" + FORM},
    )
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'class="registry-header"' in page  # the site's layout
    assert "<h1>Too many requests at once</h1>" in page
    assert "You already have 4 requests running; wait for one to finish" in page
    assert f'<form method="post" action="{FORM}">' in page
    assert '<a href="http://localhost' + FORM + '">Back</a>' in page
    sent = _hidden_inputs(page)
    assert dict(sent) == {**TERMINATION, "csrf_token": finance.csrf_token}
    assert _modifications(app) == 0


def test_the_form_sent_again_from_the_page_is_recorded(app: Flask, finance: SignedInClient) -> None:
    with _all_running(app, finance):
        refused = finance.post(
            FORM, data={**TERMINATION, "csrf_token": finance.csrf_token},
            headers={"Accept": BROWSER_ACCEPT},
        )  # fmt: skip
    assert refused.status_code == 429
    again = finance.post(
        FORM, data=dict(_hidden_inputs(refused.get_data(as_text=True))),
        headers={"Accept": BROWSER_ACCEPT},
    )  # fmt: skip
    assert again.status_code == 302, again.get_data(as_text=True)
    assert _modifications(app) == 1


@pytest.mark.usefixtures("busy")
@pytest.mark.parametrize(
    ("path", "accept", "media_type"),
    [
        ("/api/leases/L-2021-001", "application/json", "application/problem+json"),
        (FORM, "application/json", "application/problem+json"),
        (FORM, "text/plain", "text/plain"),
    ],
)
def test_clients_that_do_not_ask_for_html_keep_their_answer(
    finance: SignedInClient, path: str, accept: str, media_type: str
) -> None:
    response = finance.get(path, headers={"Accept": accept})
    assert response.status_code == 429 and response.mimetype == media_type
    assert response.headers["Retry-After"] == "2"
