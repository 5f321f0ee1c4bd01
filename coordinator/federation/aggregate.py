"""Checking a node's encrypted model update against the run's public context.

Flower's FedAvg would need plaintext weights, so the coordinator's loop checks each node's
ciphertext here (key id, vector length, CKKS parameters) and the aggregation pipeline
(``coordinator.aggregation``) sums the checked ones. Nothing in this module can decrypt:
:class:`CkksSummer` refuses a context that carries a secret key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from coordinator.federation.errors import FederationConfigError, SubmissionRejectedError
from governance.ckks import (
    CkksError,
    CkksKey,
    EncryptedVector,
    check_ciphertext,
)


def digest(data: bytes) -> str:
    """Hex SHA-256 of a ciphertext's wire bytes: the log names a submission without holding it."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Submission:
    node: str  # the node's party id as it signed/claimed it
    flower_node_id: int
    vector: EncryptedVector = field(repr=False)
    wire_bytes: bytes = field(repr=False)

    @property
    def digest(self) -> str:
        return digest(self.wire_bytes)


class CkksSummer:
    """Validates submissions against one public key and one vector length."""

    def __init__(self, public_key: CkksKey, length: int) -> None:
        if public_key.is_private:
            raise FederationConfigError(
                "the coordinator was handed a CKKS context with a secret key; it must hold "
                "the public context only"
            )
        self.key = public_key
        self.length = length

    def check(self, node: str, flower_node_id: int, data: bytes) -> Submission:
        where = f"submission of node {node!r} (Flower node {flower_node_id})"
        try:
            vector = EncryptedVector.from_bytes(data)
        except CkksError as exc:
            raise SubmissionRejectedError(f"{where}: {exc}") from exc
        if vector.key_id != self.key.key_id:
            raise SubmissionRejectedError(
                f"{where}: under key {vector.key_id}, this run uses key {self.key.key_id}"
            )
        if vector.length != self.length:
            raise SubmissionRejectedError(
                f"{where}: vector length {vector.length}, expected {self.length}"
            )
        try:
            check_ciphertext(self.key, vector)
        except CkksError as exc:
            raise SubmissionRejectedError(f"{where}: {exc}") from exc
        return Submission(node, flower_node_id, vector, data)
