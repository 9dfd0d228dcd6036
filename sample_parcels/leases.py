"""Sample leases for the shipped portfolio: ``python -m sample_parcels.leases`` rewrites
``leases.csv`` and ``incremental_borrowing_rates.csv`` next to this module.

A believable Los Angeles set, seeded: ~120 leases in (the city as tenant: floors in downtown
towers, offices, WorkSource centres, yards, parking) and ~100 out (the city as landlord: retail
and parking concessions, cell sites, ground leases, non-profits at $1 a year), with escalations,
free rent, non-lease components, extension options, a few holdovers, a few leases expiring within
12 months of ``REFERENCE_DATE``, a few terminated, and three amended leases. Columns are the
lease API's field names; ``payments``, ``options`` and ``modifications`` hold JSON.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

DIRECTORY = Path(__file__).resolve().parent
LEASES_CSV = DIRECTORY / "leases.csv"
RATES_CSV = DIRECTORY / "incremental_borrowing_rates.csv"
SEED = 2026
#: "Today" for the sample: holdovers ended before it, some leases end within 12 months after.
REFERENCE_DATE = dt.date(2026, 12, 1)
CSV_COLUMNS = (
    "lease_number", "direction", "portfolio", "counterparty", "parcel_id", "building_id",
    "department_code", "premises", "leased_area_sq_ft", "approval_reference", "source_document",
    "commencement_date", "term_months", "max_possible_term_months", "options",
    "payment_frequency", "payment_timing", "payments", "escalation_pct", "free_periods",
    "non_lease_amount", "discount_rate", "discount_rate_source", "fair_value", "residual_value",
    "initial_direct_costs", "incentives", "prepaid_at_commencement", "useful_life_months",
    "fund_type", "market_rent_annual", "occupied", "terminated_on", "notes", "modifications",
)  # fmt: skip
#: The Treasurer's incremental borrowing rates (%), by fiscal year and term bucket (months).
IBR_BUCKETS = (12, 60, 120, 240, 360)
IBR_PERCENT = {
    2015: (0.45, 1.55, 2.40, 3.10, 3.45),
    2016: (0.80, 1.35, 2.05, 2.70, 3.05),
    2017: (1.20, 1.80, 2.45, 3.05, 3.35),
    2018: (1.75, 2.35, 2.85, 3.30, 3.60),
    2019: (1.45, 1.70, 2.10, 2.60, 2.95),
    2020: (0.25, 0.65, 1.35, 2.05, 2.40),
    2021: (0.10, 0.55, 1.25, 1.90, 2.25),
    2022: (1.85, 2.45, 2.75, 3.30, 3.60),
    2023: (3.40, 3.05, 3.15, 3.75, 4.05),
    2024: (3.35, 2.95, 3.10, 3.80, 4.10),
    2025: (2.85, 2.80, 3.20, 3.95, 4.25),
}


def _months_later(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def ibr_rows() -> Iterator[dict[str, str]]:
    """The rate table, effective each 1 July."""
    for year, rates in IBR_PERCENT.items():
        for bucket, percent in zip(IBR_BUCKETS, rates, strict=True):
            yield {
                "effective_date": f"{year}-07-01",
                "max_term_months": str(bucket),
                "rate": f"{Decimal(str(percent)) / 100:f}",
                "source": f"City Treasurer, FY{year + 1} lease discount rates",
            }


def _ibr(start: dt.date, term: int) -> bool:
    """Whether the table covers this lease (else the lease states its rate)."""
    return start >= dt.date(2015, 7, 1) and term <= IBR_BUCKETS[-1]


class _Leases:
    """Builds the lease rows; one instance per generation, seeded."""

    def __init__(self, parcels: list[dict[str, Any]], buildings: dict[str, list[str]]) -> None:
        self.random = random.Random(SEED)
        self.parcels, self.buildings = parcels, buildings
        self.rows: list[dict[str, Any]] = []
        self.sequence = {"in": 0, "out": 0}

    def number(self, direction: str, start: dt.date) -> str:
        self.sequence[direction] += 1
        prefix = "LI" if direction == "in" else "LO"
        return f"{prefix}-{start.year}-{self.sequence[direction]:04d}"

    def start_and_term(self, terms: tuple[int, ...], fate: str) -> tuple[dt.date, int]:
        """A commencement and term whose end suits the lease's fate: running, expiring
        within 12 months, or a holdover / terminated lease that ended before the reference."""
        term = self.random.choice(terms)
        if fate == "expiring":
            end = _months_later(REFERENCE_DATE, self.random.randint(1, 11))
        elif fate in ("holdover", "terminated"):
            end = _months_later(REFERENCE_DATE, -self.random.randint(2, 20))
        elif term - 6 >= 14:
            end = _months_later(REFERENCE_DATE, self.random.randint(14, term - 6))
        else:  # a short lease that is running ends within its term from now
            end = _months_later(REFERENCE_DATE, self.random.randint(1, term - 1))
        return _months_later(end, -term), term

    def add(
        self,
        direction: str,
        *,
        counterparty: str,
        start: dt.date,
        term: int,
        amount: Decimal,
        fate: str,
        frequency: str = "monthly",
        timing: str = "advance",
        rate: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        per_year = {"monthly": 12, "quarterly": 4, "annual": 1}[frequency]
        periods = term * per_year // 12
        row: dict[str, Any] = {
            "lease_number": self.number(direction, start),
            "direction": direction,
            "counterparty": counterparty,
            "commencement_date": start.isoformat(),
            "term_months": term,
            "payment_frequency": frequency,
            "payment_timing": timing,
            "payments": [{"periods": periods, "amount": f"{amount:.2f}"}],
            "fund_type": "governmental",
            "occupied": fate != "terminated",
            "approval_reference": f"CF {start.year % 100:02d}-{self.random.randint(100, 1999):04d}",
            "source_document": f"GSD Real Estate, lease file RE-{self.random.randint(1000, 9999)}",
        }
        if fate == "terminated":
            row["terminated_on"] = (_months_later(start, term) - dt.timedelta(days=1)).isoformat()
        if rate is not None:
            row.update(discount_rate=rate, discount_rate_source="stated")
        elif _ibr(start, term):
            row["discount_rate_source"] = "ibr_table"
        else:
            row.update(discount_rate="0.0325", discount_rate_source="stated")
        row.update(fields)
        self.rows.append(row)
        return row


def _read_places() -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    with (DIRECTORY / "parcels.geojson").open() as handle:
        parcels = [feature["properties"] for feature in json.load(handle)["features"]]
    with (DIRECTORY / "buildings.geojson").open() as handle:
        buildings: dict[str, list[str]] = {}
        for feature in json.load(handle)["features"]:
            properties = feature["properties"]
            buildings.setdefault(properties["parcel_id"], []).append(properties["building_id"])
    return parcels, buildings


def generate_leases() -> list[dict[str, Any]]:
    """Every sample lease as a row of `CSV_COLUMNS` values (JSON columns still as lists)."""
    from sample_parcels._lease_kinds import add_leases_in
    from sample_parcels._lease_kinds import add_leases_out

    parcels, buildings = _read_places()
    leases = _Leases(parcels, buildings)
    add_leases_in(leases)
    add_leases_out(leases)
    return leases.rows


def generate_city_leases(
    parcels: list[dict[str, Any]], buildings: dict[str, list[str]], target: int
) -> list[dict[str, Any]]:
    """About `target` leases for a generated city (parcels in APN order), seeded.

    The shipped kinds and terms (`_place_in`, `_place_out`), on a seeded sample of the parcels
    the city leases in (~55 %) and of those it leases out, with holdovers, expiring and
    terminated leases in the shipped proportions. No tower floors and no amendments: those are
    the shipped sample's hand-made story, not something that scales with the city."""
    from sample_parcels._lease_kinds import _IN_KINDS
    from sample_parcels._lease_kinds import _OUT_KINDS
    from sample_parcels._lease_kinds import _fates
    from sample_parcels._lease_kinds import _place_in
    from sample_parcels._lease_kinds import _place_out

    leases = _Leases(parcels, buildings)
    r = leases.random
    leased_in = [p for p in parcels if p["legal_interest"] == "leased" and p["use"] in _IN_KINDS]
    leased_out = [p for p in parcels if p["status"] == "leased_out"]
    count_in = min(len(leased_in), target * 11 // 20)
    count_out = min(len(leased_out), target - count_in)
    for places, count, place in (
        (leased_in, count_in, lambda p, fate: _place_in(leases, p, fate)),
        (
            leased_out,
            count_out,
            lambda p, fate: _place_out(leases, p, fate, _OUT_KINDS.get(p["use"], "non_profit")),
        ),
    ):
        picked = sorted(r.sample(places, count), key=lambda p: p["parcel_id"])
        fates = _fates(leases, count, count // 30, count * 7 // 120, count // 60)
        for parcel in picked:
            place(parcel, fates.pop())
    return leases.rows


def as_api_fields(row: dict[str, Any]) -> dict[str, Any]:
    """A generated row as the CSV round trip gives it to the lease API (strings, JSON lists
    kept), so generated cities are validated exactly as the shipped file is."""
    return {
        key: value
        if isinstance(value, list) or value is None
        else ("true" if value is True else "false" if value is False else str(value))
        for key, value in row.items()
    }


def write_csv(rows: list[dict[str, Any]], path: Path = LEASES_CSV) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(CSV_COLUMNS))
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {
                    key: json.dumps(value)
                    if isinstance(value, list)
                    else ("true" if value is True else "false" if value is False else value)
                    for key, value in row.items()
                }
            )


def main() -> None:
    rows = generate_leases()
    write_csv(rows)
    with RATES_CSV.open("w", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=["effective_date", "max_term_months", "rate", "source"]
        )
        writer.writeheader()
        writer.writerows(ibr_rows())
    directions = [row["direction"] for row in rows]
    print(
        f"{LEASES_CSV.name}: {directions.count('in')} leases in, "
        f"{directions.count('out')} out; {RATES_CSV.name} written"
    )


if __name__ == "__main__":
    main()
