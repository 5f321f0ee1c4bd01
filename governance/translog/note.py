"""C2SP signed notes (``c2sp.org/signed-note``): Ed25519 keys, verifier keys, signatures.

Why our own code: no maintained Python package implements signed notes on Python 3.11
(checked with ``pip download`` on 2026-12-02: ``aics-tlog`` and ``aics-witness`` need
Python >= 3.12; ``tlog-scales`` 0.0.3 calls itself "very much WIP, expect churn and
breakage"). The format is a few string rules around two primitives we do not write:
Ed25519 comes from ``cryptography`` and SHA-256 from :mod:`hashlib`. The tests check this
module against the Go reference implementation's published example key and note
(``golang.org/x/mod/sumdb/note``), byte for byte, since Ed25519 is deterministic.

Two signature types are used (signed-note "Signature types"):

* ``0x01`` Ed25519 over the note text -- the log operator's checkpoint signature;
* ``0x04`` timestamped Ed25519 cosignatures (``c2sp.org/tlog-cosignature``) -- witnesses.
  The signed message is ``cosignature/v1\\ntime <T>\\n`` followed by the note text, and
  the signature blob is the 8-byte big-endian ``T`` followed by the 64-byte signature.

A verifier key (vkey) is ``<name>+<hex key id>+<base64(type byte || public key)>``; the
key id is ``SHA-256(name || 0x0A || type || public key)[:4]``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from governance.identity import public_key_bytes
from governance.translog.errors import TranslogError

SIG_ED25519 = 0x01  # signed-note, "Signature types"
SIG_COSIGNATURE_V1 = 0x04  # signed-note "Signature types"; tlog-cosignature "Format"
KEY_ID_SIZE = 4  # signed-note "Format": "the first four bytes ... are the uint32 key ID"
ED25519_KEY_SIZE = 32  # RFC 8032 §5.1.5
ED25519_SIG_SIZE = 64  # RFC 8032 §5.1.6
TIMESTAMP_SIZE = 8  # tlog-cosignature: "u64 timestamp"
#: signed-note: verifiers "MUST accept at least up to 16 signatures"; Go's note package
#: (the reference implementation) stops at 100, and so do we.
MAX_SIGNATURES = 100
EM_DASH = "\u2014"
COSIGNATURE_HEADER = "cosignature/v1\n"  # tlog-cosignature "Ed25519 signed message"


class NoteError(TranslogError, ValueError):
    """A note, key or signature is malformed, or a note does not verify (message says which)."""


class UntrustedNoteError(NoteError):
    """The note is well formed but no trusted key signed it (e.g. a fresh, unpinned key)."""


def b64decode(text: str, what: str) -> bytes:
    """Standard base64 (RFC 4648 §4, as every C2SP format uses), strictly; ``what`` names it."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise NoteError(f"{what} is not standard base64: {text!r}") from None


def b64(data: bytes) -> str:
    """Standard base64 text of ``data``."""
    return base64.b64encode(data).decode("ascii")


