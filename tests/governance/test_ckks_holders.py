"""Key material checked against the trust policy's key groups (``governance.ckks.holders``)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from governance.ckks import CeremonyOutput, TransportKey, run_ceremony
from governance.ckks.errors import NotPolicyHoldersError
from governance.ckks.holders import (
    check_package_against_policy,
    expected_recipients,
    open_release_under_policy,
)
from governance.identity import Identity
from governance.policy import default_trust_policy, parse_policy
from governance.policy.models import TrustPolicy

NODES = ("node-a", "node-b", "node-c")
World = tuple[dict[str, Identity], dict[str, TransportKey], TrustPolicy]


@pytest.fixture(scope="module")
def world() -> World:
    ids = {n: Identity.generate(n) for n in NODES}
    transport = {n: TransportKey.generate() for n in NODES}
    data = {
        **default_trust_policy().model_dump(mode="json", exclude_none=True),
        "members": [
            {
                "node_id": n,
                "jurisdiction": "IN",
                "identity_public_key": ids[n].public_key.hex(),
                "transport_public_key": transport[n].public_bytes.hex(),
            }
            for n in NODES
        ],
        "key_groups": [{"group": "g1", "holders": ["node-a", "node-b"]}],
    }
    policy = parse_policy(data, "trust")
    assert isinstance(policy, TrustPolicy)
    return ids, transport, policy


def ceremony(world: World, by: str, to: tuple[str, ...]) -> CeremonyOutput:
    ids, transport, _ = world
    return run_ceremony(ids[by], [(n, transport[n].public_bytes) for n in to], "2026", group="g1")


def test_a_holders_ceremony_for_the_groups_holders_opens(world: World) -> None:
    ids, _, policy = world
    out = ceremony(world, "node-a", ("node-a", "node-b"))
    key, bound = open_release_under_policy(out.public_release, policy, ids["node-a"].public_key)
    assert key.key_id == out.key_id and bound.recipients == ("node-a", "node-b")
    for package in out.packages.values():
        check_package_against_policy(package, policy)
    # the release travels without group and recipients: the verifier supplies them
    stripped = replace(out.public_release, group="", recipients=())
    assert open_release_under_policy(stripped, policy, ids["node-a"].public_key)[0].key_id


@pytest.mark.parametrize(
    ("by", "to"),
    [
        ("node-c", ("node-a", "node-b")),  # not a holder
        ("node-a", ("node-a", "node-b", "node-c")),  # one recipient too many
        ("node-a", ("node-a",)),  # one too few
    ],
)
def test_a_ceremony_outside_the_policy_is_refused(
    world: World, by: str, to: tuple[str, ...]
) -> None:
    ids, _, policy = world
    out = ceremony(world, by, to)
    with pytest.raises(NotPolicyHoldersError):
        open_release_under_policy(out.public_release, policy, ids[by].public_key)
    with pytest.raises(NotPolicyHoldersError):
        check_package_against_policy(next(iter(out.packages.values())), policy)


def test_a_revoked_holder_retires_the_key(world: World) -> None:
    ids, _, policy = world
    out = ceremony(world, "node-a", ("node-a", "node-b"))
    active = {"node-a", "node-c"}  # node-b revoked
    assert expected_recipients(policy, "g1", active) == ("node-a",)
    with pytest.raises(NotPolicyHoldersError):
        open_release_under_policy(out.public_release, policy, ids["node-a"].public_key, active)
    with pytest.raises(NotPolicyHoldersError):
        check_package_against_policy(out.packages["node-a"], policy, active)


def test_a_ceremony_key_other_than_the_policys_is_refused(world: World) -> None:
    _, _, policy = world
    out = ceremony(world, "node-a", ("node-a", "node-b"))
    impostor = Identity.generate("node-a")
    with pytest.raises(NotPolicyHoldersError, match="not a member"):
        open_release_under_policy(out.public_release, policy, impostor.public_key)
