"""Nodes that stop answering mid-round: the round completes at quorum, below it is skipped.

Over the simulation engine, three nodes, quorum 2, t 2 (the trust policy is set to m = 2,
t = 2, its smallest valid thresholds, so two contributors may make a round). A test mod
makes chosen nodes stop answering ``train`` (they stall past the round timeout without
training, as a node whose process died or whose link dropped). Round 1 has everyone (and
warms the actors up); round 2 loses node-2 and is still accepted with node-0 and node-1;
round 3 loses node-1 and node-2 and is skipped and logged, and the run goes on to publish
the round-2 model instead of stalling.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from flwr.app import Context, Error, Message
from flwr.clientapp.typing import ClientAppCallable

from coordinator.context import CoordinatorContext
from coordinator.federation.config import FederationConfig
from coordinator.federation.server_app import build_server_app
from coordinator.registry import ModelRegistry
from coordinator.store import open_engine
from governance.identity import Identity
from governance.pki import HomeLayout
from governance.translog import TransparencyLog
from kernel.settings import load_settings
from tests.federation.homes import attesting, running_federation, start_ray
from trust_node.federation.client_app import build_client_app

flwr_sim = pytest.importorskip("flwr.simulation")

ROUND_TIMEOUT_S = 60.0  # round 1 also warms the Ray actors up on a shared machine
DROPPED = {2: {2}, 3: {1, 2}}  # round -> partitions that stop answering


def stall_mod(message: Message, context: Context, call_next: ClientAppCallable) -> Message:
    if message.metadata.message_type == "train":
        round_no = int(message.content.config_records["round"]["round"])  # type: ignore[arg-type]
        if int(context.node_config["partition-id"]) in DROPPED.get(round_no, set()):
            time.sleep(ROUND_TIMEOUT_S + 5)  # gone for this round: no training, no reply
            return Message(Error(code=503, reason="node was gone"), reply_to=message)
    return call_next(message, context)


def _allow_two_contributors(home: Path) -> None:
    """``running_federation`` founds the trust with m = 2 (t = 2 by default), signed by its
    members and logged: check that is the policy in force."""
    publication = CoordinatorContext.open(home).trust_policy.publication
    assert (publication.m, publication.t) == (2, 2)


@pytest.mark.slow
def test_dropout_keeps_quorum_and_skips_below_it(tmp_path: Path) -> None:
    with running_federation(tmp_path, nodes=3, key_holders=2, records=40) as fed, attesting(fed):
        _allow_two_contributors(fed.coordinator_home)
        config = FederationConfig(
            coordinator_home=fed.coordinator_home,
            rounds=3,
            quorum=2,
            min_nodes=3,
            t=2,
            round_timeout_s=ROUND_TIMEOUT_S,
            attest_timeout_s=60,
        )
        # outermost: a stalled node sends nothing at all
        client = build_client_app([str(h) for h in fed.node_homes], outer_mods=[stall_mod])
        start_ray(num_cpus=3)
        flwr_sim.run_simulation(
            server_app=build_server_app(config),
            client_app=client,
            num_supernodes=3,
            backend_config={"client_resources": {"num_cpus": 1}, "init_args": {"num_cpus": 3}},
        )
    engine = open_engine(load_settings(home=fed.coordinator_home))
    log = TransparencyLog(engine, Identity.load(HomeLayout(fed.coordinator_home).identity_dir))
    rounds = {
        (e.payload["round"], e.payload["event"]): e.payload
        for e in log.iter_entries()
        if e.kind == "round"
    }
    assert rounds[(1, "round_accepted")]["contributors"] == ["node-0", "node-1", "node-2"]
    assert rounds[(2, "round_accepted")]["contributors"] == ["node-0", "node-1"]
    skipped = rounds[(3, "round_skipped")]
    assert skipped["valid_updates"] == 1 and skipped["quorum"] == 2
    assert (3, "round_accepted") not in rounds
    # The run did not stall: the round-2 model was published.
    [(_, version, _, _)] = ModelRegistry(engine).list()
    assert version.startswith("run-")
