"""Errors of CKKS key handling, ciphertexts and the key ceremony.

::

    GovernanceError
    └── CkksError
        ├── CkksParameterError            parameters not the ones agreed, or not secure
        │   └── CiphertextParameterError  a ciphertext that does not fit the context (garbage)
        ├── KeyIdMismatchError            ciphertext or context under another key
        ├── VectorShapeError              lengths differ or exceed what a vector may hold
        ├── SecretKeyError
        │   ├── MissingSecretKeyError     decrypting with a public-only context
        │   ├── UnexpectedSecretKeyError  "public" context bytes that carry a secret key
        │   └── SecretExportRefusedError  exporting a secret key without saying so
        ├── TransportKeyError             a transport key file is missing or wrong
        └── KeyPackageError               a ceremony's key package is refused
            ├── MalformedKeyPackageError  not parseable / fields out of shape
            ├── UnsignedKeyPackageError   no signature at all
            ├── KeyPackageSignatureError  signature invalid: wrong signer or altered package
            ├── NotAddressedToNodeError   sealed to another node or transport key
            ├── KeyPackageDecryptionError HPKE opening failed
            ├── CustodyError              no key held for a period / key id
            └── NotPolicyHoldersError     ceremony not by, or not sealed to, the policy's holders
"""

from __future__ import annotations

from governance.errors import GovernanceError


class CkksError(GovernanceError):
    """Base of every CKKS error."""


class CkksParameterError(CkksError, ValueError):
    """Encryption parameters differ from the agreed ones or fall below 128-bit security."""


class CiphertextParameterError(CkksParameterError):
    """A ciphertext cannot be loaded into, or does not match, the expected context."""


class KeyIdMismatchError(CkksError):
    """A ciphertext or context carries another key id than the one it is used with."""


class VectorShapeError(CkksError, ValueError):
    """Vector lengths differ, or a vector is empty or not finite."""


class SecretKeyError(CkksError):
    """A secret key is missing where needed or present where it must not be."""


class MissingSecretKeyError(SecretKeyError):
    """Decryption was asked of a context without the secret key."""


class UnexpectedSecretKeyError(SecretKeyError):
    """Bytes that should hold a public context hold a secret key."""


class SecretExportRefusedError(SecretKeyError):
    """The secret key is serialized only when the caller explicitly asks for it."""


class TransportKeyError(CkksError):
    """A node's X25519 transport key is missing, unreadable or of the wrong type."""


class KeyPackageError(CkksError):
    """A key package from a ceremony is refused."""


class MalformedKeyPackageError(KeyPackageError):
    """The key package cannot be parsed or a field is out of shape."""


class UnsignedKeyPackageError(KeyPackageError):
    """The key package carries no signature."""


class KeyPackageSignatureError(KeyPackageError):
    """The signature does not verify under the trusted ceremony key."""


class NotAddressedToNodeError(KeyPackageError):
    """The key package is addressed to another node or transport key."""


class KeyPackageDecryptionError(KeyPackageError):
    """The sealed key material does not open with this node's transport key."""


class CustodyError(CkksError):
    """A node holds no key for the period or key id asked for."""


class NotPolicyHoldersError(KeyPackageError):
    """A ceremony by a node the trust policy names as no holder of the key's group, or
    sealed to another set than that group's active holders."""
