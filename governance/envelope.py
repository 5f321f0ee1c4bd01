"""The one signed-message format of the trust.

Attestations, submissions, log entries, policies and key material are all sealed the
same way, so there is one verifier to get right and one place where replay, stale rounds
and expiry are refused.

What is signed: ``DOMAIN`` followed by the RFC 8785 (JCS) canonical JSON of the header
``{v, kind, signer_id, signer_key_id, round_id, nonce, timestamp, payload_encoding,
payload_digest}``. The payload itself is bound through its SHA-256 digest (over its
RFC 8785 form for a JSON object, over the raw bytes otherwise), so a large payload can
travel beside the envelope or be detached entirely (a policy's ``.sig`` file).
``signer_key_id`` (first 16 bytes of SHA-256 of the Ed25519 public key) lets a verifier
tell "signed by someone else" from "tampered with".
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import rfc8785

from governance.errors import (
    BadSignatureError,
    ExpiredEnvelopeError,
    FutureTimestampError,
    MalformedEnvelopeError,
    StaleRoundError,
    UnexpectedKindError,
    UnknownSignerError,
    WrongSignerError,
)
from governance.identity import Identity, verify_signature
from governance.nonces import NonceStore

ENVELOPE_VERSION = 1
DOMAIN = b"gcdt-envelope-v1\x00"
NONCE_BYTES = 16  # 128-bit: collisions between honest senders are negligible
DEFAULT_MAX_AGE = dt.timedelta(minutes=10)
DEFAULT_MAX_SKEW = dt.timedelta(minutes=2)

_KIND = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_SIGNER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
_NONCE = re.compile(rf"^[0-9a-f]{{{2 * NONCE_BYTES}}}$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")

PayloadEncoding = Literal["json", "bytes"]
Payload = dict[str, Any] | bytes
#: Who may have signed: one raw public key, a table of signer id -> key, or a lookup.
SignerKeys = bytes | Mapping[str, bytes] | Callable[[str], bytes | None]


def key_id(public_key: bytes) -> str:
    """Short, stable name of an Ed25519 public key (hex of the first 16 bytes of SHA-256)."""
    return hashlib.sha256(public_key).digest()[:16].hex()


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of ``value``; refuses what JCS cannot represent exactly."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise MalformedEnvelopeError(f"value is not canonical-JSON representable: {exc}") from exc


def payload_digest(payload: Payload) -> tuple[PayloadEncoding, str]:
    """How a payload is bound into the signed header, so it can travel detached.

    A dict is digested in its RFC 8785 form (``json``), bytes as they are (``bytes``); any
    other payload is refused (:class:`MalformedEnvelopeError`).
    """
    if isinstance(payload, bytes | bytearray):
        return "bytes", "sha256:" + hashlib.sha256(bytes(payload)).hexdigest()
    if isinstance(payload, dict):
        return "json", "sha256:" + hashlib.sha256(canonical_json(payload)).hexdigest()
    raise MalformedEnvelopeError(
        f"payload must be a JSON object (dict) or bytes, not {type(payload).__name__}"
    )


def _format_time(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise MalformedEnvelopeError(f"timestamp {text!r} is not ISO 8601") from exc
    if when.utcoffset() != dt.timedelta(0):
        raise MalformedEnvelopeError(f"timestamp {text!r} must be UTC")
    return when


@dataclass(frozen=True)
class Envelope:
    """A signed statement by ``signer_id`` about a payload, for one round (or none)."""

    kind: str
    signer_id: str
    signer_key_id: str
    round_id: int | None
    nonce: str
    timestamp: str
    payload_encoding: PayloadEncoding
    payload_digest: str
    signature: bytes
    payload: Payload | None = None  # None: detached (travels separately)

    def header(self) -> dict[str, Any]:
        return {
            "v": ENVELOPE_VERSION,
            "kind": self.kind,
            "signer_id": self.signer_id,
            "signer_key_id": self.signer_key_id,
            "round_id": self.round_id,
            "nonce": self.nonce,
            "timestamp": self.timestamp,
            "payload_encoding": self.payload_encoding,
            "payload_digest": self.payload_digest,
        }

    def signed_bytes(self) -> bytes:
        return DOMAIN + canonical_json(self.header())

    @property
    def issued_at(self) -> dt.datetime:
        return _parse_time(self.timestamp)

    def detached(self) -> Envelope:
        """The same envelope without its payload (the signature still binds it)."""
        return replace(self, payload=None)

    def to_json(self) -> dict[str, Any]:
        body = self.header()
        body["signature"] = base64.b64encode(self.signature).decode()
        if self.payload is not None:
            body["payload"] = (
                base64.b64encode(self.payload).decode()
                if isinstance(self.payload, bytes)
                else self.payload
            )
        return body

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, body: Any) -> Envelope:
        if not isinstance(body, dict):
            raise MalformedEnvelopeError("an envelope must be a JSON object")
        expected = {*cls._header_fields(), "signature"}
        missing = expected - body.keys()
        extra = body.keys() - expected - {"payload"}
        if missing or extra:
            raise MalformedEnvelopeError(
                f"envelope fields: missing {sorted(missing)}, unexpected {sorted(extra)}"
            )
        if body["v"] != ENVELOPE_VERSION:
            raise MalformedEnvelopeError(f"unsupported envelope version {body['v']!r}")
        encoding = body["payload_encoding"]
        if encoding not in ("json", "bytes"):
            raise MalformedEnvelopeError(f"payload_encoding {encoding!r} is not json or bytes")
        payload: Payload | None = None
        if "payload" in body:
            raw = body["payload"]
            if encoding == "bytes":
                payload = _b64(raw, "payload")
            elif isinstance(raw, dict):
                payload = raw
            else:
                raise MalformedEnvelopeError("a json payload must be a JSON object")
        round_id = body["round_id"]
        if round_id is not None and (type(round_id) is not int or round_id < 0):
            raise MalformedEnvelopeError(f"round_id {round_id!r} must be a natural number")
        envelope = cls(
            kind=_match(_KIND, body["kind"], "kind"),
            signer_id=_match(_SIGNER, body["signer_id"], "signer_id"),
            signer_key_id=_match(_HEX32, body["signer_key_id"], "signer_key_id"),
            round_id=round_id,
            nonce=_match(_NONCE, body["nonce"], "nonce"),
            timestamp=str(body["timestamp"]),
            payload_encoding=encoding,
            payload_digest=_match(_DIGEST, body["payload_digest"], "payload_digest"),
            signature=_b64(body["signature"], "signature"),
            payload=payload,
        )
        envelope.issued_at  # noqa: B018 - validates the timestamp
        return envelope

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        try:
            body = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MalformedEnvelopeError(f"envelope is not JSON: {exc}") from exc
        return cls.from_json(body)

    @staticmethod
    def _header_fields() -> tuple[str, ...]:
        return (
            "v",
            "kind",
            "signer_id",
            "signer_key_id",
            "round_id",
            "nonce",
            "timestamp",
            "payload_encoding",
            "payload_digest",
        )


def _match(pattern: re.Pattern[str], value: Any, name: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise MalformedEnvelopeError(f"{name} {value!r} does not match {pattern.pattern}")
    return value


def _b64(value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise MalformedEnvelopeError(f"{name} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedEnvelopeError(f"{name} is not valid base64") from exc


def seal(
    identity: Identity,
    kind: str,
    round_id: int | None,
    payload: Payload,
    *,
    now: dt.datetime | None = None,
    detached: bool = False,
) -> Envelope:
    """Sign ``payload`` as ``identity`` with a fresh 128-bit nonce and the current time."""
    _match(_KIND, kind, "kind")
    _match(_SIGNER, identity.party_id, "signer_id")
    if round_id is not None and (type(round_id) is not int or round_id < 0):
        raise MalformedEnvelopeError(f"round_id {round_id!r} must be a natural number")
    encoding, digest = payload_digest(payload)
    # Carry a copy of exactly what was digested, immune to later mutation by the caller.
    carried: Payload = (
        bytes(payload)
        if isinstance(payload, bytes | bytearray)
        else json.loads(canonical_json(payload))
    )
    unsigned = Envelope(
        kind=kind,
        signer_id=identity.party_id,
        signer_key_id=key_id(identity.public_key),
        round_id=round_id,
        nonce=secrets.token_hex(NONCE_BYTES),
        timestamp=_format_time(now or dt.datetime.now(dt.UTC)),
        payload_encoding=encoding,
        payload_digest=digest,
        signature=b"",
        payload=None if detached else carried,
    )
    return replace(unsigned, signature=identity.sign(unsigned.signed_bytes()))


def _resolve_key(envelope: Envelope, signers: SignerKeys) -> bytes:
    if isinstance(signers, bytes | bytearray):
        return bytes(signers)
    key = (
        signers.get(envelope.signer_id)
        if isinstance(signers, Mapping)
        else signers(envelope.signer_id)
    )
    if key is None:
        raise UnknownSignerError(f"no public key registered for signer {envelope.signer_id!r}")
    return key


def open_envelope(
    envelope: Envelope,
    signers: SignerKeys,
    *,
    nonce_store: NonceStore | None,
    current_round: int | None = None,
    max_age: dt.timedelta | None = DEFAULT_MAX_AGE,
    max_skew: dt.timedelta = DEFAULT_MAX_SKEW,
    expected_kind: str | None = None,
    expected_signer_id: str | None = None,
    detached_payload: Payload | None = None,
    now: dt.datetime | None = None,
) -> Payload:
    """Verify ``envelope`` and return its payload, or raise the reason it is refused.

    Checks in order: kind, signer (id and key), signature, payload digest, age, round,
    and finally the nonce, which is remembered only for an envelope that passed every
    other check. ``nonce_store=None`` skips replay protection, for documents (policies)
    that are meant to be read again and again; ``current_round=None`` for envelopes not
    bound to a round; ``max_age=None`` for documents that do not expire.
    """
    if expected_kind is not None and envelope.kind != expected_kind:
        raise UnexpectedKindError(f"expected a {expected_kind!r} envelope, got {envelope.kind!r}")
    if expected_signer_id is not None and envelope.signer_id != expected_signer_id:
        raise WrongSignerError(f"signed by {envelope.signer_id!r}, expected {expected_signer_id!r}")
    public_key = _resolve_key(envelope, signers)
    if envelope.signer_key_id != key_id(public_key):
        raise WrongSignerError(
            f"signed by key {envelope.signer_key_id} ({envelope.signer_id!r}), "
            f"expected key {key_id(public_key)}"
        )
    if not verify_signature(public_key, envelope.signature, envelope.signed_bytes()):
        raise BadSignatureError(
            f"{envelope.kind} envelope from {envelope.signer_id!r}: signature does not verify"
        )
    payload = envelope.payload if detached_payload is None else detached_payload
    if payload is None:
        raise MalformedEnvelopeError("envelope carries no payload and none was given")
    encoding, digest = payload_digest(payload)
    if (encoding, digest) != (envelope.payload_encoding, envelope.payload_digest):
        raise BadSignatureError(
            f"{envelope.kind} envelope from {envelope.signer_id!r}: payload does not match "
            "the signed digest (tampered)"
        )
    now = now or dt.datetime.now(dt.UTC)
    issued = envelope.issued_at
    if issued - now > max_skew:
        raise FutureTimestampError(
            f"envelope dated {envelope.timestamp} is more than {max_skew} "
            f"ahead of {_format_time(now)}"
        )
    if max_age is not None and now - issued > max_age:
        raise ExpiredEnvelopeError(f"envelope dated {envelope.timestamp} is older than {max_age}")
    if current_round is not None and envelope.round_id != current_round:
        raise StaleRoundError(
            f"envelope is for round {envelope.round_id}, current round is {current_round}"
        )
    if nonce_store is not None:
        nonce_store.check_and_remember(envelope.signer_id, envelope.nonce)
    return payload
