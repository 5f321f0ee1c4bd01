"""Errors of tenants, tokens and consent (all are :class:`trust_node.errors.NodeError`).

- ``TenantError``: base of this package's errors.
  - ``TenantExistsError``: ``tenant add`` with a name already taken (or reserved).
  - ``UnknownTenantError``: no such tenant (or it is revoked, where that matters).
  - ``AuthenticationError``: a token that is missing, unknown, rotated away or revoked.
  - ``ConsentError``: an invalid consent scope.
  - ``ChainError``: a hash-chained log (consent log, accountability register) does not verify.
"""

from __future__ import annotations

from trust_node.errors import NodeError


class TenantError(NodeError):
    """Base of tenant, token and consent errors."""


class TenantExistsError(TenantError):
    """The tenant name is taken or reserved."""


class UnknownTenantError(TenantError):
    """No active tenant by that name."""


class AuthenticationError(TenantError):
    """The presented token does not authenticate anyone (deliberately not saying why)."""


class ConsentError(TenantError):
    """A consent scope outside ``governance.policy.CONSENT_SCOPES``."""


class ChainError(TenantError):
    """A hash-chained log was altered: ``.index`` is the first entry that does not verify."""

    def __init__(self, what: str, index: int, reason: str) -> None:
        self.index = index
        super().__init__(f"{what}: entry {index} does not verify: {reason}")
