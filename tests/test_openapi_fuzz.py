"""Schemathesis against `/api/openapi.json`: every operation of the document called with data made
from its schemas, on the app over a database of this module's own (the sample portfolio, so
reads find records; fuzzed writes touch no other test).

Positive cases (data the document says is valid) must meet every check: no server error, a
documented status, content type and headers, a body of the documented schema. Negative cases
(data the document forbids) must be refused without a server error and with a documented problem
document. Writes authenticate as an editor with a bearer token; the exports (finance and admin
only) as finance.

The number of examples per operation and mode is `REGISTRY_FUZZ_EXAMPLES` (5 in `make test`,
more in `make bench`, which also reads the counts written to `REGISTRY_FUZZ_REPORT`). Hypothesis
runs derandomized, so a run repeats the previous one's cases.
"""

from __future__ import annotations

import collections
import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import settings
from hypothesis.strategies import one_of
from requests.structures import CaseInsensitiveDict
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.specs.openapi.checks import response_schema_conformance
from schemathesis.specs.openapi.checks import status_code_conformance

from app.openapi import api_document
from tests.auth_fixtures import LoginHelper
from tests.live_apps import sample_app

EXAMPLES = int(os.environ.get("REGISTRY_FUZZ_EXAMPLES", "5"))
DOCUMENT = api_document()
EXPORT_EXAMPLES = max(1, EXAMPLES // 3)  # a whole workbook per call: fewer, same checks
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]  # type: ignore[union-attr]
# data the document forbids exists only where an operation takes some
REFUSABLE = [
    operation
    for operation in OPERATIONS
    if operation.body or any(True for _ in operation.iter_parameters())
]
EXPORTS = ("/kpi/export", "/portfolio/export")
# A business rule the document cannot say (the city's id format, an overlap, a lease the engine
# can't measure) answers 422 to data of the right shape: not a failure of positive data.
POSITIVE_EXCLUDED = [positive_data_acceptance]
NEGATIVE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
COUNTS: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)


# The list that holds the records of each kind, and the key of a record in it.
_LISTS = {
    "parcel_id": ("/api/parcels?limit=200", "features", "id"),
    "lease_number": ("/api/leases?limit=200", "leases", "lease_number"),
    "/api/occupancy": ("/api/occupancy?limit=200", "occupancy", "id"),
    "/api/costs": ("/api/costs?limit=200", "costs", "id"),
}


class FuzzedApp:
    """The app, its tokens, and records of the sample that operations on one record act on:
    each operation its own (a DELETE fuzzed first must not leave the next GET only 404s)."""

    def __init__(self, app: Flask, editor: str, finance: str) -> None:
        self.app, self.editor, self.finance = app, editor, finance
        self.client = app.test_client()
        examples = {str(value) for value in _example_keys(DOCUMENT).values()}
        self.keys = {
            name: [
                str(row[key])
                for row in self._get(path).get_json()[member]
                if str(row[key]) not in examples  # kept as the document's examples say
            ]
            for name, (path, member, key) in _LISTS.items()
        }

    def headers(self, path: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.finance if path in EXPORTS else self.editor}"}

    def _get(self, path: str) -> Any:
        return self.client.get(path, headers=self.headers(path))

    def existing(self, operation: Any) -> dict[str, Any] | None:
        """Path parameters naming a record of the sample, for `operation` alone; None when it
        acts on no record."""
        names = [parameter.name for parameter in operation.path_parameters]
        if not names or "z" in names:
            return None
        index = OPERATIONS.index(operation)
        kind = names[0] if names[0] != "record_id" else operation.path.split("/{")[0]
        values: dict[str, Any] = {names[0]: self.keys[kind][index]}
        if names[0] == "record_id":
            values["record_id"] = int(values["record_id"])
        if "event_id" in names:
            history = self._get(f"/api/parcels/{quote(values['parcel_id'])}/history")
            values["event_id"] = history.get_json()["history"][0]["event_id"]
        return values

    def current_etag(self, operation: Any, case: schemathesis.Case) -> str | None:
        """The ETag of the record `case` edits, so its body meets the validators, not a 412."""
        path = operation.path.split("/history/")[0].format(
            **{name: quote(str(value), safe="") for name, value in case.path_parameters.items()}
        )
        response = self._get(path)
        return response.headers.get("ETag") if response.status_code == 200 else None


