"""The signed envelope every node-to-coordinator request carries, and what it binds.

Why a summary and not the protobuf bytes: protobuf encoding is not canonical, but both
sides hold the same *domain* objects after decoding (ciphertexts, metadata, attestation
envelopes, key packages). The node's egress guard seals an envelope whose payload is the
:func:`summarize` of those objects (digests of every ciphertext and document, the
metadata in clear); the coordinator decodes the request, summarizes what it received
the same way, and refuses the request unless the two are equal. So the signature covers
the whole request, the envelope's nonce makes it single-use, and its round id ties it
to one round — without either side parsing the other's bytes.

Shared by ``trust_node.egress`` (sealing) and ``coordinator.transport`` (opening), which
never import each other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from governance.ckks.ceremony import KeyPackage, PublicContextRelease
from governance.ckks.vectors import EncryptedVector
from governance.envelope import DEFAULT_MAX_AGE, Envelope, SignerKeys, open_envelope, seal
from governance.errors import BadSignatureError, MalformedEnvelopeError
from governance.identity import Identity
from governance.nonces import NonceStore

REQUEST_KIND_PREFIX = "request."
METHOD_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,47}$")

Scalar = str | int | bool


def request_kind(method: str) -> str:
    """Envelope kind of a request for ``method`` (so one method's envelope fits no other)."""
    if not METHOD_PATTERN.match(method):
        raise MalformedEnvelopeError(f"method {method!r} must match {METHOD_PATTERN.pattern}")
    return REQUEST_KIND_PREFIX + method


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def summarize(
    *,
    method: str,
    outbound_kind: str,
    round_id: int | None,
    ciphertexts: Sequence[EncryptedVector] = (),
    metadata: Mapping[str, Scalar] | None = None,
    attestations: Sequence[Envelope] = (),
    key_packages: Sequence[KeyPackage] = (),
    public_release: PublicContextRelease | None = None,
) -> dict[str, Any]:
    """The JSON object a request envelope signs: digests of everything, metadata in clear."""
    return {
        "method": method,
        "outbound_kind": outbound_kind,
        "round_id": round_id,
        "ciphertexts": [
            {"key_id": v.key_id, "length": v.length, "digest": _sha(v.to_bytes())}
            for v in ciphertexts
        ],
        "metadata": dict(sorted((metadata or {}).items())),
        "attestations": [_sha(a.to_bytes()) for a in attestations],
        "key_packages": [_sha(p.to_bytes()) for p in key_packages],
        "public_release": (
            None
            if public_release is None
            else _sha(public_release.signed_bytes() + public_release.signature)
        ),
    }


def seal_request(
    identity: Identity,
    summary: Mapping[str, Any],
    *,
    now: dt.datetime | None = None,
) -> Envelope:
    """Sign ``summary`` as ``identity`` for the summary's method and round."""
    return seal(
        identity,
        request_kind(str(summary["method"])),
        summary["round_id"],
        dict(summary),
        now=now,
    )


def open_request(
    envelope: Envelope,
    summary: Mapping[str, Any],
    signers: SignerKeys,
    *,
    nonce_store: NonceStore | None,
    expected_signer_id: str | None = None,
    current_round: int | None = None,
    max_age: dt.timedelta | None = DEFAULT_MAX_AGE,
    now: dt.datetime | None = None,
) -> None:
    """Verify a request envelope and that it signs exactly the request received.

    Raises the :mod:`governance.errors` envelope errors (bad signature, replay, stale
    round, ...) or :class:`BadSignatureError` when the signed summary differs from what
    was received. The nonce is remembered only when everything else passed.
    """
    payload = open_envelope(
        envelope,
        signers,
        nonce_store=None,
        current_round=current_round,
        max_age=max_age,
        expected_kind=request_kind(str(summary["method"])),
        expected_signer_id=expected_signer_id,
        now=now,
    )
    if payload != dict(summary) or envelope.round_id != summary["round_id"]:
        raise BadSignatureError(
            f"request {summary['method']!r} from {envelope.signer_id!r}: the signed "
            "envelope does not describe the request received (altered in transit?)"
        )
    if nonce_store is not None:
        nonce_store.check_and_remember(envelope.signer_id, envelope.nonce)
