"""Schemathesis against the node's OpenAPI spec (bounded examples): no server error.

Runs in-process over ASGI, authenticated as a tenant that holds records, so generated
requests reach the real routes, services and store. Each operation of the spec gets its
own bounded Hypothesis run (schemathesis strategies; the pytest plugin of schemathesis
is not used because it does not load under this pytest version).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from trust_node.api import create_app, load_api_settings
from trust_node.generate import generate

EXAMPLES_PER_OPERATION = 8


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, str]]:
    home: Path = tmp_path_factory.mktemp("schemathesis") / "home"
    app = create_app(load_api_settings(home=home, max_upload_bytes=100_000))
    svc = app.state.services
    tokens = {
        "tenant": svc.registry.add("acme").token,
        "operator": svc.registry.issue_operator_token().token,
    }
    records = generate(["IN"], records=3, seed=5).records
    svc.repository.add_batch("acme", records, source="seed.csv", sha256="0" * 64)
    return schemathesis.openapi.from_asgi("/openapi.json", app), tokens


def _fuzz(schema: Any, token: str, prefix: str) -> list[str]:
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith(prefix):
            continue
        tried.append(f"{operation.method.upper()} {operation.path}")

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case[Any]) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            case.validate_response(response, checks=[not_a_server_error])
            assert response.status_code < 500, (case.path, response.text)

        run()
    return tried


def test_tenant_routes_never_answer_a_server_error(api: tuple[Any, dict[str, str]]) -> None:
    schema, tokens = api
    tried = _fuzz(schema, tokens["tenant"], "/v1")
    assert "POST /v1/records" in tried and "GET /v1/records/{record_id}/estimate" in tried


def test_operator_routes_never_answer_a_server_error(api: tuple[Any, dict[str, str]]) -> None:
    schema, tokens = api
    assert "GET /operator/register" in _fuzz(schema, tokens["operator"], "/operator")
