"""The trust gRPC protocol end to end on loopback, over real mutual TLS.

One trust (coordinator + three enrolled nodes, two key holders, one key ceremony) serves
the whole module; each refusal case gets the clear status code the server documents.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cryptography.hazmat.primitives import serialization

from coordinator.enrolment import revoke_node
from coordinator.store import CoordinatorStore
from governance.attestation import InsufficientAttestationsError, attest
from governance.ckks import CkksKey, MissingSecretKeyError, add_all, decrypt, encrypt
from governance.identity import Identity
from governance.pki import HomeLayout, TrustRoot, certificate_pem, generate_tls_key, make_csr
from governance.signed_requests import seal_request
from governance.translog import TransparencyLog
from kernel.wire.trust import SERVICE
from tests.trust_setup import Trust, enrol, running_trust
from trust_node.context import NodeContext
from trust_node.egress import Released
from trust_node.transport import serde
from trust_node.transport.client import TrustClient, TrustTransportError

VALUES = {"node-a": [1.5, 2.0, 10.0], "node-b": [0.5, 4.0, 20.0], "node-c": [3.0, 0.25, 30.0]}


@pytest.fixture(scope="module")
def trust(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trust]:
    with running_trust(tmp_path_factory.mktemp("trust")) as trust:
        yield trust


def _client(trust: Trust, node_id: str) -> TrustClient:
    return trust.nodes[node_id].client(trust.address)


def _raw(trust: Trust, state: NodeContext, rpc: str, released: Released) -> bytes:
    """Send bytes as a node that bypasses its own guard would (a malicious node)."""
    client = state.client(trust.address)
    try:
        send = client._channel.unary_unary(SERVICE + rpc)
        reply: bytes = send(serde.encoder(rpc)(released), timeout=30)
        return reply
    finally:
        client.close()


def _expect(code: grpc.StatusCode, action: object) -> TrustTransportError:
    with pytest.raises(TrustTransportError) as info:
        action()  # type: ignore[operator]
    assert info.value.code == code.name, info.value
    return info.value


def test_statistics_round_trip_publishes_only_with_t_matching_attestations(trust: Trust) -> None:
    handlers = trust.server.handlers
    round_id = handlers.store.open_round("statistics")
    for node_id, values in VALUES.items():
        state = trust.nodes[node_id]
        key = state.public_key()
        assert key is not None and not key.is_private
        with _client(trust, node_id) as client:
            assert client.current_round("statistics").round_id == round_id
            receipt = client.submit("statistics", round_id, [encrypt(key, values)])
        assert receipt.digest.startswith("sha256:")
    submissions = handlers.store.submissions(round_id, "statistics")
    assert sorted(s.node_id for s in submissions) == sorted(VALUES)

    public = handlers.public_key()
    total = add_all(public, [s.vectors[0] for s in submissions])
    # Invariant 2: the coordinator's stored context is public-only and cannot decrypt.
    assert not public.is_private
    with pytest.raises(MissingSecretKeyError):
        decrypt(public, submissions[0].vectors[0])

    pending = handlers.store.add_decryption_request(
        round_id=round_id, subject_id="test/sum", vector=total
    )
    with _client(trust, "node-c") as client:  # not a key holder
        _expect(grpc.StatusCode.PERMISSION_DENIED, client.decryption_requests)
    with pytest.raises(InsufficientAttestationsError):
        handlers.collect(pending.request_id, t=2)
    for holder in ("node-a", "node-b"):
        state = trust.nodes[holder]
        with _client(trust, holder) as client:
            (request,) = [
                r for r in client.decryption_requests() if r.request_id == pending.request_id
            ]
            secret = state.secret_key(request.vector.key_id)
            envelope = attest(
                state.identity,
                secret,
                request.vector,
                subject_id=request.subject_id,
                round_id=request.round_id,
            )
            client.submit_attestation(request.request_id, request.round_id, envelope)
    outcome = handlers.collect(pending.request_id, t=2)
    expected = [sum(v[i] for v in VALUES.values()) for i in range(3)]
    assert outcome.floats() == pytest.approx(expected, abs=1e-5)
    assert set(outcome.signer_ids()) == {"node-a", "node-b"}


def test_a_second_submission_in_a_round_is_refused(trust: Trust) -> None:
    round_id = trust.server.handlers.store.open_round("statistics")
    key = trust.nodes["node-a"].public_key()
    assert key is not None
    with _client(trust, "node-a") as client:
        client.submit("statistics", round_id, [encrypt(key, [1.0])])
        _expect(
            grpc.StatusCode.ALREADY_EXISTS,
            lambda: client.submit("statistics", round_id, [encrypt(key, [1.0])]),
        )


def test_stale_round_is_refused(trust: Trust) -> None:
    store = trust.server.handlers.store
    old = store.open_round("statistics")
    store.open_round("statistics")
    key = trust.nodes["node-b"].public_key()
    assert key is not None
    with _client(trust, "node-b") as client:
        error = _expect(
            grpc.StatusCode.FAILED_PRECONDITION,
            lambda: client.submit("statistics", old, [encrypt(key, [1.0])]),
        )
    assert "StaleRoundError" in error.details


def test_no_open_round_is_a_failed_precondition(trust: Trust) -> None:
    with _client(trust, "node-a") as client:
        _expect(grpc.StatusCode.FAILED_PRECONDITION, lambda: client.current_round("training"))


def test_replayed_request_is_refused(trust: Trust) -> None:
    state = trust.nodes["node-a"]
    released = state.guard().check(serde.outbound("GetTrustInfo"))
    _raw(trust, state, "GetTrustInfo", released)
    with pytest.raises(grpc.RpcError) as info:
        _raw(trust, state, "GetTrustInfo", released)
    assert info.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "ReplayError" in (info.value.details() or "")


def test_altered_request_fails_the_signature_check(trust: Trust) -> None:
    state = trust.nodes["node-a"]
    released = state.guard().check(serde.outbound("GetPublication", {"subject_id": "a"}))
    altered = dataclasses.replace(
        released, outbound=serde.outbound("GetPublication", {"subject_id": "b"})
    )
    with pytest.raises(grpc.RpcError) as info:
        _raw(trust, state, "GetPublication", altered)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_envelope_signed_by_another_identity_is_refused(trust: Trust) -> None:
    state = trust.nodes["node-a"]
    outbound = serde.outbound("GetTrustInfo")
    forged = seal_request(Identity.generate("node-a"), outbound.summary())
    with pytest.raises(grpc.RpcError) as info:
        _raw(trust, state, "GetTrustInfo", Released(outbound, forged))
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_node_envelope_for_another_node_is_refused(trust: Trust) -> None:
    """node-b's valid envelope sent over node-a's TLS connection: signer != peer."""
    outbound = serde.outbound("GetTrustInfo")
    released_b = trust.nodes["node-b"].guard().check(outbound)
    with pytest.raises(grpc.RpcError) as info:
        _raw(trust, trust.nodes["node-a"], "GetTrustInfo", released_b)
    assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_ciphertext_under_another_key_is_invalid_argument(trust: Trust) -> None:
    store = trust.server.handlers.store
    round_id = store.current_round("statistics") or store.open_round("statistics")
    state = trust.nodes["node-c"]
    foreign = encrypt(CkksKey.create(), [1.0, 2.0])
    outbound = serde.outbound_submission("statistics", round_id, [foreign])
    released = Released(outbound, seal_request(state.identity, outbound.summary()))
    with pytest.raises(grpc.RpcError) as info:
        _raw(trust, state, "Submit", released)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    kinds = [e.kind for e in trust.server.handlers.translog.iter_entries()]
    assert "submission_rejected" in kinds


def test_truncated_ciphertext_is_invalid_argument(trust: Trust) -> None:
    store = trust.server.handlers.store
    round_id = store.open_round("statistics")
    state = trust.nodes["node-c"]
    key = state.public_key()
    assert key is not None
    good = encrypt(key, [1.0, 2.0])
    bad = dataclasses.replace(good, chunks=(good.chunks[0][: len(good.chunks[0]) // 2],))
    outbound = serde.outbound_submission("statistics", round_id, [bad])
    released = Released(outbound, seal_request(state.identity, outbound.summary()))
    with pytest.raises(grpc.RpcError) as info:
        _raw(trust, state, "Submit", released)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def _pem(key: object) -> bytes:
    return key.private_bytes(  # type: ignore[attr-defined,no-any-return]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _client_with_cert(
    trust: Trust, state: NodeContext, key_pem: bytes, cert_pem: bytes
) -> TrustClient:
    return TrustClient(
        trust.address,
        guard=state.guard(),
        tls_key=key_pem,
        tls_cert=cert_pem,
        ca_cert=state.layout.ca_cert.read_bytes(),
        timeout=10,
    )


def test_unknown_node_with_a_valid_certificate_is_permission_denied(trust: Trust) -> None:
    root = TrustRoot.load(HomeLayout(trust.coordinator.home_dir).pki_dir)
    state = trust.nodes["node-a"]
    key = generate_tls_key()
    stranger = Identity.generate("node-a")  # right name, unregistered certificate
    cert = root.issue_node_certificate(make_csr(key, "node-a"), "node-a", "IN", stranger.public_key)
    with _client_with_cert(trust, state, _pem(key), certificate_pem(cert)) as client:
        _expect(grpc.StatusCode.PERMISSION_DENIED, client.trust_info)


def test_expired_certificate_fails_the_handshake(trust: Trust) -> None:
    root = TrustRoot.load(HomeLayout(trust.coordinator.home_dir).pki_dir)
    state = trust.nodes["node-a"]
    key = generate_tls_key()
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    cert = root.issue_node_certificate(
        make_csr(key, "node-a"), "node-a", "IN", state.identity.public_key, days=1, now=past
    )
    with _client_with_cert(trust, state, _pem(key), certificate_pem(cert)) as client:
        _expect(grpc.StatusCode.UNAVAILABLE, client.trust_info)


def test_certificate_from_another_ca_fails_the_handshake(trust: Trust, tmp_path: Path) -> None:
    other = TrustRoot.create(tmp_path / "other-root")
    state = trust.nodes["node-a"]
    key = generate_tls_key()
    cert = other.issue_node_certificate(
        make_csr(key, "node-a"), "node-a", "IN", state.identity.public_key
    )
    with _client_with_cert(trust, state, _pem(key), certificate_pem(cert)) as client:
        _expect(grpc.StatusCode.UNAVAILABLE, client.trust_info)


def test_no_client_certificate_fails_the_handshake(trust: Trust) -> None:
    state = trust.nodes["node-a"]
    credentials = grpc.ssl_channel_credentials(state.layout.ca_cert.read_bytes())
    with (
        grpc.secure_channel(trust.address, credentials) as channel,
        pytest.raises(grpc.RpcError) as info,
    ):
        channel.unary_unary(SERVICE + "GetTrustInfo")(b"", timeout=10)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE


def test_revoked_node_is_refused(tmp_path: Path) -> None:
    with running_trust(tmp_path, ("node-a", "node-b", "node-x"), ceremony=False) as trust:
        with _client(trust, "node-x") as client:
            assert client.trust_info().coordinator_id == "coordinator"
        handlers = trust.server.handlers
        revoke_node(
            "node-x", layout=handlers.layout, store=handlers.store, translog=handlers.translog
        )
        with _client(trust, "node-x") as client:
            error = _expect(grpc.StatusCode.UNAUTHENTICATED, client.trust_info)
        assert "revoked" in error.details


def test_enrolment_is_in_the_transparency_log(tmp_path: Path) -> None:
    with running_trust(tmp_path, ("node-a", "node-b"), ceremony=True) as trust:
        entries = list(trust.server.handlers.translog.iter_entries())
        kinds = [e.kind for e in entries]
        assert kinds.count("enrolment") == 2 and "key_ceremony" in kinds
        store = CoordinatorStore(trust.server.handlers.store.engine)
        assert {n.node_id for n in store.key_holders()} == {"node-a", "node-b"}
        # A second enrolment of the same node id is refused.
        with pytest.raises(Exception, match="already enrolled"):
            enrol(trust.coordinator, tmp_path / "again", "node-a", key_holder=False)
        assert isinstance(trust.server.handlers.translog, TransparencyLog)


def test_an_attestation_naming_other_submissions_is_refused(trust: Trust) -> None:
    """The attestation's ``submissions_digest`` must be that of the request's submissions."""
    handlers = trust.server.handlers
    round_id = handlers.store.open_round("statistics")
    for node_id, values in VALUES.items():
        key = trust.nodes[node_id].public_key()
        assert key is not None
        with _client(trust, node_id) as client:
            client.submit("statistics", round_id, [encrypt(key, values)])
    pending = handlers.pipeline.request_decryption(
        round_id=round_id,
        kind="statistics",
        subject_id=f"test/listed-{round_id}",
        submissions=handlers.store.submissions(round_id, "statistics"),
    )
    state = trust.nodes["node-a"]
    with _client(trust, "node-a") as client:
        (request,) = [r for r in client.decryption_requests() if r.request_id == pending.request_id]
        assert sorted(s.node_id for s in request.submissions) == sorted(VALUES)
        envelope = attest(
            state.identity,
            state.secret_key(request.vector.key_id),
            request.vector,
            subject_id=request.subject_id,
            round_id=request.round_id,
            submissions_digest="sha256:" + "00" * 32,
        )
        _expect(
            grpc.StatusCode.INVALID_ARGUMENT,
            lambda: client.submit_attestation(request.request_id, request.round_id, envelope),
        )
    assert handlers.store.attestations(pending.request_id) == []
    handlers.pipeline.close(pending)
