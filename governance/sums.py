"""What names the exact list of signed submissions inside one decrypted sum.

A decryption request lists the submissions whose ciphertexts the coordinator added up
(contributor, ciphertext digest, the submission's signed envelope). The key holder that
decrypts the sum signs :func:`submissions_digest` of that list in its attestation, and
the coordinator recomputes it from the submissions it stored, so an attestation says not
only *which ciphertext* was decrypted but *whose submissions* it was the sum of.

Shared by the node (``trust_node.attestation``) and the coordinator, which never import
each other.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from governance.envelope import Envelope


@dataclass(frozen=True)
class SubmissionRef:
    """One submission in a sum: who, which ciphertext, which signed envelope."""

    node_id: str
    ciphertext_digest: str
    envelope_digest: str


def envelope_digest(envelope: Envelope) -> str:
    """``sha256:<hex>`` of an envelope's bytes (the digest the log records per submission)."""
    return "sha256:" + hashlib.sha256(envelope.to_bytes()).hexdigest()


def submissions_digest(refs: Iterable[SubmissionRef]) -> str:
    """``sha256:<hex>`` of the list, ordered by contributor then ciphertext (order-free)."""
    rows = sorted([r.node_id, r.ciphertext_digest, r.envelope_digest] for r in refs)
    body = json.dumps(rows, separators=(",", ":")).encode("utf-8")
    return "sha256:" + hashlib.sha256(body).hexdigest()
