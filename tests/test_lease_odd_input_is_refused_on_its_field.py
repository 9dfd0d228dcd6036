"""Odd input to the lease API is refused on its field (422), never a 500: a discount rate that is
not a number ("NaN", "sNaN") or a percentage too large to divide ("1e999999999%"), and a
modification's `kind` that is not text (a list or an object cannot be looked up as a kind)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from registry.fields import Problems
from registry.leases.fields import to_rate
from tests.auth_fixtures import SignedInClient
from tests.test_lease_modification_payments import lease  # noqa: F401  (the fixture)

OTHER = "L-2024-011"


@pytest.mark.parametrize("typed", ["NaN", "sNaN", "nan", "NaN%", "Infinity", "1e999999999%"])
def test_a_discount_rate_that_is_no_finite_number_is_a_problem_on_its_field(typed: str) -> None:
    problems = Problems()
    assert to_rate(problems, "discount_rate", typed) is None
    assert [problem.field for problem in problems] == ["discount_rate"]


@pytest.mark.usefixtures("lease")
@pytest.mark.parametrize("typed", ["NaN", "1e999999999%"])
def test_the_api_refuses_a_discount_rate_that_is_no_number_with_a_422(
    signed_in: Callable[..., SignedInClient], typed: str
) -> None:
    response = signed_in("finance").patch(
        f"/api/leases/{OTHER}", json={"discount_rate": typed}, headers={"If-Match": '"v1"'}
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert [error["field"] for error in response.get_json()["errors"]] == ["discount_rate"]


@pytest.mark.usefixtures("lease")
@pytest.mark.parametrize("kind", [["termination"], {"termination": True}, 3])
def test_a_modification_kind_that_is_not_text_is_a_422_naming_kind(
    signed_in: Callable[..., SignedInClient], kind: Any
) -> None:
    body = {"kind": kind, "effective_date": "2025-02-10", "terms": {"end_date": "2025-06-15"}}
    response = signed_in("finance").post(f"/api/leases/{OTHER}/modifications", json=body)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert [error["field"] for error in response.get_json()["errors"]] == ["kind"]
