"""The 429 page that keeps a refused form to send again (app/request_limits.py) does not write a
password into the page: a sign-in refused while the office's address had its requests running
came back with the password typed as a hidden input's value, readable in the page source."""

from __future__ import annotations

import re

from flask import Flask

from app.request_limits import InFlight

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SECRET = "correct horse battery staple 42"


def test_a_refused_sign_in_does_not_echo_the_password(app: Flask) -> None:
    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    [token] = re.findall(r'name="csrf_token" value="([^"]+)"', form)[-1:]
    in_flight: InFlight = app.extensions["registry_in_flight"]
    key = ("address", "127.0.0.1")
    for _ in range(in_flight.address_limit):
        assert in_flight.enter(key)
    try:
        response = client.post(
            "/login",
            data={"csrf_token": token, "next": "/", "email": "ann@city.example",
                  "password": SECRET},
            headers={"Accept": BROWSER_ACCEPT},
        )  # fmt: skip
    finally:
        for _ in range(in_flight.address_limit):
            in_flight.leave(key)
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many requests at once" in page
    assert SECRET not in page
    assert 'name="password"' not in page
