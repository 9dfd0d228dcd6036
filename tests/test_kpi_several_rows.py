"""A KPI with several rows per breakdown value, LSE-2's four GASB 87 balances (walk report,
defect 3): the tile showed the last row stored (the lessor's deferred inflow) as "the" balance.
Its value is now the headline, the lessee lease liability, with the four balances listed and
named, on the desk, in its JSON, from the day's snapshot and on the public page alike."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from app.database import session_factory
from registry.db import unit_of_work
from registry.kpis import compute_kpis
from tests.auth_fixtures import SignedInClient
from tests.lease_fixtures import lessor_example
from tests.lease_fixtures import seed_places
from tests.lease_fixtures import worked_example

KINDS = (
    "lease liability (lessee)",
    "right-to-use asset, net (lessee)",
    "lease receivable (lessor)",
    "deferred inflow of resources (lessor)",
)


@pytest.fixture
def leases_app(app: Flask, signed_in: Callable[..., SignedInClient]) -> Flask:
    """One lessee and one lessor lease in force to well past this fiscal year's end."""
    with app.app_context(), unit_of_work(session_factory(), "tests") as session:
        seed_places(session)
    finance = signed_in("finance")
    start = dt.date.today().replace(day=1).isoformat()
    lessee = worked_example(commencement_date=start, term_months=120, discount_rate="0.04")
    lessee["payments"] = [{"periods": 120, "amount": "30000.00"}]
    lessor = lessor_example(commencement_date=start, term_months=120)
    lessor["payments"] = [{"periods": 40, "amount": "2400.00"}]
    for body in (lessee, lessor):
        response = finance.post("/api/leases", json=body)
        assert response.status_code == 201, response.get_data(as_text=True)
    return app


def _lse2(data: dict[str, Any]) -> dict[str, Any]:
    return next(tile for tile in data["tiles"] if tile["id"] == "LSE-2")


def _engine_city_rows(app: Flask) -> dict[str, Decimal]:
    with app.app_context(), session_factory()() as session:
        values = compute_kpis(session, None, dt.date.today(), 7)
    return {
        (value.note or "").split(" at ")[0]: value.value  # type: ignore[misc]
        for value in values
        if value.kpi_id == "LSE-2" and value.breakdown == "city"
    }


def test_the_gasb87_tile_shows_the_lease_liability_and_names_all_four_balances(
    leases_app: Flask, signed_in: Callable[..., SignedInClient]
) -> None:
    engine = _engine_city_rows(leases_app)
    assert set(engine) == set(KINDS)
    viewer = signed_in("viewer")
    first = _lse2(json.loads(viewer.get("/kpi/values").get_data(as_text=True)))  # computes
    again = json.loads(viewer.get("/kpi/values").get_data(as_text=True))  # the day's snapshot
    assert again["source"] == "snapshot"
    for tile in (first, _lse2(again)):
        assert Decimal(tile["value"]) == engine["lease liability (lessee)"]
        names = [part["name"].split(" at ")[0] for part in tile["parts"]]
        assert names == list(KINDS)
        assert [Decimal(part["value"]) for part in tile["parts"]] == [engine[k] for k in KINDS]
    page = viewer.get("/kpi").get_data(as_text=True)
    tile_html = page[page.index('id="tile-LSE-2"') :]
    tile_html = tile_html[: tile_html.index("</article>")]
    assert "deferred inflow of resources (lessor)" in tile_html
    # its trend is the headline's too, not the last balance stored
    assert [Decimal(v) for _, v in _lse2(again)["trend_points"]] == [
        engine["lease liability (lessee)"]
    ]
    settings = leases_app.config["REGISTRY_SETTINGS"]
    leases_app.config["REGISTRY_SETTINGS"] = dataclasses.replace(settings, public_kpis=True)
    public = _lse2(json.loads(leases_app.test_client().get("/kpi/public/values").get_data()))
    assert Decimal(public["value"]) == engine["lease liability (lessee)"]
    assert [part["name"].split(" at ")[0] for part in public["parts"]] == list(KINDS)
