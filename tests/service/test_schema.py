"""Property-based requests generated from the OpenAPI schema: whatever the body, query or
path, the service never answers 5xx (bounded number of examples per operation)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.service.conftest import Service, cancel_active_jobs


@pytest.fixture()
def api_schema(service: Service) -> Iterator[object]:
    yield schemathesis.openapi.from_asgi("/openapi.json", service.app)
    cancel_active_jobs(service)  # fuzzed plan jobs may ask for minutes of solving


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case, service: Service) -> None:
    response = case.call(headers=service.h("centre"))
    assert response.status_code < 500, (case.method, case.formatted_path, response.text)
    if response.status_code >= 400:
        kind = response.headers.get("content-type") or [""]
        kind = kind[0] if isinstance(kind, list) else kind
        assert kind.startswith("application/problem+json"), (response.status_code, kind)
