"""Lease critical dates at a fixed as-of date: windows, option notices, holdovers, the CSV, and
the iCalendar feed (structure, CRLF, folding, escaping, token auth), on real PostGIS."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from app.database import session_factory as app_session_factory
from registry.db import unit_of_work
from registry.leases.accounting import LeaseSchedule
from registry.leases.accounting import payment_stream
from registry.leases.calendar import critical_dates_ics
from registry.leases.calendar import fold_line
from registry.leases.calendar import ics_text
from registry.leases.critical_dates import critical_dates
from registry.leases.records import create_lease
from registry.leases.records import lease_schedule_of
from tests.auth_fixtures import LoginHelper
from tests.auth_fixtures import SignedInClient
from tests.builders import department
from tests.builders import parcel
from tests.builders import square

AS_OF = dt.date(2025, 1, 15)  # the window runs to 2026-01-15, both days included


def lease(number: str, commencement: str, term_months: int, **changes: Any) -> dict[str, Any]:
    """A monthly lease of `term_months` in advance at 0.89 % (the worked example's shape)."""
    data: dict[str, Any] = {
        "lease_number": number, "direction": "in", "counterparty": f"Owner of {number}",
        "parcel_id": "5555-012-034", "department_code": "GSD",
        "commencement_date": commencement, "term_months": term_months,
        "payment_frequency": "monthly", "payment_timing": "advance",
        "payments": [{"periods": term_months, "amount": "1000.00"}],
        "discount_rate": "0.0089", "discount_rate_source": "stated",
    }  # fmt: skip
    data.update(changes)
    return data


EXTENSION = {
    "kind": "extension",
    "holder": "lessee",
    "months": 60,
    "notice_months": 9,
    "reasonably_certain": False,
}
TERMINATION = {
    "kind": "termination",
    "holder": "lessor",
    "months": 24,
    "notice_months": 3,
    "reasonably_certain": False,
}

LEASES = [
    # ends 2025-06-30: inside the window
    lease("EXP-1", "2022-07-01", 36, escalation_pct="3"),
    # ends 2026-06-30, after the window; its extension notice (9 months before: 2025-09-30)
    # and its termination notice (month 24 = 2025-06-30, less 3 months) are inside
    lease("OPT-1", "2023-07-01", 36, options=[EXTENSION, TERMINATION]),
    # two options with the same deadline make one item
    lease("OPT-2", "2023-07-01", 36, options=[EXTENSION, {**EXTENSION, "months": 12}]),
    # ended 2024-06-30, still occupied: a holdover, whatever the window
    lease(
        "HOLD-1",
        "2021-07-01",
        36,
        direction="out",
        portfolio="receivable",
        department_code="LIB",
        counterparty="Café Ñandú, Inc.; West Wing",
    ),
    # ended and vacated / ended and terminated: nothing to do
    lease("GONE-1", "2021-07-01", 36, occupied=False),
    lease("TERM-1", "2021-07-01", 36, terminated_on="2024-06-30"),
    # window edges: ends on the last day of the window / the day after
    lease("EDGE-IN", "2023-01-16", 36),
    lease("EDGE-OUT", "2023-01-17", 36),
    # terminated early, in the window: the term ends on the termination date, no options
    lease("TERM-2", "2024-01-01", 60, terminated_on="2025-03-31", options=[EXTENSION]),
    # step rent with free months, ending in the window
    lease(
        "STEP-1",
        "2023-04-01",
        24,
        payments=[{"periods": 12, "amount": "900.00"}, {"periods": 12, "amount": "1250.50"}],
        free_periods=2,
        payment_timing="arrears",
    ),
]


def add_leases(session: Session, leases: list[dict[str, Any]] = LEASES) -> None:
    session.add_all(
        [
            department("GSD", "General Services"),
            department("LIB", "Library"),
            parcel("5555-012-034", geometry=square()),
        ]
    )
    session.flush()
    for data in leases:
        create_lease(session, data)


@pytest.fixture
def leases_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with unit_of_work(session_factory, "tests") as session:
        add_leases(session)
    with session_factory() as session:
        yield session


def _by_key(items: list[Any]) -> dict[tuple[str, str], Any]:
    return {(item.lease_number, item.kind): item for item in items}


def test_windows_and_holdovers_at_a_fixed_date(leases_session: Session) -> None:
    items = critical_dates(leases_session, AS_OF)
    found = {(i.lease_number, i.kind, i.date.isoformat(), i.days_from_as_of) for i in items}
    assert found == {
        ("EXP-1", "expiring", "2025-06-30", 166),
        ("OPT-1", "option_notice", "2025-03-30", 74),
        ("OPT-1", "option_notice", "2025-09-30", 258),
        ("OPT-2", "option_notice", "2025-09-30", 258),
        ("HOLD-1", "holdover", "2024-06-30", -199),
        ("EDGE-IN", "expiring", "2026-01-15", 365),
        ("TERM-2", "expiring", "2025-03-31", 75),
        ("STEP-1", "expiring", "2025-03-31", 75),
    }
    assert [i.date for i in items] == sorted(i.date for i in items)
    hold = _by_key(items)[("HOLD-1", "holdover")]
    assert (hold.direction, hold.parcel_id, hold.department_code) == ("out", "5555-012-034", "LIB")


def test_option_notices_say_which_option(leases_session: Session) -> None:
    notices = [i for i in critical_dates(leases_session, AS_OF) if i.kind == "option_notice"]
    details = {(i.lease_number, i.date.isoformat()): i.detail for i in notices}
    assert details[("OPT-1", "2025-03-30")] == (
        "Termination option from month 24 held by lessor: notice 3 months before 2025-06-30"
    )
    assert details[("OPT-1", "2025-09-30")] == (
        "Extension option for 60 months held by lessee: notice 9 months before 2026-06-30"
    )
    assert str(details[("OPT-2", "2025-09-30")]).count("Extension option") == 2
    # a shorter window leaves the later deadline out
    assert {
        (i.lease_number, i.date.isoformat())
        for i in critical_dates(leases_session, AS_OF, 6)
        if i.kind == "option_notice"
    } == {("OPT-1", "2025-03-30")}


def test_filters_by_direction_and_department(leases_session: Session) -> None:
    assert {i.lease_number for i in critical_dates(leases_session, AS_OF, direction="out")} == {
        "HOLD-1"
    }
    assert {
        i.lease_number for i in critical_dates(leases_session, AS_OF, department="library")
    } == {"HOLD-1"}
    assert "HOLD-1" not in {
        i.lease_number for i in critical_dates(leases_session, AS_OF, department="GSD")
    }


def test_annual_rent_is_the_engines_payment_at_the_as_of_date(leases_session: Session) -> None:
    """The SQL's current step agrees with the engine's payment stream: escalation, steps, and
    the last period for a lease past its end (none of these is in a free period then)."""
    items = critical_dates(leases_session, AS_OF)
    for item in items:
        schedule = lease_schedule_of(leases_session, item.lease_number)
        assert isinstance(schedule, LeaseSchedule)  # no modifications here
        terms = schedule.terms
        stream = payment_stream(terms)
        current = max((p for p in stream if p.period_start <= AS_OF), key=lambda p: p.period)
        assert item.annual_rent == current.gross_amount * terms.periods_per_year, item
    assert _by_key(items)[("EXP-1", "expiring")].annual_rent == Decimal("12730.80")  # 1000·1.03²
    assert _by_key(items)[("STEP-1", "expiring")].annual_rent == Decimal("15006.00")
    # the rent now, not at the end: a year earlier EXP-1 was in its second lease year
    earlier = critical_dates(leases_session, dt.date(2024, 6, 15), 13)
    assert _by_key(earlier)[("EXP-1", "expiring")].annual_rent == Decimal("12360.00")  # ·1.03


def test_a_modified_term_moves_the_end(session_factory: sessionmaker[Session]) -> None:
    from registry.leases.records import add_modification

    with unit_of_work(session_factory, "tests") as session:
        add_leases(session, [lease("MOD-1", "2022-07-01", 36)])
        # from 2024-07-01 the remaining 12 months become 24: the lease now ends 2026-06-30
        add_modification(
            session,
            "MOD-1",
            "2024-07-01",
            {"term_months": 24, "payments": [{"periods": 24, "amount": "1100.00"}]},
        )
        items = critical_dates(session, AS_OF, 18)
    assert [(i.lease_number, i.kind, i.date) for i in items] == [
        ("MOD-1", "expiring", dt.date(2026, 6, 30))
    ]


def test_csv_lists_the_same_items(leases_session: Session) -> None:
    from registry.leases.critical_dates import critical_dates_csv

    items = critical_dates(leases_session, AS_OF)
    text = critical_dates_csv(items)
    assert text.endswith("\r\n")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["lease_number"], r["kind"], r["date"]) for r in rows] == [
        (i.lease_number, i.kind, i.date.isoformat()) for i in items
    ]
    assert rows[0].keys() >= {
        "counterparty",
        "direction",
        "parcel_id",
        "department",
        "days_from_as_of",
        "annual_rent",
    }