@pytest.fixture(scope="module")
def fuzzed(template_url: str) -> Iterator[FuzzedApp]:
    with sample_app(template_url) as app:
        SCHEMA.app = app  # calls go straight to the WSGI app, checks that re-send too
        for operation in OPERATIONS:
            operation.app = app
        login = LoginHelper()
        yield FuzzedApp(
            app,
            login.token(app, "fuzz-editor@city.example", "editor"),
            login.token(app, "fuzz-finance@city.example", "finance"),
        )
    report = os.environ.get("REGISTRY_FUZZ_REPORT")
    if report:
        with open(report, "w") as file:
            json.dump({label: dict(counts) for label, counts in COUNTS.items()}, file, indent=1)


def _example_keys(document: dict[str, Any]) -> dict[str, Any]:
    """The path parameters the document gives examples of (records of the sample)."""
    return {
        parameter["name"]: parameter["example"]
        for item in document["paths"].values()
        for parameter in item.get("parameters", ())
        if "example" in parameter
    }


def _send_examples(fuzzed: FuzzedApp, operation: Any, counts: collections.Counter[str]) -> None:
    """The document's example body of `operation`, sent once: it must be accepted (2xx)."""
    spec = DOCUMENT["paths"][operation.path][operation.method.lower()]
    content = spec.get("requestBody", {}).get("content", {})
    examples = [(media, body["example"]) for media, body in content.items() if "example" in body]
    for media_type, example in examples[:1]:
        keys = _example_keys(DOCUMENT)
        names = [parameter.name for parameter in operation.path_parameters]
        case = operation.Case(
            body=example,
            media_type=media_type,
            path_parameters={name: keys[name] for name in names},
        )
        response = case.call_and_validate(
            headers=fuzzed.headers(operation.path), excluded_checks=POSITIVE_EXCLUDED
        )
        assert 200 <= response.status_code < 300, (operation.label, response.text)
        counts[str(response.status_code)] += 1


def _strategy(fuzzed: FuzzedApp, operation: Any, mode: GenerationMode) -> Any:
    """Positive cases half on records that exist (so writes reach the validators), half on
    generated keys; negative cases as generated."""
    generated = operation.as_strategy(generation_mode=mode)
    existing = fuzzed.existing(operation)
    if mode is GenerationMode.NEGATIVE or existing is None:
        return generated
    return one_of(operation.as_strategy(generation_mode=mode, path_parameters=existing), generated)


def _run(fuzzed: FuzzedApp, operation: Any, mode: GenerationMode) -> None:
    headers = fuzzed.headers(operation.path)
    edits = any(parameter.name == "If-Match" for parameter in operation.headers)
    counts = COUNTS[f"{operation.label} {mode.value}"]
    checks: dict[str, Any] = (
        {"excluded_checks": POSITIVE_EXCLUDED}
        if mode is GenerationMode.POSITIVE
        else {"checks": NEGATIVE_CHECKS}
    )

    if mode is GenerationMode.POSITIVE:
        _send_examples(fuzzed, operation, counts)

    @settings(
        max_examples=EXPORT_EXAMPLES if operation.path in EXPORTS else EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(fuzzed, operation, mode))
    def call(case: schemathesis.Case) -> None:
        if edits and mode is GenerationMode.POSITIVE:
            etag = fuzzed.current_etag(operation, case)
            if etag:
                case.headers = CaseInsensitiveDict({**dict(case.headers or {}), "If-Match": etag})
        response = case.call_and_validate(headers=headers, **checks)
        counts[str(response.status_code)] += 1

    call()


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_the_api_answers_data_its_document_allows_as_documented(
    fuzzed: FuzzedApp, operation: Any
) -> None:
    _run(fuzzed, operation, GenerationMode.POSITIVE)


@pytest.mark.parametrize("operation", REFUSABLE, ids=[op.label for op in REFUSABLE])
def test_the_api_refuses_data_its_document_forbids_without_a_server_error(
    fuzzed: FuzzedApp, operation: Any
) -> None:
    _run(fuzzed, operation, GenerationMode.NEGATIVE)
