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

from collections.abc import Iterator

import numpy as np
import pytest

from coordinator.federation.rounds import TrainingRoundStatus
from open_models.features import FeatureSpec
from open_models.network import flatten, initial_weights, weight_layout
from tests.federation.homes import Federation, running_federation
from tests.federation.keygroups_setup import BITS, install_groups, train_one_round
from trust_node.context import NodeContext
from trust_node.federation.training import UPDATE_WEIGHT


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    with running_federation(
        tmp_path_factory.mktemp("kg-train"), nodes=4, records=40, key_holders=4
    ) as f:
        install_groups(f)
        yield f


def test_a_round_under_key_groups_recombines_the_nodes_updates(
    fed: Federation, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = FeatureSpec()
    start = flatten(initial_weights(spec, 0), weight_layout(spec))  # FederationConfig.seed = 0
    result = train_one_round(fed, monkeypatch, "kg-run")
    (round_1,) = result.rounds
    assert round_1.status == TrainingRoundStatus.ACCEPTED, round_1
    assert sorted(round_1.contributors) == [f"node-{i}" for i in range(4)]
    groups = [a["payload"]["key_group"] for a in round_1.attestations]
    assert sorted(groups) == ["group-a", "group-a", "group-b", "group-b"]

    total, weight = np.zeros_like(start), 0.0
    for home in fed.node_homes:
        kept = np.load(NodeContext.open(home).rounds_dir / "kg-run" / "round-1.npz")
        total += kept["delta"] * UPDATE_WEIGHT  # a public constant, never the record count
        weight += UPDATE_WEIGHT
    assert round_1.total_weight == weight == 4
    step = 4 * 2.0 ** -(BITS + 1) / weight  # four nodes' rounding, divided by the weight
    assert np.max(np.abs(result.weights - (start + total / weight))) <= step + 1e-12
