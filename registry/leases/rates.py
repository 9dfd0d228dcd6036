"""Discount rates of leases: stated, implicit (solved from fair value) or from the city's dated
incremental-borrowing-rate table, and the rules on which fields each source needs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry import fields as f


def ibr_rate(session: Session, on: dt.date, term_months: int) -> Decimal | None:
    """The incremental borrowing rate in force on `on` for the shortest term bucket covering
    `term_months` (each bucket's latest rate dated on or before `on`), or None."""
    return session.execute(
        text(
            "SELECT DISTINCT ON (max_term_months) rate FROM incremental_borrowing_rates "
            "WHERE effective_date <= :on AND max_term_months >= :term "
            "ORDER BY max_term_months, effective_date DESC LIMIT 1"
        ),
        {"on": on, "term": term_months},
    ).scalar()


def resolve_rate(
    session: Session,
    problems: f.Problems,
    values: dict[str, Any],
    data: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    missing: list[str] | None = None,
) -> None:
    """Stated needs `discount_rate`; implicit needs `fair_value` (the rate is solved);
    ibr_table takes the table's rate for the commencement date and term (and keeps it). A lease
    recorded as found (`missing` given) without a stated rate lists it as missing."""
    rate, source = values["discount_rate"], values["discount_rate_source"]
    if "discount_rate_source" in problems.failed or "discount_rate" in problems.failed:
        return
    if source is None:
        source = "stated" if rate is not None or values["fair_value"] is None else "implicit"
        values["discount_rate_source"] = source
    short = (values["max_possible_term_months"] or 13) <= 12
    if source == "stated" and rate is None and not short:
        if missing is not None:
            missing.append("discount_rate")
            return
        problems.add(
            "discount_rate",
            "is required when discount_rate_source is stated "
            "(or give fair_value and set discount_rate_source to implicit)",
        )
    elif source == "implicit":
        if "discount_rate" in data and rate is not None:
            problems.add(
                "discount_rate",
                "must be empty when discount_rate_source is implicit: "
                "the rate is solved from fair_value and residual_value",
            )
        values["discount_rate"] = None
        if values["fair_value"] is None and "fair_value" not in problems.failed:
            problems.add("fair_value", "is required to solve the implicit rate")
    elif source == "ibr_table" and not _keeps_measured_rate(data, current):
        _table_rate(session, problems, values, data)


def _keeps_measured_rate(data: Mapping[str, Any], current: Mapping[str, Any] | None) -> bool:
    """A lease already on the table whose dates, term and source `data` leaves alone keeps the
    rate it was measured with, whatever the table says today."""
    unchanged = (
        current is not None
        and current.get("discount_rate_source") == "ibr_table"
        and not {"commencement_date", "term_months", "end_date", "discount_rate_source"} & set(data)
    )
    return bool(unchanged and current and current.get("discount_rate") is not None)


def _table_rate(
    session: Session, problems: f.Problems, values: dict[str, Any], data: Mapping[str, Any]
) -> None:
    start, term = values["commencement_date"], values["term_months"]
    if start is None or term is None:
        return
    found = ibr_rate(session, start, term)
    if found is None:
        problems.add(
            "discount_rate_source",
            f"the incremental borrowing rate table has no rate "
            f"in force on {start} for a {term}-month term; add one or state the rate",
        )
    elif "discount_rate" in data and values["discount_rate"] not in (None, found):
        problems.add(
            "discount_rate",
            "comes from the incremental borrowing rate table "
            f"({f.decimal_str(found)}); leave it out or set discount_rate_source "
            "to stated",
        )
    values["discount_rate"] = found
