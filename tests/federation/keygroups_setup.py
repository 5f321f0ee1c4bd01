"""A running trust with two key groups installed, and a Grid that hands Flower messages to
the nodes' real ClientApps in this process (shared by the key-group federation and attack
tests).

Two groups (node-0, node-1 | node-2, node-3) are made by per-group ceremonies; their public
keys are installed on every node and at the coordinator, each sealed package at its holder
(by the library calls a protocol step will make: ``trust_node.keygroup_keys``,
``coordinator.federation.keygroups.install_training_groups``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from flwr.app import Message
from flwr.serverapp import Grid
from flwr.supercore.task_identity import TaskIdentity

from coordinator.federation import server_app
from coordinator.federation.config import FederationConfig
from coordinator.federation.keygroups import install_training_groups
from coordinator.federation.rounds import TrainingResult
from governance.identity import Identity
from governance.keygroups import KeyGroup, run_group_ceremony
from tests.attacks.door_support import leave, message_to
from tests.federation.homes import Federation, attesting
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


def install_groups(fed: Federation) -> None:
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


def train_one_round(fed: Federation, monkeypatch: pytest.MonkeyPatch, run: str) -> TrainingResult:
    """One real training round (``run_training``) over the in-process grid, while the key
    holders' ``attest --watch`` loops run."""
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
    with attesting(fed, poll_s=0.5):
        return server_app.run_training(InProcessGrid(fed.node_homes), config, run)
