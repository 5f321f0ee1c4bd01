"""Hosted tenants: names, hashed API tokens, consent scopes and the consent log.

Other parts select records for training and statistics only through
:func:`consented_records` (invariant 7).
"""

from trust_node.tenants.consent import (
    OPERATOR_DEFAULT_SCOPES,
    ConsentEntry,
    ConsentLog,
    consented_records,
    verify_consent_log,
)
from trust_node.tenants.errors import (
    AuthenticationError,
    ChainError,
    ConsentError,
    TenantError,
    TenantExistsError,
    UnknownTenantError,
)
from trust_node.tenants.registry import (
    IssuedToken,
    Principal,
    TenantInfo,
    TenantRegistry,
)

__all__ = [
    "OPERATOR_DEFAULT_SCOPES",
    "AuthenticationError",
    "ChainError",
    "ConsentEntry",
    "ConsentError",
    "ConsentLog",
    "IssuedToken",
    "Principal",
    "TenantError",
    "TenantExistsError",
    "TenantInfo",
    "TenantRegistry",
    "UnknownTenantError",
    "consented_records",
    "verify_consent_log",
]
