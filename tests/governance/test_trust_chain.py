"""The member-signed trust policy chain: who may sign which version, and what a node takes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from governance.errors import PolicyError, PolicySignatureError
from governance.identity import Identity
from governance.policy import default_trust_policy, parse_policy, policy_to_toml
from governance.policy.files import signature_path
from governance.policy.models import TrustPolicy
from governance.policy.trust_chain import (
    MemberSignature,
    SignedVersion,
    TrustPolicyChain,
    next_version,
    parse_trust_toml,
    policy_sha256,
    sign_trust_policy,
)
from governance.policy.trust_files import accept_trust_chain, load_trust_chain, write_trust_chain

MEMBERS = ("node-a", "node-b", "node-c")


@pytest.fixture(scope="module")
def ids() -> dict[str, Identity]:
    return {n: Identity.generate(n) for n in MEMBERS}


def founding(ids: dict[str, Identity], **changes: Any) -> TrustPolicy:
    data = {
        **default_trust_policy(accounting_period="2026").model_dump(mode="json", exclude_none=True),
        "members": [
            {
                "node_id": n,
                "jurisdiction": "IN",
                "identity_public_key": i.public_key.hex(),
                "transport_public_key": bytes([k]).hex() * 32,
            }
            for k, (n, i) in enumerate(ids.items())
        ],
        "key_groups": [{"group": "g1", "holders": ["node-a", "node-b"]}],
        "signature_quorum": 2,
        **changes,
    }
    policy = parse_policy(data, "trust")
    assert isinstance(policy, TrustPolicy)
    return policy


def signed(policy: TrustPolicy, ids: dict[str, Identity], *who: str) -> list[MemberSignature]:
    return [sign_trust_policy(policy, ids[n]) for n in who]


def test_version_1_needs_every_founder(ids: dict[str, Identity]) -> None:
    v1 = founding(ids)
    chain = TrustPolicyChain.found(v1, signed(v1, ids, *MEMBERS))
    assert chain.verify() == v1
    with pytest.raises(PolicySignatureError, match=r"missing: node-c"):
        TrustPolicyChain.found(v1, signed(v1, ids, "node-a", "node-b"))


def test_a_later_version_needs_a_quorum_of_the_previous_members(ids: dict[str, Identity]) -> None:
    v1 = founding(ids)
    chain = TrustPolicyChain.found(v1, signed(v1, ids, *MEMBERS))
    v2 = next_version(v1, key_groups=[{"group": "g1", "holders": ["node-a", "node-c"]}])
    assert v2.previous_sha256 == policy_sha256(v1)
    with pytest.raises(PolicySignatureError, match="1 of the 2 members"):
        chain.append(v2, signed(v2, ids, "node-a"))
    outsider = Identity.generate("coordinator")
    with pytest.raises(PolicySignatureError, match="coordinator, not among"):
        chain.append(v2, [*signed(v2, ids, "node-a"), sign_trust_policy(v2, outsider)])
    longer = chain.append(v2, signed(v2, ids, "node-a", "node-c"))
    assert longer.verify().holders_of("g1") == ("node-a", "node-c")
    assert longer.extends(chain) and not chain.extends(longer)
    assert TrustPolicyChain.from_bytes(longer.to_bytes()).digests() == longer.digests()


def test_a_version_must_name_its_predecessor(ids: dict[str, Identity]) -> None:
    v1 = founding(ids)
    chain = TrustPolicyChain.found(v1, signed(v1, ids, *MEMBERS))
    other = founding(ids, trust_id="other")
    rebased = next_version(other)
    with pytest.raises(PolicyError):
        chain.append(rebased, signed(rebased, ids, *MEMBERS))


def test_a_signature_over_other_content_does_not_verify(ids: dict[str, Identity]) -> None:
    v1 = founding(ids)
    chain = TrustPolicyChain.found(v1, signed(v1, ids, *MEMBERS))
    v2 = next_version(v1, signature_quorum=1)
    lowered = next_version(v1, signature_quorum=3)
    sigs = {s.member: s.signature for s in signed(lowered, ids, "node-a", "node-b")}
    forged = TrustPolicyChain((*chain.versions, SignedVersion(v2, sigs)))
    with pytest.raises(PolicySignatureError, match="does not verify"):
        forged.verify()


def test_the_digest_does_not_depend_on_the_toml_layout(ids: dict[str, Identity]) -> None:
    v1 = founding(ids)
    text = policy_to_toml(v1).decode()
    relaid = "# a comment the operator added\n" + text.replace(" = ", "=")
    assert policy_sha256(parse_trust_toml(relaid)) == policy_sha256(v1)


def test_membership_is_consistent(ids: dict[str, Identity]) -> None:
    with pytest.raises(PolicyError, match="not members: node-x"):
        founding(ids, key_groups=[{"group": "g1", "holders": ["node-a", "node-x"]}])
    with pytest.raises(PolicyError, match="signature_quorum"):
        founding(ids, signature_quorum=4)
    policy = founding(ids)
    assert policy.key_group("g1").holders == ("node-a", "node-b")
    assert policy.groups_of("node-a") == ("g1",) and policy.groups_of("node-c") == ()
    with pytest.raises(KeyError, match="no key group 'g2'"):
        policy.key_group("g2")


def test_a_node_takes_only_a_chain_extending_its_own(
    tmp_path: Path, ids: dict[str, Identity]
) -> None:
    v1 = founding(ids)
    chain = TrustPolicyChain.found(v1, signed(v1, ids, *MEMBERS))
    source = tmp_path / "coordinator" / "trust.toml"
    write_trust_chain(source, chain)
    node = tmp_path / "node" / "trust.toml"
    taken = accept_trust_chain(
        node,
        source.read_bytes(),
        signature_path(source).read_bytes(),
        expect_sha256=chain.digests()[0],
    )
    assert taken == v1 and load_trust_chain(node).latest == v1
    # a fork: another version 1 (e.g. a coordinator-made trust of sock puppets)
    puppets = {n: Identity.generate(n) for n in MEMBERS}
    fork_v1 = founding(puppets)
    fork = TrustPolicyChain.found(fork_v1, signed(fork_v1, puppets, *MEMBERS))
    with pytest.raises(PolicySignatureError, match="does not extend"):
        accept_trust_chain(node, policy_to_toml(fork_v1), fork.to_bytes())
    # the TOML beside the chain must be the chain's version in force
    v2 = next_version(v1, signature_quorum=3)
    longer = chain.append(v2, signed(v2, ids, "node-a", "node-b"))
    with pytest.raises(PolicySignatureError, match="not the chain's version in force"):
        accept_trust_chain(node, policy_to_toml(v1), longer.to_bytes())
    assert accept_trust_chain(node, policy_to_toml(v2), longer.to_bytes()).version == 2
    assert load_trust_chain(node).latest.version == 2
