"""Attack: two colluding key holders sign other values for the same sum, as many as ``t``.

Two honest holders decrypt the sum; two others sign different values for the same round,
key and ciphertext digest. Both groups reach ``t = 2``: the first seen used to be
published. Now the collection is refused, nothing can be published, and the log keeps
both groups (one ``attestation_conflict`` entry naming each, every attestation rejected).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from coordinator.aggregation import AggregationPipeline
from coordinator.store import CoordinatorStore, DecryptionRequest, open_engine
from governance.attestation import (
    ATTESTATION_KIND,
    InsufficientAttestationsError,
    attest,
    format_values,
)
from governance.ckks import CkksKey, encrypt
from governance.envelope import seal
from governance.identity import Identity
from governance.translog import TransparencyLog
from kernel.settings import load_settings
from kernel.wire import trust as wire

HONEST = ("node-0", "node-1")
COLLUDING = ("node-2", "node-3")


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
    holders = {n: Identity.generate(n) for n in (*HONEST, *COLLUDING)}
    for i, (node_id, ident) in enumerate(holders.items()):
        store.register_node(
            node_id=node_id,
            jurisdiction="IN",
            identity_public_key=ident.public_key,
            transport_public_key=bytes(32),
            cert_serial=300 + i,
            key_holder=True,
        )
    log = TransparencyLog(engine, Identity.generate("coordinator"))
    yield World(AggregationPipeline(store, log, secret_key.public()), secret_key, holders)
    engine.dispose()


def _request(w: World) -> DecryptionRequest:
    round_id = w.pipeline.open_round(wire.TRAINING_ROUND)
    for node_id, row in zip(HONEST, ([1.0, 2.0], [3.0, 4.0]), strict=True):
        w.pipeline.keep(
            round_id=round_id,
            node_id=node_id,
            kind=wire.TRAINING_ROUND,
            envelope=seal(w.holders[node_id], "request.test", round_id, {"n": node_id}),
            vectors=[encrypt(w.key.public(), row)],
            metadata={},
        )
    return w.pipeline.request_decryption(
        round_id=round_id,
        kind=wire.TRAINING_ROUND,
        subject_id=f"model-update:tie:{round_id}",
        submissions=w.pipeline.store.submissions(round_id, wire.TRAINING_ROUND),
    )


def test_two_groups_reaching_t_refuse_publication_and_both_are_logged(world: World) -> None:
    w = world
    request = _request(w)
    store = w.pipeline.store
    pending = store.decryption_request(request.request_id)
    for signer in HONEST:
        envelope = attest(
            w.holders[signer],
            w.key,
            pending.vector,
            subject_id=pending.subject_id,
            round_id=pending.round_id,
        )
        store.add_attestation(pending.request_id, signer, envelope)
    forged_values = format_values([400.0, 600.0])  # what the colluders want published
    for signer in COLLUDING:
        payload = {
            "subject_id": pending.subject_id,
            "round_id": pending.round_id,
            "key_id": pending.key_id,
            "ciphertext_digest": pending.digest,
            "decimals": 6,
            "values": forged_values,
        }
        envelope = seal(w.holders[signer], ATTESTATION_KIND, pending.round_id, payload)
        store.add_attestation(pending.request_id, signer, envelope)

    before = w.pipeline.log.size()
    with pytest.raises(InsufficientAttestationsError, match="publication refused") as info:
        w.pipeline.collect(request, t=2)
    outcome = info.value.outcome
    assert not outcome.accepted and outcome.agreeing == ()
    groups = sorted(sorted(a.signer_id for a in g) for g in outcome.conflicting)
    assert groups == [sorted(HONEST), sorted(COLLUDING)]
    assert sorted(r.signer_id for r in outcome.rejected) == sorted((*HONEST, *COLLUDING))

    entries = list(w.pipeline.log.iter_entries())[before:]
    assert not [e for e in entries if e.kind == "attestation"], "nothing may count as accepted"
    rejected = {e.payload["signer_id"] for e in entries if e.kind == "attestation_rejected"}
    assert rejected == {*HONEST, *COLLUDING}
    [conflict] = [e for e in entries if e.kind == "attestation_conflict"]
    logged = sorted(sorted(g["signers"]) for g in conflict.payload["groups"])
    assert logged == [sorted(HONEST), sorted(COLLUDING)]
    shas = {
        sha
        for g in conflict.payload["groups"]
        for sha in g["envelope_sha256"]  # every signed envelope of both groups is named
    }
    assert shas == {
        hashlib.sha256(env.to_bytes()).hexdigest() for env in store.attestations(request.request_id)
    }
    assert conflict.payload["ciphertext_digest"] == pending.digest
