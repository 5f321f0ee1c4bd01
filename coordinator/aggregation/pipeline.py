"""One pipeline for every kind of aggregate: submit, sum, request decryption, collect ``t``
matching attestations, publish.

Model update sums (the Flower round loop, ``coordinator.federation``) and sector
statistics (``coordinator.statistics``) differ in how submissions arrive and what is
published, not in how an aggregate becomes publishable; so both keep submissions, queue
sums and collect attestations here, in the same store and through the same transport:
key holders pull decryption requests and push signed attestations over the mutual-TLS
trust protocol (``FetchDecryptionRequests`` / ``SubmitAttestation``), never over Flower.
A decryption request is a stored object that names the submissions in its sum, so a key
holder can later be shown exactly what it is asked to decrypt.

The coordinator holds the public CKKS context only: it checks and sums ciphertexts with
it and can never read one (invariant 2).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coordinator.aggregation import attestations, publications
from coordinator.aggregation.kinds import RoundKinds
from coordinator.store import (
    CoordinatorStore,
    DecryptionRequest,
    DecryptionStatus,
    InvalidRequestError,
    NodeRecord,
    Publication,
    StoredSubmission,
)
from governance.attestation import AttestationOutcome, ciphertext_digest
from governance.ckks import CkksKey, EncryptedVector, add_all, check_ciphertext
from governance.envelope import Envelope
from governance.signed_requests import Scalar
from governance.translog import TransparencyLog

#: The fewest distinct contributors any sum sent for decryption has, whatever the policy.
MIN_CONTRIBUTORS = 2


class NotEnoughContributorsError(InvalidRequestError):
    """A sum would have fewer distinct contributors than the policy's minimum."""


@dataclass(frozen=True)
class Receipt:
    """A kept submission: its id, its ``submission_digest`` log index, its envelope digest."""

    submission_id: int
    log_index: int
    envelope_digest: str


class AggregationPipeline:
    def __init__(
        self,
        store: CoordinatorStore,
        log: TransparencyLog,
        public_key: CkksKey | Callable[[], CkksKey],
        kinds: RoundKinds | None = None,
    ) -> None:
        self.store = store
        self.log = log
        self._key = public_key
        self.kinds = kinds if kinds is not None else RoundKinds()

    @property
    def key(self) -> CkksKey:
        """The public context (resolved late: the ceremony may follow the server start)."""
        key = self._key if isinstance(self._key, CkksKey) else self._key()
        if key.is_private:
            raise InvalidRequestError("the coordinator must hold the public CKKS context only")
        return key

    # --- submit ------------------------------------------------------------------------

    def open_round(self, kind: str) -> int:
        return self.store.open_round(kind)

    def validate(
        self,
        kind: str,
        round_id: int,
        node: NodeRecord,
        vectors: Sequence[EncryptedVector],
        metadata: Mapping[str, Scalar],
    ) -> None:
        """Refuse a submission whose ciphertexts or kind-specific content do not fit."""
        if not vectors:
            raise InvalidRequestError("a submission must carry at least one ciphertext")
        key = self.key
        for vector in vectors:
            check_ciphertext(key, vector)  # CkksError names what is wrong
        self.kinds.validate(kind, round_id, node, vectors, metadata)

    def keep(
        self,
        *,
        round_id: int,
        node_id: str,
        kind: str,
        envelope: Envelope,
        vectors: Sequence[EncryptedVector],
        metadata: Mapping[str, Any],
        log_fields: Mapping[str, Any] | None = None,
    ) -> Receipt:
        """Store an authenticated, checked submission and log its digest (never its content).

        ``log_fields`` adds what a kind states about a submission (e.g. a training report).
        """
        submission_id = self.store.add_submission(
            round_id=round_id,
            node_id=node_id,
            kind=kind,
            envelope=envelope,
            vectors=vectors,
            metadata=metadata,
        )
        envelope_digest = "sha256:" + hashlib.sha256(envelope.to_bytes()).hexdigest()
        entry = self.log.append(
            "submission_digest",
            {
                "round_id": round_id,
                "node_id": node_id,
                "kind": kind,
                "envelope_digest": envelope_digest,
                "ciphertext_digests": [ciphertext_digest(v) for v in vectors],
                **(log_fields or {}),
            },
        )
        return Receipt(submission_id, entry.index, envelope_digest)

    # --- sum and request decryption ------------------------------------------------------

    def request_decryption(
        self,
        *,
        round_id: int,
        kind: str,
        subject_id: str,
        submissions: Sequence[StoredSubmission],
        parameters: Mapping[str, str] | None = None,
        min_contributors: int = MIN_CONTRIBUTORS,
    ) -> DecryptionRequest:
        """Sum the submissions' vectors and queue the sum for the key holders.

        ``round_id`` is the round the key holders' attestations will name. A sum of fewer
        than ``min_contributors`` distinct nodes (the trust policy's ``m``, never below
        :data:`MIN_CONTRIBUTORS`) is refused before anything is summed or queued
        (:class:`NotEnoughContributorsError`): a sum of one node is that node's data.
        """
        need = max(min_contributors, MIN_CONTRIBUTORS)
        contributors = {s.node_id for s in submissions}
        if len(contributors) < need or len(contributors) != len(submissions):
            raise NotEnoughContributorsError(
                f"{subject_id}: {len(submissions)} submission(s) from {len(contributors)} "
                f"distinct node(s); a sum sent for decryption needs at least {need} distinct "
                "nodes, each once"
            )
        summed = add_all(self.key, [s.vectors[0] for s in submissions])
        return self.store.add_decryption_request(
            round_id=round_id,
            subject_id=subject_id,
            vector=summed,
            kind=kind,
            parameters=parameters,
            submissions=[s.id for s in submissions],
        )

    # --- collect ------------------------------------------------------------------------

    def collect(self, request: DecryptionRequest, *, t: int) -> AttestationOutcome:
        return attestations.collect(self.store, request, t=t, log=self.log)

    def await_attestations(
        self, request: DecryptionRequest, *, t: int, timeout_s: float
    ) -> AttestationOutcome:
        return attestations.await_attestations(
            self.store, request, t=t, log=self.log, timeout_s=timeout_s
        )

    def close(self, request: DecryptionRequest) -> None:
        """Stop serving the request to key holders (decided either way)."""
        self.store.close_decryption_request(request.request_id, DecryptionStatus.DONE)

    # --- publish ------------------------------------------------------------------------

    def publish(self, *, subject_id: str, kind: str, payload: Mapping[str, Any]) -> Publication:
        return publications.publish(
            self.store, self.log, subject_id=subject_id, kind=kind, payload=payload
        )
