"""The kinds of sample lease, in (city as tenant) and out (city as landlord), with their terms.

Every amount is a Decimal in cents; every commencement is the first of a month, so amendments
can take effect at a payment date.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING
from typing import Any

from registry.leases.accounting import LeaseTerms
from registry.leases.accounting import PaymentStep
from registry.leases.accounting import payment_stream
from registry.leases.accounting import present_value
from sample_parcels._lease_names import CELL_CARRIERS
from sample_parcels._lease_names import IN_LANDLORDS
from sample_parcels._lease_names import NON_PROFITS
from sample_parcels._lease_names import RETAIL_TENANTS
from sample_parcels._lease_names import TOWERS
from sample_parcels._lease_names import YARD_LANDLORDS

if TYPE_CHECKING:
    from sample_parcels.leases import _Leases

_BUSINESS_TYPE = {"LADOT", "LASAN", "ZOO"}  # enterprise and special funds
_DOWNTOWN_DEPARTMENTS = ("GSD", "LAHD", "EWDD", "LADOT", "BOE", "DCA", "LADOA")
_IN_KINDS = {
    "Office": "office",
    "WorkSource Center": "office",
    "Parking Lot": "parking",
    "Maintenance Yard": "yard",
    "Community Center": "community",
    "Senior Center": "community",
    "Branch Library": "community",
}
_OUT_KINDS = {
    "Communication Tower Site": "cell",
    "Fire Station": "cell",
    "Police Station": "cell",
    "Pump Station": "cell",
    "Parking Lot": "parking",
    "Parking Structure": "parking",
    "Vacant Land": "retail",
    "Remnant Parcel": "retail",
    "Office": "retail",
    "Maintenance Yard": "yard",
    "Affordable Housing Site": "ground",
    "Single-Family Residence": "caretaker",
}  # everything else (parks, centres, libraries): a non-profit at $1 a year


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


def _fund(department: str | None) -> str:
    return "business_type" if department in _BUSINESS_TYPE else "governmental"


def _fates(
    leases: _Leases, count: int, holdovers: int, expiring: int, terminated: int
) -> list[str]:
    fates = ["holdover"] * holdovers + ["expiring"] * expiring + ["terminated"] * terminated
    fates += ["running"] * (count - len(fates))
    leases.random.shuffle(fates)
    return fates


def _office(
    leases: _Leases,
    fate: str,
    landlord: str,
    premises: str,
    department: str,
    parcel: str | None = None,
    building: str | None = None,
) -> dict[str, Any]:
    r = leases.random
    area = r.randrange(3_000, 42_000, 500)
    monthly = _money(area * r.uniform(30, 52) / 12)
    start, term = leases.start_and_term((60, 84, 120), fate)
    non_lease = _money(float(monthly) * r.uniform(0.05, 0.1)) if r.random() < 0.5 else None
    return leases.add(
        "in",
        counterparty=landlord,
        start=start,
        term=term,
        amount=monthly,
        fate=fate,
        parcel_id=parcel,
        building_id=building,
        department_code=department,
        premises=premises,
        leased_area_sq_ft=area,
        escalation_pct=r.choice(("3", "3", "3.5", "2.5")),
        free_periods=r.choice((0, 0, 2, 3, 6)),
        non_lease_amount=non_lease,
        incentives=_money(area * r.choice((0, 0, 10, 15))) or None,
        options=[
            {
                "kind": "extension",
                "holder": "lessee",
                "months": 60,
                "notice_months": 9,
                "reasonably_certain": False,
            }
        ],
        market_rent_annual=_money(float(monthly) * 12 * r.uniform(0.95, 1.25)),
        fund_type=_fund(department),
        notes="Janitorial and parking in the non-lease component" if non_lease else None,
    )


def _place_in(leases: _Leases, parcel: dict[str, Any], fate: str) -> dict[str, Any]:
    r, kind = leases.random, _IN_KINDS[parcel["use"]]
    department = parcel["department_code"]
    buildings = leases.buildings.get(parcel["parcel_id"])
    building = buildings[0] if buildings else None
    if kind == "office":
        return _office(
            leases,
            fate,
            r.choice(IN_LANDLORDS),
            parcel["address"],
            department,
            parcel["parcel_id"],
            building,
        )
    amount = {"parking": (3_500, 15_000), "yard": (12_000, 45_000), "community": (2_500, 12_000)}[
        kind
    ]
    frequency = "quarterly" if kind == "yard" and r.random() < 0.4 else "monthly"
    monthly = _money(r.uniform(*amount) * (3 if frequency == "quarterly" else 1))
    start, term = leases.start_and_term(
        {"parking": (36, 60, 120), "yard": (60, 120, 180), "community": (60, 120)}[kind], fate
    )
    return leases.add(
        "in",
        counterparty=r.choice(YARD_LANDLORDS if kind == "yard" else IN_LANDLORDS),
        start=start,
        term=term,
        amount=monthly,
        fate=fate,
        frequency=frequency,
        parcel_id=parcel["parcel_id"],
        building_id=building if kind == "community" else None,
        department_code=department,
        premises=f"{parcel['use']}, {parcel['address']}",
        escalation_pct=r.choice(("0", "2", "2.5", "3")),
        fund_type=_fund(department),
    )


def add_leases_in(leases: _Leases) -> None:
    """~120 leases in: every parcel the city leases, extra suites, floors in towers."""
    r = leases.random
    leased = [
        p for p in leases.parcels if p["legal_interest"] == "leased" and p["use"] in _IN_KINDS
    ]
    offices = [p for p in leased if _IN_KINDS[p["use"]] == "office"]
    extra_suites = r.sample(offices, min(6, len(offices)))
    tower_count = 120 - len(leased) - len(extra_suites)
    fates = _fates(leases, len(leased) + len(extra_suites) + tower_count, 4, 7, 2)
    for parcel in leased:
        _place_in(leases, parcel, fates.pop())
    for parcel in extra_suites:
        _office(
            leases,
            fates.pop(),
            r.choice(IN_LANDLORDS),
            f"Suite {r.randint(2, 9)}00, {parcel['address']}",
            parcel["department_code"],
            parcel["parcel_id"],
        )
    for index in range(tower_count):
        address, name = TOWERS[index % len(TOWERS)]
        floor = r.randint(3, 40)
        _office(
            leases,
            fates.pop(),
            IN_LANDLORDS[index % len(TOWERS)],
            f"Floors {floor}-{floor + r.randint(0, 2)}, {name}, {address}",
            r.choice(_DOWNTOWN_DEPARTMENTS),
        )
    _amend(leases)


def _amend(leases: _Leases) -> None:
    """Three office leases amended three years in: 24 more months at a reset rent."""
    candidates = [
        row
        for row in leases.rows
        if row["payment_frequency"] == "monthly"
        and row["term_months"] >= 84
        and row.get("occupied")
        and "terminated_on" not in row
        and dt.date.fromisoformat(row["commencement_date"]) <= dt.date(2021, 6, 1)
    ]
    for row in leases.random.sample(candidates, min(3, len(candidates))):
        start = dt.date.fromisoformat(row["commencement_date"])
        effective = dt.date(start.year + 3, start.month, 1)
        remaining = row["term_months"] - 36 + 24
        rent = _money(float(row["payments"][0]["amount"]) * 1.12)
        row["modifications"] = [
            {
                "effective_date": effective.isoformat(),
                "reason": "First amendment: 24-month extension, rent reset to market",
                "terms": {
                    "term_months": remaining,
                    "escalation_pct": "3",
                    "discount_rate": "0.031",
                    "payments": [{"periods": remaining, "amount": f"{rent:.2f}"}],
                },
            }
        ]


def _implicit_fair_value(row: dict[str, Any], annual_rate: str) -> Decimal:
    """The fair value at which the lessor's implicit rate is `annual_rate` (no residual)."""
    terms = LeaseTerms(
        direction="out",
        commencement_date=dt.date.fromisoformat(row["commencement_date"]),
        term_months=row["term_months"],
        payment_frequency=row["payment_frequency"],
        payment_timing=row["payment_timing"],
        escalation_pct=Decimal(row["escalation_pct"]),
        payments=tuple(PaymentStep(s["periods"], Decimal(s["amount"])) for s in row["payments"]),
        discount_rate=Decimal(annual_rate),
    )
    amounts = [payment.lease_amount for payment in payment_stream(terms)]
    per_period = Decimal(annual_rate) / terms.periods_per_year
    return _money(float(present_value(amounts, per_period, terms.payment_timing)))


