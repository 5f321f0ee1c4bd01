"""A key-group holder decrypts only verified sums of its own group
(``trust_node.attestation.verify`` and ``watch`` under key-group custody)."""

from __future__ import annotations

import dataclasses

import pytest

from governance.attestation import ciphertext_digest, read_attestation
from governance.ckks import CkksKey, EncryptedVector
from governance.identity import Identity
from governance.keygroups import (
    BfvKey,
    GroupMismatchError,
    add_shares,
    attest_group_sum,
    decode,
    recombine,
    share_contribution,
)
from governance.signed_requests import seal_request, summarize
from kernel.wire import flower as flower_wire
from kernel.wire import trust as wire
from trust_node.attestation import RefusedSumError, verify_sum
from trust_node.attestation.watch import key_for_request
from trust_node.transport.serde import PendingDecryption, SignedSubmission

ROUND = 9
NODES = ("node-a", "node-b", "node-c")


@pytest.fixture(scope="module")
def keys() -> tuple[BfvKey, BfvKey]:
    return BfvKey.create("group-a"), BfvKey.create("group-b")


@pytest.fixture(scope="module")
def identities() -> dict[str, Identity]:
    return {n: Identity.generate(n) for n in NODES}


def _members(identities: dict[str, Identity]) -> dict[str, bytes]:
    return {n: i.public_key for n, i in identities.items()}


def _submissions(
    keys: tuple[BfvKey, BfvKey], identities: dict[str, Identity]
) -> dict[str, list[SignedSubmission]]:
    """Each node shares [i, 0.5] over both groups and signs both shares in one envelope."""
    publics = [k.public() for k in keys]
    out: dict[str, list[SignedSubmission]] = {k.group: [] for k in keys}
    for i, (node, ident) in enumerate(identities.items()):
        shares = share_contribution([float(i), 0.5], publics)
        vectors: list[EncryptedVector] = [shares[k.group] for k in keys]
        envelope = seal_request(
            ident,
            summarize(
                method=flower_wire.UPDATE_METHOD,
                outbound_kind=wire.CIPHERTEXT_UPDATE,
                round_id=ROUND,
                ciphertexts=vectors,
                metadata={"node_id": node},
            ),
        )
        for k in keys:
            v = shares[k.group]
            out[k.group].append(
                SignedSubmission(node, ciphertext_digest(v), envelope.to_bytes(), v)
            )
    return out


def _request(key: BfvKey, subs: list[SignedSubmission], group: str) -> PendingDecryption:
    summed = add_shares(key, [s.vector for s in subs])
    return PendingDecryption(
        "cd" * 16,
        ROUND,
        "model-update:kg:9",
        ciphertext_digest(summed),
        summed,
        wire.TRAINING_ROUND,
        {"key_group": group},
        tuple(subs),
    )


def test_one_nodes_share_alone_is_refused_by_its_group(
    keys: tuple[BfvKey, BfvKey], identities: dict[str, Identity]
) -> None:
    key = keys[0]
    one = _submissions(keys, identities)[key.group][:1]
    with pytest.raises(RefusedSumError, match="contributor"):
        verify_sum(_request(key, one, key.group), key, _members(identities), 2)


def test_a_sum_naming_another_group_or_under_its_key_is_refused(
    keys: tuple[BfvKey, BfvKey], identities: dict[str, Identity]
) -> None:
    a, b = keys
    subs = _submissions(keys, identities)
    with pytest.raises(RefusedSumError, match="key group"):
        verify_sum(_request(a, subs[a.group], "group-b"), a, _members(identities), 3)
    with pytest.raises(RefusedSumError, match="key group"):
        verify_sum(_request(b, subs[b.group], b.group), a, _members(identities), 3)
    # group A's shares listed as group B's: the envelopes sign them under A's key id
    mixed = _request(a, subs[a.group], a.group)
    with pytest.raises(RefusedSumError):
        verify_sum(
            dataclasses.replace(mixed, parameters={"key_group": "group-b"}),
            b,
            _members(identities),
            3,
        )


def test_a_share_the_envelope_does_not_sign_is_refused(
    keys: tuple[BfvKey, BfvKey], identities: dict[str, Identity]
) -> None:
    a = keys[0]
    subs = _submissions(keys, identities)[a.group]
    other = share_contribution([7.0, 7.0], [k.public() for k in keys])[a.group]
    swapped = [
        dataclasses.replace(subs[0], vector=other, ciphertext_digest=ciphertext_digest(other)),
        *subs[1:],
    ]
    with pytest.raises(RefusedSumError, match="does not sign"):
        verify_sum(_request(a, swapped, a.group), a, _members(identities), 3)


def test_group_requests_pick_the_group_key_and_only_for_training(
    keys: tuple[BfvKey, BfvKey], identities: dict[str, Identity]
) -> None:
    a = keys[0]
    request = _request(a, _submissions(keys, identities)[a.group], a.group)

    def no_ckks(key_id: str) -> CkksKey:
        raise AssertionError("a group sum must not be opened with the CKKS key")

    def group_key(key_id: str) -> BfvKey:
        if key_id != a.key_id:
            raise GroupMismatchError(f"no group key {key_id}")
        return a

    assert key_for_request(request, no_ckks, group_key) is a
    with pytest.raises(RefusedSumError, match="holds no key-group key"):
        key_for_request(request, no_ckks, None)
    statistics = dataclasses.replace(request, kind=wire.STATISTICS_ROUND)
    with pytest.raises(RefusedSumError, match="not attested per key group"):
        key_for_request(statistics, no_ckks, group_key)


def test_each_group_verifies_and_attests_its_own_sum(
    keys: tuple[BfvKey, BfvKey], identities: dict[str, Identity]
) -> None:
    subs = _submissions(keys, identities)
    residues = []
    for key in keys:
        request = _request(key, subs[key.group], key.group)
        verified = verify_sum(request, key, _members(identities), 3)
        assert verified.contributors == NODES
        holder = Identity.generate(f"holder-{key.group}")
        envelope = attest_group_sum(
            holder,
            key,
            request.vector,
            subject_id=request.subject_id,
            round_id=ROUND,
            submissions_digest=verified.submissions_digest,
        )
        att = read_attestation(
            envelope, {holder.party_id: holder.public_key}, nonce_store=None, key_group=key.group
        )
        assert att.submissions_digest == verified.submissions_digest
        residues.append([int(v) for v in att.values])
    assert decode(recombine(residues)) == pytest.approx([3.0, 1.5], abs=1e-5)
