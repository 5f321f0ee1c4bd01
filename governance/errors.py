"""The governance exception hierarchy.

Every refusal the trust makes about *who* sent something, *whether it may be believed*
and *what a policy allows* is a distinct class, so callers (the coordinator's round
logic, the node's egress guard, the auditor CLI) can log and count each reason apart
instead of parsing messages. All derive from :class:`GovernanceError`.

::

    GovernanceError
    ├── PKIError                        certificates and the trust root
    │   ├── CertificateInvalidError     malformed / missing bindings / bad CSR
    │   ├── CertificateExpiredError
    │   ├── CertificateNotYetValidError
    │   ├── WrongIssuerError            not issued (and signed) by our trust root
    │   ├── CertificateRevokedError
    │   └── TrustRootError              trust root missing, present already, or damaged
    ├── EnvelopeError                   signed message envelopes
    │   ├── MalformedEnvelopeError      not parseable / fields out of shape
    │   ├── WrongSignerError            signed by someone other than expected
    │   │   └── UnknownSignerError      signer id has no registered key
    │   ├── BadSignatureError           signature or payload digest does not verify
    │   ├── UnexpectedKindError         a valid envelope of the wrong kind
    │   ├── ReplayError                 nonce already seen for this signer
    │   ├── StaleRoundError             bound to another round than the current one
    │   └── EnvelopeTimeError
    │       ├── ExpiredEnvelopeError    older than the allowed age
    │       └── FutureTimestampError    from further in the future than clock skew allows
    └── PolicyError                     a policy file is refused
        └── PolicySignatureError        missing, malformed or wrong signature on it
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class GovernanceError(Exception):
    """Base of every error raised by ``governance``."""


# --- PKI -----------------------------------------------------------------------------


class PKIError(GovernanceError):
    """A certificate or the trust root is not acceptable."""


class CertificateInvalidError(PKIError):
    """A certificate or CSR is malformed or lacks a binding we require."""


class CertificateExpiredError(PKIError):
    """The certificate's ``notAfter`` is in the past."""


class CertificateNotYetValidError(PKIError):
    """The certificate's ``notBefore`` is in the future."""


class WrongIssuerError(PKIError):
    """The certificate was not issued and signed by the expected trust root."""


class CertificateRevokedError(PKIError):
    """The certificate's serial number is on the trust root's revocation list."""


class TrustRootError(PKIError):
    """The trust root directory is missing, already initialised, or inconsistent."""


# --- Envelopes -----------------------------------------------------------------------


class EnvelopeError(GovernanceError):
    """A signed envelope is refused."""


class MalformedEnvelopeError(EnvelopeError):
    """The envelope cannot be parsed or a field is out of shape."""


class WrongSignerError(EnvelopeError):
    """The envelope was signed by another party (or key) than the one expected."""


class UnknownSignerError(WrongSignerError):
    """The envelope names a signer for which no public key is registered."""


class BadSignatureError(EnvelopeError):
    """The signature does not verify, or the payload does not match its signed digest."""


class UnexpectedKindError(EnvelopeError):
    """A correctly signed envelope of another kind than the caller asked for."""


class ReplayError(EnvelopeError):
    """The (signer, nonce) pair has been seen before: a replayed message."""


class StaleRoundError(EnvelopeError):
    """The envelope belongs to another round than the one in progress."""


class EnvelopeTimeError(EnvelopeError):
    """The envelope's timestamp is outside the accepted window."""


class ExpiredEnvelopeError(EnvelopeTimeError):
    """The envelope is older than the maximum accepted age."""


class FutureTimestampError(EnvelopeTimeError):
    """The envelope is dated further in the future than the allowed clock skew."""


# --- Policies ------------------------------------------------------------------------


class PolicyError(GovernanceError):
    """A policy is refused; ``problems`` lists ``"field.path: reason"`` strings."""

    def __init__(
        self, message: str, *, path: Path | None = None, problems: Sequence[str] = ()
    ) -> None:
        self.path = path
        self.problems = tuple(problems)
        where = f"{path}: " if path is not None else ""
        detail = "".join(f"\n  - {p}" for p in self.problems)
        super().__init__(f"{where}{message}{detail}")


class PolicySignatureError(PolicyError):
    """The policy's detached signature is missing, malformed or not the expected signer's."""
