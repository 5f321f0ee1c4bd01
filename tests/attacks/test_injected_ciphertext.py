"""Attack: a legitimate sum plus an injected ciphertext, sold as the sum of the list."""

from __future__ import annotations

from governance.ckks import add_all, encrypt
from kernel.wire import trust as wire
from tests.attacks.adversary import NODES, Adversary


def test_a_sum_with_an_injected_ciphertext_is_refused(adversary: Adversary) -> None:
    """Injected ciphertext: the coordinator lists the round's real submissions but asks
    for their sum plus an encrypted constant of its own (the trick that unmasked every
    small statistics cell). The key holders recompute the sum of the listed submissions,
    find it is not the ciphertext they are asked to decrypt, and refuse.
    """
    round_id, terms = adversary.statistics_round(NODES)
    listed = adversary.submissions(round_id, NODES)
    key = adversary.public_key()
    constant = encrypt(key, [1e6] * terms.catalogue.vector_length)
    forged = add_all(key, [*(s.vectors[0] for s in listed), constant])
    request = adversary.request(
        round_id, wire.STATISTICS_ROUND, terms.subject_id, listed, terms=terms, vector=forged
    )
    assert adversary.key_holders_answer() == []
    adversary.assert_refused_by_every_holder(request, because="is not the ciphertext to decrypt")
