"""How a key holder turns one decryption request into a signed attestation, per kind.

The coordinator queues every sum it needs decrypted (model update sums, statistics, ...)
as a decryption request that says its round kind; the node picks the duty registered for
that kind. A duty decrypts with this node's CKKS secret key and signs with its identity
key; it runs only in the node's own process (``gcdt-node attest``, ``gcdt-node
submit-statistics``), never inside a Flower ClientApp, and what it signs leaves only
through the egress guard (the trust client's ``SubmitAttestation``).
"""

from __future__ import annotations

from typing import Protocol

from governance.attestation import attest, ciphertext_digest
from governance.ckks import CkksKey
from governance.envelope import Envelope
from governance.identity import Identity
from trust_node.errors import NodeError
from trust_node.transport.serde import PendingDecryption


class Duty(Protocol):
    """``(identity, secret key, request, submissions digest) -> signed attestation``.

    The pull loop calls a duty only for a request it verified to be a sum of enough signed
    member submissions (:mod:`trust_node.attestation.verify`); ``submissions_digest`` names
    that list and goes into the signed attestation.
    """

    def __call__(
        self,
        identity: Identity,
        key: CkksKey,
        request: PendingDecryption,
        submissions_digest: str | None = None,
    ) -> Envelope: ...


class DecryptionRequestError(NodeError):
    """A decryption request this node will not attest (names why)."""


def check_request(request: PendingDecryption) -> None:
    """Refuse a request whose ciphertext is not the one it names."""
    if ciphertext_digest(request.vector) != request.digest:
        raise DecryptionRequestError(
            f"decryption request {request.request_id}: the ciphertext is not {request.digest}"
        )


def attest_sum(
    identity: Identity,
    key: CkksKey,
    request: PendingDecryption,
    submissions_digest: str | None = None,
) -> Envelope:
    """The plain duty (model update sums): decrypt the whole sum and sign it."""
    check_request(request)
    return attest(
        identity,
        key,
        request.vector,
        subject_id=request.subject_id,
        round_id=request.round_id,
        submissions_digest=submissions_digest,
    )