# --- iCalendar ---------------------------------------------------------------------------------


def parse_ics(body: bytes) -> list[dict[str, list[tuple[str, str]]]]:
    """A strict little RFC 5545 reader: checks CRLF ends and 75-octet lines, unfolds, checks
    BEGIN/END nesting, and returns each VEVENT as {name: [(params, value), ...]}."""
    assert body.endswith(b"\r\n")
    physical = body[:-2].split(b"\r\n")
    assert all(b"\n" not in line and b"\r" not in line for line in physical)
    assert all(len(line) <= 75 for line in physical), max(physical, key=len)
    logical: list[str] = []
    for line in physical:
        if line.startswith(b" "):
            logical[-1] += line[1:].decode()
        else:
            logical.append(line.decode())  # a fold never splits a UTF-8 character
    assert logical[0] == "BEGIN:VCALENDAR" and logical[-1] == "END:VCALENDAR"
    events: list[dict[str, list[tuple[str, str]]]] = []
    stack: list[str] = []
    for content in logical:
        name_params, _, value = content.partition(":")
        name, _, params = name_params.partition(";")
        if name == "BEGIN":
            stack.append(value)
            if value == "VEVENT":
                events.append({})
        elif name == "END":
            assert stack.pop() == value
        elif stack[-1] == "VEVENT":
            events[-1].setdefault(name, []).append((params, value))
        else:
            assert stack == ["VCALENDAR"]
    assert not stack
    assert {"VERSION:2.0", "PRODID:-//City Asset Registry//Lease critical dates//EN"} <= set(
        logical
    )
    return events


