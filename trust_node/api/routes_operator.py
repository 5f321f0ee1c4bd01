"""Operator-only routes (``/operator``): tenants and the accountability register.

Reached only with the operator token; a tenant token gets 403 here.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from governance.accountability import AccountabilityRegister
from trust_node.api import schemas as s
from trust_node.api.deps import Operator, Services
from trust_node.api.problems import PROBLEM_RESPONSES
from trust_node.tenants import TenantInfo

router = APIRouter(prefix="/operator", responses=PROBLEM_RESPONSES)
NDJSON = "application/x-ndjson"


def _tenant(t: TenantInfo) -> s.Tenant:
    return s.Tenant(
        tenant_id=t.tenant_id, created_at=t.created_at, revoked_at=t.revoked_at, active=t.active
    )


@router.get("/tenants", response_model=list[s.Tenant])
def list_tenants(_: Operator, svc: Services) -> list[s.Tenant]:
    """Every tenant this node has had, revoked ones included, so none vanishes silently."""
    return [_tenant(t) for t in svc.registry.list()]


@router.post("/tenants", status_code=201, response_model=s.IssuedToken)
def add_tenant(body: s.TenantIn, _: Operator, svc: Services) -> s.IssuedToken:
    """Create a tenant; its token is shown once here and stored only as a digest."""
    issued = svc.registry.add(body.name)
    return s.IssuedToken(tenant_id=body.name, token=issued.token)


@router.post("/tenants/{name}/rotate", response_model=s.IssuedToken)
def rotate_tenant(name: str, _: Operator, svc: Services) -> s.IssuedToken:
    """Issue a new token for a tenant; the old one stops working at once."""
    return s.IssuedToken(tenant_id=name, token=svc.registry.rotate(name).token)


@router.post("/tenants/{name}/revoke", response_model=s.Tenant)
def revoke_tenant(name: str, _: Operator, svc: Services) -> s.Tenant:
    """Revoke a tenant: its token is refused from now on; its records stay stored."""
    return _tenant(svc.registry.revoke(name))


@router.get(
    "/register",
    response_class=PlainTextResponse,
    responses={200: {"content": {NDJSON: {"schema": {"type": "string"}}}}},
)
def export_register(_: Operator, svc: Services) -> PlainTextResponse:
    """The accountability register as JSON lines (verify with ``gcdt-audit verify-register``)."""
    body = "".join(AccountabilityRegister(svc.repository.engine).export_jsonl())
    return PlainTextResponse(body, media_type=NDJSON)


@router.get(
    "/consent-log",
    response_class=PlainTextResponse,
    responses={200: {"content": {NDJSON: {"schema": {"type": "string"}}}}},
)
def export_consent_log(_: Operator, svc: Services) -> PlainTextResponse:
    """Every consent change of every tenant as JSON lines (a verifiable hash chain)."""
    import json

    body = "".join(json.dumps(e, sort_keys=True) + "\n" for e in svc.consent.export())
    return PlainTextResponse(body, media_type=NDJSON)
