"""Attack: two aggregates over different contributor sets in one round (differencing)."""

from __future__ import annotations

import pytest

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
    assert len(adversary.store.attestations(first.request_id)) == len(HOLDERS)
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