def unescape(value: str) -> str:
    """Undo TEXT escaping: \\n is a newline, \\x is x."""
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            char = next(chars)
            char = "\n" if char in "nN" else char
        out.append(char)
    return "".join(out)


def test_ics_has_one_all_day_event_per_date(leases_session: Session) -> None:
    items = critical_dates(leases_session, AS_OF)
    body = critical_dates_ics(items, lambda i: f"https://registry.example/leases/{i.lease_number}")
    events = parse_ics(body.encode())
    assert len(events) == len(items)
    for event, item in zip(events, items, strict=True):
        assert event["UID"] == [("", f"{item.lease_number}-{item.kind}-{item.date}@asset-registry")]
        assert event["DTSTART"] == [("VALUE=DATE", item.date.strftime("%Y%m%d"))]
        assert event["DTEND"] == [
            ("VALUE=DATE", (item.date + dt.timedelta(days=1)).strftime("%Y%m%d"))
        ]
        assert len(event["DTSTAMP"][0][1]) == 16 and event["DTSTAMP"][0][1].endswith("Z")
        assert item.lease_number in unescape(event["SUMMARY"][0][1])
        description = unescape(event["DESCRIPTION"][0][1])
        assert f"https://registry.example/leases/{item.lease_number}" in description
    assert len({event["UID"][0][1] for event in events}) == len(events)
    holdover = next(e for e in events if "HOLD-1-holdover" in e["UID"][0][1])
    # commas and semicolons are escaped, the multi-byte name survives folding
    assert "Café Ñandú\\, Inc.\\; West Wing" in holdover["SUMMARY"][0][1]
    assert "Counterparty: Café Ñandú, Inc.; West Wing" in unescape(holdover["DESCRIPTION"][0][1])