def check_key_name(name: str) -> str:
    """signed-note: key names are non-empty, with no Unicode spaces and no ``+``."""
    if not name or "+" in name or any(c.isspace() for c in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """``SHA-256(name || 0x0A || type || public key)[:4]`` (signed-note; tlog-cosignature)."""
    check_key_name(name)
    material = name.encode("utf-8") + b"\n" + bytes([sig_type]) + public_key
    return hashlib.sha256(material).digest()[:KEY_ID_SIZE]


@dataclass(frozen=True)
class VerifierKey:
    """One trusted key: what an auditor pins and a witness is configured with."""

    name: str
    sig_type: int
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if self.sig_type not in (SIG_ED25519, SIG_COSIGNATURE_V1):
            raise NoteError(f"signature type 0x{self.sig_type:02x} is not supported")
        if len(self.public_key) != ED25519_KEY_SIZE:
            raise NoteError(f"an Ed25519 public key has 32 bytes, got {len(self.public_key)}")

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.sig_type, self.public_key)

    @property
    def fingerprint(self) -> str:
        """``name+keyid``: what reports print and what an auditor compares out of band."""
        return f"{self.name}+{self.key_id.hex()}"

    def __str__(self) -> str:
        return f"{self.fingerprint}+{b64(bytes([self.sig_type]) + self.public_key)}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """A vkey string; the key id in it must match the one computed from the key."""
        parts = text.strip().split("+", 2)  # base64 key material may itself contain '+'
        if len(parts) != 3:
            raise NoteError(f"verifier key {text!r} is not <name>+<key id>+<key>")
        name, hex_id, material = parts
        if len(hex_id) != 2 * KEY_ID_SIZE or hex_id != hex_id.lower():
            raise NoteError(f"verifier key {text!r}: key id must be 8 lowercase hex digits")
        raw = b64decode(material, f"verifier key {name!r}")
        if not raw:
            raise NoteError(f"verifier key {text!r} has no key material")
        key = cls(name, raw[0], raw[1:])
        if key.key_id.hex() != hex_id:
            raise NoteError(
                f"verifier key {text!r}: key id {hex_id} does not match its key "
                f"({key.key_id.hex()})"
            )
        return key

    def _public(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.public_key)

    def verify(self, text: str, signature: bytes) -> int | None:
        """None if ``signature`` (without the key id) does not verify over note ``text``;
        else the cosignature's timestamp (0 for a plain Ed25519 signature)."""
        timestamp = 0
        message = text.encode("utf-8")
        if self.sig_type == SIG_COSIGNATURE_V1:
            if len(signature) != TIMESTAMP_SIZE + ED25519_SIG_SIZE:
                return None
            timestamp = int.from_bytes(signature[:TIMESTAMP_SIZE], "big")
            message = cosigned_message(text, timestamp)
            signature = signature[TIMESTAMP_SIZE:]
        try:
            self._public().verify(signature, message)
        except (InvalidSignature, ValueError):
            return None
        return timestamp


def cosigned_message(text: str, timestamp: int) -> bytes:
    """tlog-cosignature "Ed25519 signed message": header, time line, then the note text."""
    if not 0 <= timestamp <= 2**63 - 1:  # tlog-cosignature: "MUST NOT exceed 2^63 - 1"
        raise NoteError(f"cosignature timestamp {timestamp} is out of range")
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{text}".encode()


@dataclass(frozen=True)
class NoteSigner:
    """An Ed25519 signing key under a note key name (log operator or witness)."""

    name: str
    private_key: Ed25519PrivateKey
    sig_type: int = SIG_ED25519

    @property
    def verifier(self) -> VerifierKey:
        public = public_key_bytes(self.private_key.public_key())
        return VerifierKey(self.name, self.sig_type, public)

    def sign(self, text: str, *, timestamp: int | None = None) -> Signature:
        """Sign note ``text``; a cosigner (type 0x04) needs the POSIX ``timestamp``."""
        check_text(text)
        vkey = self.verifier
        if self.sig_type == SIG_COSIGNATURE_V1:
            if timestamp is None:
                raise NoteError("a cosignature needs a timestamp")
            blob = timestamp.to_bytes(TIMESTAMP_SIZE, "big") + self.private_key.sign(
                cosigned_message(text, timestamp)
            )
        else:
            blob = self.private_key.sign(text.encode("utf-8"))
        return Signature(vkey.name, vkey.key_id, blob)

    @classmethod
    def parse(cls, text: str) -> NoteSigner:
        """Go's signer key form ``PRIVATE+KEY+<name>+<key id>+<base64(type || seed)>``."""
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("signer key is not PRIVATE+KEY+<name>+<key id>+<key>")
        raw = b64decode(parts[4], "signer key")
        if len(raw) != 1 + ED25519_KEY_SIZE:
            raise NoteError("signer key must hold a type byte and a 32-byte Ed25519 seed")
        signer = cls(parts[2], Ed25519PrivateKey.from_private_bytes(raw[1:]), raw[0])
        if signer.verifier.key_id.hex() != parts[3]:
            raise NoteError("signer key id does not match its key")
        return signer


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    blob: bytes  # the signature without the key id

    def line(self) -> str:
        return f"{EM_DASH} {self.name} {b64(self.key_id + self.blob)}\n"

    @classmethod
    def parse(cls, line: str) -> Signature:
        prefix = EM_DASH + " "
        if not line.startswith(prefix):
            raise NoteError(f"signature line {line!r} does not start with an em dash and space")
        fields = line[len(prefix) :].split(" ")
        if len(fields) != 2:
            raise NoteError(f"signature line {line!r} is not '— <name> <signature>'")
        name, encoded = fields
        check_key_name(name)
        raw = b64decode(encoded, f"signature by {name!r}")
        if len(raw) <= KEY_ID_SIZE:
            raise NoteError(f"signature by {name!r} is too short")
        return cls(name, raw[:KEY_ID_SIZE], raw[KEY_ID_SIZE:])