def _place_out(leases: _Leases, parcel: dict[str, Any], fate: str, kind: str) -> None:
    r = leases.random
    department = parcel["department_code"]
    common: dict[str, Any] = {
        "parcel_id": parcel["parcel_id"],
        "department_code": department,
        "fund_type": _fund(department),
        "fate": fate,
    }
    if kind == "cell":
        start, term = leases.start_and_term((60, 120), fate)
        leases.add(
            "out",
            counterparty=r.choice(CELL_CARRIERS),
            start=start,
            term=term,
            amount=_money(r.uniform(1_800, 4_200)),
            rate="0.05",
            portfolio="receivable",
            premises=f"Wireless communication site, {parcel['address']}",
            leased_area_sq_ft=r.randrange(300, 1_200, 50),
            escalation_pct=r.choice(("3", "3.5", "4")),
            options=[
                {
                    "kind": "extension",
                    "holder": "lessee",
                    "months": 60,
                    "notice_months": 6,
                    "reasonably_certain": False,
                }
            ]
            * 2,
            **common,
        )
    elif kind in ("retail", "parking", "yard"):
        frequency = "quarterly" if kind == "yard" else "monthly"
        base = {"retail": (2_500, 12_000), "parking": (4_000, 20_000), "yard": (18_000, 60_000)}[
            kind
        ]
        start, term = leases.start_and_term((60, 84, 120), fate)
        row = leases.add(
            "out",
            counterparty=r.choice(RETAIL_TENANTS),
            start=start,
            term=term,
            amount=_money(r.uniform(*base)),
            frequency=frequency,
            portfolio="receivable",
            timing="advance" if kind == "retail" else "arrears",
            rate="0.045",
            premises=f"{parcel['use']}, {parcel['address']}",
            escalation_pct="3" if kind != "parking" else "0",
            free_periods=r.choice((0, 0, 1, 3)) if kind == "retail" else 0,
            **common,
        )
        if kind == "retail" and r.random() < 0.25:  # the lessor's rate implicit in the deal
            row.update(
                discount_rate=None,
                discount_rate_source="implicit",
                free_periods=0,
                fair_value=f"{_implicit_fair_value(row, '0.0525'):.2f}",
                residual_value="0.00",
            )
    elif kind == "caretaker":
        start, term = leases.start_and_term((12,), fate)
        leases.add(
            "out",
            counterparty="On-site caretaker (residential)",
            start=start,
            term=term,
            amount=_money(r.uniform(900, 1_600)),
            portfolio="receivable",
            rate=None,
            premises=parcel["address"],
            notes="Month-to-month: short-term lease",
            **common,
        )
    else:  # a non-profit at $1 a year, or a ground lease for affordable housing
        ground = kind == "ground"
        start, term = leases.start_and_term((660,) if ground else (60, 120, 240), fate)
        leases.add(
            "out",
            counterparty=r.choice(NON_PROFITS),
            start=start,
            term=term,
            amount=Decimal("1.00"),
            frequency="annual",
            rate="0.03",
            portfolio="non_profit",
            premises=f"{parcel['use']}, {parcel['address']}",
            market_rent_annual=_money(r.uniform(20_000, 240_000)),
            notes="Nominal rent under the city's community benefit program",
            **common,
        )


def add_leases_out(leases: _Leases) -> None:
    """~100 leases out: nearly every parcel marked leased out, and cell sites on parks."""
    r = leases.random
    parcels = [p for p in leases.parcels if p["status"] == "leased_out"]
    parcels = [p for p in parcels if not (p["use"] == "Vacant Land" and r.random() < 0.25)]
    parks = [p for p in leases.parcels if p["use"] == "Park" and p["status"] == "in_use"]
    extra_cells = r.sample(parks, 3)
    fates = _fates(leases, len(parcels) + len(extra_cells), 4, 6, 2)
    for parcel in parcels:
        _place_out(leases, parcel, fates.pop(), _OUT_KINDS.get(parcel["use"], "non_profit"))
    for parcel in extra_cells:
        _place_out(leases, parcel, fates.pop(), "cell")
