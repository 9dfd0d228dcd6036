"""CST-2..CST-4, REV-1..REV-3, LSE-1 and LSE-2 against a small portfolio worked out by hand.

As of 2026-03-31, FY2026 = 2025-07-01 .. 2026-06-30; baseline FY2024 (the earliest costs).
Parcels: P1 GSD cd1 office, P2 LAPL cd2 library (both owned), P3 GSD cd2 disposed 2025-09-15 for
1,250,000 (in FY2026), P4 LAPL cd1 disposed 2024-03-01 for 99,999 (FY2024: not counted).
O&M (operations + maintenance count; utilities do not):
  FY2024: B1 (on P1) 100,000 + 50,000; B2 (on P2) 20,000                     = 170,000
  FY2026: B1 80,000 + 40,000 (+ utilities 30,000, left out); P2 parcel 10,000 = 130,000
Leases (rate 0, so GASB balances are plain sums):
  L1 in  GSD  P1 5,000 sq ft from 2024-07-01, 60 × 10,000 monthly advance, +3 % a year:
         FY2026 is lease year 2 → 12 × 10,300 = 123,600; nothing in FY2024.
  L2 in  LAPL P2 2,000 sq ft from 2023-05-01, 12 × 6,000 quarterly advance, first free, ends
         2026-04-30: FY2026 due 2025-08-01, 11-01, 2026-02-01 = 18,000; FY2024 due 2023-08-01,
         11-01, 2024-02-01, 05-01 = 24,000.
  L3 out GSD  P1 from 2025-01-01, 2 × 1.00 annual: FY2026 due 2026-01-01 = 1; ends 2026-12-31.
  L4 out LAPL P2 from 2025-07-01, 120 × 2,000 monthly arrears, market rent 60,000: FY2026 due
         2025-08-01 .. 2026-06-01 = 11 × 2,000 = 22,000; 24,000 a year < 0.5 × 60,000.
  L5 out GSD  P1 from 2020-01-01, 60 × 5,000 monthly advance, ended 2024-12-31, still occupied.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.db import create_registry_engine
from registry.kpis import KpiValue
from registry.kpis import compute_kpis
from registry.kpis.occupancy_costs import occupancy_cost_kpis
from registry.kpis.values import Period
from registry.leases.accounting import payment_stream
from registry.leases.records import lease_terms
from registry.leases.rent_sql import RENT_STREAM_CTES
from registry.models import Building
from registry.models import Lease
from registry.models import Milestone
from registry.models import OmCost
from tests.builders import department
from tests.builders import parcel
from tests.builders import square
from tests.plans import explained

AS_OF = dt.date(2026, 3, 31)
D = Decimal
Key = tuple[str, str, str | None]


def _lease(
    number: str,
    direction: str,
    parcel_pk: int,
    department_pk: int,
    start: dt.date,
    periods: int,
    amount: str,
    frequency: str = "monthly",
    **extra: Any,
) -> Lease:
    months = periods * {"monthly": 1, "quarterly": 3, "annual": 12}[frequency]
    fields: dict[str, Any] = {"payment_timing": "advance", **extra}
    return Lease(
        lease_number=number,
        direction=direction,
        portfolio="payable" if direction == "in" else "receivable",
        counterparty="Acme LLC",
        parcel_id=parcel_pk,
        department_id=department_pk,
        commencement_date=start,
        term_months=months,
        max_possible_term_months=months,
        payment_frequency=frequency,
        payments=[{"periods": periods, "amount": amount}],
        discount_rate=D(0),
        source_document="CF 1",
        **fields,
    )


def _portfolio(session: Session) -> None:
    gsd, lapl = department("GSD", "General Services"), department("LAPL", "Library")
    owned = {"legal_interest": "owned", "status": "in_use"}
    p1 = parcel(
        "1111-001-001",
        department=gsd,
        council_district=1,
        asset_type="office",
        geometry=square(-118.250),
        **owned,
    )
    p2 = parcel(
        "1111-001-002",
        department=lapl,
        council_district=2,
        asset_type="library",
        geometry=square(-118.248),
        **owned,
    )
    p3 = parcel(
        "1111-001-003",
        department=gsd,
        council_district=2,
        asset_type="vacant_land",
        geometry=square(-118.246),
        legal_interest="owned",
        status="disposed",
        disposition_date=dt.date(2025, 9, 15),
        disposition_proceeds=D(1_250_000),
    )
    p4 = parcel(
        "1111-001-004",
        department=lapl,
        council_district=1,
        asset_type="vacant_land",
        geometry=square(-118.244),
        legal_interest="owned",
        status="disposed",
        disposition_date=dt.date(2024, 3, 1),
        disposition_proceeds=D(99_999),
    )
    b1 = Building(building_id="B1", parcel=p1, asset_type="office", gross_sq_ft=12_000)
    b2 = Building(building_id="B2", parcel=p2, asset_type="library", gross_sq_ft=4_000)
    session.add_all([gsd, lapl, p1, p2, p3, p4, b1, b2])
    session.flush()

    def cost(year: int, category: str, amount: int, building: Building | None = None) -> OmCost:
        return OmCost(
            building_id=building.id if building else None,
            parcel_id=None if building else p2.id,
            fiscal_year=year,
            category=category,
            amount=D(amount),
        )

    session.add_all(
        [
            cost(2024, "operations", 100_000, b1),
            cost(2024, "maintenance", 50_000, b1),
            cost(2024, "operations", 20_000, b2),
            cost(2026, "operations", 80_000, b1),
            cost(2026, "maintenance", 40_000, b1),
            cost(2026, "utilities", 30_000, b1),
            cost(2026, "maintenance", 10_000),
            _lease(
                "L1",
                "in",
                p1.id,
                gsd.id,
                dt.date(2024, 7, 1),
                60,
                "10000.00",
                leased_area_sq_ft=D(5_000),
                escalation_pct=D(3),
            ),
            _lease(
                "L2",
                "in",
                p2.id,
                lapl.id,
                dt.date(2023, 5, 1),
                12,
                "6000.00",
                "quarterly",
                leased_area_sq_ft=D(2_000),
                free_periods=1,
            ),
            _lease("L3", "out", p1.id, gsd.id, dt.date(2025, 1, 1), 2, "1.00", "annual"),
            _lease(
                "L4",
                "out",
                p2.id,
                lapl.id,
                dt.date(2025, 7, 1),
                120,
                "2000.00",
                payment_timing="arrears",
                market_rent_annual=D(60_000),
            ),
            _lease("L5", "out", p1.id, gsd.id, dt.date(2020, 1, 1), 60, "5000.00", occupied=True),
        ]
    )
    session.flush()


@pytest.fixture
def kpis(db_session: Session, monkeypatch: pytest.MonkeyPatch) -> dict[Key, KpiValue]:
    for name in (
        "REGISTRY_KPI_BASELINE_FY",
        "REGISTRY_NOMINAL_RENT",
        "REGISTRY_BELOW_MARKET_SHARE",
    ):
        monkeypatch.delenv(name, raising=False)
    _portfolio(db_session)
    values = compute_kpis(db_session, "FY2026", AS_OF)
    return {(v.kpi_id, v.breakdown, v.breakdown_value): v for v in values if v.kpi_id != "LSE-2"}


@pytest.mark.parametrize(("kpi_id", "breakdown", "key", "value", "numerator", "denominator"), [
    ("CST-2", "city", None, "20.23", "141600", "7000"),      # (123,600 + 18,000) ÷ (5,000 + 2,000)
    ("CST-2", "department", "GSD", "24.72", "123600", "5000"),
    ("CST-2", "department", "LAPL", "9.00", "18000", "2000"),
    ("CST-3", "city", None, "271600.00", "271600", None),    # 130,000 O&M + 141,600 rent
    ("CST-3", "department", "GSD", "243600.00", "243600", None),   # 120,000 + 123,600
    ("CST-3", "asset_type", "library", "28000.00", "28000", None),  # 10,000 + 18,000
    ("CST-4", "city", None, "40.00", "77600", "194000"),     # 271,600 vs 170,000 + 24,000
    ("CST-4", "department", "GSD", "62.40", "93600", "150000"),
    ("CST-4", "department", "LAPL", "-36.36", "-16000", "44000"),  # 28,000 vs 20,000 + 24,000
    ("REV-1", "city", None, "22001.00", "22001", None),       # L3 1 + L4 22,000
    ("REV-1", "department", "GSD", "1.00", "1", None),
    ("REV-1", "council_district", "2", "22000.00", "22000", None),
    ("REV-2", "city", None, "2", "2", "3"),                  # L3 nominal, L4 below market; L5
    ("REV-2", "department", "GSD", "1", "1", "2"),
    ("REV-3", "city", None, "1250000.00", "1250000", None),  # P3 only (P4 is FY2024)
    ("REV-3", "council_district", "2", "1250000.00", "1250000", None),
    ("LSE-1", "city", None, "3", "3", None),                 # L2 and L3 end by 2027-03-31; L5
    ("LSE-1", "department", "LAPL", "1", "1", None),
])  # fmt: skip
def test_values_worked_out_by_hand(
    kpis: dict[Key, KpiValue],
    kpi_id: str,
    breakdown: str,
    key: str | None,
    value: str | None,
    numerator: str | None,
    denominator: str | None,
) -> None:
    got = kpis[(kpi_id, breakdown, key)]
    expected = [None if x is None else D(x) for x in (value, numerator, denominator)]
    assert [got.value, got.numerator, got.denominator] == expected, got


def test_breakdowns_only_where_there_are_records(kpis: dict[Key, KpiValue]) -> None:
    assert ("REV-3", "department", "LAPL") not in kpis  # P4 was disposed of in FY2024
    assert ("REV-1", "department", "LAPL") in kpis
    assert {b for (k, b, _) in kpis if k == "CST-4"} == {
        "city",
        "department",
        "council_district",
        "asset_type",
    }


def test_notes_carry_the_second_measure(kpis: dict[Key, KpiValue]) -> None:
    # annual rent at the as-of date: L2 6,000 × 4 + L3 1 × 1 + L5 5,000 × 12
    assert kpis[("LSE-1", "city", None)].note == (
        "annual rent $84,001; 2 ending within 12 months, 1 holdovers"
    )
    assert kpis[("CST-4", "city", None)].note == (
        "baseline FY2024; CST-3 $271,600 against $194,000"
    )
    assert kpis[("REV-3", "city", None)].note == "1 parcels disposed of"


def test_settings_move_the_thresholds_and_the_baseline(
    db_session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _portfolio(db_session)
    monkeypatch.setenv("REGISTRY_NOMINAL_RENT", "0")  # L3's 1.00 is no longer nominal
    monkeypatch.setenv("REGISTRY_BELOW_MARKET_SHARE", "0.3")  # 24,000 ≥ 0.3 × 60,000
    monkeypatch.setenv("REGISTRY_KPI_BASELINE_FY", "FY2026")
    values = {
        (v.kpi_id, v.breakdown): v
        for v in compute_kpis(db_session, "FY2026", AS_OF)
        if v.breakdown == "city"
    }
    assert values[("REV-2", "city")].value == 0
    assert values[("CST-4", "city")].value == D("0.00")


def test_gasb_balances_at_the_period_end(db_session: Session) -> None:
    """At 2026-06-30, rate 0, so the liability/receivable is the payments not yet due:
    L1 (in): 36 payments left, 12 each of lease years 3..5: 10,000 × 1.03² = 10,609,
    × 1.03³ = 10,927.27, × 1.03⁴ = 11,255.09 → 12 × 32,791.36 = 393,496.32.
    L2 ended 2026-04-30 and L5 long ago (nothing left); L3 (out) paid both its 1.00s (2025-01-01,
    2026-01-01) → 0; L4: 120 − 11 paid = 109 × 2,000 = 218,000. ROU and deferred inflow are the
    engine's straight-line figures."""
    _portfolio(db_session)
    values = [v for v in compute_kpis(db_session, "FY2026", AS_OF) if v.kpi_id == "LSE-2"]
    city = {v.note: v.value for v in values if v.breakdown == "city"}
    assert city["lease liability (lessee) at 2026-06-30"] == D("393496.32")
    assert city["lease receivable (lessor) at 2026-06-30"] == D("218000.00")
    assert set(city) == {
        f"{kind} at 2026-06-30"
        for kind in (
            "lease liability (lessee)",
            "right-to-use asset, net (lessee)",
            "lease receivable (lessor)",
            "deferred inflow of resources (lessor)",
        )
    }
    gsd = {v.note: v.value for v in values if v.breakdown_value == "GSD"}
    assert gsd["lease receivable (lessor) at 2026-06-30"] == D("0.00")


