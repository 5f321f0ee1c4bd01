"""Attack: a key ceremony by a node that is not a holder, or sealed to another set.

A real trust: four members, key group ``g1`` held by node-a and node-b (the founding
policy), node-a's honest ceremony installed everywhere. Then:

- node-c (a member, not a holder) runs a ceremony of its own, sealed to the real holders;
- node-a (a holder) runs one sealed to the holders plus node-c, or to itself alone.

Each is uploaded over the real trust protocol (the coordinator refuses it) and then
written straight into the coordinator's store as the latest ceremony (a coordinator that
skips its own check): every node's ``fetch-keys`` refuses it, and each keeps the honest key.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from coordinator.context import CoordinatorContext
from governance.ckks import CeremonyOutput, KeyHolder, run_ceremony
from tests.trust_setup import Trust, running_trust
from trust_node.context import NodeContext
from trust_node.errors import NodeSetupError
from trust_node.key_material import fetch_keys
from trust_node.transport.client import TrustTransportError

NODES = ("node-a", "node-b", "node-c", "node-d")
HOLDERS = ("node-a", "node-b")
PERIOD = "2026"


@pytest.fixture(scope="module")
def trust(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trust]:
    with running_trust(tmp_path_factory.mktemp("ceremony"), NODES, HOLDERS) as trust:
        yield trust


def _holder(trust: Trust, node_id: str) -> KeyHolder:
    node = trust.nodes[node_id]
    return KeyHolder(node_id, node.state.transport_key().public_bytes)


def _ceremony(trust: Trust, by: str, sealed_to: tuple[str, ...]) -> CeremonyOutput:
    """A ceremony made with the real ceremony code, as ``by`` chooses to run it."""
    return run_ceremony(
        trust.nodes[by].identity, [_holder(trust, n) for n in sealed_to], PERIOD, group="g1"
    )


CASES = {
    "non-holder": ("node-c", HOLDERS),
    "extra-recipient": ("node-a", (*HOLDERS, "node-c")),
    "fewer-recipients": ("node-a", ("node-a",)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_ceremony_outside_the_policy_is_refused_by_the_coordinator_and_every_node(
    trust: Trust, case: str
) -> None:
    by, sealed_to = CASES[case]
    honest = {n: NodeContext(trust.nodes[n].settings).public_key() for n in NODES}
    honest_ids = {n: k.key_id for n, k in honest.items() if k is not None}
    assert len(set(honest_ids.values())) == 1 and len(honest_ids) == len(NODES)
    output = _ceremony(trust, by, sealed_to)

    with trust.nodes[by].client(trust.address) as client, pytest.raises(TrustTransportError):
        client.upload_ceremony(output)

    # the coordinator skips its own check and relays the ceremony as the latest one
    CoordinatorContext(trust.coordinator).store.store_ceremony(
        output.public_release, list(output.packages.values())
    )
    for node_id in NODES:
        node = NodeContext(trust.nodes[node_id].settings)
        with node.client(trust.address) as client, pytest.raises(NodeSetupError):
            fetch_keys(node.state, client)
        kept = NodeContext(node.settings)
        key = kept.public_key()
        assert key is not None and key.key_id == honest_ids[node_id], node_id
        assert key.key_id != output.key_id
        if node_id in HOLDERS:  # the holder's custody still opens only the honest key
            assert kept.secret_key(honest_ids[node_id]).key_id == honest_ids[node_id]
        with pytest.raises(NodeSetupError):
            kept.secret_key(output.key_id)
