"""Attack: send a "sum" of too few contributors to the key holders.

A sum of one node's update is that node's update: decrypting it reads the node. The
pipeline refuses, before summing or queueing anything, a sum with fewer distinct
contributors than the trust policy's ``m`` (never fewer than 2), for training and
statistics alike; no key holder is ever served the request. The training round loop
takes ``m`` and ``t`` from the trust policy when they exceed its own settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from coordinator.aggregation import AggregationPipeline
from coordinator.federation.config import FederationConfig
from coordinator.store import CoordinatorStore, InvalidRequestError, open_engine
from governance.ckks import CkksKey, encrypt
from governance.envelope import seal
from governance.identity import Identity
from governance.translog import TransparencyLog
from kernel.settings import load_settings
from kernel.wire import trust as wire


@dataclass
class World:
    pipeline: AggregationPipeline
    key: CkksKey
    nodes: dict[str, Identity]


@pytest.fixture(scope="module")
def secret_key() -> CkksKey:
    return CkksKey.create()


@pytest.fixture
def world(tmp_path: Path, secret_key: CkksKey) -> Iterator[World]:
    engine = open_engine(load_settings(home=tmp_path, database_url=f"sqlite:///{tmp_path}/c.db"))
    store = CoordinatorStore(engine)
    nodes = {f"node-{i}": Identity.generate(f"node-{i}") for i in range(3)}
    for i, (node_id, ident) in enumerate(nodes.items()):
        store.register_node(
            node_id=node_id,
            jurisdiction="IN",
            identity_public_key=ident.public_key,
            transport_public_key=bytes(32),
            cert_serial=400 + i,
            key_holder=True,
        )
    log = TransparencyLog(engine, Identity.generate("coordinator"))
    yield World(AggregationPipeline(store, log, secret_key.public()), secret_key, nodes)
    engine.dispose()


def _round(w: World, kind: str, contributors: list[str]) -> int:
    round_id = w.pipeline.open_round(kind)
    for node_id in contributors:
        w.pipeline.keep(
            round_id=round_id,
            node_id=node_id,
            kind=kind,
            envelope=seal(w.nodes[node_id], "request.test", round_id, {"n": node_id}),
            vectors=[encrypt(w.key.public(), [1.0, 2.0])],
            metadata={},
        )
    return round_id


def _nothing_served(w: World) -> None:
    for node_id in w.nodes:
        assert w.pipeline.store.pending_decryption_requests(node_id) == []


@pytest.mark.parametrize("kind", [wire.TRAINING_ROUND, wire.STATISTICS_ROUND])
def test_one_nodes_submission_is_never_sent_for_decryption(world: World, kind: str) -> None:
    w = world
    round_id = _round(w, kind, ["node-0"])
    with pytest.raises(InvalidRequestError, match="at least 2 distinct"):
        w.pipeline.request_decryption(
            round_id=round_id,
            kind=kind,
            subject_id=f"single:{round_id}",
            submissions=w.pipeline.store.submissions(round_id, kind),
        )
    _nothing_served(w)


def test_a_sum_below_the_policys_m_is_never_sent_for_decryption(world: World) -> None:
    w = world
    round_id = _round(w, wire.TRAINING_ROUND, ["node-0", "node-1"])
    submissions = w.pipeline.store.submissions(round_id, wire.TRAINING_ROUND)
    with pytest.raises(InvalidRequestError, match="at least 3 distinct"):
        w.pipeline.request_decryption(
            round_id=round_id,
            kind=wire.TRAINING_ROUND,
            subject_id=f"below-m:{round_id}",
            submissions=submissions,
            min_contributors=3,  # the trust policy's m
        )
    # the same submission twice is still one contributor
    with pytest.raises(InvalidRequestError, match="distinct"):
        w.pipeline.request_decryption(
            round_id=round_id,
            kind=wire.TRAINING_ROUND,
            subject_id=f"twice:{round_id}",
            submissions=[submissions[0], submissions[0]],
        )
    _nothing_served(w)


def test_training_takes_the_policys_m_and_t_when_larger() -> None:
    config = FederationConfig(coordinator_home=Path("."), quorum=2, t=2)
    raised = config.within_policy(m=3, t=3)
    assert (raised.quorum, raised.t) == (3, 3)
    assert config.within_policy(m=2, t=2) == config
