"""Ed25519 identity keys: who a node, the coordinator or a ceremony is.

Keys come from ``cryptography``; nothing here implements a primitive. A private key is
written owner-only (0600) and its repr never shows key material, so it cannot leak into
logs by accident.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)


def write_secret(path: Path, data: bytes) -> None:
    """Write ``data`` so that only the owner can ever read it (created 0600, not chmod-ed later)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    """The raw 32-byte form of an Ed25519 public key: the one form enrolment, key ids and the
    log carry.
    """
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def load_public_key(raw: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from its 32 raw bytes; raises ``ValueError`` on anything else, for
    the caller to turn into its own error.
    """
    return Ed25519PublicKey.from_public_bytes(raw)


def identity_fingerprint(public_key: bytes) -> str:
    """SHA-256 over the raw 32-byte Ed25519 public key, hex: what operators compare out of band.

    The full digest (not the 16-byte :func:`governance.envelope.key_id`) because it pins a key
    at enrolment, where a second-preimage of a shortened name would let a forger in.
    """
    return hashlib.sha256(public_key).hexdigest()


def verify_signature(public_key: bytes, signature: bytes, data: bytes) -> bool:
    """True iff ``signature`` is ``public_key``'s Ed25519 signature over ``data``."""
    try:
        load_public_key(public_key).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Identity:
    """A party's signing identity: a party id bound to an Ed25519 key pair."""

    party_id: str
    _private_key: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls, party_id: str) -> Identity:
        return cls(party_id, Ed25519PrivateKey.generate())

    @property
    def private_key(self) -> Ed25519PrivateKey:
        return self._private_key

    @property
    def public_key(self) -> bytes:
        return public_key_bytes(self._private_key.public_key())

    def sign(self, data: bytes) -> bytes:
        return self._private_key.sign(data)

    def save(self, directory: Path) -> Path:
        """Persist as ``<directory>/identity.key`` (PKCS#8 PEM, 0600) and ``identity.pub``."""
        key_path = directory / "identity.key"
        pem = self._private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_secret(key_path, pem)
        (directory / "identity.pub").write_text(self.public_key.hex() + "\n")
        (directory / "identity.id").write_text(self.party_id + "\n")
        return key_path

    @classmethod
    def load(cls, directory: Path) -> Identity:
        pem = (directory / "identity.key").read_bytes()
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{directory / 'identity.key'} is not an Ed25519 private key")
        party_id = (directory / "identity.id").read_text().strip()
        return cls(party_id, key)
