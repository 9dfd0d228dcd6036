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

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import Phase
from hypothesis import given
from hypothesis import settings
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
SCHEMA = schemathesis.openapi.from_dict(api_document())
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


class FuzzedApp:
    def __init__(self, app: Flask, editor: str, finance: str) -> None:
        self.app, self.editor, self.finance = app, editor, finance

    def headers(self, path: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.finance if path in EXPORTS else self.editor}"}


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


def _run(fuzzed: FuzzedApp, operation: Any, mode: GenerationMode) -> None:
    headers = fuzzed.headers(operation.path)
    counts = COUNTS[f"{operation.label} {mode.value}"]
    checks: dict[str, Any] = (
        {"excluded_checks": POSITIVE_EXCLUDED}
        if mode is GenerationMode.POSITIVE
        else {"checks": NEGATIVE_CHECKS}
    )

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: schemathesis.Case) -> None:
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
