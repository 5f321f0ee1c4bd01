"""What the coordinator's ServerApp trusts, read from the coordinator store (never from files).

The trust protocol (``coordinator/enrolment.py``, ``gcdt-coordinator enrol``; the key
ceremony uploaded by a node with ``gcdt-node key-ceremony``) fills
:class:`coordinator.store.CoordinatorStore`: the enrolled nodes with their Ed25519
identity keys and key-holder flags, and the public context releases signed by the node
that ran the ceremony. Federation reads the same rows, so a node revoked there is out of
training too, and there is one way to set a federation up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from coordinator import membership
from coordinator.federation.errors import FederationConfigError
from coordinator.store import CoordinatorError, CoordinatorStore
from governance.ckks import CkksError, CkksKey
from governance.policy.models import TrustPolicy


@dataclass(frozen=True)
class TrustKeys:
    """The public context of a run and the identity keys that may speak in it."""

    public_key: CkksKey
    key_holders: Mapping[str, bytes]  # active key-holder node id -> identity public key
    nodes: Mapping[str, bytes]  # every active enrolled node id -> identity public key


def load_public_key(
    store: CoordinatorStore, policy: TrustPolicy, key_id: str | None = None
) -> CkksKey:
    """The public CKKS context (latest, or ``key_id``), checked against the trust policy.

    A holder of its group named by the member-signed policy must have made it, sealed to
    the group's active holders (:func:`coordinator.membership.public_key`); the loaded
    context refuses a secret key (``governance.ckks.load_public_context``).
    """
    try:
        return membership.public_key(store, policy, key_id)
    except CoordinatorError as exc:
        raise FederationConfigError(
            f"no usable public CKKS context: {exc} (run `gcdt-node key-ceremony` on a "
            "key-holding node first)"
        ) from exc
    except CkksError as exc:
        raise FederationConfigError(f"public context refused: {exc}") from exc


def load_trust_keys(
    store: CoordinatorStore, policy: TrustPolicy, key_id: str | None = None
) -> TrustKeys:
    """Everything the round loop checks signatures and ciphertexts against."""
    keys = TrustKeys(
        public_key=load_public_key(store, policy, key_id),
        key_holders={
            n: r.identity_public_key for n, r in membership.key_holders(policy, store).items()
        },
        nodes={n: r.identity_public_key for n, r in membership.members(policy, store).items()},
    )
    if not keys.key_holders:
        raise FederationConfigError("no active key holder is enrolled; nothing could attest")
    return keys
