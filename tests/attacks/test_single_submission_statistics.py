"""Attack: the coordinator sends one node's single statistics submission as a "sum"."""

from __future__ import annotations

from kernel.wire import trust as wire
from tests.attacks.adversary import NODES, Adversary


def test_one_nodes_statistics_submission_is_refused_by_every_key_holder(
    adversary: Adversary,
) -> None:
    """Decryption oracle, statistics: a round in which every node submitted, and the
    coordinator asks the key holders to decrypt node-c's submission alone (with the round's
    real terms, so the statistics duty would otherwise decrypt and sign it). Every key
    holder refuses it, logs the refusal, and no attestation reaches the coordinator.
    """
    round_id, terms = adversary.statistics_round(NODES)
    lone = adversary.submissions(round_id, ["node-c"])
    request = adversary.request(
        round_id, wire.STATISTICS_ROUND, terms.subject_id, lone, terms=terms
    )
    assert adversary.key_holders_answer() == []
    adversary.assert_refused_by_every_holder(
        request, because="1 contributor(s), a sum needs at least 3"
    )
