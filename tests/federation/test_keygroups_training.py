"""One training round under key-group custody, through the real parts end to end.

Four enrolled nodes over the real mutual-TLS trust; two key groups (node-0, node-1 | node-2,
node-3) made by per-group ceremonies, public keys installed on every node and at the
coordinator, sealed packages at their holders. The coordinator's real round loop
(``run_training``) sends ``train`` naming both groups' keys; each node's real ClientApp
trains under DP and its egress mod sends one share per group; the coordinator keeps them,
sums per group and queues one request per group; the holders' ``attest --watch`` loops
pull, verify and attest their own group's sum over the trust protocol; the round is
accepted only after both groups have t = 2 matching attestations, and the new model is
the recombined aggregate: the nodes' own kept updates, weighted, to the fixed-point step.

The Grid is the only stand-in: it hands each message to the node's real ClientApp in this
process (``tests.attacks.door_support.leave``) instead of through Flower's runtime, which
the simulation tests cover.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from flwr.app import Message
from flwr.serverapp import Grid
from flwr.supercore.task_identity import TaskIdentity

from coordinator.federation import server_app
from coordinator.federation.config import FederationConfig
from coordinator.federation.keygroups import install_training_groups
from coordinator.federation.rounds import TrainingRoundStatus
from governance.identity import Identity
from governance.keygroups import KeyGroup, run_group_ceremony
from open_models.features import FeatureSpec
from open_models.network import flatten, initial_weights, weight_layout
from tests.attacks.door_support import leave, message_to
from tests.federation.homes import Federation, attesting, running_federation
from trust_node import keygroup_keys
from trust_node.context import NodeContext

BITS = 16
GROUPS = (KeyGroup("group-a", ("node-0", "node-1")), KeyGroup("group-b", ("node-2", "node-3")))


class InProcessGrid(Grid):
    """Delivers each message to the addressed node's real ClientApp, in this process."""

    def __init__(self, homes: list[Path]) -> None:
        self.homes = homes

    def get_node_ids(self) -> list[int]:
        return list(range(1, len(self.homes) + 1))

    def send_and_receive(
        self, messages: Iterable[Message], *, timeout: float | None = None
    ) -> list[Message]:
        return [
            leave(
                self.homes[m.metadata.dst_node_id - 1],
                message_to(m.content, m.metadata.message_type),
            )
            for m in messages
        ]

    def _unused(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("the in-process grid only sends and receives")

    push_messages = pull_messages = set_run = create_message = _unused

    @property
    def run(self) -> Any:
        raise NotImplementedError


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    with running_federation(
        tmp_path_factory.mktemp("kg-train"), nodes=4, records=40, key_holders=4
    ) as f:
        _install_groups(f)
        yield f


def _install_groups(fed: Federation) -> None:
    ceremony = Identity.generate("ceremony")
    nodes = {h.name: NodeContext.open(h) for h in fed.node_homes}
    by_id = {n.node_id: n for n in nodes.values()}
    releases = []
    for group in GROUPS:
        transport = {h: by_id[h].state.transport_key().public_bytes for h in group.holders}
        out = run_group_ceremony(ceremony, group, transport, "2026")
        releases.append(out.public_key)
        for node in by_id.values():
            keygroup_keys.install_public_key(node.state, out.public_key, ceremony.public_key)
        for holder in group.holders:
            keygroup_keys.install_package(
                by_id[holder].state, out.packages[holder], group, ceremony.public_key
            )
    install_training_groups(
        fed.coordinator_home, GROUPS, releases, ceremony.public_key, fractional_bits=BITS
    )


def test_a_round_under_key_groups_recombines_the_nodes_updates(
    fed: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Flower stamps outgoing messages with the run of the process (set by its runtime)
    monkeypatch.setattr(TaskIdentity, "_run_id", 1)
    monkeypatch.setattr(TaskIdentity, "_node_id", 0)
    monkeypatch.setattr(TaskIdentity, "_task_id", 1)
    config = FederationConfig(
        coordinator_home=fed.coordinator_home,
        rounds=1,
        quorum=2,
        min_nodes=4,
        t=2,
        round_timeout_s=300,
        attest_timeout_s=120,
    )
    spec = FeatureSpec()
    start = flatten(initial_weights(spec, config.seed), weight_layout(spec))
    with attesting(fed, poll_s=0.5):
        result = server_app.run_training(InProcessGrid(fed.node_homes), config, "kg-run")
    (round_1,) = result.rounds
    assert round_1.status == TrainingRoundStatus.ACCEPTED, round_1
    assert sorted(round_1.contributors) == [f"node-{i}" for i in range(4)]
    groups = [a["payload"]["key_group"] for a in round_1.attestations]
    assert sorted(groups) == ["group-a", "group-a", "group-b", "group-b"]

    total, weight = np.zeros_like(start), 0.0
    for home in fed.node_homes:
        kept = np.load(NodeContext.open(home).rounds_dir / "kg-run" / "round-1.npz")
        n = float(kept["num_examples"])
        total += kept["delta"] * n
        weight += n
    assert round_1.total_weight == weight
    step = 4 * 2.0 ** -(BITS + 1) / weight  # four nodes' rounding, divided by the weight
    assert np.max(np.abs(result.weights - (start + total / weight))) <= step + 1e-12
