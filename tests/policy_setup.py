"""A founded trust policy for tests that build a coordinator from its store and log alone.

Such tests register nodes straight in the store; the auditors' tools count as key holders
only those of the member-signed policy the log names (``governance.policy.logged``), so
the test founds one the way ``gcdt-coordinator policy apply`` does: version 1 signed by
every member, logged by ``coordinator.membership.log_version``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from coordinator.membership import log_version
from governance.identity import Identity
from governance.policy import default_trust_policy, parse_policy
from governance.policy.models import TrustPolicy
from governance.policy.trust_chain import TrustPolicyChain, sign_trust_policy
from governance.translog import TransparencyLog


def founded_policy(
    members: Mapping[str, Identity],
    holders: Sequence[str],
    *,
    jurisdictions: Mapping[str, str] | None = None,
    transport_keys: Mapping[str, bytes] | None = None,
) -> TrustPolicyChain:
    """Version 1 naming ``members`` (one key group ``g1`` of ``holders``), all signing."""
    data = {
        **default_trust_policy().model_dump(mode="json", exclude_none=True),
        "members": [
            {
                "node_id": n,
                "jurisdiction": (jurisdictions or {}).get(n, "IN"),
                "identity_public_key": ident.public_key.hex(),
                "transport_public_key": (transport_keys or {}).get(n, bytes(32)).hex(),
            }
            for n, ident in members.items()
        ],
        "key_groups": [{"group": "g1", "holders": list(holders)}],
    }
    policy = parse_policy(data, "trust")
    assert isinstance(policy, TrustPolicy)
    return TrustPolicyChain.found(policy, [sign_trust_policy(policy, i) for i in members.values()])


def log_founded_policy(
    log: TransparencyLog,
    members: Mapping[str, Identity],
    holders: Sequence[str],
    **options: Mapping[str, str] | Mapping[str, bytes],
) -> None:
    """Found (see :func:`founded_policy`) and log it as the coordinator does."""
    log_version(log, founded_policy(members, holders, **options))  # type: ignore[arg-type]
