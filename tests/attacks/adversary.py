"""A coordinator turned adversary, against a real trust (see ``conftest``).

Four enrolled nodes (two key holders), one key ceremony, the trust server over mutual
TLS, real TenSEAL. The adversary is the coordinator itself: it calls its own store and
aggregation pipeline to queue whatever decryption request it likes; the key holders
answer with their real pull loop (``attest_pending``, as ``gcdt-node attest`` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from coordinator.aggregation import AggregationPipeline
from coordinator.store import CoordinatorStore, DecryptionRequest, StoredSubmission
from governance.ckks import CkksKey, EncryptedVector, add_all, encrypt
from kernel.wire import flower as flower_wire
from kernel.wire import trust as wire
from open_models.benchmark_values import RoundTerms
from tests.trust_setup import Trust
from trust_node.attestation import Attested, attest_pending, key_holder
from trust_node.cli_attest import key_holder_duties
from trust_node.egress import Outbound

NODES = ("node-a", "node-b", "node-c", "node-d")
HOLDERS = ("node-a", "node-b")
YEARS = (2023,)


@dataclass
class Adversary:
    """The coordinator, asking its key holders to decrypt what it chooses."""

    trust: Trust

    @property
    def pipeline(self) -> AggregationPipeline:
        pipeline: AggregationPipeline = self.trust.server.handlers.pipeline
        return pipeline

    @property
    def store(self) -> CoordinatorStore:
        return self.pipeline.store

    def public_key(self) -> CkksKey:
        key = self.trust.nodes[NODES[0]].public_key()
        assert key is not None and not key.is_private
        return key

    # --- honest submissions, made by the nodes' own code ---------------------------

    def statistics_round(self, nodes: Sequence[str]) -> tuple[int, RoundTerms]:
        """A statistics round in which ``nodes`` submit over the trust protocol."""
        round_id = self.store.open_round(wire.STATISTICS_ROUND)
        key = self.public_key()
        terms = RoundTerms(
            round_id=round_id,
            years=YEARS,
            noise_multiplier=1.0,
            noise_shares=2,  # the fewest with a curious contributor (issue 14)
            key_id=key.key_id,
            epsilon=1.0,
            delta=1e-5,
            k=1,
            m=1,
        )
        length = terms.catalogue.vector_length
        for i, node_id in enumerate(nodes):
            with self.trust.nodes[node_id].client(self.trust.address) as client:
                client.submit(
                    wire.STATISTICS_ROUND,
                    round_id,
                    [encrypt(key, [float(i + 1)] * length)],
                )
        return round_id, terms

    def training_round(self, nodes: Sequence[str]) -> int:
        """A training round: each node's update sealed by its own egress guard (as its
        Flower egress mod does), kept by the coordinator as the round loop keeps replies.
        """
        round_id = self.store.open_round(wire.TRAINING_ROUND)
        key = self.public_key()
        for i, node_id in enumerate(nodes):
            node = self.trust.nodes[node_id]
            vector = encrypt(key, [0.1 * (i + 1), -0.2, 3.0 + i])
            released = node.guard(key).check(
                Outbound(
                    kind=wire.CIPHERTEXT_UPDATE,
                    method=flower_wire.UPDATE_METHOD,
                    round_id=round_id,
                    ciphertexts=(vector,),
                    metadata={"node_id": node_id, "round_id": round_id, "key_id": key.key_id},
                )
            )
            self.pipeline.keep(
                round_id=round_id,
                node_id=node_id,
                kind=wire.TRAINING_ROUND,
                envelope=released.envelope,
                vectors=(vector,),
                metadata={},
            )
        return round_id

    def submissions(self, round_id: int, nodes: Sequence[str]) -> list[StoredSubmission]:
        return [s for s in self.store.submissions(round_id) if s.node_id in nodes]

    # --- what the adversary asks for -----------------------------------------------

    def request(
        self,
        round_id: int,
        kind: str,
        subject_id: str,
        submissions: Sequence[StoredSubmission],
        *,
        terms: RoundTerms | None = None,
        vector: EncryptedVector | None = None,
    ) -> DecryptionRequest:
        """Queue a decryption request; ``vector`` replaces the honest sum (a forgery).

        The coordinator turned adversary writes its store directly: its own pipeline's
        checks (``request_decryption`` refuses too few contributors) are exactly what it
        skips, so only the key holders' checks stand between it and the plaintext.
        """
        parameters = {wire.TERMS: _terms_json(terms)} if terms is not None else None
        if vector is None:
            vector = add_all(self.pipeline.key, [s.vectors[0] for s in submissions])
        return self.store.add_decryption_request(
            round_id=round_id,
            subject_id=subject_id,
            vector=vector,
            kind=kind,
            parameters=parameters,
            submissions=[s.id for s in submissions],
        )

    def key_holders_answer(self) -> list[Attested]:
        """Every key holder pulls and answers its pending requests (its real pull loop)."""
        done: list[Attested] = []
        for holder in HOLDERS:
            node = self.trust.nodes[holder]
            with node.client(self.trust.address) as client:
                done += attest_pending(client, key_holder(node), key_holder_duties())
        return done

    def assert_refused_by_every_holder(self, request: DecryptionRequest, because: str) -> None:
        """No key holder attested ``request`` (nothing decrypted left a node), and every
        key holder logged its refusal, ``because`` in the reason."""
        assert self.store.attestations(request.request_id) == []
        for holder in HOLDERS:
            reasons = [
                r.reason
                for r in self.trust.nodes[holder].refusals.entries()
                if request.request_id in r.reason
            ]
            assert reasons, f"{holder} did not log a refusal of {request.request_id}"
            assert because in reasons[0], reasons
        self.pipeline.close(request)


def _terms_json(terms: RoundTerms) -> str:
    import json

    return json.dumps(terms.to_dict(), sort_keys=True)
