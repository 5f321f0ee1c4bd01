"""Signed, versioned policies: what may leave a node, privacy budgets, consent, thresholds."""

from governance.policy.files import (
    default_node_policy,
    default_trust_policy,
    load_policy,
    parse_policy,
    policy_to_toml,
    sign_policy,
    signature_path,
    write_policy,
)
from governance.policy.models import (
    CONSENT_SCOPES,
    OUTBOUND_KINDS,
    Consent,
    DatasetBudget,
    DataSovereignty,
    NodePolicy,
    Policy,
    PrivacyBudget,
    PublicationThresholds,
    TrustPolicy,
    current_accounting_period,
    node_within_trust,
)

__all__ = [
    "CONSENT_SCOPES",
    "OUTBOUND_KINDS",
    "Consent",
    "DataSovereignty",
    "DatasetBudget",
    "NodePolicy",
    "Policy",
    "PrivacyBudget",
    "PublicationThresholds",
    "TrustPolicy",
    "current_accounting_period",
    "default_node_policy",
    "default_trust_policy",
    "load_policy",
    "node_within_trust",
    "parse_policy",
    "policy_to_toml",
    "sign_policy",
    "signature_path",
    "write_policy",
]
