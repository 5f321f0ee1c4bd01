"""Checking a node certificate against the trust root and the revocation list."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from governance.errors import (
    CertificateExpiredError,
    CertificateInvalidError,
    CertificateNotYetValidError,
    CertificateRevokedError,
    WrongIssuerError,
)
from governance.pki.common import (
    _ED25519_PUBLIC_KEY_LEN,
    IDENTITY_URI_PREFIX,
    NODE_URI_PREFIX,
    _utcnow,
)

# --- verification --------------------------------------------------------------------


@dataclass(frozen=True)
class EnrolledNode:
    """What a verified node certificate tells us: who, where, and which signing key."""

    node_id: str
    jurisdiction: str
    identity_public_key: bytes
    serial_number: int


def _check_validity(cert: x509.Certificate, now: dt.datetime, what: str) -> None:
    if now < cert.not_valid_before_utc:
        raise CertificateNotYetValidError(
            f"{what} (serial {cert.serial_number:x}) is not valid before "
            f"{cert.not_valid_before_utc.isoformat()}"
        )
    if now > cert.not_valid_after_utc:
        raise CertificateExpiredError(
            f"{what} (serial {cert.serial_number:x}) expired at "
            f"{cert.not_valid_after_utc.isoformat()}"
        )


def _check_issued_by(cert: x509.Certificate, root_cert: x509.Certificate) -> None:
    if cert.issuer != root_cert.subject:
        raise WrongIssuerError(
            f"certificate (serial {cert.serial_number:x}) was issued by "
            f"{cert.issuer.rfc4514_string()!r}, not by the trust root "
            f"{root_cert.subject.rfc4514_string()!r}"
        )
    try:
        cert.verify_directly_issued_by(root_cert)
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise WrongIssuerError(
            f"certificate (serial {cert.serial_number:x}) is not signed by the trust root: "
            f"{exc or type(exc).__name__}"
        ) from exc


def node_bindings(cert: x509.Certificate) -> EnrolledNode:
    """Read node id, jurisdiction and identity key from a node certificate (no trust check)."""
    serial = cert.serial_number
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    jurs = cert.subject.get_attributes_for_oid(NameOID.JURISDICTION_COUNTRY_NAME)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound as exc:
        raise CertificateInvalidError(f"certificate {serial:x} has no subjectAltName") from exc
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    node_uris = [u.removeprefix(NODE_URI_PREFIX) for u in uris if u.startswith(NODE_URI_PREFIX)]
    key_uris = [
        u.removeprefix(IDENTITY_URI_PREFIX) for u in uris if u.startswith(IDENTITY_URI_PREFIX)
    ]
    if len(cns) != 1 or len(node_uris) != 1 or cns[0].value != node_uris[0]:
        raise CertificateInvalidError(
            f"certificate {serial:x} must carry one node id, identical in CN and "
            f"{NODE_URI_PREFIX}<id>"
        )
    if len(jurs) != 1:
        raise CertificateInvalidError(f"certificate {serial:x} has no jurisdiction attribute")
    if len(key_uris) != 1:
        raise CertificateInvalidError(
            f"certificate {serial:x} must carry exactly one {IDENTITY_URI_PREFIX}<hex> URI"
        )
    try:
        identity_key = bytes.fromhex(key_uris[0])
    except ValueError as exc:
        raise CertificateInvalidError(f"certificate {serial:x}: identity key is not hex") from exc
    if len(identity_key) != _ED25519_PUBLIC_KEY_LEN:
        raise CertificateInvalidError(
            f"certificate {serial:x}: identity key must be 32 bytes (Ed25519)"
        )
    return EnrolledNode(
        node_id=str(node_uris[0]),
        jurisdiction=str(jurs[0].value),
        identity_public_key=identity_key,
        serial_number=serial,
    )


def verify_node_certificate(
    cert: x509.Certificate,
    root_cert: x509.Certificate,
    now: dt.datetime | None = None,
    revoked: Collection[int] = (),
) -> EnrolledNode:
    """Check ``cert`` against the trust root and return the bindings it vouches for.

    Checks, each with its own error: issuer and signature (:class:`WrongIssuerError`),
    validity window of the root and the leaf (:class:`CertificateNotYetValidError`,
    :class:`CertificateExpiredError`), revocation (:class:`CertificateRevokedError`) and
    the presence of node bindings (:class:`CertificateInvalidError`).
    """
    now = now or _utcnow()
    _check_issued_by(cert, root_cert)
    _check_validity(root_cert, now, "trust root certificate")
    _check_validity(cert, now, "node certificate")
    if cert.serial_number in revoked:
        raise CertificateRevokedError(f"certificate serial {cert.serial_number:x} is revoked")
    try:
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound as exc:
        raise CertificateInvalidError("node certificate lacks basicConstraints") from exc
    if basic.ca:
        raise CertificateInvalidError("a CA certificate cannot be a node certificate")
    return node_bindings(cert)


def load_crl(path: Path, root_cert: x509.Certificate) -> frozenset[int]:
    """Revoked serials from a CRL file, after checking the trust root signed it."""
    if not path.exists():
        return frozenset()
    crl = x509.load_pem_x509_crl(path.read_bytes())
    public_key = root_cert.public_key()
    if crl.issuer != root_cert.subject or not (
        isinstance(public_key, ec.EllipticCurvePublicKey) and crl.is_signature_valid(public_key)
    ):
        raise WrongIssuerError(f"{path} is not a revocation list signed by the trust root")
    return frozenset(entry.serial_number for entry in crl)
