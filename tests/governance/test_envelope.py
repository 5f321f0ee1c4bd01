"""Signed envelopes: every refusal reason is its own exception class."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from governance.envelope import (
    DEFAULT_MAX_AGE,
    Envelope,
    canonical_json,
    open_envelope,
    seal,
)
from governance.errors import (
    BadSignatureError,
    EnvelopeError,
    ExpiredEnvelopeError,
    FutureTimestampError,
    MalformedEnvelopeError,
    ReplayError,
    StaleRoundError,
    UnexpectedKindError,
    UnknownSignerError,
    WrongSignerError,
)
from governance.identity import Identity
from governance.nonces import InMemoryNonceStore

PAYLOAD = {"cell": ["cement", "clinker", "dry_kiln", 2024], "sum": 1.25, "count": 7}


@pytest.fixture
def alice() -> Identity:
    return Identity.generate("node-a")


@pytest.fixture
def bob() -> Identity:
    return Identity.generate("node-b")


@pytest.fixture
def store() -> InMemoryNonceStore:
    return InMemoryNonceStore()


def over_the_wire(envelope: Envelope) -> Envelope:
    return Envelope.from_bytes(envelope.to_bytes())


def test_valid_envelope_round_trips(alice: Identity, store: InMemoryNonceStore) -> None:
    envelope = over_the_wire(seal(alice, "attestation", 4, PAYLOAD))
    opened = open_envelope(
        envelope,
        {"node-a": alice.public_key},
        nonce_store=store,
        current_round=4,
        expected_kind="attestation",
    )
    assert opened == PAYLOAD
    assert len(store) == 1
    assert len(envelope.nonce) == 32 and int(envelope.nonce, 16) >= 0
    assert envelope.timestamp.endswith("Z")


def test_bytes_payload_and_detached_payload(alice: Identity, store: InMemoryNonceStore) -> None:
    blob = bytes(range(256)) * 4
    envelope = over_the_wire(seal(alice, "ckks.key_share", None, blob))
    assert open_envelope(envelope, alice.public_key, nonce_store=store) == blob
    detached = over_the_wire(seal(alice, "ckks.key_share", None, blob, detached=True))
    assert b'payload"' not in detached.to_bytes()
    assert open_envelope(detached, alice.public_key, nonce_store=store, detached_payload=blob)
    with pytest.raises(BadSignatureError):
        open_envelope(detached, alice.public_key, nonce_store=None, detached_payload=blob[:-1])
    with pytest.raises(MalformedEnvelopeError, match="no payload"):
        open_envelope(detached, alice.public_key, nonce_store=None)


def test_signed_bytes_are_rfc8785_canonical(alice: Identity) -> None:
    envelope = seal(alice, "attestation", 1, PAYLOAD)
    header = json.loads(envelope.signed_bytes().split(b"\x00", 1)[1])
    assert canonical_json(header) == envelope.signed_bytes().split(b"\x00", 1)[1]
    assert list(header) == sorted(header)


def test_wrong_signer(alice: Identity, bob: Identity, store: InMemoryNonceStore) -> None:
    envelope = over_the_wire(seal(bob, "attestation", 1, PAYLOAD))
    # Expecting Alice's key: Bob's envelope is refused as signed by someone else.
    with pytest.raises(WrongSignerError) as info:
        open_envelope(envelope, alice.public_key, nonce_store=store, current_round=1)
    assert info.type is WrongSignerError
    with pytest.raises(WrongSignerError):
        open_envelope(
            envelope,
            {"node-a": alice.public_key, "node-b": bob.public_key},
            nonce_store=store,
            expected_signer_id="node-a",
        )
    # Bob claiming to be Alice: the registered key for node-a is not his.
    forged = seal(Identity(party_id="node-a", _private_key=bob.private_key), "attestation", 1, {})
    with pytest.raises(WrongSignerError):
        open_envelope(forged, {"node-a": alice.public_key}, nonce_store=store)
    with pytest.raises(UnknownSignerError):
        open_envelope(envelope, {"node-a": alice.public_key}, nonce_store=store)
    assert len(store) == 0


def test_tampered_payload(alice: Identity, store: InMemoryNonceStore) -> None:
    body = seal(alice, "attestation", 1, PAYLOAD).to_json()
    body["payload"]["sum"] = 1.26
    with pytest.raises(BadSignatureError) as info:
        open_envelope(Envelope.from_json(body), alice.public_key, nonce_store=store)
    assert info.type is BadSignatureError


@pytest.mark.parametrize(
    ("field", "value"),
    [("round_id", 2), ("kind", "submission"), ("timestamp", "2020-01-01T00:00:00.000000Z")],
)
def test_tampered_header(
    alice: Identity, store: InMemoryNonceStore, field: str, value: object
) -> None:
    body = seal(alice, "attestation", 1, PAYLOAD).to_json()
    body[field] = value
    with pytest.raises(BadSignatureError):
        open_envelope(Envelope.from_json(body), alice.public_key, nonce_store=store, max_age=None)


def test_tampered_signature(alice: Identity, store: InMemoryNonceStore) -> None:
    envelope = seal(alice, "attestation", 1, PAYLOAD)
    flipped = bytes([envelope.signature[0] ^ 1]) + envelope.signature[1:]
    with pytest.raises(BadSignatureError):
        open_envelope(replace(envelope, signature=flipped), alice.public_key, nonce_store=store)


def test_reused_nonce(alice: Identity, store: InMemoryNonceStore) -> None:
    wire = seal(alice, "submission", 3, PAYLOAD).to_bytes()
    open_envelope(Envelope.from_bytes(wire), alice.public_key, nonce_store=store, current_round=3)
    with pytest.raises(ReplayError) as info:
        open_envelope(
            Envelope.from_bytes(wire), alice.public_key, nonce_store=store, current_round=3
        )
    assert info.type is ReplayError


def test_stale_round(alice: Identity, store: InMemoryNonceStore) -> None:
    envelope = seal(alice, "submission", 3, PAYLOAD)
    with pytest.raises(StaleRoundError) as info:
        open_envelope(envelope, alice.public_key, nonce_store=store, current_round=4)
    assert info.type is StaleRoundError
    # A refused envelope does not use up its nonce.
    assert len(store) == 0


def test_expired_and_future(alice: Identity, store: InMemoryNonceStore) -> None:
    sealed_at = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    envelope = seal(alice, "submission", 1, PAYLOAD, now=sealed_at)
    just_in_time = sealed_at + DEFAULT_MAX_AGE
    assert open_envelope(envelope, alice.public_key, nonce_store=None, now=just_in_time)
    with pytest.raises(ExpiredEnvelopeError) as info:
        open_envelope(
            envelope,
            alice.public_key,
            nonce_store=store,
            now=just_in_time + dt.timedelta(seconds=1),
        )
    assert info.type is ExpiredEnvelopeError
    with pytest.raises(FutureTimestampError):
        open_envelope(
            envelope, alice.public_key, nonce_store=store, now=sealed_at - dt.timedelta(hours=1)
        )


def test_unexpected_kind(alice: Identity, store: InMemoryNonceStore) -> None:
    envelope = seal(alice, "submission", 1, PAYLOAD)
    with pytest.raises(UnexpectedKindError):
        open_envelope(envelope, alice.public_key, nonce_store=store, expected_kind="attestation")


def test_refusals_are_distinct_classes() -> None:
    classes = [
        WrongSignerError,
        BadSignatureError,
        ReplayError,
        StaleRoundError,
        ExpiredEnvelopeError,
        MalformedEnvelopeError,
        UnexpectedKindError,
    ]
    for cls in classes:
        assert issubclass(cls, EnvelopeError)
        assert not any(issubclass(cls, other) for other in classes if other is not cls)


@pytest.mark.parametrize(
    "mutation",
    [
        lambda b: b.pop("nonce"),
        lambda b: b.update(nonce="zz" * 16),
        lambda b: b.update(extra=1),
        lambda b: b.update(v=2),
        lambda b: b.update(round_id=-1),
        lambda b: b.update(round_id=True),
        lambda b: b.update(signature="not base64!"),
        lambda b: b.update(timestamp="2026-01-01T00:00:00+02:00"),
        lambda b: b.update(payload="a string"),
    ],
)
def test_malformed_envelopes(alice: Identity, mutation: Callable[[dict[str, Any]], None]) -> None:
    body = seal(alice, "attestation", 1, PAYLOAD).to_json()
    mutation(body)
    with pytest.raises(MalformedEnvelopeError):
        Envelope.from_json(body)


def test_not_json_is_malformed() -> None:
    with pytest.raises(MalformedEnvelopeError):
        Envelope.from_bytes(b"\xff\x00")
    with pytest.raises(MalformedEnvelopeError):
        Envelope.from_bytes(base64.b64encode(b"[]"))


def test_seal_refuses_what_cannot_be_canonical(alice: Identity) -> None:
    with pytest.raises(MalformedEnvelopeError):
        seal(alice, "attestation", 1, {"big": 2**60})
    with pytest.raises(MalformedEnvelopeError):
        seal(alice, "attestation", 1, {"nan": float("nan")})
    with pytest.raises(MalformedEnvelopeError):
        seal(alice, "Bad Kind", 1, {})


def test_sealed_payload_is_immune_to_later_mutation(alice: Identity) -> None:
    payload = {"values": [1, 2, 3]}
    envelope = seal(alice, "submission", 1, payload)
    payload["values"].append(4)
    assert open_envelope(envelope, alice.public_key, nonce_store=None) == {"values": [1, 2, 3]}