def test_no_leases_says_why(db_session: Session) -> None:
    values = [
        v
        for v in compute_kpis(db_session, "FY2026", AS_OF)
        if v.kpi_id in {"CST-2", "CST-4", "REV-1", "REV-3", "LSE-1", "LSE-2"}
    ]
    assert values and all(v.value is None and v.note for v in values)


def test_the_sql_rent_stream_is_the_engines_payment_stream(sample_database_url: str) -> None:
    """Every shipped lease without modifications (steps, escalation, free rent, quarterly,
    annual, arrears, terminations): the SQL stream, due date by due date, is the engine's."""
    engine = create_registry_engine(sample_database_url)
    try:
        with Session(engine) as session:
            rows = session.execute(
                text(f"""
                WITH {RENT_STREAM_CTES}
                SELECT l.lease_number, r.due, r.rent FROM rent_due r JOIN leases l
                    ON l.id = r.lease_id
                 WHERE NOT EXISTS (SELECT 1 FROM lease_modifications m WHERE m.lease_id = l.id)
                 ORDER BY l.lease_number, r.due""")
            ).all()
            sql: dict[str, list[tuple[dt.date, Decimal]]] = {}
            for number, due, rent in rows:
                sql.setdefault(number, []).append((due, rent))
            terminated: dict[str, dt.date | None] = dict(
                session.execute(text("SELECT lease_number, terminated_on FROM leases")).all()
            )
            for number, stream in sql.items():
                end = terminated[number] or dt.date.max
                expected = [
                    (p.due_date, p.gross_amount)
                    for p in payment_stream(lease_terms(session, number))
                    if p.due_date <= end
                ]
                assert stream == expected, number
    finally:
        engine.dispose()
    assert len(sql) > 200


