"""Attack: two aggregates over different contributor sets in one round (differencing)."""

from __future__ import annotations

import pytest

from governance.attestation import ciphertext_digest
from governance.sums import SubmissionRef, envelope_digest, submissions_digest
from kernel.wire import trust as wire
from tests.attacks.adversary import HOLDERS, Adversary


@pytest.mark.parametrize("rename", [False, True], ids=["same-subject", "renamed-subject"])
def test_a_second_aggregate_in_a_round_is_refused(adversary: Adversary, rename: bool) -> None:
    """Differencing: the key holders attest the sum over {a, b, c}; the coordinator then
    asks for the sum over {a, b, d} in the same round (under the same subject, or under a
    new subject name) to learn c - d. The first is attested by every key holder; the
    second is refused by every key holder, because each remembers what it decrypted.
    """
    round_id = adversary.training_round(["node-a", "node-b", "node-c", "node-d"])
    subject = f"model-update:diff:{round_id}"
    first = adversary.request(
        round_id,
        wire.TRAINING_ROUND,
        subject,
        adversary.submissions(round_id, ["node-a", "node-b", "node-c"]),
    )
    attested = adversary.key_holders_answer()
    assert sorted(a.request_id for a in attested) == [first.request_id] * len(HOLDERS)
    listed = submissions_digest(
        SubmissionRef(s.node_id, ciphertext_digest(s.vectors[0]), envelope_digest(s.envelope))
        for s in adversary.store.submissions_by_id(first.submissions)
    )
    envelopes = adversary.store.attestations(first.request_id)
    assert len(envelopes) == len(HOLDERS)
    # each attestation signs the list of submissions its holder recomputed the sum from
    payloads = [e.payload for e in envelopes]
    assert [p["submissions_digest"] for p in payloads if isinstance(p, dict)] == [listed] * 2
    adversary.pipeline.close(first)

    second = adversary.request(
        round_id,
        wire.TRAINING_ROUND,
        subject + ":again" if rename else subject,
        adversary.submissions(round_id, ["node-a", "node-b", "node-d"]),
    )
    assert adversary.key_holders_answer() == []
    why = "already inside another aggregate" if rename else "already decrypted another aggregate"
    adversary.assert_refused_by_every_holder(second, because=why)
