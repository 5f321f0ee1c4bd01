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

from coordinator.federation.errors import FederationConfigError
from coordinator.store import CoordinatorError, CoordinatorStore
from governance.ckks import CkksError, CkksKey, open_public_release


@dataclass(frozen=True)
class TrustKeys:
    """The public context of a run and the identity keys that may speak in it."""

    public_key: CkksKey
    key_holders: Mapping[str, bytes]  # active key-holder node id -> identity public key
    nodes: Mapping[str, bytes]  # every active enrolled node id -> identity public key


def load_public_key(store: CoordinatorStore, key_id: str | None = None) -> CkksKey:
    """The public CKKS context (latest, or ``key_id``), verified against the ceremony node.

    The release must be signed by the identity key the ceremony node enrolled with; the
    loaded context refuses a secret key (``governance.ckks.load_public_context``).
    """
    try:
        release = store.public_release(key_id)
        ceremony = store.node(release.ceremony_id)
    except CoordinatorError as exc:
        raise FederationConfigError(
            f"no usable public CKKS context: {exc} (run `gcdt-node key-ceremony` on a "
            "key-holding node first)"
        ) from exc
    try:
        return open_public_release(release, ceremony_public_key=ceremony.identity_public_key)
    except CkksError as exc:
        raise FederationConfigError(f"public context {release.key_id} refused: {exc}") from exc


def load_trust_keys(store: CoordinatorStore, key_id: str | None = None) -> TrustKeys:
    """Everything the round loop checks signatures and ciphertexts against."""
    keys = TrustKeys(
        public_key=load_public_key(store, key_id),
        key_holders=store.identity_keys(key_holders_only=True),
        nodes=store.identity_keys(),
    )
    if not keys.key_holders:
        raise FederationConfigError("no active key holder is enrolled; nothing could attest")
    return keys
