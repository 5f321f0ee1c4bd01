"""TLS keys, certificates and CSRs on disk: private keys owner-only, never logged."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from governance.errors import (
    CertificateInvalidError,
)
from governance.identity import write_secret
from governance.pki.common import check_party_id

# --- keys and files ------------------------------------------------------------------


def generate_tls_key() -> ec.EllipticCurvePrivateKey:
    """A fresh ECDSA P-256 key for TLS (the curve gRPC's BoringSSL accepts everywhere)."""
    return ec.generate_private_key(ec.SECP256R1())


def save_private_key(path: Path, key: ec.EllipticCurvePrivateKey) -> Path:
    """Write ``key`` as unencrypted PKCS#8 PEM, owner-only (0600)."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_secret(path, pem)
    return path


def load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """A party's TLS key from its PEM file; refuses (:class:`CertificateInvalidError`) anything
    but ECDSA P-256, the only curve the trust's certificates use.
    """
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise CertificateInvalidError(f"{path} is not an ECDSA P-256 private key")
    return key


def certificate_pem(cert: x509.Certificate) -> bytes:
    """A certificate as PEM: how certificates are stored and handed over in enrolment responses."""
    return cert.public_bytes(serialization.Encoding.PEM)


def save_certificate(path: Path, cert: x509.Certificate) -> Path:
    """Write a certificate as PEM, creating its directory; certificates are public, so unlike
    private keys they are not written owner-only.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(certificate_pem(cert))
    return path


def load_certificate(path: Path) -> x509.Certificate:
    """A certificate from a PEM file; a file that is not one is refused
    (:class:`CertificateInvalidError`) naming the path.
    """
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except ValueError as exc:
        raise CertificateInvalidError(f"{path} is not a PEM certificate: {exc}") from exc


def certificate_fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 over the DER certificate, hex: what operators compare out of band."""
    return cert.fingerprint(hashes.SHA256()).hex()


def make_csr(
    private_key: ec.EllipticCurvePrivateKey, common_name: str
) -> x509.CertificateSigningRequest:
    """A CSR made by the party that keeps ``private_key``; the trust root adds the bindings."""
    check_party_id(common_name)
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(private_key, hashes.SHA256())
    )


def _san_for_hosts(hosts: Iterable[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in dict.fromkeys(hosts):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names