@dataclass(frozen=True)
class Note:
    text: str  # ends with a newline; excludes the blank separator line
    signatures: tuple[Signature, ...]

    def __str__(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def with_signatures(self, extra: Sequence[Signature]) -> Note:
        """This note plus ``extra`` signatures (a witness's cosignature), without duplicates."""
        known = set(self.signatures)
        return Note(self.text, self.signatures + tuple(s for s in extra if s not in known))


def check_text(text: str) -> None:
    """signed-note "Format": UTF-8, ends in a newline, no control characters but newline."""
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("note text contains a control character other than newline")


def parse_note(data: str | bytes) -> Note:
    """Split a signed note into text and signature lines; verify nothing (see :func:`open_note`)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError(f"signed note is not UTF-8: {exc}") from exc
    check_text(data)
    split = data.rfind("\n\n")
    if split < 0:
        raise NoteError("signed note has no blank line before its signatures")
    text, sig_block = data[: split + 1], data[split + 2 :]
    lines = sig_block[:-1].split("\n") if sig_block else []
    if not lines:
        raise NoteError("signed note has no signature line")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"signed note has {len(lines)} signatures, at most {MAX_SIGNATURES}")
    return Note(text, tuple(Signature.parse(line) for line in lines))


@dataclass(frozen=True)
class Verified:
    """A signature that verified: the key and (for cosignatures) its timestamp."""

    key: VerifierKey
    timestamp: int


def open_note(data: str | bytes | Note, keys: Sequence[VerifierKey]) -> tuple[Note, list[Verified]]:
    """The note and every signature by one of ``keys`` that verified.

    As signed-note requires: signatures by unknown keys (name *and* id must both match) are
    ignored; a known key's signature that fails rejects the whole note; and a note with no
    verified signature by a known key is rejected. Each raises :class:`NoteError`.
    """
    note = data if isinstance(data, Note) else parse_note(data)
    by_id = {(k.name, k.key_id): k for k in keys}
    verified: list[Verified] = []
    for sig in note.signatures:
        key = by_id.get((sig.name, sig.key_id))
        if key is None:
            continue
        timestamp = key.verify(note.text, sig.blob)
        if timestamp is None:
            raise NoteError(f"signature by {key.fingerprint} does not verify")
        if all(v.key != key for v in verified):
            verified.append(Verified(key, timestamp))
    if not verified:
        names = ", ".join(k.fingerprint for k in keys) or "no key"
        raise UntrustedNoteError(f"the note carries no signature by a trusted key ({names})")
    return note, verified


__all__ = [
    "SIG_COSIGNATURE_V1",
    "SIG_ED25519",
    "Note",
    "NoteError",
    "NoteSigner",
    "Signature",
    "UntrustedNoteError",
    "Verified",
    "VerifierKey",
    "check_key_name",
    "cosigned_message",
    "key_id",
    "open_note",
    "parse_note",
]
