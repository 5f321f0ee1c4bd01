"""The trust root and the X.509 certificates used for mutual TLS.

Why two key types: gRPC's TLS stack (BoringSSL) reliably accepts ECDSA P-256 certificates
for mutual TLS, Ed25519 certificates not, so the CA, server and node TLS keys are P-256.
A party's *identity* (what signs envelopes, attestations and log entries) stays its
Ed25519 :class:`governance.identity.Identity`; enrolment binds that key, the node id and
the node's jurisdiction into the node's TLS certificate, so the handshake and the
signatures name the same party.

Bindings in a node certificate:

* subject ``CN`` = node id and ``jurisdictionCountryName`` (OID 1.3.6.1.4.1.311.60.2.1.3,
  the X.520 attribute made for "the jurisdiction an entity is registered in") = the
  node's ISO 3166-1 alpha-2 jurisdiction;
* SAN URIs ``gcdt://node/<node id>`` and ``gcdt://identity/ed25519/<hex public key>``.

Layout under ``<GCDT_HOME>/pki/``: ``ca.key`` (0600), ``ca.crt``, ``crl.pem`` (the signed
revocation list, the one source of truth for revoked serials) and ``issued/<serial>.pem``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from governance.envelope import Envelope, key_id, open_envelope, seal
from governance.errors import (
    CertificateExpiredError,
    CertificateInvalidError,
    CertificateNotYetValidError,
    CertificateRevokedError,
    TrustRootError,
    WrongIssuerError,
)
from governance.identity import Identity, write_secret

PKI_DIRNAME = "pki"
CA_KEY_FILE = "ca.key"
CA_CERT_FILE = "ca.crt"
CRL_FILE = "crl.pem"
ISSUED_DIRNAME = "issued"

NODE_URI_PREFIX = "gcdt://node/"
IDENTITY_URI_PREFIX = "gcdt://identity/ed25519/"

CA_VALIDITY_DAYS = 3650
DEFAULT_LEAF_DAYS = 365
CRL_VALIDITY_DAYS = 30
#: Backdating tolerates small clock differences between issuer and verifier.
BACKDATE = dt.timedelta(minutes=5)

_PARTY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")
_JURISDICTION = re.compile(r"^[A-Z]{2}$")
_ED25519_PUBLIC_KEY_LEN = 32


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def check_party_id(party_id: str) -> str:
    """A node or coordinator id: 1-128 chars of letters, digits, ``_.:-`` (safe in a URI)."""
    if not _PARTY_ID.match(party_id):
        raise CertificateInvalidError(
            f"party id {party_id!r} must be 1-128 letters, digits or '_.:-', "
            "starting with a letter or digit"
        )
    return party_id


def check_jurisdiction(jurisdiction: str) -> str:
    if not _JURISDICTION.match(jurisdiction):
        raise CertificateInvalidError(
            f"jurisdiction {jurisdiction!r} must be an ISO 3166-1 alpha-2 code in upper case"
        )
    return jurisdiction


@dataclass(frozen=True)
class HomeLayout:
    """Where a party (coordinator or node) keeps identity, TLS and policy files in GCDT_HOME.

    ``pki/`` (the trust root) exists only on the coordinator; ``tls/ca.crt`` is every
    party's copy of the trust root certificate, what it verifies its peers against.
    """

    home: Path

    @property
    def pki_dir(self) -> Path:
        return self.home / PKI_DIRNAME

    @property
    def identity_dir(self) -> Path:
        return self.home / "identity"

    @property
    def tls_dir(self) -> Path:
        return self.home / "tls"

    @property
    def tls_key(self) -> Path:
        return self.tls_dir / "key.pem"

    @property
    def tls_cert(self) -> Path:
        return self.tls_dir / "cert.pem"

    @property
    def ca_cert(self) -> Path:
        return self.tls_dir / CA_CERT_FILE

    @property
    def policy_dir(self) -> Path:
        return self.home / "policies"

    @property
    def trust_policy(self) -> Path:
        return self.policy_dir / "trust.toml"

    @property
    def node_policy(self) -> Path:
        return self.policy_dir / "node.toml"


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
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise CertificateInvalidError(f"{path} is not an ECDSA P-256 private key")
    return key


def certificate_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def save_certificate(path: Path, cert: x509.Certificate) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(certificate_pem(cert))
    return path


def load_certificate(path: Path) -> x509.Certificate:
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


# --- enrolment requests --------------------------------------------------------------

ENROLMENT_KIND = "enrolment"


def make_enrolment_request(
    identity: Identity, tls_key: ec.EllipticCurvePrivateKey, jurisdiction: str
) -> Envelope:
    """What a node sends to enrol: its CSR and bindings, sealed with its identity key.

    The envelope is signed by the very Ed25519 key it asks to have certified, which
    proves the node holds it; the CSR's own signature proves it holds the TLS key.
    """
    check_jurisdiction(jurisdiction)
    csr = make_csr(tls_key, identity.party_id)
    payload = {
        "node_id": identity.party_id,
        "jurisdiction": jurisdiction,
        "identity_public_key": identity.public_key.hex(),
        "csr_pem": csr.public_bytes(serialization.Encoding.PEM).decode("ascii"),
    }
    return seal(identity, ENROLMENT_KIND, None, payload)


@dataclass(frozen=True)
class EnrolmentRequest:
    """A verified enrolment request, ready for the operator's approval and issuance."""

    node_id: str
    jurisdiction: str
    identity_public_key: bytes
    csr: x509.CertificateSigningRequest

    @property
    def identity_key_id(self) -> str:
        """What the operator compares out of band with the node before approving."""
        return key_id(self.identity_public_key)


def read_enrolment_request(
    envelope: Envelope, *, max_age: dt.timedelta | None = None, now: dt.datetime | None = None
) -> EnrolmentRequest:
    """Check an enrolment request's proofs of possession and bindings (not its approval)."""
    payload = envelope.payload
    if not isinstance(payload, dict) or set(payload) != {
        "node_id",
        "jurisdiction",
        "identity_public_key",
        "csr_pem",
    }:
        raise CertificateInvalidError(
            "an enrolment request carries exactly node_id, "
            "jurisdiction, identity_public_key and csr_pem"
        )
    try:
        identity_key = bytes.fromhex(str(payload["identity_public_key"]))
        csr = x509.load_pem_x509_csr(str(payload["csr_pem"]).encode("ascii"))
    except ValueError as exc:
        raise CertificateInvalidError(f"enrolment request is malformed: {exc}") from exc
    node_id = check_party_id(str(payload["node_id"]))
    if envelope.signer_id != node_id:
        raise CertificateInvalidError(
            f"enrolment for {node_id!r} was signed by {envelope.signer_id!r}"
        )
    # Self-signed by the key it presents: proof of possession of the identity key.
    open_envelope(
        envelope,
        identity_key,
        nonce_store=None,
        max_age=max_age,
        expected_kind=ENROLMENT_KIND,
        now=now,
    )
    cns = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if [c.value for c in cns] != [node_id]:
        raise CertificateInvalidError(f"the CSR's subject is not CN={node_id}")
    if not csr.is_signature_valid:
        raise CertificateInvalidError("the CSR's self-signature does not verify")
    return EnrolmentRequest(
        node_id=node_id,
        jurisdiction=check_jurisdiction(str(payload["jurisdiction"])),
        identity_public_key=identity_key,
        csr=csr,
    )
