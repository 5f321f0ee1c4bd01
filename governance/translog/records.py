"""What the log stores and signs: entries, their leaf bytes, and signed tree heads.

Both the persisted log and the offline verifier build bytes through these functions, so
there is exactly one definition of what a leaf commits to and what an STH signature
covers. Canonical bytes are RFC 8785 JSON (``rfc8785``), never ``json.dumps``.

A leaf commits to the entry's index as well as its kind, timestamp and payload: moving an
entry to another position changes its leaf hash, so a reordered log is caught at the
entry itself, not only as a root mismatch somewhere later.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import rfc8785

from governance.identity import verify_signature
from governance.translog import merkle
from governance.translog.checkpoint import Checkpoint
from governance.translog.errors import EntryError
from governance.translog.note import SIG_ED25519, Note, Signature, VerifierKey, check_key_name

LEAF_FORMAT = "gcdt-translog-leaf/1"
ORIGIN_PREFIX = "gcdt/"  # checkpoint origin = ORIGIN_PREFIX + log id (a schema-less name)
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class EntryKind(StrEnum):
    """Kinds the trust records. Other lowercase identifiers are accepted too, so a new
    event type needs no change here; these are the ones the design names."""

    ENROLMENT = "enrolment"
    POLICY_CHANGE = "policy_change"
    KEY_CEREMONY = "key_ceremony"
    KEY_ROTATION = "key_rotation"
    ROUND = "round"
    SUBMISSION_DIGEST = "submission_digest"
    ATTESTATION = "attestation"
    ATTESTATION_REJECTED = "attestation_rejected"
    ATTESTATION_CONFLICT = "attestation_conflict"
    PUBLICATION = "publication"
    CONSENT_CHANGE = "consent_change"
    REFUSAL = "refusal"
    REVOCATION = "revocation"


def check_kind(kind: str) -> str:
    """Refuse (:class:`EntryError`) an entry kind that is not a lowercase identifier; any
    lowercase identifier is accepted, so a new event type needs no change to :class:`EntryKind`.
    """
    value = str(kind.value if isinstance(kind, EntryKind) else kind)
    if not KIND_PATTERN.fullmatch(value):
        raise EntryError(
            f"entry kind {value!r} is not a lowercase identifier (pattern {KIND_PATTERN.pattern})"
        )
    return value


def canonical(value: Any, what: str) -> bytes:
    """RFC 8785 bytes of ``value``; ``what`` names it in the error."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise EntryError(f"{what} is not canonicalisable JSON: {exc}") from exc


def leaf_input(index: int, kind: str, timestamp_ms: int, payload: Any) -> bytes:
    """The bytes whose RFC 9162 leaf hash is entry ``index``'s leaf hash."""
    return canonical(
        {
            "format": LEAF_FORMAT,
            "index": index,
            "kind": kind,
            "payload": payload,
            "timestamp_ms": timestamp_ms,
        },
        f"entry {index} ({kind})",
    )


@dataclass(frozen=True)
class LogEntry:
    index: int
    kind: str
    timestamp_ms: int
    payload_bytes: bytes  # RFC 8785 canonical JSON of the payload
    leaf_hash: bytes

    @property
    def payload(self) -> Any:
        return json.loads(self.payload_bytes)

    def leaf_input(self) -> bytes:
        return leaf_input(self.index, self.kind, self.timestamp_ms, self.payload)

    def computed_leaf_hash(self) -> bytes:
        return merkle.leaf_hash(self.leaf_input())

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "timestamp_ms": self.timestamp_ms,
            "payload": self.payload,
            "leaf_hash": self.leaf_hash.hex(),
        }


def log_origin(log_id: str) -> str:
    """The checkpoint origin line (and the log's note key name) of log ``log_id``."""
    return check_key_name(ORIGIN_PREFIX + log_id)


def log_verifier(log_id: str, public_key: bytes) -> VerifierKey:
    """The log's signed-note verifier key: what auditors pin and witnesses trust."""
    return VerifierKey(log_origin(log_id), SIG_ED25519, public_key)


@dataclass(frozen=True)
class SignedTreeHead:
    """A tree head as a C2SP checkpoint signed by the log operator (Ed25519, type 0x01).

    The signature covers the checkpoint text only (origin, size, root): ``timestamp_ms``
    is the operator's unsigned record of when it signed, never evidence; time that counts
    comes from witnesses' timestamped cosignatures.
    """

    log_id: str
    tree_size: int
    root_hash: bytes
    timestamp_ms: int
    public_key: bytes
    signature: bytes

    @property
    def origin(self) -> str:
        return log_origin(self.log_id)

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.origin, self.tree_size, self.root_hash)

    def signed_bytes(self) -> bytes:
        return self.checkpoint().text().encode("utf-8")

    def note(self) -> Note:
        vkey = log_verifier(self.log_id, self.public_key)
        signature = Signature(vkey.name, vkey.key_id, self.signature)
        return Note(self.checkpoint().text(), (signature,))

    def signature_valid(self, public_key: bytes | None = None) -> bool:
        key = self.public_key if public_key is None else public_key
        return verify_signature(key, self.signature, self.signed_bytes())

    def to_json(self) -> dict[str, Any]:
        return {
            "log_id": self.log_id,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp_ms": self.timestamp_ms,
            "signature": self.signature.hex(),
            "checkpoint": str(self.note()),
        }


@dataclass(frozen=True)
class InclusionProof:
    index: int
    tree_size: int
    leaf_hash: bytes
    path: list[bytes]

    def verify(self, root_hash: bytes) -> None:
        merkle.verify_inclusion(self.index, self.tree_size, self.leaf_hash, self.path, root_hash)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "tree_size": self.tree_size,
            "leaf_hash": self.leaf_hash.hex(),
            "path": [h.hex() for h in self.path],
        }


@dataclass(frozen=True)
class ConsistencyProof:
    old_size: int
    new_size: int
    path: list[bytes]

    def verify(self, old_root: bytes, new_root: bytes) -> None:
        merkle.verify_consistency(self.old_size, self.new_size, old_root, new_root, self.path)

    def to_json(self) -> dict[str, Any]:
        return {
            "old_size": self.old_size,
            "new_size": self.new_size,
            "path": [h.hex() for h in self.path],
        }
