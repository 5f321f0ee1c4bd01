"""The trust root: issues node and server certificates, revokes them (signed CRL)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from governance.errors import (
    CertificateInvalidError,
    TrustRootError,
)
from governance.pki.common import (
    _ED25519_PUBLIC_KEY_LEN,
    BACKDATE,
    CA_CERT_FILE,
    CA_KEY_FILE,
    CA_VALIDITY_DAYS,
    CRL_FILE,
    CRL_VALIDITY_DAYS,
    DEFAULT_LEAF_DAYS,
    IDENTITY_URI_PREFIX,
    ISSUED_DIRNAME,
    NODE_URI_PREFIX,
    _utcnow,
    check_jurisdiction,
    check_party_id,
)
from governance.pki.enrolment import EnrolmentRequest
from governance.pki.files import (
    _san_for_hosts,
    generate_tls_key,
    load_certificate,
    load_private_key,
    save_certificate,
    save_private_key,
)
from governance.pki.verify import load_crl

# --- the trust root ------------------------------------------------------------------


class TrustRoot:
    """The self-signed CA that vouches for every TLS certificate in the trust.

    It lives in the coordinator's home and is, in spirit, kept offline: it only signs
    enrolments, server certificates and revocation lists.
    """

    def __init__(
        self, directory: Path, key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate
    ) -> None:
        self.directory = directory
        self._key = key
        self.certificate = certificate

    def __repr__(self) -> str:
        return f"TrustRoot(directory={str(self.directory)!r}, subject={self.subject!r})"

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    @classmethod
    def create(
        cls, directory: Path, name: str = "GCDT Trust Root", days: int = CA_VALIDITY_DAYS
    ) -> TrustRoot:
        """Create a new trust root in ``directory``; refuses to overwrite an existing one."""
        if (directory / CA_KEY_FILE).exists() or (directory / CA_CERT_FILE).exists():
            raise TrustRootError(f"a trust root already exists in {directory}")
        key = generate_tls_key()
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Global Carbon Data Trust"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        now = _utcnow()
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)  # the root key's directory: owner-only, like GCDT_HOME
        save_private_key(directory / CA_KEY_FILE, key)
        save_certificate(directory / CA_CERT_FILE, cert)
        root = cls(directory, key, cert)
        root._write_crl(())
        return root

    @classmethod
    def load(cls, directory: Path) -> TrustRoot:
        key_path, cert_path = directory / CA_KEY_FILE, directory / CA_CERT_FILE
        if not key_path.exists() or not cert_path.exists():
            raise TrustRootError(
                f"no trust root in {directory} (run `gcdt-coordinator init` first)"
            )
        key = load_private_key(key_path)
        cert = load_certificate(cert_path)
        if cert.public_key() != key.public_key():
            raise TrustRootError(f"{key_path} does not match {cert_path}")
        return cls(directory, key, cert)

    # -- issuing --

    def _leaf_builder(
        self,
        csr: x509.CertificateSigningRequest,
        subject: x509.Name,
        days: int,
        now: dt.datetime | None,
    ) -> x509.CertificateBuilder:
        if not csr.is_signature_valid:
            raise CertificateInvalidError("the CSR's self-signature does not verify")
        public_key = csr.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
            public_key.curve, ec.SECP256R1
        ):
            raise CertificateInvalidError("TLS keys must be ECDSA P-256 (what gRPC accepts)")
        if days <= 0:
            raise CertificateInvalidError(f"validity must be at least one day, got {days}")
        now = now or _utcnow()
        ca_public = self._key.public_key()
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), False)
        )

    def _sign_and_record(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        cert = builder.sign(self._key, hashes.SHA256())
        save_certificate(self.directory / ISSUED_DIRNAME / f"{cert.serial_number:x}.pem", cert)
        return cert

    def issue_node_certificate(
        self,
        csr: x509.CertificateSigningRequest,
        node_id: str,
        jurisdiction: str,
        identity_public_key: bytes,
        days: int = DEFAULT_LEAF_DAYS,
        *,
        server_hosts: Sequence[str] = (),
        now: dt.datetime | None = None,
    ) -> x509.Certificate:
        """Enrol a node: bind its id, jurisdiction and Ed25519 identity key to its TLS key.

        The node keeps its TLS private key; only the CSR travels. ``server_hosts`` also
        makes the certificate usable by a gRPC server on the node at those names.
        """
        check_party_id(node_id)
        check_jurisdiction(jurisdiction)
        if len(identity_public_key) != _ED25519_PUBLIC_KEY_LEN:
            raise CertificateInvalidError("identity public key must be 32 raw bytes (Ed25519)")
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.JURISDICTION_COUNTRY_NAME, jurisdiction),
                x509.NameAttribute(NameOID.COMMON_NAME, node_id),
            ]
        )
        names: list[x509.GeneralName] = [
            x509.UniformResourceIdentifier(NODE_URI_PREFIX + node_id),
            x509.UniformResourceIdentifier(IDENTITY_URI_PREFIX + identity_public_key.hex()),
            *_san_for_hosts(server_hosts),
        ]
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
        if server_hosts:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        builder = (
            self._leaf_builder(csr, subject, days, now)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        )
        return self._sign_and_record(builder)

    def enrol(self, request: EnrolmentRequest, days: int = DEFAULT_LEAF_DAYS) -> x509.Certificate:
        """Issue the node certificate an (approved) enrolment request asks for."""
        return self.issue_node_certificate(
            request.csr,
            request.node_id,
            request.jurisdiction,
            request.identity_public_key,
            days,
        )

    def issue_server_certificate(
        self,
        csr: x509.CertificateSigningRequest,
        server_id: str,
        hosts: Sequence[str] = ("localhost", "127.0.0.1"),
        days: int = DEFAULT_LEAF_DAYS,
        *,
        now: dt.datetime | None = None,
    ) -> x509.Certificate:
        """A TLS server certificate for the coordinator, valid for ``hosts`` (DNS or IP)."""
        check_party_id(server_id)
        if not hosts:
            raise CertificateInvalidError("a server certificate needs at least one host name")
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, server_id)])
        builder = (
            self._leaf_builder(csr, subject, days, now)
            .add_extension(x509.SubjectAlternativeName(_san_for_hosts(hosts)), critical=False)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
        )
        return self._sign_and_record(builder)

    # -- revocation --

    @property
    def crl_path(self) -> Path:
        return self.directory / CRL_FILE

    def revoked_serials(self) -> frozenset[int]:
        return load_crl(self.crl_path, self.certificate)

    def revoke(self, serial: int) -> frozenset[int]:
        """Add ``serial`` to the signed revocation list; returns every revoked serial."""
        serials = self.revoked_serials() | {serial}
        self._write_crl(sorted(serials))
        return serials

    def _write_crl(self, serials: Iterable[int]) -> None:
        now = _utcnow()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.certificate.subject)
            .last_update(now - BACKDATE)
            .next_update(now + dt.timedelta(days=CRL_VALIDITY_DAYS))
        )
        for serial in serials:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
            )
        crl = builder.sign(self._key, hashes.SHA256())
        self.crl_path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
