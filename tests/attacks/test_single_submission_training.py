"""Attack: the coordinator sends one node's single training update as a round "sum"."""

from __future__ import annotations

from kernel.wire import trust as wire
from tests.attacks.adversary import NODES, Adversary


def test_one_nodes_training_update_is_refused_by_every_key_holder(adversary: Adversary) -> None:
    """Decryption oracle, training: every node's update was kept for the round, and the
    coordinator asks the key holders to decrypt node-d's update alone as the round's
    model-update sum. Every key holder refuses, logs it, and nothing is attested.
    """
    round_id = adversary.training_round(NODES)
    lone = adversary.submissions(round_id, ["node-d"])
    request = adversary.request(
        round_id, wire.TRAINING_ROUND, f"model-update:attack:{round_id}", lone
    )
    assert adversary.key_holders_answer() == []
    adversary.assert_refused_by_every_holder(
        request, because="1 contributor(s), a sum needs at least 3"
    )
