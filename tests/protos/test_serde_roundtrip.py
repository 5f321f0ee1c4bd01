"""Every serde pair of the trust protocol round-trips, across the two sides and within each.

The node and the coordinator never import each other, so nothing but these tests shows
that what one side's ``x_to_proto`` writes is what the other side's ``x_from_proto``
reads. Requests go through a real egress guard (signed, CKKS-checked), replies through the
coordinator's encoders and the node's decoders, all as serialized bytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from coordinator.store import (
    DecryptionRequest,
    DecryptionStatus,
    NodeRecord,
    NodeStatus,
    Publication,
    StoredSubmission,
)
from coordinator.transport import serde as coordinator_serde
from governance.attestation import attest, ciphertext_digest
from governance.ckks import CkksKey, PublicContextRelease, encrypt, run_ceremony
from governance.ckks.transport import TransportKey
from governance.envelope import Envelope, seal
from governance.identity import Identity
from governance.policy import default_node_policy
from kernel.wire.trust import METHODS, STATISTICS_ROUND
from protos import trust_pb2 as pb
from trust_node.context import ENGINES
from trust_node.egress import EgressGuard, Outbound, Released, SqlRefusalLog
from trust_node.transport import serde as node_serde

NODE = "node-a"


@pytest.fixture(scope="module")
def key() -> CkksKey:
    return CkksKey.create()


@pytest.fixture
def guard(tmp_path: Path, key: CkksKey) -> EgressGuard:
    return EgressGuard(
        default_node_policy(NODE, "IN"),
        Identity.generate(NODE),
        refusals=SqlRefusalLog(ENGINES.engine(f"sqlite:///{tmp_path / 'node.sqlite'}")),
        public_key=key.public(),
    )


def _request_type(rpc: str) -> Any:
    method = pb.DESCRIPTOR.services_by_name["TrustCoordinator"].methods_by_name[rpc]
    return getattr(pb, method.input_type.name)


def _outbounds(guard: EgressGuard, key: CkksKey) -> dict[str, Outbound]:
    vector = encrypt(key.public(), [1.5, -2.0, 3.25])
    holder = TransportKey.generate()
    ceremony = run_ceremony(guard.identity, [(NODE, holder.public_bytes)], "2026")
    attestation = attest(guard.identity, key, vector, subject_id="statistics-7", round_id=7)
    return {
        "GetTrustInfo": node_serde.outbound("GetTrustInfo"),
        "GetKeyMaterial": node_serde.outbound("GetKeyMaterial", {"key_id": vector.key_id}),
        "GetRound": node_serde.outbound("GetRound", {"round_kind": STATISTICS_ROUND}),
        "FetchDecryptionRequests": node_serde.outbound("FetchDecryptionRequests"),
        "GetPublication": node_serde.outbound("GetPublication", {"subject_id": "bm-1"}),
        "Submit": node_serde.outbound_submission(STATISTICS_ROUND, 7, [vector]),
        "SubmitAttestation": node_serde.outbound_attestation("ab" * 16, 7, attestation),
        "UploadCeremony": node_serde.outbound_ceremony(ceremony),
    }


def test_every_rpc_has_a_request_round_trip(guard: EgressGuard, key: CkksKey) -> None:
    """Node request_to_proto -> bytes -> coordinator request_from_proto, for every RPC."""
    outbounds = _outbounds(guard, key)
    assert set(outbounds) == set(METHODS)
    for rpc, outbound in outbounds.items():
        released: Released = guard.check(outbound)
        data = node_serde.encoder(rpc)(released)
        decoded = coordinator_serde.request_from_proto(rpc, _request_type(rpc).FromString(data))
        assert decoded.method == outbound.method, rpc
        assert decoded.outbound_kind == outbound.kind, rpc
        assert decoded.envelope == released.envelope, rpc
        assert dict(decoded.metadata) == dict(outbound.metadata), rpc
        assert decoded.summary() == outbound.summary(), rpc
        assert decoded.ciphertexts == outbound.ciphertexts, rpc
        assert decoded.attestations == outbound.attestations, rpc
        assert decoded.key_packages == outbound.key_packages, rpc
        assert decoded.public_release == outbound.public_release, rpc


def _node(node_id: str, holder: bool) -> NodeRecord:
    return NodeRecord(
        node_id=node_id,
        jurisdiction="IN",
        identity_public_key=b"i" * 32,
        transport_public_key=b"t" * 32,
        cert_serial=12,
        key_holder=holder,
        status=NodeStatus.ACTIVE,
        enrolled_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


def _reply(rpc: str, message: Any) -> Any:
    return node_serde.decode_reply(rpc, message.SerializeToString())


def test_trust_info_round_trips() -> None:
    nodes = [_node("node-a", True), _node("node-b", False)]
    view = _reply(
        "GetTrustInfo",
        coordinator_serde.trust_info_to_proto(
            coordinator_id="coord",
            identity_key=b"k" * 32,
            policy_toml=b"toml",
            policy_sig=b"sig",
            crl_pem=b"crl",
            nodes=nodes,
        ),
    )
    assert (view.coordinator_id, view.coordinator_identity_key) == ("coord", b"k" * 32)
    assert (view.trust_policy_toml, view.trust_policy_sig, view.crl_pem) == (
        b"toml",
        b"sig",
        b"crl",
    )
    assert [(p.node_id, p.jurisdiction, p.key_holder) for p in view.nodes] == [
        ("node-a", "IN", True),
        ("node-b", "IN", False),
    ]
    assert view.nodes[0].identity_public_key == b"i" * 32
    assert view.nodes[0].transport_public_key == b"t" * 32


def on_the_wire(release: PublicContextRelease) -> PublicContextRelease:
    """A release as it travels: its group and recipients stay behind (each verifier puts in
    the ones its trust policy expects, ``governance.ckks.holders``)."""
    return replace(release, group="", recipients=())


def test_key_material_round_trips_with_and_without_a_package() -> None:
    holder = TransportKey.generate()
    ceremony = run_ceremony(Identity.generate(NODE), [(NODE, holder.public_bytes)], "2026")
    package = ceremony.packages[NODE]
    for sealed in (package, None):
        view = _reply(
            "GetKeyMaterial",
            coordinator_serde.key_material_to_proto(ceremony.public_release, b"c" * 32, sealed),
        )
        assert view.release == on_the_wire(ceremony.public_release)
        assert view.ceremony_identity_key == b"c" * 32
        assert view.package == sealed


def test_small_replies_round_trip() -> None:
    assert _reply("UploadCeremony", coordinator_serde.upload_reply_to_proto("k" * 32, 4)) == (
        "k" * 32,
        4,
    )
    round_view = _reply(
        "GetRound", coordinator_serde.round_to_proto(3, STATISTICS_ROUND, True, {"k": "5"})
    )
    assert (round_view.round_id, round_view.kind, round_view.open) == (3, STATISTICS_ROUND, True)
    assert round_view.parameters == {"k": "5"}
    receipt = _reply("Submit", coordinator_serde.receipt_to_proto(9, 21, "sha256:00"))
    assert (receipt.submission_id, receipt.log_index, receipt.digest) == (9, 21, "sha256:00")
    assert _reply("SubmitAttestation", coordinator_serde.attestation_receipt_to_proto(30, 2)) == (
        30,
        2,
    )


def test_decryption_requests_round_trip(key: CkksKey) -> None:
    vector = encrypt(key.public(), [0.5, 4.0])
    request = DecryptionRequest(
        request_id="ab" * 16,
        round_id=5,
        subject_id="statistics:5",
        key_id=vector.key_id,
        digest="sha256:" + "cd" * 32,
        vector=vector,
        status=DecryptionStatus.OPEN,
        kind=STATISTICS_ROUND,
        parameters={"terms": '{"round_id": 5}'},
        submissions=(7,),
    )
    identity = Identity.generate("node-a")
    submitted = encrypt(key.public(), [0.25, 2.0])
    submission = StoredSubmission(
        id=7,
        round_id=5,
        node_id="node-a",
        kind=STATISTICS_ROUND,
        envelope=seal(identity, "request.submit", 5, {"n": 1}),
        vectors=(submitted,),
        metadata={},
    )
    (pending,) = _reply(
        "FetchDecryptionRequests",
        coordinator_serde.decryption_requests_to_proto([(request, [submission])]),
    )
    (listed,) = pending.submissions
    assert (listed.node_id, listed.ciphertext_digest, listed.vector) == (
        "node-a",
        ciphertext_digest(submitted),
        submitted,
    )
    assert Envelope.from_bytes(listed.envelope) == submission.envelope
    assert (pending.request_id, pending.round_id, pending.subject_id, pending.digest) == (
        request.request_id,
        request.round_id,
        request.subject_id,
        request.digest,
    )
    assert pending.vector == vector
    assert (pending.kind, dict(pending.parameters)) == (request.kind, dict(request.parameters))


def test_publication_round_trips() -> None:
    publication = Publication(
        subject_id="bm-1",
        kind="benchmark",
        body={"cells": [{"id": "x", "value": 1.5}], "t": 2},
        log_index=40,
        published_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    view = _reply("GetPublication", coordinator_serde.publication_to_proto(publication))
    assert (view.subject_id, view.kind, view.body, view.log_index) == (
        "bm-1",
        "benchmark",
        publication.body,
        40,
    )


def test_each_side_round_trips_its_own_vector_and_release(key: CkksKey) -> None:
    vector = encrypt(key.public(), [7.0])
    ceremony = run_ceremony(
        Identity.generate(NODE), [(NODE, TransportKey.generate().public_bytes)], "2026"
    )
    release = on_the_wire(ceremony.public_release)
    wire_vector = pb.EncryptedVectorMsg.FromString(
        coordinator_serde.vector_to_proto(vector).SerializeToString()
    )
    assert coordinator_serde.vector_from_proto(wire_vector) == vector
    assert node_serde.vector_from_proto(node_serde.vector_to_proto(vector)) == vector
    assert coordinator_serde.release_from_proto(node_serde.release_to_proto(release)) == release
    assert node_serde.release_from_proto(coordinator_serde.release_to_proto(release)) == release