def test_milestone_forecast_at_the_pace_of_the_last_8_weeks(db_session: Session) -> None:
    """Milestone 'Phase 1': 50 % verified by 2026-06-30 (the later of two milestones).
    As of 2026-03-31 the 8 weeks start 2026-02-03. Ten parcels:
      GSD  6: verified 2025-12-01 (before the 8 weeks), 2026-02-10 and 2026-03-01 (within), 3 not
      LAPL 4: none verified (one is, on 2026-05-01: after the as-of date)
    City: 3 verified, 2 of them in 8 weeks → 2 / 56 days; target 5, 2 to go → 56 days →
          forecast 2026-05-26, 35 days ahead of 2026-06-30.
    GSD:  target 3 reached → forecast on the as-of date, 91 days ahead.
    LAPL: 2 to go and no pace → empty, saying so."""
    gsd, lapl = department("GSD", "General Services"), department("LAPL", "Library")
    verified = [dt.date(2025, 12, 1), dt.date(2026, 2, 10), dt.date(2026, 3, 1)]
    parcels = [
        parcel(
            f"2222-001-{i:03d}",
            department=gsd,
            council_district=1,
            asset_type="office",
            geometry=square(-118.25 + i * 0.002),
            **(
                {
                    "digitization_status": "verified",
                    "verified_by": "second",
                    "verified_at": dt.datetime.combine(verified[i], dt.time(12), dt.UTC),
                }
                if i < 3
                else {}
            ),
        )
        for i in range(6)
    ] + [
        parcel(
            f"2222-002-{i:03d}",
            department=lapl,
            council_district=2,
            asset_type="library",
            geometry=square(-118.20 + i * 0.002),
            **(
                {
                    "digitization_status": "verified",
                    "verified_by": "second",
                    "verified_at": dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC),
                }
                if i == 0
                else {}
            ),
        )
        for i in range(4)
    ]
    db_session.add_all(
        [
            gsd,
            lapl,
            *parcels,
            Milestone(name="Pilot", target_pct_verified=D(20), target_date=dt.date(2025, 12, 31)),
            Milestone(name="Phase 1", target_pct_verified=D(50), target_date=dt.date(2026, 6, 30)),
        ]
    )
    db_session.flush()
    dig6 = {
        (v.breakdown, v.breakdown_value): v
        for v in compute_kpis(db_session, "FY2026", AS_OF)
        if v.kpi_id == "DIG-6"
    }
    city = dig6[("city", None)]
    assert (city.value, city.numerator, city.denominator) == (D(35), D(2), D(56))
    assert city.note and city.note.startswith("forecast 2026-05-26; milestone 'Phase 1'")
    assert city.status == "on target"
    assert dig6[("department", "GSD")].value == D(91)
    lapl_row = dig6[("department", "LAPL")]
    assert lapl_row.value is None and lapl_row.note and "no pace" in lapl_row.note


