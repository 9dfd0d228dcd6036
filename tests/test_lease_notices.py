"""Critical-date notices sent by `asset-registry notify` through a real SMTP server (aiosmtpd,
started by the tests on a free port): each due item once per lead time, one mail per person, a
second run sends nothing new, a refused mail is tried again, acknowledgement from the link stops
later reminders and is audited; and the people responsible, managed on the lease page."""

from __future__ import annotations

import email
import email.utils
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from aiosmtpd.smtp import Envelope
from aiosmtpd.smtp import Session as SmtpSession
from click.testing import CliRunner
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient

from app.database import session_factory as app_session_factory
from cli.main import cli
from registry.db import unit_of_work
from registry.leases.notices import parse_lead_days
from tests.auth_fixtures import LoginHelper
from tests.sql import query
from tests.sql import scalar
from tests.test_critical_dates import add_leases
from tests.test_critical_dates import lease

PUBLIC_URL = "https://assets.city.example"


@dataclass
class MailBox:
    """What the SMTP server received; `refuse` holds addresses it answers 550 for."""

    messages: list[Message] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(
        self, server: SMTP, session: SmtpSession, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        self.messages.append(email.message_from_bytes(content))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]

    def take(self) -> list[Message]:
        taken, self.messages = self.messages, []
        return taken


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[tuple[MailBox, int]]:
    box = MailBox()
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def city(
    app: Flask, fresh_database_url: str, mailbox: tuple[MailBox, int], monkeypatch: Any
) -> str:
    """Leases with dates to tell (tests/test_critical_dates.py's, plus a rent step), people
    responsible for some of them, and the settings `notify` needs."""
    _box, port = mailbox
    with app.app_context(), unit_of_work(app_session_factory(), "tests") as session:
        add_leases(
            session,
            [
                lease("EXP-1", "2022-07-01", 36),  # ends 2025-06-30
                lease("OPT-1", "2023-07-01", 36, options=[_EXTENSION, _TERMINATION]),
                lease("HOLD-1", "2021-07-01", 36, direction="out", portfolio="receivable"),
                lease("ESC-1", "2024-03-01", 36, escalation_pct="3"),  # steps 2025-03-01
            ],
        )
        from registry.leases.notices import add_responsible

        add_responsible(session, "EXP-1", "Jane.Doe@City.Example", "Jane Doe")
        add_responsible(session, "OPT-1", "jane.doe@city.example")
        add_responsible(session, "OPT-1", "bob@city.example")
        add_responsible(session, "HOLD-1", "bob@city.example")
    for name, value in {
        "DATABASE_URL": fresh_database_url,
        "REGISTRY_SMTP_HOST": "127.0.0.1",
        "REGISTRY_SMTP_PORT": str(port),
        "REGISTRY_MAIL_FROM": "assets@city.example",
        "REGISTRY_PUBLIC_URL": PUBLIC_URL,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("REGISTRY_NOTICE_LEAD_DAYS", "REGISTRY_NOTICE_DEFAULT_RECIPIENTS"):
        monkeypatch.delenv(name, raising=False)
    return fresh_database_url


_EXTENSION = {"kind": "extension", "holder": "lessee", "months": 60, "notice_months": 9}
_TERMINATION = {"kind": "termination", "holder": "lessor", "months": 24, "notice_months": 3}


def notify(*args: str) -> Result:
    return CliRunner().invoke(cli, ["notify", *args])


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def _items(message: Message) -> list[str]:
    return re.findall(r"^\* Lease (\S+)", _body(message), flags=re.MULTILINE)


def test_each_due_date_is_told_once_per_lead_time_and_a_second_run_sends_nothing(
    city: str, mailbox: tuple[MailBox, int]
) -> None:
    box, _port = mailbox
    first = notify("--as-of", "2025-01-15")
    assert first.exit_code == 0, first.output
    assert "sent 2 messages about 4 dates" in first.output
    # ESC-1's rent step is due but nobody is responsible: said, not dropped
    assert "nobody is responsible for lease ESC-1: Rent changes 2025-03-01" in first.output
    jane, bob = box.to("jane.doe@city.example"), box.to("bob@city.example")
    assert len(jane) == len(bob) == 1
    assert _items(jane[0]) == [
        "OPT-1",
        "EXP-1",
    ]  # in date order: option notice in 74 days, end in 166
    assert _items(bob[0]) == ["HOLD-1", "OPT-1"]
    body = _body(jane[0])
    assert body.startswith("Hello Jane Doe,")
    assert "Term ends on 2025-06-30 (in 166 days)" in body
    assert "Option notice due on 2025-03-30 (in 74 days)" in body
    assert f"{PUBLIC_URL}/leases/EXP-1" in body
    assert "Holdover ended on 2024-06-30 and the premises are still occupied" in _body(bob[0])
    box.take()

    again = notify("--as-of", "2025-01-15")
    assert again.exit_code == 0 and "sent 0 messages" in again.output
    assert box.messages == []

    # 86 days before the end: the 90-day lead time is reached, told once more
    later = notify("--as-of", "2025-04-05")
    assert later.exit_code == 0, later.output
    assert [(m["To"], _items(m)) for m in box.take()] == [("jane.doe@city.example", ["EXP-1"])]
    assert "sent 0 messages" in notify("--as-of", "2025-04-06").output
    told = query(
        city,
        "SELECT l.lease_number, n.lead_days FROM lease_notices n JOIN leases l ON l.id = n.lease_id"
        " WHERE n.recipient = 'jane.doe@city.example' AND l.lease_number = 'EXP-1'"
        " ORDER BY n.lead_days DESC",
    )
    assert [tuple(row) for row in told] == [("EXP-1", 180), ("EXP-1", 90)]


def test_a_notice_carries_the_date_and_a_message_id_mail_filters_expect(
    city: str, mailbox: tuple[MailBox, int]
) -> None:
    """RFC 5322 requires `Date`; without it and a `Message-ID` many filters score mail as spam.
    The notices had neither."""
    box, _port = mailbox
    assert notify("--as-of", "2025-01-15").exit_code == 0
    sent = box.take()
    assert sent
    for mail in sent:
        assert email.utils.parsedate_to_datetime(mail["Date"]).tzinfo is not None
        assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", mail["Message-ID"])
    assert len({mail["Message-ID"] for mail in sent}) == len(sent)


def test_a_first_run_late_tells_a_date_once_at_its_shortest_lead_time(
    city: str, mailbox: tuple[MailBox, int]
) -> None:
    box, _port = mailbox
    result = notify("--as-of", "2025-06-10")  # 20 days before EXP-1 ends: 180, 90, 30 reached
    assert result.exit_code == 0, result.output
    jane = box.to("jane.doe@city.example")
    # (OPT-1's extension notice, due 2025-09-30, has reached its 120-day lead time too)
    assert len(jane) == 1 and _items(jane[0]) == ["EXP-1", "OPT-1"]
    assert "(in 20 days)" in _body(jane[0])
    rows = query(
        city,
        "SELECT lead_days, token_hash IS NOT NULL AS linked FROM lease_notices n "
        "JOIN leases l ON l.id = n.lease_id WHERE l.lease_number = 'EXP-1' ORDER BY lead_days",
    )
    assert [tuple(row) for row in rows] == [(30, True), (90, False), (180, False)]
    box.take()
    assert "sent 0 messages" in notify("--as-of", "2025-06-11").output


def test_a_refused_mail_is_tried_again_on_the_next_run_and_the_others_go_out(
    city: str, mailbox: tuple[MailBox, int]
) -> None:
    box, _port = mailbox
    box.refuse.add("bob@city.example")
    refused = notify("--as-of", "2025-01-15")
    assert refused.exit_code == 1
    assert "the mail to bob@city.example was not sent" in refused.output
    assert [m["To"] for m in box.take()] == ["jane.doe@city.example"]
    assert (
        scalar(city, "SELECT count(*) FROM lease_notices WHERE recipient = 'bob@city.example'") == 0
    )

    box.refuse.clear()
    retried = notify("--as-of", "2025-01-16")
    assert retried.exit_code == 0, retried.output
    assert [(m["To"], _items(m)) for m in box.take()] == [("bob@city.example", ["HOLD-1", "OPT-1"])]


def test_acknowledging_from_the_link_stops_later_reminders_and_is_audited(
    app: Flask, client: FlaskClient, city: str, mailbox: tuple[MailBox, int]
) -> None:
    box, _port = mailbox
    assert notify("--as-of", "2025-01-15").exit_code == 0
    body = _body(box.to("jane.doe@city.example")[0])
    assert len(re.findall(rf"{PUBLIC_URL}/notices/", body)) == 2
    found = re.search(rf"\* Lease EXP-1.*?{PUBLIC_URL}/notices/(\S+)", body, flags=re.DOTALL)
    assert found is not None
    token = found.group(1)
    box.take()

    page = client.get(f"/notices/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Lease EXP-1: Term ends on 2025-06-30" in html and "Acknowledge" in html
    assert "12,000" not in html and "Owner of EXP-1" not in html  # a forwarded link shows no terms
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert csrf is not None
    done = client.post(
        f"/notices/{token}",
        data={"csrf_token": csrf.group(1), "note": "Renewal memo to council"},
        follow_redirects=True,
    )
    assert "Acknowledged on" in done.get_data(as_text=True)
    assert "Renewal memo to council" in done.get_data(as_text=True)
    audit = query(
        city,
        "SELECT actor, action FROM audit_events WHERE table_name = 'lease_notices'",
    )
    assert [tuple(row) for row in audit] == [("jane.doe@city.example (notice link)", "UPDATE")]

    # the 90-day reminder of EXP-1 is not sent to her any more; bob's dates are unaffected
    assert "sent 0 messages" in notify("--as-of", "2025-04-05").output
    assert client.get("/notices/not-a-real-token").status_code == 404


def test_notify_needs_a_mail_server_and_the_public_address(
    city: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REGISTRY_SMTP_HOST")
    no_server = notify("--as-of", "2025-01-15")
    assert no_server.exit_code == 2 and "REGISTRY_SMTP_HOST" in no_server.output
    monkeypatch.setenv("REGISTRY_SMTP_HOST", "127.0.0.1")
    monkeypatch.delenv("REGISTRY_PUBLIC_URL")
    no_url = notify("--as-of", "2025-01-15")
    assert no_url.exit_code == 2 and "REGISTRY_PUBLIC_URL" in no_url.output
    # a dry run needs neither, and records nothing
    dry = notify("--as-of", "2025-01-15", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "jane.doe@city.example\tEXP-1\tTerm ends\t2025-06-30\t180 days" in dry.output
    assert scalar(city, "SELECT count(*) FROM lease_notices") == 0


def test_default_recipients_hear_of_leases_nobody_is_responsible_for(
    city: str, mailbox: tuple[MailBox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    box, _port = mailbox
    monkeypatch.setenv("REGISTRY_NOTICE_DEFAULT_RECIPIENTS", "lease-desk@city.example")
    result = notify("--as-of", "2025-01-15")
    assert result.exit_code == 0 and "nobody is responsible" not in result.output
    desk = box.to("lease-desk@city.example")
    assert len(desk) == 1 and _items(desk[0]) == ["ESC-1"]
    assert "Rent changes from 1,000.00 to 1,030.00 a month" in _body(desk[0])


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("expiring=90,abc", "whole numbers"),
        ("rent=30", "is not a kind of date"),
        ("holdover=", "one or more days"),
        ("expiring=1000", "from 0 to 730"),
    ],
)
def test_lead_times_refuse_what_they_cannot_mean(setting: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_lead_days(setting)


def test_lead_times_given_replace_only_their_kind() -> None:
    leads = parse_lead_days("expiring = 30, 365 ; option_notice=14")
    assert leads["expiring"] == (365, 30) and leads["option_notice"] == (14,)
    assert leads["holdover"] == (0,)


def test_finance_names_the_people_responsible_on_the_lease_page(
    app: Flask, auth: LoginHelper, city: str
) -> None:
    finance = auth.signed_in_client(app, "finance")
    added = finance.post(
        "/leases/ESC-1/responsible",
        data={"email": " Facilities@City.Example ", "name": "Facilities desk"},
        follow_redirects=True,
    )
    html = added.get_data(as_text=True)
    assert "facilities@city.example will be told" in html
    assert "Facilities desk · facilities@city.example" in html
    twice = finance.post(
        "/leases/ESC-1/responsible",
        data={"email": "facilities@city.example"},
        follow_redirects=True,
    )
    assert "facilities@city.example is already responsible for lease ESC-1" in twice.get_data(
        as_text=True
    )
    bad = finance.post("/leases/ESC-1/responsible", data={"email": "not an address"})
    assert bad.status_code == 302
    assert "is not an email address" in finance.get("/leases/ESC-1").get_data(as_text=True)
    removed = finance.post(
        "/leases/ESC-1/responsible/remove",
        data={"email": "facilities@city.example"},
        follow_redirects=True,
    )
    assert "will no longer be told" in removed.get_data(as_text=True)
    audit = query(
        city,
        "SELECT actor, action, row_key FROM audit_events WHERE table_name = 'lease_responsibles'"
        " AND row_key = 'facilities@city.example' ORDER BY id",
    )
    assert [tuple(row) for row in audit] == [
        ("finance@city.example", "INSERT", "facilities@city.example"),
        ("finance@city.example", "DELETE", "facilities@city.example"),
    ]
    viewer = auth.signed_in_client(app, "viewer")
    assert (
        viewer.post("/leases/ESC-1/responsible", data={"email": "x@city.example"}).status_code
        == 403
    )
    assert "Add person responsible" not in viewer.get("/leases/ESC-1").get_data(as_text=True)


def test_notify_and_the_responsible_commands_from_the_shell(city: str) -> None:
    runner = CliRunner()
    added = runner.invoke(cli, ["leases", "responsible", "add", "ESC-1", "ops@city.example"])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(cli, ["leases", "responsible", "list", "ESC-1"])
    assert listed.output.strip() == "ops@city.example"
    missing = runner.invoke(cli, ["leases", "responsible", "add", "NOPE-9", "ops@city.example"])
    assert missing.exit_code == 1 and "NOPE-9" in missing.output
