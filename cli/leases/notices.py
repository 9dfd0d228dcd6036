"""`asset-registry leases responsible …` (who answers for a lease's critical dates) and
`asset-registry notify` (email them what falls due; run it daily from cron or a systemd timer)."""

from __future__ import annotations

import datetime as dt
import os

import click

from cli.city.common import actor_option
from cli.city.common import city_session


@click.group()
def leases() -> None:
    """Leases: the people responsible for their critical dates; their stored schedules."""


@leases.command("remeasure")
def remeasure() -> None:
    """Store the GASB 87 schedules of every lease whose stored ones are missing or stale (after
    a bulk load or a restore; `db upgrade` runs it too). Each lease write stores its own."""
    from registry.leases.records import store_stale_schedules

    with city_session() as session:
        stored = store_stale_schedules(session)
    click.echo(f"{stored} lease{'' if stored == 1 else 's'} remeasured")


@leases.group("responsible")
def responsible() -> None:
    """Who is told of a lease's critical dates (by email; they need not be users)."""


@responsible.command("list")
@click.argument("lease_number")
def responsible_list(lease_number: str) -> None:
    """The people responsible for LEASE_NUMBER."""
    from registry.leases.notices import responsibles

    with city_session() as session:
        people = responsibles(session, lease_number)
    for person in people:
        click.echo(f"{person.email}\t{person.name or ''}".rstrip())


def _not_found(error: Exception) -> click.ClickException:
    return click.ClickException(str(error))


@responsible.command("add")
@click.argument("lease_number")
@click.argument("email")
@click.option("--name", default="", help="The person's name, for the greeting of the mail.")
@actor_option
def responsible_add(lease_number: str, email: str, name: str, actor: str) -> None:
    """Make EMAIL responsible for LEASE_NUMBER's critical dates."""
    from registry.errors import NotFound
    from registry.leases.notices import add_responsible

    try:
        with city_session(actor) as session:
            add_responsible(session, lease_number, email, name)
    except NotFound as error:
        raise _not_found(error) from error
    click.echo(f"{email.strip().lower()} is responsible for lease {lease_number}")


@responsible.command("remove")
@click.argument("lease_number")
@click.argument("email")
@actor_option
def responsible_remove(lease_number: str, email: str, actor: str) -> None:
    """EMAIL is no longer told of LEASE_NUMBER's dates."""
    from registry.errors import NotFound
    from registry.leases.notices import remove_responsible

    try:
        with city_session(actor) as session:
            remove_responsible(session, lease_number, email)
    except NotFound as error:
        raise _not_found(error) from error
    click.echo(f"{email.strip().lower()} is no longer responsible for lease {lease_number}")


@click.command("notify")
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day to send for (default: today).",
)
@click.option("--dry-run", is_flag=True, help="List what would be sent; send and record nothing.")
def notify(as_of: dt.datetime | None, dry_run: bool) -> None:
    """Email each person responsible for a lease the critical dates that fall due within their
    lead times (REGISTRY_NOTICE_LEAD_DAYS), once per date and lead time. Safe to run as often as
    you like: what was sent is recorded and not sent again."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import sessionmaker

    from registry.city.profile import city_profile
    from registry.db import create_registry_engine
    from registry.leases.critical_dates import KIND_LABELS
    from registry.leases.notices import due_notices
    from registry.leases.notices import parse_lead_days
    from registry.leases.notices import send_due_notices
    from registry.mail import MailNotConfigured
    from registry.mail import MailSettings
    from registry.mail import message
    from registry.mail import smtp_connection
    from registry.settings import Settings

    day = (as_of or dt.datetime.now()).date()
    failed: list[tuple[str, str]] = []
    settings = Settings.from_env()
    try:
        leads = parse_lead_days(os.environ.get("REGISTRY_NOTICE_LEAD_DAYS"))
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    defaults = [
        e for e in os.environ.get("REGISTRY_NOTICE_DEFAULT_RECIPIENTS", "").split(",") if e.strip()
    ]
    public_url = os.environ.get("REGISTRY_PUBLIC_URL", "").strip().rstrip("/")
    if not dry_run and not public_url.startswith(("http://", "https://")):
        raise click.UsageError(
            "Set REGISTRY_PUBLIC_URL (e.g. https://assets.city.example.gov) so that the links "
            "in the mails lead to the registry."
        )
    mail: MailSettings | None = None
    if not dry_run:
        try:
            mail = MailSettings.from_env()
        except MailNotConfigured as error:
            raise click.UsageError(str(error)) from error
    engine = create_registry_engine(settings.database_url, pool_size=1)
    factory = sessionmaker(engine)
    try:
        with factory() as session:
            city_name = city_profile(session, settings).name
            if dry_run:
                notices, nobody = due_notices(session, day, leads, defaults)
                for notice in notices:
                    item = notice.item
                    click.echo(
                        f"{notice.recipient}\t{item.lease_number}\t{KIND_LABELS[item.kind]}\t"
                        f"{item.date.isoformat()}\t{notice.lead_days} days"
                    )
        if not dry_run:
            assert mail is not None
            sender = mail.sender
            with smtp_connection(mail) as smtp:
                run = send_due_notices(
                    factory,
                    day,
                    deliver=lambda letter: smtp.send_message(
                        message(sender, letter.recipient, letter.subject, letter.body)
                    ),
                    city_name=city_name,
                    public_url=public_url,
                    leads=leads,
                    default_recipients=defaults,
                )
            nobody, failed = run.without_anyone, run.failed
            click.echo(
                f"sent {run.messages} message{'s' if run.messages != 1 else ''} "
                f"about {run.items} date{'s' if run.items != 1 else ''}"
            )
    except OperationalError as error:
        raise click.ClickException(f"cannot reach the database: {error.orig}") from error
    except OSError as error:
        raise click.ClickException(f"cannot send mail through the mail server: {error}") from error
    for item in nobody:
        click.echo(
            f"warning: nobody is responsible for lease {item.lease_number}: "
            f"{KIND_LABELS[item.kind]} {item.date.isoformat()}",
            err=True,
        )
    engine.dispose()
    for recipient, reply in failed:
        click.echo(
            f"error: the mail to {recipient} was not sent ({reply}); it will be tried again "
            "on the next run",
            err=True,
        )
    if failed:
        raise click.exceptions.Exit(1)
