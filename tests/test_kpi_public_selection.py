"""The public KPI page answers for the selection it was asked (walk report, defect 18): a
combination of dimensions is a 404 on the page as on its JSON (docs/kpis.md), and an unknown
department says so instead of showing the whole city under its name."""

from __future__ import annotations

import dataclasses

import pytest
from flask import Flask


def _publish(app: Flask) -> None:
    settings = app.config["REGISTRY_SETTINGS"]
    app.config["REGISTRY_SETTINGS"] = dataclasses.replace(settings, public_kpis=True)


@pytest.mark.parametrize("path", ["/kpi/public", "/kpi/public/values"])
def test_a_combination_on_the_public_page_is_a_404_as_documented(
    desk_app: Flask, path: str
) -> None:
    _publish(desk_app)
    response = desk_app.test_client().get(f"{path}?department=GSD&district=1")
    assert response.status_code == 404
    assert "one department, council district or asset type at a time" in response.get_data(
        as_text=True
    )
    assert desk_app.test_client().get(f"{path}?department=GSD").status_code == 200


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("department=NOPE", "department &#39;NOPE&#39;"),
        ("district=99", "council district &#39;99&#39;"),
        ("asset_type=castle", "asset type &#39;castle&#39;"),
    ],
)
def test_an_unknown_value_on_the_public_page_says_so(
    desk_app: Flask, query: str, named: str
) -> None:
    _publish(desk_app)
    response = desk_app.test_client().get(f"/kpi/public?{query}")
    assert response.status_code == 404
    assert f"The registry has no {named}" in response.get_data(as_text=True)
    values = desk_app.test_client().get(
        f"/kpi/public/values?{query}", headers={"Accept": "application/json"}
    )
    assert values.status_code == 404