def test_no_milestone_no_forecast(db_session: Session) -> None:
    dig6 = [v for v in compute_kpis(db_session, "FY2026", AS_OF) if v.kpi_id == "DIG-6"]
    assert [(v.value, v.note) for v in dig6] == [(None, "no digitization milestone set")]


def test_occupancy_costs_join_each_lease_to_its_rent_by_hash(sample_session: Session) -> None:
    """The planner cannot see how many leases have rent (it guessed 200 of 5,000) and joined
    each lease in to every lease's rent by a nested loop (7 million comparisons at 100,000
    parcels). CST-2..CST-4 are planned without nested loops where another join can be made,
    whatever the statistics say (the sample's own statistics happen to give a hash join)."""
    session = sample_session
    session.execute(text("ANALYZE leases, lease_rent_periods, lease_measurements"))
    period = Period.resolve(None, dt.date.today())
    with explained(session) as plans:
        values = occupancy_cost_kpis(session, period)
    assert any(v.kpi_id == "CST-2" and v.value is not None for v in values)
    statements = [plan for plan in plans if "lease_rent AS" in plan]
    assert len(statements) == 1
    assert "enable_nestloop = 'off'" in statements[0], statements[0]
    nested = [line for line in statements[0].splitlines() if "Join Filter" in line]
    assert not [line for line in nested if "r.lease_id" in line], statements[0]
