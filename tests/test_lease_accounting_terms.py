"""Validation names every bad field; parsing and rendering keep money exact."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from registry.leases.accounting import LeaseTerms
from registry.leases.accounting import LeaseTermsError
from registry.leases.accounting import PaymentStep
from registry.leases.accounting import fiscal_year_balances
from registry.leases.accounting import fiscal_years_to_csv
from registry.leases.accounting import lease_schedule
from registry.leases.accounting import lease_terms_from_dict
from registry.leases.accounting import maturity_table
from registry.leases.accounting import maturity_table_to_csv
from registry.leases.accounting import schedule_to_csv
from tests.lease_terms_builders import washington_values as values

D = Decimal


def errors_for(**overrides: Any) -> list[tuple[str, str]]:
    with pytest.raises(LeaseTermsError) as caught:
        LeaseTerms(**values(**overrides))
    assert type(caught.value) is LeaseTermsError
    return caught.value.errors


def fields_of(errors: list[tuple[str, str]]) -> set[str]:
    return {name for name, _ in errors}


def test_defaults() -> None:
    terms = LeaseTerms(**values())
    assert terms.max_possible_term_months == 36
    assert terms.period_count == 36
    assert terms.escalation_pct == 0 and terms.free_periods == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"direction": "sideways"}, "direction"),
        ({"payment_frequency": "weekly"}, "payment_frequency"),
        ({"payment_timing": "whenever"}, "payment_timing"),
        ({"commencement_date": "2021-04-01"}, "commencement_date"),
        ({"commencement_date": datetime(2021, 4, 1)}, "commencement_date"),
        ({"term_months": 0}, "term_months"),
        ({"term_months": -12}, "term_months"),
        ({"term_months": 36.0}, "term_months"),
        ({"max_possible_term_months": 24}, "max_possible_term_months"),
        ({"payments": (PaymentStep(35, D("30000.00")),)}, "payments"),
        ({"payments": ()}, "payments"),
        ({"payments": (PaymentStep(36, D("-1.00")),)}, "payments[0].amount"),
        ({"payments": (PaymentStep(36, 30000.0),)}, "payments[0].amount"),  # type: ignore[arg-type]
        ({"payments": (PaymentStep(36, D("30000.001")),)}, "payments[0].amount"),
        (
            {"payments": (PaymentStep(0, D("1.00")), PaymentStep(36, D("1.00")))},
            "payments[0].periods",
        ),
        ({"payments": ((36, D("1.00")),)}, "payments[0]"),
        ({"free_periods": 36}, "free_periods"),
        ({"free_periods": -1}, "free_periods"),
        ({"non_lease_amount": D("30000.01")}, "payments[0].amount"),
        ({"non_lease_amount": D("-5")}, "non_lease_amount"),
        ({"discount_rate": D("-0.01")}, "discount_rate"),
        ({"discount_rate": D("4")}, "discount_rate"),
        ({"discount_rate": 0.04}, "discount_rate"),
        ({"discount_rate": None}, "discount_rate"),
        ({"escalation_pct": D("-3")}, "escalation_pct"),
        ({"fair_value": D("-1.00")}, "fair_value"),
        ({"residual_value": D("NaN")}, "residual_value"),
        ({"initial_direct_costs": D("-0.01")}, "initial_direct_costs"),
        ({"incentives": D("-0.01")}, "incentives"),
        ({"prepaid_at_commencement": D("-0.01")}, "prepaid_at_commencement"),
        ({"useful_life_months": 0}, "useful_life_months"),
        ({"incentives": D("1E+15")}, "incentives"),
        ({"fair_value": D("Infinity")}, "fair_value"),
        ({"payment_frequency": "quarterly", "term_months": 35}, "term_months"),
    ],
)
def test_each_bad_field_is_named(overrides: dict[str, Any], field: str) -> None:
    assert field in fields_of(errors_for(**overrides))


def test_whole_number_amounts_are_accepted() -> None:
    terms = LeaseTerms(**values(payments=(PaymentStep(36, 30000),), incentives=0))  # type: ignore[arg-type]
    assert lease_schedule(terms).initial_measurement == D("1066109.82")


def test_all_problems_are_reported_together() -> None:
    errors = errors_for(
        direction="both",
        term_months=0,
        incentives=D("-1"),
        payments=(PaymentStep(2, D("-5.00")),),
    )
    assert {"direction", "term_months", "incentives", "payments[0].amount"} <= fields_of(errors)
    message = str(LeaseTermsError(errors))
    assert "direction:" in message and "incentives:" in message


def test_short_term_lease_needs_no_rate() -> None:
    terms = LeaseTerms(**values(term_months=12, payments=(PaymentStep(12, D("1.00")),),
                                discount_rate=None))  # fmt: skip
    assert terms.is_short_term


def test_lease_terms_from_json() -> None:
    body = json.loads(
        """{"direction": "in", "commencement_date": "2021-04-01", "term_months": 36,
            "payment_frequency": "monthly", "payment_timing": "advance",
            "payments": [{"periods": 36, "amount": "30000.00"}],
            "discount_rate": "0.0089", "fair_value": null}"""
    )
    terms = lease_terms_from_dict(body)
    assert terms == LeaseTerms(**values())
    assert lease_schedule(terms).initial_measurement == D("1066109.82")


def test_lease_terms_from_json_reports_conversion_errors() -> None:
    with pytest.raises(LeaseTermsError) as caught:
        lease_terms_from_dict(
            {
                "direction": "in",
                "commencement_date": "April 1",
                "term_months": "three years",
                "payment_frequency": "monthly",
                "payment_timing": "advance",
                "payments": [{"periods": 36, "amount": 30000.5}],
                "discount_rate": "four percent",
                "colour": "blue",
            }
        )
    assert fields_of(caught.value.errors) == {
        "commencement_date",
        "term_months",
        "payments[0].amount",
        "discount_rate",
        "colour",
    }
    with pytest.raises(LeaseTermsError) as caught:
        lease_terms_from_dict({"direction": "in"})
    assert "payments" in fields_of(caught.value.errors)


def test_to_dict_renders_money_as_strings_with_the_agreed_keys() -> None:
    rendered = lease_schedule(LeaseTerms(**values())).to_dict()
    assert list(rendered) == [
        "short_term",
        "discount_rate",
        "initial_measurement",
        "right_of_use_asset",
        "rows",
    ]
    assert rendered["initial_measurement"] == "1066109.82"
    assert rendered["right_of_use_asset"] == "1066109.82"
    assert rendered["discount_rate"] == "0.0089"
    rows = rendered["rows"]
    assert isinstance(rows, list)
    assert rows[1] == {
        "period": 2,
        "date": "2021-05-01",
        "payment": "30000.00",
        "interest": "768.45",
        "principal": "29231.55",
        "balance": "1006878.27",
        "amortization": "29614.16",
        "asset_balance": "1006881.50",
    }
    json.dumps(rendered)  # JSON-ready as is


def test_lessor_to_dict_keys() -> None:
    rendered = lease_schedule(LeaseTerms(**values(direction="out"))).to_dict()
    assert "right_of_use_asset" not in rendered
    assert rendered["deferred_inflow"] == "1066109.82"
    rows = rendered["rows"]
    assert isinstance(rows, list)
    assert list(rows[0]) == [
        "period",
        "date",
        "payment",
        "interest",
        "principal",
        "balance",
        "inflow_recognized",
        "deferred_inflow_balance",
    ]


def test_csv_renderings() -> None:
    schedule = lease_schedule(LeaseTerms(**values()))
    records = list(csv.DictReader(io.StringIO(schedule_to_csv(schedule))))
    assert len(records) == 36
    assert records[30]["interest"] == "133.15"
    assert records[30]["balance"] == "149666.83"
    assert records[-1]["balance"] == "0.00"
    years = list(csv.DictReader(io.StringIO(fiscal_years_to_csv(fiscal_year_balances(schedule)))))
    assert years[0]["fiscal_year"] == "2021" and years[0]["balance"] == "977625.04"
    table = maturity_table(schedule, 2021)
    buckets = list(csv.DictReader(io.StringIO(maturity_table_to_csv(table))))
    assert [bucket["label"] for bucket in buckets] == ["2022", "2023", "2024", "2025", "2026"]
    assert sum(D(bucket["principal"]) for bucket in buckets) == D("977625.04")
