"""What the key-group attack tests share: two key groups made by real per-group
ceremonies, ten contributing nodes, the coordinator's real store, log and pipeline holding
the groups' public keys only, and the holders' opened secret keys (the adversary's, when
it colludes with a group).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from coordinator.aggregation import AggregationPipeline
from coordinator.aggregation.keygroups import GroupAggregation
from coordinator.store import CoordinatorStore, DecryptionRequest, open_engine
from governance.ckks import CkksKey, TransportKey
from governance.envelope import seal
from governance.identity import Identity
from governance.keygroups import (
    BfvKey,
    KeyGroup,
    attest_group_sum,
    key_groups,
    open_group_package,
    open_group_public_key,
    run_group_ceremony,
    share_contribution,
)
from governance.translog import TransparencyLog
from kernel.settings import load_settings
from kernel.wire import trust as wire

CONTRIBUTORS = tuple(f"node-{i}" for i in range(10))
#: The trust policy's key groups (group b has four holders so two can collude late).
POLICY = {
    "key_groups": [
        {"group": "group-a", "holders": ["ka-1", "ka-2"]},
        {"group": "group-b", "holders": ["kb-1", "kb-2", "kb-3", "kb-4"]},
    ]
}
VALUES = 2000  # per node, as measured in issue 13


@dataclass
class Custody:
    groups: tuple[KeyGroup, ...]
    public_keys: tuple[BfvKey, ...]  # what contributors and the coordinator hold
    holder_keys: dict[str, BfvKey]  # node id -> that holder's opened secret key
    identities: dict[str, Identity]


def make_custody() -> Custody:
    """Run each group's ceremony, sealed to its holders, and open every package."""
    groups = key_groups(POLICY)
    ceremony = Identity.generate("ceremony")
    identities = {n: Identity.generate(n) for n in CONTRIBUTORS}
    public_keys, holder_keys = [], {}
    for group in groups:
        transport = {h: TransportKey.generate() for h in group.holders}
        out = run_group_ceremony(
            ceremony, group, {h: t.public_bytes for h, t in transport.items()}, "2026"
        )
        public_keys.append(
            open_group_public_key(out.public_key, ceremony_public_key=ceremony.public_key)
        )
        for holder in group.holders:
            identities[holder] = Identity.generate(holder)
            holder_keys[holder] = open_group_package(
                out.packages[holder],
                node_id=holder,
                group=group,
                transport_key=transport[holder],
                ceremony_public_key=ceremony.public_key,
            )
    return Custody(groups, tuple(public_keys), holder_keys, identities)


@dataclass
class World:
    custody: Custody
    aggregation: GroupAggregation

    @property
    def pipeline(self) -> AggregationPipeline:
        return self.aggregation.pipeline


def open_world(tmp_path: Path, custody: Custody) -> Iterator[World]:
    engine = open_engine(load_settings(home=tmp_path, database_url=f"sqlite:///{tmp_path}/c.db"))
    store = CoordinatorStore(engine)
    for i, (node_id, ident) in enumerate(custody.identities.items()):
        store.register_node(
            node_id=node_id,
            jurisdiction="IN",
            identity_public_key=ident.public_key,
            transport_public_key=bytes(32),
            cert_serial=500 + i,
            key_holder=node_id in custody.holder_keys,
        )
    log = TransparencyLog(engine, Identity.generate("coordinator"))
    # The single-key CKKS context stays the pipeline's (unused here): the groups' keys
    # are public-only, as the coordinator holds them.
    pipeline = AggregationPipeline(store, log, CkksKey.create().public())
    yield World(custody, GroupAggregation(pipeline, custody.public_keys))
    engine.dispose()


def submit_round(
    w: World, rows: dict[str, list[float]]
) -> tuple[int, dict[str, DecryptionRequest]]:
    """Every node shares its row (no DP noise: the sum is checked exactly), the coordinator
    keeps each submission and queues one sum per group."""
    round_id = w.pipeline.open_round(wire.TRAINING_ROUND)
    for node_id, row in rows.items():
        shares = share_contribution(row, w.custody.public_keys)
        vectors = [shares[g.group] for g in w.custody.groups]
        w.aggregation.check_submission(vectors)
        w.pipeline.keep(
            round_id=round_id,
            node_id=node_id,
            kind=wire.TRAINING_ROUND,
            envelope=seal(w.custody.identities[node_id], "request.test", round_id, {"n": node_id}),
            vectors=vectors,
            metadata={},
        )
    requests = w.aggregation.request_group_decryptions(
        round_id=round_id,
        kind=wire.TRAINING_ROUND,
        subject_id=f"model-update:keygroups:{round_id}",
        submissions=w.pipeline.store.submissions(round_id, wire.TRAINING_ROUND),
    )
    return round_id, requests


def attest(w: World, request: DecryptionRequest, holder: str) -> None:
    """``holder`` decrypts its group's sum and the coordinator stores the attestation."""
    envelope = attest_group_sum(
        w.custody.identities[holder],
        w.custody.holder_keys[holder],
        request.vector,
        subject_id=request.subject_id,
        round_id=request.round_id,
    )
    w.pipeline.store.add_attestation(request.request_id, holder, envelope)
