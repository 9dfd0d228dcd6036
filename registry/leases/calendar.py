"""Lease critical dates as an iCalendar feed (RFC 5545) that calendar apps subscribe to.

Hand-written rather than a dependency: the feed needs one component type, and the three rules
that matter (CRLF line ends, folding at 75 octets without splitting a UTF-8 character, TEXT
escaping) are a few lines each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Sequence

from registry.leases.critical_dates import HOLDOVER
from registry.leases.critical_dates import CriticalDate

_ICS_LINE_OCTETS = 75
PRODID = "-//City Asset Registry//Lease critical dates//EN"


def ics_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def fold_line(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets (§3.1), never splitting a UTF-8
    character; each continuation starts with one space, which counts toward its 75."""
    if len(line.encode()) <= _ICS_LINE_OCTETS:
        return line
    pieces: list[str] = []
    current: list[str] = []
    size, limit = 0, _ICS_LINE_OCTETS
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            pieces.append("".join(current))
            current, size, limit = [], 0, _ICS_LINE_OCTETS - 1
        current.append(char)
        size += width
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def _ics_date(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def _ics_stamp(moment: dt.datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _summary(item: CriticalDate) -> str:
    role = "city leases" if item.direction == "in" else "city lets"
    return f"{item.label}: lease {item.lease_number} ({role}, {item.counterparty})"


def _description(item: CriticalDate, link: str) -> str:
    lines = [f"{item.label} on {item.date.isoformat()} for lease {item.lease_number}."]
    if item.kind == HOLDOVER:
        lines.append("The term has ended and the premises are still occupied.")
    if item.detail:
        lines.append(item.detail)
    lines.append(f"Counterparty: {item.counterparty}")
    if item.parcel_id:
        lines.append(f"Parcel: {item.parcel_id}")
    if item.department_name:
        lines.append(f"Department: {item.department_name}")
    if item.annual_rent is not None:
        lines.append(f"Annual rent: ${item.annual_rent:,.2f}")
    lines.append(link)
    return "\n".join(lines)


def critical_dates_ics(
    items: Sequence[CriticalDate],
    link_for: Callable[[CriticalDate], str],
    calendar_name: str = "Lease critical dates",
) -> str:
    """A VCALENDAR with one all-day VEVENT per item, CRLF line ends, folded and escaped.

    Without a METHOD, DTSTAMP means "last revised in the calendar store" (RFC 5545 §3.8.7.2):
    the lease's last change, so an unchanged event reads identically on every refresh.
    `link_for` gives the URL of the lease page for DESCRIPTION and URL.
    """
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{ics_text(calendar_name)}",
        # a hint to subscribing apps: dates change when leases do, not by the minute
        "REFRESH-INTERVAL;VALUE=DURATION:PT12H",
        "X-PUBLISHED-TTL:PT12H",
    ]
    for item in items:
        link = link_for(item)
        lines += [
            "BEGIN:VEVENT",
            f"UID:{ics_text(item.uid)}",
            f"DTSTAMP:{_ics_stamp(item.updated_at)}",
            f"DTSTART;VALUE=DATE:{_ics_date(item.date)}",
            f"DTEND;VALUE=DATE:{_ics_date(item.date + dt.timedelta(days=1))}",
            f"SUMMARY:{ics_text(_summary(item))}",
            f"DESCRIPTION:{ics_text(_description(item, link))}",
            f"URL:{link}",
            f"CATEGORIES:{ics_text(item.label)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + "\r\n" for line in lines)
