"""What a key holder checks before it decrypts a sum (``trust_node.attestation.verify``),
one refusal per case; the end-to-end attacks are in ``tests/attacks/``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from governance.attestation import ciphertext_digest
from governance.ckks import CkksKey, EncryptedVector, add_all, encrypt
from governance.identity import Identity
from governance.signed_requests import seal_request, summarize
from kernel.settings import load_settings
from kernel.wire import flower as flower_wire
from kernel.wire import trust as wire
from trust_node.attestation import DecryptionLedger, RefusedSumError, verify_sum
from trust_node.context import NodeContext
from trust_node.transport.serde import PendingDecryption, SignedSubmission

ROUND = 7
NODES = ("node-a", "node-b", "node-c")


@pytest.fixture(scope="module")
def key() -> CkksKey:
    return CkksKey.create()


@pytest.fixture(scope="module")
def identities() -> dict[str, Identity]:
    return {n: Identity.generate(n) for n in NODES}


def _submission(
    identity: Identity, vector: EncryptedVector, *, round_id: int = ROUND
) -> SignedSubmission:
    envelope = seal_request(
        identity,
        summarize(
            method=flower_wire.UPDATE_METHOD,
            outbound_kind=wire.CIPHERTEXT_UPDATE,
            round_id=round_id,
            ciphertexts=[vector],
            metadata={"node_id": identity.party_id},
        ),
    )
    return SignedSubmission(
        identity.party_id, ciphertext_digest(vector), envelope.to_bytes(), vector
    )


def _request(key: CkksKey, submissions: list[SignedSubmission]) -> PendingDecryption:
    summed = add_all(key, [s.vector for s in submissions])
    return PendingDecryption(
        "ab" * 16,
        ROUND,
        "model-update:test:7",
        ciphertext_digest(summed),
        summed,
        wire.TRAINING_ROUND,
        {},
        tuple(submissions),
    )


@pytest.fixture
def honest(key: CkksKey, identities: dict[str, Identity]) -> PendingDecryption:
    return _request(
        key,
        [
            _submission(i, encrypt(key.public(), [float(n)]))
            for n, i in enumerate(identities.values())
        ],
    )


def _members(identities: dict[str, Identity]) -> dict[str, bytes]:
    return {n: i.public_key for n, i in identities.items()}


def test_an_honest_sum_of_enough_members_verifies(
    key: CkksKey, identities: dict[str, Identity], honest: PendingDecryption
) -> None:
    verified = verify_sum(honest, key, _members(identities), 3)
    assert verified.contributors == NODES


def test_fewer_members_than_max_quorum_m_is_refused(
    key: CkksKey, identities: dict[str, Identity], honest: PendingDecryption
) -> None:
    with pytest.raises(RefusedSumError, match="3 contributor"):
        verify_sum(honest, key, _members(identities), 4)


def test_a_contributor_listed_twice_is_refused(
    key: CkksKey, identities: dict[str, Identity]
) -> None:
    a = identities["node-a"]
    twice = [
        _submission(a, encrypt(key.public(), [1.0])),
        _submission(a, encrypt(key.public(), [2.0])),
    ]
    with pytest.raises(RefusedSumError, match="more than once"):
        verify_sum(_request(key, twice), key, _members(identities), 1)


def test_a_non_member_is_refused(
    key: CkksKey, identities: dict[str, Identity], honest: PendingDecryption
) -> None:
    members = _members(identities)
    del members["node-c"]
    with pytest.raises(RefusedSumError, match="not a current member"):
        verify_sum(honest, key, members, 2)


def test_an_envelope_signed_by_another_key_is_refused(
    key: CkksKey, identities: dict[str, Identity], honest: PendingDecryption
) -> None:
    members = {**_members(identities), "node-b": Identity.generate("node-b").public_key}
    with pytest.raises(RefusedSumError, match="envelope of 'node-b' is refused"):
        verify_sum(honest, key, members, 3)


def test_a_submission_of_another_round_is_refused(
    key: CkksKey, identities: dict[str, Identity]
) -> None:
    subs = [
        _submission(i, encrypt(key.public(), [1.0]), round_id=ROUND if n else ROUND - 1)
        for n, i in enumerate(identities.values())
    ]
    with pytest.raises(RefusedSumError, match="does not sign this ciphertext"):
        verify_sum(_request(key, subs), key, _members(identities), 3)


def test_a_listed_ciphertext_swapped_after_signing_is_refused(
    key: CkksKey, identities: dict[str, Identity], honest: PendingDecryption
) -> None:
    swapped = encrypt(key.public(), [100.0])
    first = dataclasses.replace(
        honest.submissions[0], vector=swapped, ciphertext_digest=ciphertext_digest(swapped)
    )
    forged = _request(key, [first, *honest.submissions[1:]])
    with pytest.raises(RefusedSumError, match="does not sign this ciphertext"):
        verify_sum(forged, key, _members(identities), 3)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[DecryptionLedger]:
    context = NodeContext(load_settings(home=tmp_path, database_url=f"sqlite:///{tmp_path}/n.db"))
    yield DecryptionLedger(context.engine)


def test_the_same_aggregate_may_be_claimed_again_another_may_not(
    key: CkksKey,
    identities: dict[str, Identity],
    honest: PendingDecryption,
    ledger: DecryptionLedger,
) -> None:
    members = _members(identities)
    ledger.claim(honest, verify_sum(honest, key, members, 3))
    ledger.claim(honest, verify_sum(honest, key, members, 3))  # a retry of the same list
    assert len(ledger.decrypted()) == 1
    other = _request(key, list(honest.submissions[:2]))
    with pytest.raises(RefusedSumError, match="already decrypted another aggregate"):
        ledger.claim(other, verify_sum(other, key, members, 2))
    renamed = dataclasses.replace(other, subject_id="model-update:test:7:b")
    with pytest.raises(RefusedSumError, match="already inside another aggregate"):
        ledger.claim(renamed, verify_sum(renamed, key, members, 2))
