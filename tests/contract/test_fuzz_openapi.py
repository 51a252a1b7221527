"""Contract fuzzing: Schemathesis drives the app's own /openapi.json, in process, against the local cloud.

With an admin token every schemathesis check holds: no 5xx, only declared statuses, headers and shapes,
schema-valid requests accepted and schema-violating ones refused, Allow on a 405; without one every
protected operation answers 401. A fixed seed and a bounded number of examples keep the run reproducible.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, seed, settings
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from app.api.main import create_app
from app.settings import Settings
from infra.local.template import Stack
from tests.support.tokens import Signer

# The container is looked up per request (get_container), so one app serves every test's fresh stack.
APP = create_app(Settings())
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations() if isinstance(result, Ok)]
PUBLIC = {"/health"}
EXAMPLES = 15
# Every check schemathesis has, both ways (ST201 schema-violating requests accepted, ST202 schema-valid ones
# refused, headers, statuses), but "ignored auth": this test sends its admin token itself, and the test below
# holds every protected operation to a 401 without one.
EXCLUDED = [ignored_auth]


def _beyond_a_schema(case: schemathesis.Case[Any]) -> bool:
    """A request whose refusal no schema can foretell (each a declared 400 or 422 with its reason).

    A cursor is valid only when this API signed it, an If-Match only when it names the current version, a
    date range's limit relates two parameters, and an order's products must be in the catalog, each once.
    """
    beyond = {("GET", "/analytics/daily"), ("POST", "/orders")}
    given = {name.lower() for name in (case.headers or {})}
    return (
        bool((case.query or {}).get("cursor"))
        or "if-match" in given
        or (case.method.upper(), case.operation.path) in beyond
    )


def validate(case: schemathesis.Case[Any], headers: dict[str, str]) -> None:
    """Every check; "schema-valid data is accepted" except where only the API can tell (_beyond_a_schema)."""
    excluded = [*EXCLUDED, positive_data_acceptance] if _beyond_a_schema(case) else EXCLUDED
    case.call_and_validate(headers=headers, excluded_checks=excluded)


def fuzz(operation: Any, headers: dict[str, str], check: Any) -> None:
    """Run `check(case)` on a bounded, seeded set of generated requests of one operation."""

    @seed(8)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case: schemathesis.Case[Any]) -> None:
        check(case, headers)

    run()


def label(operation: Any) -> str:
    return f"{operation.method.upper()} {operation.path}"


def seed_minimal_ids(admin: dict[str, str]) -> None:
    """Hypothesis shrinks ids towards "0": give that user and product real records, so 2xx paths get fuzzed too."""
    with TestClient(APP) as client:
        assert client.put("/products/0", json={"name": "Zero", "price": 100}, headers=admin).status_code == 200
        assert client.post("/products/0/restock", json={"quantity": 1000}, headers=admin).status_code == 200
        user = {"id": "0", "name": "Zero", "email": "zero@example.com"}
        assert client.post("/users", json=user, headers=admin).status_code == 201


@pytest.mark.parametrize("operation", OPERATIONS, ids=label)
def test_admin_requests_get_no_5xx_and_documented_shapes(operation: Any, stack: Stack, auth: Signer) -> None:
    seed_minimal_ids(auth.admin())
    fuzz(operation, auth.admin(), validate)


@pytest.mark.parametrize("operation", [o for o in OPERATIONS if o.path not in PUBLIC], ids=label)
def test_protected_operations_answer_401_without_a_token(operation: Any, stack: Stack) -> None:
    def unauthenticated(case: schemathesis.Case[Any], headers: dict[str, str]) -> None:
        response = case.call()
        assert response.status_code == 401, (label(operation), response.status_code, response.text[:300])
        assert response.headers["www-authenticate"][0].startswith("Bearer")

    fuzz(operation, {}, unauthenticated)
