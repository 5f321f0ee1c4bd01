"""This node as a witness of the coordinator's log (``governance.translog.witness``).

The witness key is the node's own, separate from its identity key: tlog-cosignature
requires a distinct Ed25519 key per cosigner, and a cosignature key must never sign
anything else. It is created on first use under ``<home>/witness/`` (0600), named
``gcdt-witness/<node id>``; the state of the log this node witnessed lives beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from governance.identity import write_secret
from governance.translog.note import SIG_COSIGNATURE_V1, NoteSigner, VerifierKey
from governance.translog.witness import Witness

KEY_PREFIX = "gcdt-witness/"


def witness_dir(home: Path) -> Path:
    """Where the witness key and the witnessed-log state live in a node home."""
    return home / "witness"


def witness_signer(home: Path, node_id: str) -> NoteSigner:
    """The node's cosigning key, created (0600) the first time it is needed."""
    path = witness_dir(home) / "witness.key"
    if path.exists():
        key = Ed25519PrivateKey.from_private_bytes(path.read_bytes())
    else:
        key = Ed25519PrivateKey.generate()
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        write_secret(path, raw)
    return NoteSigner(KEY_PREFIX + node_id, key, SIG_COSIGNATURE_V1)


def node_witness(home: Path, node_id: str, logs: Sequence[VerifierKey]) -> Witness:
    """The witness over ``logs`` (the log keys this node's operator pinned)."""
    return Witness(witness_dir(home) / "state", witness_signer(home, node_id), logs)


__all__ = ["node_witness", "witness_dir", "witness_signer"]
