"""Attack: the coordinator changes the trust policy on its own.

A real trust (three members, two key holders, founded by all three with
``gcdt-coordinator policy apply``). The coordinator drafts version 2 making a third node a
key holder and tries to put it in force signed by itself alone (or by one member, below
the founders' majority): ``policy apply`` refuses and the version in force stays 1. Then
the coordinator skips its own check and serves that version anyway (as its chain, and as a
policy signed by its identity, the format main accepted): every node refuses it over the
real trust protocol (``gcdt-node policy sync-trust``'s code) and keeps version 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from coordinator.context import CoordinatorContext
from governance.envelope import seal
from governance.policy import policy_to_toml
from governance.policy.files import signature_path
from governance.policy.models import TrustPolicy
from governance.policy.trust_chain import (
    SignedVersion,
    TrustPolicyChain,
    next_version,
    sign_trust_policy,
)
from governance.policy.trust_files import load_trust_chain
from tests.trust_setup import Trust, apply_policy, running_trust
from trust_node.context import NodeContext
from trust_node.errors import NodeSetupError
from trust_node.trust_policy import sync_trust_policy

NODES = ("node-a", "node-b", "node-c")


@pytest.fixture
def trust(tmp_path: Path) -> Iterator[Trust]:
    with running_trust(tmp_path, NODES, ("node-a", "node-b"), ceremony=False) as trust:
        yield trust


def _coordinator_draft(trust: Trust, tmp_path: Path) -> tuple[Path, TrustPolicy]:
    """Version 2 as the coordinator would like it: node-c a key holder too."""
    current = CoordinatorContext(trust.coordinator).trust_policy
    assert current.version == 1
    proposal = next_version(
        current, key_groups=[{"group": "g1", "holders": ["node-a", "node-b", "node-c"]}]
    )
    path = tmp_path / "v2.toml"
    path.write_bytes(policy_to_toml(proposal))
    return path, proposal


def _signature_file(tmp_path: Path, name: str, body: dict[str, str]) -> Path:
    path = tmp_path / f"{name}.sig.json"
    path.write_text(json.dumps(body))
    return path


def test_the_coordinator_cannot_put_a_version_in_force_alone(trust: Trust, tmp_path: Path) -> None:
    proposal, draft = _coordinator_draft(trust, tmp_path)
    context = CoordinatorContext(trust.coordinator)
    by_coordinator = _signature_file(
        tmp_path, "coordinator", sign_trust_policy(draft, context.identity).to_json()
    )
    by_one_member = _signature_file(
        tmp_path, "node-c", sign_trust_policy(draft, trust.nodes["node-c"].identity).to_json()
    )
    for signatures in ([], [by_coordinator], [by_one_member]):
        result = apply_policy(trust.coordinator, proposal, signatures)
        assert result.exit_code != 0, result.output
    in_force = CoordinatorContext(trust.coordinator).trust_policy
    assert in_force.version == 1
    assert in_force.holders_of("g1") == ("node-a", "node-b")
    logged = [
        e
        for e in CoordinatorContext(trust.coordinator).translog.iter_entries()
        if e.kind == "policy_change"
    ]
    assert [e.payload["version"] for e in logged] == [1]


def _serve_anyway(trust: Trust, tmp_path: Path, *, single_signer: bool) -> None:
    """The coordinator bypasses its own check and serves a version 2 signed by itself."""
    context = CoordinatorContext(trust.coordinator)
    path = context.layout.trust_policy
    chain = load_trust_chain(path)
    draft = next_version(
        chain.latest, key_groups=[{"group": "g1", "holders": ["node-a", "node-b", "node-c"]}]
    )
    toml = policy_to_toml(draft)
    if single_signer:  # main's format: the policy's bytes in an envelope of the coordinator
        sig = seal(context.identity, "policy.trust", None, toml, detached=True).to_bytes()
    else:  # the chain format, version 2 "signed" by the coordinator
        forged = TrustPolicyChain(
            (
                *chain.versions,
                SignedVersion(draft, {context.identity.party_id: context.identity.sign(toml)}),
            )
        )
        sig = forged.to_bytes()
    path.write_bytes(toml)
    signature_path(path).write_bytes(sig)


@pytest.mark.parametrize("single_signer", [False, True], ids=["chain", "envelope"])
def test_every_node_refuses_a_version_the_coordinator_signed_alone(
    trust: Trust, tmp_path: Path, single_signer: bool
) -> None:
    _serve_anyway(trust, tmp_path, single_signer=single_signer)
    for node_id in NODES:
        node = NodeContext(trust.nodes[node_id].settings)
        with node.client(trust.address) as client, pytest.raises(NodeSetupError):
            sync_trust_policy(node.state, client)
        kept = NodeContext(node.settings).state.trust_policy
        assert kept is not None and kept.version == 1, node_id
        assert kept.holders_of("g1") == ("node-a", "node-b")
