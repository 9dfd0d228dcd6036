"""The KPI engine against a small portfolio whose every value is worked out by hand below.

As of 2026-03-31, FY2026. Four parcels, equal squares on one latitude (equal land areas):
  P1 GSD  cd1 office  owned  in_use          verified 2026-01-10, complete (7/7 fields)
  P2 GSD  cd2 office  owned  no_current_use  digitized, complete (7/7)
  P3 LAPL cd1 library owned  in_use          paper: no shape, no use (5/7)
  P4 LAPL cd2 park    leased in_use          verified 2026-05-01 (after the as-of date), 7/7
Buildings (GSF / USF / replacement / repairs; current headcount):
  B1 on P1 office  12,000 / 10,000 / 5,000,000 / 500,000; GSD 50 (a LAPL record ended 2025)
  B2 on P2 office   6,000 /  5,000 / 2,000,000 / 1,000,000; GSD 10
  B3 on P3 library  4,000 /  3,000 / 3,000,000 / 300,000; LAPL 20
Leases: L1 in (LAPL, P4, 5,000 sq ft, source document) in force; L2 out (P1) with no source
document. O&M FY2026: B1 operations 120,000 + maintenance 60,000 + utilities 30,000, B3
maintenance 20,000, P1 (parcel) security 5,000; B2 operations 24,000 in FY2025 only.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from registry.kpis import EXPORT_COLUMNS
from registry.kpis import KPI_DEFINITIONS
from registry.kpis import KpiValue
from registry.kpis import compute_kpis
from registry.models import Building
from registry.models import Lease
from registry.models import Occupancy
from registry.models import OmCost
from tests.builders import department
from tests.builders import parcel
from tests.builders import square

AS_OF = dt.date(2026, 3, 31)
D = Decimal


def _portfolio(session: Session) -> None:
    gsd, lapl = department("GSD", "General Services"), department("LAPL", "Library")
    session.add_all([gsd, lapl])
    common = {"legal_interest": "owned", "status": "in_use"}
    p1 = parcel(
        "1111-001-001",
        department=gsd,
        council_district=1,
        asset_type="office",
        use="Office",
        geometry=square(-118.250),
        digitization_status="verified",
        verified_by="second",
        verified_at=dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC),
        **common,
    )
    p2 = parcel(
        "1111-001-002",
        department=gsd,
        council_district=2,
        asset_type="office",
        use="Office",
        geometry=square(-118.248),
        digitization_status="digitized",
        legal_interest="owned",
        status="no_current_use",
    )
    p3 = parcel(
        "1111-001-003",
        department=lapl,
        council_district=1,
        asset_type="library",
        geometry=None,
        **common,
    )
    p4 = parcel(
        "1111-001-004",
        department=lapl,
        council_district=2,
        asset_type="park",
        use="Park",
        geometry=square(-118.246),
        digitization_status="verified",
        verified_by="second",
        verified_at=dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC),
        legal_interest="leased",
        status="in_use",
    )
    b1 = Building(
        building_id="B1",
        parcel=p1,
        asset_type="office",
        gross_sq_ft=12_000,
        usable_sq_ft=10_000,
        replacement_value=D(5_000_000),
        repair_needs=D(500_000),
    )
    b2 = Building(
        building_id="B2",
        parcel=p2,
        asset_type="office",
        gross_sq_ft=6_000,
        usable_sq_ft=5_000,
        replacement_value=D(2_000_000),
        repair_needs=D(1_000_000),
    )
    b3 = Building(
        building_id="B3",
        parcel=p3,
        asset_type="library",
        gross_sq_ft=4_000,
        usable_sq_ft=3_000,
        replacement_value=D(3_000_000),
        repair_needs=D(300_000),
    )
    session.add_all([p1, p2, p3, p4, b1, b2, b3])
    session.flush()
    session.add_all(
        [
            Occupancy(
                building_id=b1.id,
                department_id=gsd.id,
                period_start=dt.date(2025, 7, 1),
                headcount=50,
                usable_sq_ft_occupied=10_000,
            ),
            Occupancy(
                building_id=b1.id,
                department_id=lapl.id,
                period_start=dt.date(2024, 7, 1),
                period_end=dt.date(2025, 6, 30),
                headcount=10,
                usable_sq_ft_occupied=2_000,
            ),
            Occupancy(
                building_id=b2.id,
                department_id=gsd.id,
                period_start=dt.date(2024, 1, 1),
                period_end=dt.date(2026, 12, 31),
                headcount=10,
                usable_sq_ft_occupied=5_000,
            ),
            Occupancy(
                building_id=b3.id,
                department_id=lapl.id,
                period_start=dt.date(2020, 1, 1),
                headcount=20,
                usable_sq_ft_occupied=3_000,
            ),
            OmCost(building_id=b1.id, fiscal_year=2026, category="operations", amount=D(120_000)),
            OmCost(building_id=b1.id, fiscal_year=2026, category="maintenance", amount=D(60_000)),
            OmCost(building_id=b1.id, fiscal_year=2026, category="utilities", amount=D(30_000)),
            OmCost(building_id=b3.id, fiscal_year=2026, category="maintenance", amount=D(20_000)),
            OmCost(parcel_id=p1.id, fiscal_year=2026, category="security", amount=D(5_000)),
            OmCost(building_id=b2.id, fiscal_year=2025, category="operations", amount=D(24_000)),
            _lease("L1", "in", p4.id, lapl.id, source_document="CF 23-0001"),
            _lease("L2", "out", p1.id, None, source_document=None),
        ]
    )
    session.flush()


def _lease(
    number: str,
    direction: str,
    parcel_pk: int,
    department_pk: int | None,
    source_document: str | None,
) -> Lease:
    return Lease(
        lease_number=number,
        direction=direction,
        portfolio="payable" if direction == "in" else "receivable",
        counterparty="Acme LLC",
        parcel_id=parcel_pk,
        department_id=department_pk,
        leased_area_sq_ft=D(5_000),
        source_document=source_document,
        commencement_date=dt.date(2024, 1, 1),
        term_months=60,
        max_possible_term_months=60,
        payment_frequency="monthly",
        payment_timing="advance",
        payments=[{"periods": 60, "amount": "10000.00"}],
        discount_rate=D("0.03"),
    )


@pytest.fixture
def kpis(db_session: Session) -> dict[tuple[str, str, str | None], KpiValue]:
    _portfolio(db_session)
    values = compute_kpis(db_session, "FY2026", AS_OF)
    return {(v.kpi_id, v.breakdown, v.breakdown_value): v for v in values}


def _check(
    kpis: dict[tuple[str, str, str | None], KpiValue],
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


@pytest.mark.parametrize(("kpi_id", "breakdown", "key", "value", "numerator", "denominator"), [
    ("DIG-1", "city", None, "75.00", "3", "4"),            # P1, P2, P4 have a shape
    ("DIG-1", "department", "LAPL", "50.00", "1", "2"),    # P4 of P3, P4
    ("DIG-1", "council_district", "2", "100.00", "2", "2"),
    ("DIG-1", "asset_type", "library", "0.00", "0", "1"),
    ("DIG-2", "city", None, "25.00", "1", "4"),            # P4's verification is after as-of
    ("DIG-2", "department", "GSD", "50.00", "1", "2"),
    ("DIG-3", "city", None, "92.86", "26", "28"),          # 7 + 7 + 5 + 7 of 4 × 7
    ("DIG-3", "department", "LAPL", "85.71", "12", "14"),
    ("DIG-4", "city", None, "50.00", "1", "2"),            # L2 has no source document
    ("DIG-4", "department", "LAPL", "100.00", "1", "1"),   # L1's own department
    ("DIG-5", "city", None, "2", "2", None),               # P3: use and geometry missing
    ("DIG-5", "department", "GSD", "0", "0", None),
    ("UTL-1", "city", None, "50.00", None, None),          # P2 ÷ (P1 + P2), equal squares
    ("UTL-2", "city", None, "60.00", "9000", "15000"),     # 150 × (50 + 10) ÷ (10,000 + 5,000)
    ("UTL-2", "building", "B1", "75.00", "7500", "10000"),
    ("UTL-2", "building", "B2", "30.00", "1500", "5000"),
    ("UTL-3", "city", None, "225.00", "18000", "80"),      # (10,000 + 5,000 + 3,000) ÷ 80
    ("UTL-3", "department", "LAPL", "150.00", "3000", "20"),
    ("UTL-4", "city", None, "2", "2", None),               # B2 under 60 % + P2 no current use
    ("UTL-4", "council_district", "1", "0", "0", None),
    ("UTL-5", "city", None, "23.81", "5000", "21000"),     # L1 ÷ (L1 + B1 12,000 + B3 4,000)
    ("UTL-5", "department", "LAPL", "55.56", "5000", "9000"),
    ("UTL-5", "department", "GSD", "0.00", "0", "12000"),
    ("CST-1", "city", None, "12.50", "200000", "16000"),   # (120k + 60k + 20k) ÷ (B1 + B3 GSF)
    ("CST-1", "asset_type", "office", "15.00", "180000", "12000"),
    ("CST-1", "asset_type", "library", "5.00", "20000", "4000"),
    ("CST-5", "city", None, "82.00", "1800000", "10000000"),
    ("CST-5", "asset_type", "office", "78.57", "1500000", "7000000"),
])  # fmt: skip
def test_kpi_values_worked_out_by_hand(
    kpis: dict[tuple[str, str, str | None], KpiValue],
    kpi_id: str,
    breakdown: str,
    key: str | None,
    value: str | None,
    numerator: str | None,
    denominator: str | None,
) -> None:
    if kpi_id == "UTL-1":  # land areas come from the geometry: check the ratio and the count
        got = kpis[(kpi_id, breakdown, key)]
        assert got.value == D(value or 0) and got.numerator and got.denominator
        assert got.numerator * 2 == got.denominator
        assert got.note == "1 parcels with no current use"
        return
    _check(kpis, kpi_id, breakdown, key, value, numerator, denominator)


def test_status_against_targets_and_flags(
    kpis: dict[tuple[str, str, str | None], KpiValue],
) -> None:
    assert kpis[("UTL-2", "city", None)].status == "on target"  # exactly 60 %
    assert kpis[("UTL-2", "building", "B2")].status == "off target"
    assert kpis[("UTL-2", "city", None)].note == "1 office buildings under 60 %"
    assert kpis[("DIG-1", "city", None)].status == "off target"
    assert kpis[("CST-5", "city", None)].target is None
    assert kpis[("CST-5", "city", None)].status is None


def test_breakdowns_cover_every_value_of_the_records(
    kpis: dict[tuple[str, str, str | None], KpiValue],
) -> None:
    dig1 = {(b, v) for (kpi, b, v) in kpis if kpi == "DIG-1"}
    assert dig1 == {
        ("city", None),
        ("department", "GSD"),
        ("department", "LAPL"),
        ("council_district", "1"),
        ("council_district", "2"),
        ("asset_type", "office"),
        ("asset_type", "library"),
        ("asset_type", "park"),
    }
    first = next(iter(kpis.values()))
    assert (first.period, first.as_of) == ("FY2026", AS_OF)


def test_rows_carry_exactly_the_kpi_set_columns() -> None:
    assert EXPORT_COLUMNS == (
        "kpi_id",
        "kpi_name",
        "period",
        "as_of",
        "breakdown",
        "breakdown_value",
        "value",
        "unit",
        "numerator",
        "denominator",
        "target",
        "status",
        "note",
    )
    assert [d.id for d in KPI_DEFINITIONS][:3] == ["DIG-1", "DIG-2", "DIG-3"]
    assert len(KPI_DEFINITIONS) == 21


def test_no_data_is_empty_with_a_reason_never_zero(db_session: Session) -> None:
    values = compute_kpis(db_session, "FY2026", AS_OF)
    ratios = [v for v in values if v.unit not in {"count"}]
    assert ratios and all(v.value is None and v.note for v in ratios)
    assert {v.breakdown for v in values} == {"city"}


def test_costs_of_a_year_without_records_say_so(db_session: Session) -> None:
    _portfolio(db_session)
    values = compute_kpis(db_session, "FY2030", dt.date(2030, 3, 31))
    cst1 = [v for v in values if v.kpi_id == "CST-1"]
    assert [(v.breakdown, v.value) for v in cst1] == [("city", None)]
    assert cst1[0].note and "FY2030" in cst1[0].note


def test_period_names_a_fiscal_year(db_session: Session) -> None:
    with pytest.raises(ValueError, match="FY2026"):
        compute_kpis(db_session, "2026", AS_OF)


def test_kpi_snapshots_are_append_only(db_session: Session) -> None:
    db_session.execute(
        text(
            "INSERT INTO kpi_snapshots (as_of, period, kpi_id, breakdown, unit) "
            "VALUES ('2026-03-31', 'FY2026', 'DIG-1', 'city', '%')"
        )
    )
    with pytest.raises(DBAPIError, match="kpi_snapshots is append-only"), db_session.begin_nested():
        db_session.execute(text("UPDATE kpi_snapshots SET unit = 'x'"))
    with pytest.raises(DBAPIError, match="append-only"), db_session.begin_nested():
        db_session.execute(text("DELETE FROM kpi_snapshots"))
