"""Defects schemathesis found (tests/test_openapi_fuzz.py), each pinned by the request that made
the server fail, and its kin found by reading the code for the same mistake.

`str.isdigit()` is true of "²" (and other superscripts), which `int()` refuses: a check written
`text.isdigit() and int(text) …` raised ValueError, a 500, for `?fiscal_year=²`. Numbers in a
query are ASCII digits only (`registry.fields.whole_number`).
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

SUPERSCRIPT_TWO = "%C2%B2"  # "²", URL-encoded


@pytest.mark.parametrize(
    "url",
    [
        f"/api/occupancy?fiscal_year={SUPERSCRIPT_TWO}",  # found by schemathesis
        f"/api/costs?fiscal_year={SUPERSCRIPT_TWO}",
        f"/api/parcels?limit={SUPERSCRIPT_TWO}",
        f"/api/leases?limit={SUPERSCRIPT_TWO}",
        f"/api/leases?expiring={SUPERSCRIPT_TWO}",
        f"/api/costs?limit={SUPERSCRIPT_TWO}",
    ],
)
def test_a_superscript_digit_in_a_number_parameter_is_a_400_naming_it_not_a_server_error(
    editor_client: FlaskClient, url: str
) -> None:
    response = editor_client.get(url)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    name = url.split("?")[1].split("=")[0]
    assert [error["field"] for error in response.get_json()["errors"]] == [name]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"/leases?expiring={SUPERSCRIPT_TWO}", 200),  # the list ignores a filter it can't read
        (f"/leases/critical-dates?months={SUPERSCRIPT_TWO}", 400),
        (f"/leases/gasb87/export?fy={SUPERSCRIPT_TWO * 4}", 400),
        (f"/leases/gasb87/journal?fy={SUPERSCRIPT_TWO * 4}", 400),
        (f"/leases/gasb87/journal?fy=2026&month={SUPERSCRIPT_TWO}", 400),
        (f"/kpi?fy={SUPERSCRIPT_TWO}", 200),
        (f"/ogc/collections/parcels/items?offset={SUPERSCRIPT_TWO}", 400),
    ],
)
def test_a_superscript_digit_in_a_page_or_export_parameter_is_never_a_server_error(
    admin_client: FlaskClient, url: str, status: int
) -> None:
    assert admin_client.get(url).status_code == status


THOUSANDS_OF_DIGITS = "9" * 5000  # int() refuses strings over 4,300 digits (ValueError)


@pytest.mark.parametrize(
    "url",
    [
        f"/api/leases?limit={THOUSANDS_OF_DIGITS}",  # found by reading the cursor's code
        f"/api/parcels?limit={THOUSANDS_OF_DIGITS}",
        f"/api/occupancy?fiscal_year={THOUSANDS_OF_DIGITS}",
    ],
)
def test_a_number_of_thousands_of_digits_is_a_400_naming_it_not_a_server_error(
    editor_client: FlaskClient, url: str
) -> None:
    response = editor_client.get(url)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    name = url.split("?")[1].split("=")[0]
    assert [error["field"] for error in response.get_json()["errors"]] == [name]


def test_a_page_number_of_thousands_of_digits_is_never_a_server_error(
    admin_client: FlaskClient,
) -> None:
    assert admin_client.get(f"/leases?page={THOUSANDS_OF_DIGITS}").status_code == 200
    assert (
        admin_client.get(f"/leases?sort=counterparty&page={THOUSANDS_OF_DIGITS}").status_code < 500
    )
