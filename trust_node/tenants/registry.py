"""Tenants and their tokens: add, rotate, revoke, list, authenticate.

A tenant is a name on a hosted node (``record`` rows carry it as ``tenant_id``). Each
tenant has at most one live token; rotating revokes the old one at once, revoking a
tenant revokes its token and refuses new ones. The operator authenticates with its own
token (role ``operator``), made at first ``gcdt-node serve`` or by
``gcdt-node operator-token``; it is not a tenant and reaches only ``/operator/...``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select, update

from open_models.contract import ID_PATTERN
from trust_node.store import OPERATOR_TENANT
from trust_node.tenants.chain import utc
from trust_node.tenants.consent import ConsentLog
from trust_node.tenants.errors import (
    AuthenticationError,
    TenantError,
    TenantExistsError,
    UnknownTenantError,
)
from trust_node.tenants.tables import TokenRevocation, api_tokens, tenants
from trust_node.tenants.tokens import Role, digests_equal, new_token, token_digest

#: Names a hosted tenant may not take: the operator's own records use ``operator``.
RESERVED_NAMES = frozenset({OPERATOR_TENANT})
#: Who the consent log names for the withdrawal a tenant revocation makes.
REVOCATION_ACTOR = "operator:revoke"


@dataclass(frozen=True)
class Principal:
    """Who a request is: a tenant (``tenant_id`` set) or the operator."""

    role: Role
    tenant_id: str | None

    @property
    def name(self) -> str:
        return self.tenant_id if self.tenant_id is not None else OPERATOR_TENANT


@dataclass(frozen=True)
class TenantInfo:
    tenant_id: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class IssuedToken:
    """A freshly issued token: the only time the plain token exists outside its holder."""

    tenant_id: str | None
    role: Role
    token: str


def check_tenant_name(name: str) -> str:
    """The name if it can be an identifier everywhere it travels; TenantError otherwise."""
    if not re.fullmatch(ID_PATTERN, name):
        raise TenantError(f"invalid tenant name {name!r}: 1-128 letters, digits or '-_.:'")
    return name


class TenantRegistry:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- tenants --------------------------------------------------------------------
    def add(self, name: str) -> IssuedToken:
        check_tenant_name(name)
        if name in RESERVED_NAMES:
            raise TenantExistsError(f"tenant name {name!r} is reserved for the node operator")
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            exists = conn.execute(
                select(tenants.c.tenant_id).where(tenants.c.tenant_id == name)
            ).first()
            if exists is not None:
                raise TenantExistsError(f"tenant {name!r} already exists")
            conn.execute(tenants.insert(), {"tenant_id": name, "created_at": now})
            token = new_token("tenant")
            conn.execute(
                api_tokens.insert(),
                {
                    "token_hash": token_digest(token),
                    "role": "tenant",
                    "tenant_id": name,
                    "created_at": now,
                },
            )
        return IssuedToken(name, "tenant", token)

    def rotate(self, name: str) -> IssuedToken:
        """Issue a new token for an active tenant; the old one stops working now."""
        now = datetime.now(UTC)
        with self.engine.begin() as conn:
            self._require_active(conn, name)
            conn.execute(
                update(api_tokens)
                .where(api_tokens.c.tenant_id == name, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now, revoked_reason=TokenRevocation.ROTATED)
            )
            token = new_token("tenant")
            conn.execute(
                api_tokens.insert(),
                {
                    "token_hash": token_digest(token),
                    "role": "tenant",
                    "tenant_id": name,
                    "created_at": now,
                },
            )
        return IssuedToken(name, "tenant", token)

    def revoke(self, name: str) -> TenantInfo:
        """Revoke a tenant: its token is refused from now on. Its records stay stored.

        Consent follows the tenant (issue 14): the revocation first appends a withdrawal of
        every scope to the consent log, so no round starting after it uses the tenant's
        records, although the tenant can no longer log in to withdraw itself.
        """
        now = datetime.now(UTC)
        with self.engine.connect() as conn:
            self._require_active(conn, name)
        ConsentLog(self.engine).set(name, (), actor=REVOCATION_ACTOR, at=now)
        with self.engine.begin() as conn:
            self._require_active(conn, name)
            conn.execute(update(tenants).where(tenants.c.tenant_id == name).values(revoked_at=now))
            conn.execute(
                update(api_tokens)
                .where(api_tokens.c.tenant_id == name, api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now, revoked_reason=TokenRevocation.REVOKED)
            )
        return self.get(name)

    def get(self, name: str) -> TenantInfo:
        with self.engine.connect() as conn:
            row = conn.execute(select(tenants).where(tenants.c.tenant_id == name)).first()
        if row is None:
            raise UnknownTenantError(f"no tenant {name!r}")
        return _info(row)

    def list(self) -> list[TenantInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(tenants).order_by(tenants.c.tenant_id)).all()
        return [_info(r) for r in rows]

    def _require_active(self, conn: object, name: str) -> None:
        row = conn.execute(  # type: ignore[attr-defined]
            select(tenants.c.revoked_at).where(tenants.c.tenant_id == name)
        ).first()
        if row is None:
            raise UnknownTenantError(f"no tenant {name!r}")
        if row.revoked_at is not None:
            raise UnknownTenantError(f"tenant {name!r} is revoked")

    # -- operator -------------------------------------------------------------------
    def has_operator_token(self) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(api_tokens.c.token_hash)
                .where(api_tokens.c.role == "operator", api_tokens.c.revoked_at.is_(None))
                .limit(1)
            ).first()
        return row is not None

    def issue_operator_token(self) -> IssuedToken:
        """A new operator token; any earlier operator token stops working."""
        now = datetime.now(UTC)
        token = new_token("operator")
        with self.engine.begin() as conn:
            conn.execute(
                update(api_tokens)
                .where(api_tokens.c.role == "operator", api_tokens.c.revoked_at.is_(None))
                .values(revoked_at=now, revoked_reason=TokenRevocation.ROTATED)
            )
            conn.execute(
                api_tokens.insert(),
                {
                    "token_hash": token_digest(token),
                    "role": "operator",
                    "tenant_id": None,
                    "created_at": now,
                },
            )
        return IssuedToken(None, "operator", token)

    # -- authentication -------------------------------------------------------------
    def authenticate(self, token: str) -> Principal:
        digest = token_digest(token)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    api_tokens.c.token_hash,
                    api_tokens.c.role,
                    api_tokens.c.tenant_id,
                    api_tokens.c.revoked_at,
                    tenants.c.revoked_at.label("tenant_revoked"),
                )
                .select_from(
                    api_tokens.outerjoin(tenants, api_tokens.c.tenant_id == tenants.c.tenant_id)
                )
                .where(api_tokens.c.token_hash == digest)
            ).first()
        if (
            row is None
            or not digests_equal(row.token_hash, digest)
            or row.revoked_at is not None
            or row.tenant_revoked is not None
        ):
            raise AuthenticationError("invalid, rotated or revoked token")
        return Principal(role=row.role, tenant_id=row.tenant_id)


def _info(row: object) -> TenantInfo:
    revoked = row.revoked_at  # type: ignore[attr-defined]
    return TenantInfo(
        tenant_id=row.tenant_id,  # type: ignore[attr-defined]
        created_at=utc(row.created_at),  # type: ignore[attr-defined]
        revoked_at=None if revoked is None else utc(revoked),
    )
