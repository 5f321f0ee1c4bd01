"""The one aggregation pipeline in process: request, collect or await, publish once.

The full paths (training over Flower, statistics over gRPC, key holders pulling over mutual
TLS) are in ``tests/federation`` and ``tests/coordinator/statistics``; these check what
those runs do not reach: waiting ends as soon as ``t`` agree or every key holder answered,
each attestation is logged once however long the wait, a key holder refuses a request
whose ciphertext is not the one it names, and a subject is published once.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from coordinator.aggregation import BENCHMARK, AggregationPipeline
from coordinator.store import (
    AlreadyPublishedError,
    CoordinatorStore,
    DecryptionRequest,
    open_engine,
)
from governance.attestation import InsufficientAttestationsError, attest
from governance.ckks import CkksKey, encrypt
from governance.envelope import seal
from governance.identity import Identity
from governance.translog import TransparencyLog
from kernel.settings import load_settings
from kernel.wire import trust as wire
from trust_node.attestation import attest_sum
from trust_node.attestation.duties import DecryptionRequestError
from trust_node.transport.serde import PendingDecryption


@dataclass
class World:
    pipeline: AggregationPipeline
    key: CkksKey
    holders: dict[str, Identity]


@pytest.fixture(scope="module")
def secret_key() -> CkksKey:
    return CkksKey.create()


@pytest.fixture
def world(tmp_path: Path, secret_key: CkksKey) -> Iterator[World]:
    engine = open_engine(load_settings(home=tmp_path, database_url=f"sqlite:///{tmp_path}/c.db"))
    store = CoordinatorStore(engine)
    holders = {f"node-{i}": Identity.generate(f"node-{i}") for i in range(3)}
    for i, (node_id, ident) in enumerate(holders.items()):
        store.register_node(
            node_id=node_id,
            jurisdiction="IN",
            identity_public_key=ident.public_key,
            transport_public_key=bytes(32),
            cert_serial=200 + i,
            key_holder=True,
        )
    log = TransparencyLog(engine, Identity.generate("coordinator"))
    yield World(AggregationPipeline(store, log, secret_key.public()), secret_key, holders)
    engine.dispose()


def _request(w: World, values: list[list[float]]) -> DecryptionRequest:
    round_id = w.pipeline.open_round(wire.TRAINING_ROUND)
    for node_id, row in zip(w.holders, values, strict=False):
        w.pipeline.keep(
            round_id=round_id,
            node_id=node_id,
            kind=wire.TRAINING_ROUND,
            envelope=seal(w.holders[node_id], "request.test", round_id, {"n": node_id}),
            vectors=[encrypt(w.key.public(), row)],
            metadata={},
        )
    submissions = w.pipeline.store.submissions(round_id, wire.TRAINING_ROUND)
    request = w.pipeline.request_decryption(
        round_id=round_id,
        kind=wire.TRAINING_ROUND,
        subject_id=f"model-update:test:{round_id}",
        submissions=submissions,
    )
    assert request.submissions == tuple(s.id for s in submissions)
    assert request.kind == wire.TRAINING_ROUND
    return request


def _attest(w: World, request: DecryptionRequest, signer: str) -> None:
    store = w.pipeline.store
    pending = store.decryption_request(request.request_id)
    envelope = attest(
        w.holders[signer],
        w.key,
        pending.vector,
        subject_id=pending.subject_id,
        round_id=pending.round_id,
    )
    store.add_attestation(pending.request_id, signer, envelope)


def test_waiting_ends_once_t_agree_and_logs_each_attestation_once(world: World) -> None:
    w = world
    request = _request(w, [[1.0, 2.0], [3.0, 4.0]])
    _attest(w, request, "node-0")
    _attest(w, request, "node-1")
    started = time.monotonic()
    outcome = w.pipeline.await_attestations(request, t=2, timeout_s=30)
    assert time.monotonic() - started < 10
    assert outcome.floats() == pytest.approx([4.0, 6.0], abs=1e-5)
    kinds = [e.kind for e in w.pipeline.log.iter_entries()]
    assert kinds.count("attestation") == 2 and kinds.count("submission_digest") == 2


def test_waiting_gives_up_when_every_key_holder_answered_without_t_agreeing(
    world: World,
) -> None:
    w = world
    request = _request(w, [[1.0], [2.0]])
    _attest(w, request, "node-0")
    started = time.monotonic()
    with pytest.raises(InsufficientAttestationsError):
        w.pipeline.await_attestations(request, t=2, timeout_s=1.5)
    assert time.monotonic() - started >= 1.0  # node-1 and node-2 never answered: timeout
    for signer in ("node-1", "node-2"):  # one forged-looking disagreement each
        pending = w.pipeline.store.decryption_request(request.request_id)
        payload = {
            "subject_id": pending.subject_id,
            "round_id": pending.round_id,
            "key_id": pending.key_id,
            "ciphertext_digest": pending.digest,
            "decimals": 6,
            "values": ["7.000000" if signer == "node-1" else "8.000000"],
        }
        envelope = seal(w.holders[signer], "attestation", pending.round_id, payload)
        w.pipeline.store.add_attestation(pending.request_id, signer, envelope)
    started = time.monotonic()
    with pytest.raises(InsufficientAttestationsError):
        w.pipeline.await_attestations(request, t=2, timeout_s=30)
    assert time.monotonic() - started < 10  # everyone answered: no point waiting


def test_a_key_holder_refuses_a_ciphertext_that_is_not_the_one_named(world: World) -> None:
    w = world
    request = _request(w, [[1.0], [2.0]])
    pending = w.pipeline.store.decryption_request(request.request_id)
    view = PendingDecryption(
        pending.request_id,
        pending.round_id,
        pending.subject_id,
        pending.digest,
        pending.vector,
        pending.kind,
        dict(pending.parameters),
    )
    assert attest_sum(w.holders["node-0"], w.key, view).signer_id == "node-0"
    swapped = dataclasses.replace(view, vector=encrypt(w.key.public(), [5.0]))
    with pytest.raises(DecryptionRequestError, match="not"):
        attest_sum(w.holders["node-0"], w.key, swapped)


def test_a_subject_is_published_once(world: World) -> None:
    w = world
    payload = {"cells": [], "t": 2}
    published = w.pipeline.publish(subject_id="bm-1", kind=BENCHMARK, payload=payload)
    entry = w.pipeline.log.entry(published.log_index)
    assert entry.kind == "publication" and entry.payload == payload
    assert [p.subject_id for p in w.pipeline.store.publications(BENCHMARK)] == ["bm-1"]
    size = w.pipeline.log.size()
    with pytest.raises(AlreadyPublishedError):
        w.pipeline.publish(subject_id="bm-1", kind=BENCHMARK, payload={"cells": [1], "t": 2})
    assert w.pipeline.log.size() == size  # refused before anything was logged
