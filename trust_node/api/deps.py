"""Every dependency of the routes, in one place: services, the caller, their tenant.

The services are the node's own parts, taken from its composition root
(:class:`~trust_node.context.NodeContext`), so the API shares the CLI's engine and store.
Routes never read a tenant id from the request: the tenant is the one the bearer token
belongs to, so every query a route makes is scoped by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from trust_node.api.problems import ApiProblem, unauthorized
from trust_node.api.settings import NodeApiSettings
from trust_node.context import NodeContext
from trust_node.estimates import EstimateService
from trust_node.store import SqlRecordRepository
from trust_node.tenants import AuthenticationError, ConsentLog, Principal, TenantRegistry


@dataclass(frozen=True)
class NodeServices:
    settings: NodeApiSettings
    repository: SqlRecordRepository
    registry: TenantRegistry
    consent: ConsentLog
    estimates: EstimateService

    @classmethod
    def open(cls, settings: NodeApiSettings) -> NodeServices:
        node = NodeContext(settings)
        return cls(
            settings=settings,
            repository=node.repository,
            registry=node.tenants,
            consent=node.consent,
            estimates=EstimateService(node.repository, settings),
        )


bearer = HTTPBearer(auto_error=False, description="Tenant or operator API token.")


def services(request: Request) -> NodeServices:
    """The node's services ``create_app`` opened: routes share the CLI's engine and store."""
    svc: NodeServices = request.app.state.services
    return svc


Services = Annotated[NodeServices, Depends(services)]


def principal(
    svc: Services,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """Who the bearer token belongs to; a missing, non-bearer or unknown token is a 401 problem
    with the RFC 6750 challenge, never an anonymous caller.
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized()
    try:
        return svc.registry.authenticate(credentials.credentials)
    except AuthenticationError:
        raise unauthorized() from None


def tenant_id(who: Annotated[Principal, Depends(principal)]) -> str:
    """The caller's tenant; the operator token does not reach tenant routes."""
    if who.role != "tenant" or who.tenant_id is None:
        raise ApiProblem(403, "Forbidden", "tenant routes need a tenant token")
    return who.tenant_id


def operator(who: Annotated[Principal, Depends(principal)]) -> Principal:
    """The caller, only with the operator token: a tenant token gets 403 on operator routes."""
    if who.role != "operator":
        raise ApiProblem(403, "Forbidden", "operator routes need the operator token")
    return who


TenantId = Annotated[str, Depends(tenant_id)]
Operator = Annotated[Principal, Depends(operator)]
