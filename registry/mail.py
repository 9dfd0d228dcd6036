"""Sending email through the city's SMTP server, for notices the registry sends on its own.

The settings are read from the environment like every `REGISTRY_*` setting. They live here, not
in `registry.settings`, because only commands that send mail need them (the web app never does),
and a missing SMTP server must stop `asset-registry notify`, not the map.

- `REGISTRY_SMTP_HOST` (required to send), `REGISTRY_SMTP_PORT` (25; 587 with starttls, 465
  with tls), `REGISTRY_SMTP_SECURITY` (`none`, `starttls` or `tls`), `REGISTRY_SMTP_USER` and
  `REGISTRY_SMTP_PASSWORD` (both or neither), `REGISTRY_MAIL_FROM` (the sender address),
  `REGISTRY_SMTP_TIMEOUT_SECONDS` (30): a server that does not answer fails the run instead of
  hanging a cron job forever.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from email.utils import make_msgid
from email.utils import parseaddr

SECURITY_MODES = ("none", "starttls", "tls")


class MailNotConfigured(ValueError):
    """The settings do not allow sending: says which setting to give, in plain words."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    security: str
    user: str | None
    password: str | None
    sender: str
    timeout_seconds: float

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MailSettings:
        env = os.environ if env is None else env
        host = env.get("REGISTRY_SMTP_HOST", "").strip()
        if not host:
            raise MailNotConfigured(
                "No mail server is set: give REGISTRY_SMTP_HOST (and REGISTRY_MAIL_FROM)."
            )
        security = env.get("REGISTRY_SMTP_SECURITY", "none").strip().lower() or "none"
        if security not in SECURITY_MODES:
            raise MailNotConfigured(
                f"REGISTRY_SMTP_SECURITY must be one of {', '.join(SECURITY_MODES)}, "
                f"not {security!r}."
            )
        default_port = {"none": 25, "starttls": 587, "tls": 465}[security]
        try:
            port = int(env.get("REGISTRY_SMTP_PORT") or default_port)
            timeout = float(env.get("REGISTRY_SMTP_TIMEOUT_SECONDS") or 30)
        except ValueError as error:
            raise MailNotConfigured(
                "REGISTRY_SMTP_PORT and REGISTRY_SMTP_TIMEOUT_SECONDS must be numbers."
            ) from error
        if not 0 < port < 65536 or not 0 < timeout <= 600:
            raise MailNotConfigured(
                "REGISTRY_SMTP_PORT must be 1..65535 and the timeout 1..600 seconds."
            )
        user = env.get("REGISTRY_SMTP_USER") or None
        password = env.get("REGISTRY_SMTP_PASSWORD") or None
        if (user is None) != (password is None):
            raise MailNotConfigured("Give both REGISTRY_SMTP_USER and REGISTRY_SMTP_PASSWORD.")
        sender = env.get("REGISTRY_MAIL_FROM", "").strip()
        if "@" not in sender:
            raise MailNotConfigured(
                "No sender is set: give REGISTRY_MAIL_FROM, e.g. assets@city.example.gov."
            )
        return cls(host, port, security, user, password, sender, timeout)


@contextmanager
def smtp_connection(settings: MailSettings) -> Iterator[smtplib.SMTP]:
    """One connection for a whole run (a notice run may send hundreds of messages)."""
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if settings.security == "tls":
        client = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout_seconds, context=context
        )
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds)
    try:
        if settings.security == "starttls":
            client.starttls(context=context)
        if settings.user and settings.password:
            client.login(settings.user, settings.password)
        yield client
    finally:
        try:
            client.quit()
        except smtplib.SMTPException:
            client.close()


def message(sender: str, recipient: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message (what every mail client shows the same way), with the `Date` RFC
    5322 requires and a `Message-ID` in the sender's domain: mail without them is scored as spam
    by many filters, and a client threads and de-duplicates by the id."""
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = recipient
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    mail["Message-ID"] = make_msgid(domain=domain)
    mail.set_content(body)
    return mail