def test_folding_counts_octets_and_keeps_characters_whole() -> None:
    line = "DESCRIPTION:" + ics_text("Ñandú; " * 40 + "\nend")
    folded = fold_line(line)
    pieces = folded.split("\r\n")
    assert all(len(piece.encode()) <= 75 for piece in pieces)
    assert all(piece.startswith(" ") for piece in pieces[1:])
    assert pieces[0] + "".join(piece[1:] for piece in pieces[1:]) == line
    assert "\\n" in line and "\\;" in line and "\n" not in line
    assert fold_line("SUMMARY:short") == "SUMMARY:short"


# --- over HTTP ---------------------------------------------------------------------------------


@pytest.fixture
def app_with_leases(app: Flask) -> Flask:
    with app.app_context(), unit_of_work(app_session_factory(), "tests") as session:
        add_leases(session)
    return app


FEED = "/leases/critical-dates.ics?as_of=2025-01-15"


def test_feed_accepts_an_api_token_and_refuses_a_bad_one(
    app_with_leases: Flask, client: FlaskClient, auth: LoginHelper
) -> None:
    token = auth.token(app_with_leases, "calendar@city.example", "viewer")
    response = client.get(f"{FEED}&token={token}")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert "no-store" in response.headers["Cache-Control"]
    events = parse_ics(response.data)
    assert len(events) == 8
    link = unescape(events[0]["DESCRIPTION"][0][1]).splitlines()[-1]
    assert link.startswith("http://localhost/leases/") and "token" not in link

    refused = client.get(f"{FEED}&token=car_not-a-real-token")
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert b"BEGIN:VCALENDAR" not in refused.data
    anonymous = client.get(FEED)
    assert anonymous.status_code == 401
    assert b"VEVENT" not in anonymous.data


def test_feed_works_for_a_signed_in_user(
    app_with_leases: Flask, viewer_client: SignedInClient
) -> None:
    response = viewer_client.get(f"{FEED}&direction=out")
    assert response.status_code == 200
    assert [e["UID"][0][1] for e in parse_ics(response.data)] == [
        "HOLD-1-holdover-2024-06-30@asset-registry"
    ]


def test_page_and_csv_for_readers_only(
    app_with_leases: Flask, viewer_client: SignedInClient, client: FlaskClient
) -> None:
    page = viewer_client.get("/leases/critical-dates?as_of=2025-01-15&months=12")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "EXP-1" in html and "HOLD-1" in html and "EDGE-OUT" not in html
    assert "/leases/critical-dates.ics?months=12" in html and "token=YOUR_API_TOKEN" in html
    assert "gasb87/export" not in html  # viewers do not export the GASB 87 report
    download = viewer_client.get("/leases/critical-dates?as_of=2025-01-15&format=csv")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert len(rows) == 8
    assert client.get("/leases/critical-dates").status_code == 302  # to /login
    assert client.get("/leases/critical-dates?format=csv").status_code == 302


@pytest.mark.parametrize("query", ["as_of=2025-13-01", "months=0", "months=x", "direction=up"])
def test_bad_filters_are_refused(
    app_with_leases: Flask, viewer_client: SignedInClient, query: str
) -> None:
    assert viewer_client.get(f"/leases/critical-dates?{query}").status_code == 400


def test_a_change_of_rate_in_the_window_is_a_rent_step(
    session_factory: sessionmaker[Session],
) -> None:
    """Escalations and scheduled steps are critical dates; the end of free rent is not (it abates
    the rent, the rate stays), nor is a step after the lease has ended."""
    with unit_of_work(session_factory, "tests") as session:
        add_leases(
            session,
            [
                lease("ESC-1", "2024-03-01", 36, escalation_pct="3"),
                lease(
                    "STEP-2",
                    "2024-06-01",
                    24,
                    payments=[
                        {"periods": 12, "amount": "900.00"},
                        {"periods": 12, "amount": "1250.50"},
                    ],
                    free_periods=3,
                ),
                lease("SHORT-1", "2024-05-01", 12, escalation_pct="3"),  # ends before its step
            ],
        )
    with session_factory() as session:
        steps = [i for i in critical_dates(session, AS_OF) if i.kind == "rent_step"]
    assert [(i.lease_number, i.date.isoformat(), i.detail, i.label) for i in steps] == [
        ("ESC-1", "2025-03-01", "Rent changes from 1,000.00 to 1,030.00 a month", "Rent changes"),
        ("STEP-2", "2025-06-01", "Rent changes from 900.00 to 1,250.50 a month", "Rent changes"),
    ]
