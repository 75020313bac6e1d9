"""schemathesis against the OpenAPI 3.1 spec, as several roles and anonymously: no 5xx, every
response conforms to the spec (status codes, content types, schemas), auth never ignored
(``ignored_auth``), invalid data rejected (``negative_data_rejection``)."""

from __future__ import annotations

import pytest
import schemathesis
from api_world import World, incident
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

# Schema-valid bodies may still be refused on meaning (unknown organisation names, a time
# outside 1900-2200, a role that may not act): a 422/403 there is correct, not a finding.
SEMANTIC = [positive_data_acceptance]
ROLES = ("reporter-org-a", "planner-org-b", "commander-org-a", "admin-org-c", "oversight-board")


@pytest.fixture(scope="module")
def api_schema(shared_world: World) -> schemathesis.BaseSchema:
    w = shared_world
    for tlp in ("GREEN", "AMBER", "RED"):  # some records to find
        w.post("reporter-org-a", "/api/v1/incidents", incident(tlp))
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", w.client.app)


def _run(case: schemathesis.Case, w: World, users: tuple[str | None, ...]) -> None:
    for user in users:
        headers = w.h(user)
        response = case.call(headers=headers)
        assert response.status_code < 500, (user, case.method, case.path, response.text)
        case.validate_response(
            response, headers=headers, additional_checks=[ignored_auth], excluded_checks=SEMANTIC
        )


def fuzz(
    api_schema: schemathesis.BaseSchema, w: World, examples: int, users: tuple[str | None, ...]
) -> int:
    """Run ``examples`` generated cases per operation as every role; returns the operations."""
    n = 0
    for result in api_schema.get_all_operations():
        op = result.ok()

        @given(case=op.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            _run(case, w, users)

        run()
        n += 1
    return n


def test_openapi_conformance(api_schema: schemathesis.BaseSchema, shared_world: World) -> None:
    assert fuzz(api_schema, shared_world, 4, ("reporter-org-a", "oversight-board", None)) >= 20


@pytest.mark.slow
def test_openapi_conformance_slow(api_schema: schemathesis.BaseSchema, shared_world: World) -> None:
    assert fuzz(api_schema, shared_world, 120, (*ROLES, None)) >= 20
