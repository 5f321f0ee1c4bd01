"""A key holder's X25519 transport key: what the ceremony seals CKKS secret keys to.

Kept apart from the Ed25519 identity key on purpose: one key signs, the other receives
encrypted key material, so neither use can be turned against the other. Written
owner-only (0600) like every private key under ``GCDT_HOME``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from governance.ckks.errors import TransportKeyError
from governance.identity import write_secret

PRIVATE_FILE = "transport.key"
PUBLIC_FILE = "transport.pub"
X25519_PUBLIC_KEY_BYTES = 32  # RFC 7748 section 5


def load_transport_public_key(raw: bytes, *, owner: str = "key holder") -> X25519PublicKey:
    """A key holder's X25519 transport key from its 32 raw bytes; anything else is refused
    (:class:`TransportKeyError`) naming ``owner``, at enrolment and before the ceremony seals.
    """
    if not isinstance(raw, bytes) or len(raw) != X25519_PUBLIC_KEY_BYTES:
        raise TransportKeyError(
            f"transport public key of {owner} must be {X25519_PUBLIC_KEY_BYTES} raw bytes, "
            f"got {len(raw) if isinstance(raw, bytes) else type(raw).__name__}"
        )
    return X25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True)
class TransportKey:
    _private_key: X25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> TransportKey:
        return cls(X25519PrivateKey.generate())

    @property
    def private_key(self) -> X25519PrivateKey:
        return self._private_key

    @property
    def public_bytes(self) -> bytes:
        return self._private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def save(self, directory: Path) -> Path:
        """Write ``transport.key`` (PKCS#8 PEM, 0600) and ``transport.pub`` (hex)."""
        key_path = directory / PRIVATE_FILE
        pem = self._private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        write_secret(key_path, pem)
        (directory / PUBLIC_FILE).write_text(self.public_bytes.hex() + "\n")
        return key_path

    @classmethod
    def load(cls, directory: Path) -> TransportKey:
        path = directory / PRIVATE_FILE
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except FileNotFoundError as exc:
            raise TransportKeyError(f"no transport key at {path}") from exc
        except ValueError as exc:
            raise TransportKeyError(f"{path} is not a PEM private key: {exc}") from exc
        if not isinstance(key, X25519PrivateKey):
            raise TransportKeyError(f"{path} is not an X25519 private key")
        return cls(key)
