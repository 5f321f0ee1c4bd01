"""The node API application: ``create_app(settings)``; ``gcdt-node serve`` runs it with uvicorn."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from trust_node.api import problems, routes_operator, routes_tenant
from trust_node.api import schemas as s
from trust_node.api.deps import NodeServices
from trust_node.api.settings import NodeApiSettings, load_api_settings

DESCRIPTION = """
The API of a Global Carbon Data Trust node. Hosted tenants (SMEs) upload their facility
records, read their Tier-1 baseline, the open models' estimate with its interval, the
corrected figure of a declared value, their specific embedded emissions and the CBAM
default value beside it, export PACT footprints and a CBAM summary, and set consent.

Authenticate with `Authorization: Bearer <token>` (a tenant token from
`gcdt-node tenant add`, or the operator token for `/operator/...`). Every tenant route is
scoped to the token's tenant. Errors are RFC 9457 problem details.
"""


def create_app(settings: NodeApiSettings | None = None) -> FastAPI:
    """The node API over one node home; the CLI's ``serve`` and the tests build the same app."""
    settings = settings or load_api_settings()
    app = FastAPI(title="GCDT node API", version="1", description=DESCRIPTION)
    app.state.services = NodeServices.open(settings)
    problems.install(app)
    app.include_router(routes_tenant.router, tags=["tenant"])
    app.include_router(routes_operator.router, tags=["operator"])

    @app.get("/health", response_model=s.Health, tags=["health"])
    def health() -> s.Health:
        return s.Health(status="ok")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                s.ProblemDetails.model_json_schema()
            )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
