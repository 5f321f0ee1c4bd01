"""Trust root, enrolment certificates and their verification."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from governance.envelope import Envelope, key_id, seal
from governance.errors import (
    CertificateExpiredError,
    CertificateInvalidError,
    CertificateNotYetValidError,
    CertificateRevokedError,
    PKIError,
    TrustRootError,
    WrongIssuerError,
    WrongSignerError,
)
from governance.identity import Identity
from governance.pki import (
    CA_KEY_FILE,
    TrustRoot,
    generate_tls_key,
    load_certificate,
    load_crl,
    make_csr,
    make_enrolment_request,
    node_bindings,
    read_enrolment_request,
    save_private_key,
    verify_node_certificate,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def root(tmp_path: Path) -> TrustRoot:
    return TrustRoot.create(tmp_path / "pki")


@pytest.fixture
def node_identity() -> Identity:
    return Identity.generate("node-de-1")


def enrol(root: TrustRoot, identity: Identity, **kwargs: object) -> x509.Certificate:
    csr = make_csr(generate_tls_key(), identity.party_id)
    return root.issue_node_certificate(
        csr,
        identity.party_id,
        "DE",
        identity.public_key,
        **kwargs,  # type: ignore[arg-type]
    )


def test_valid_node_certificate_yields_its_bindings(
    root: TrustRoot, node_identity: Identity
) -> None:
    cert = enrol(root, node_identity)
    enrolled = verify_node_certificate(cert, root.certificate, revoked=root.revoked_serials())
    assert enrolled.node_id == "node-de-1"
    assert enrolled.jurisdiction == "DE"
    assert enrolled.identity_public_key == node_identity.public_key
    assert enrolled.serial_number == cert.serial_number
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "node-de-1"
    # The issued certificate is also kept by the trust root for audit.
    kept = load_certificate(root.directory / "issued" / f"{cert.serial_number:x}.pem")
    assert kept == cert


def test_trust_root_round_trips_and_refuses_overwrite(root: TrustRoot) -> None:
    loaded = TrustRoot.load(root.directory)
    assert loaded.certificate == root.certificate
    with pytest.raises(TrustRootError, match="already exists"):
        TrustRoot.create(root.directory)


def test_loading_a_missing_trust_root_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TrustRootError, match="gcdt-coordinator init"):
        TrustRoot.load(tmp_path / "nowhere")


def test_every_private_key_written_is_owner_only(
    tmp_path: Path, root: TrustRoot, node_identity: Identity
) -> None:
    tls_key = save_private_key(tmp_path / "node" / "tls.key", generate_tls_key())
    identity_key = node_identity.save(tmp_path / "node")
    assert mode(root.directory) == 0o700
    for path in (root.directory / CA_KEY_FILE, tls_key, identity_key):
        assert mode(path) == 0o600, path
    assert "PRIVATE KEY" not in repr(root)


def test_expired_certificate(root: TrustRoot, node_identity: Identity) -> None:
    cert = enrol(root, node_identity, days=30)
    later = cert.not_valid_after_utc + dt.timedelta(seconds=1)
    with pytest.raises(CertificateExpiredError) as info:
        verify_node_certificate(cert, root.certificate, now=later)
    assert info.type is CertificateExpiredError


def test_not_yet_valid_certificate(root: TrustRoot, node_identity: Identity) -> None:
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    cert = enrol(root, node_identity, now=future)
    with pytest.raises(CertificateNotYetValidError) as info:
        verify_node_certificate(cert, root.certificate)
    assert info.type is CertificateNotYetValidError
    # ... and it becomes valid once its time comes.
    assert verify_node_certificate(cert, root.certificate, now=future).node_id == "node-de-1"


def test_revoked_certificate(root: TrustRoot, node_identity: Identity) -> None:
    cert = enrol(root, node_identity)
    other = enrol(root, Identity.generate("node-de-2"))
    assert root.revoke(cert.serial_number) == {cert.serial_number}
    # The CRL on disk is what nodes and auditors read; it is checked against the root.
    revoked = load_crl(root.crl_path, root.certificate)
    assert revoked == {cert.serial_number}
    with pytest.raises(CertificateRevokedError) as info:
        verify_node_certificate(cert, root.certificate, revoked=revoked)
    assert info.type is CertificateRevokedError
    assert verify_node_certificate(other, root.certificate, revoked=revoked).node_id == "node-de-2"
    # Revocation survives reloading the trust root.
    assert TrustRoot.load(root.directory).revoked_serials() == {cert.serial_number}


@pytest.mark.parametrize("same_name", [True, False])
def test_wrong_issuer(
    tmp_path: Path, root: TrustRoot, node_identity: Identity, same_name: bool
) -> None:
    impostor = TrustRoot.create(
        tmp_path / "impostor", name="GCDT Trust Root" if same_name else "Someone Else"
    )
    cert = enrol(impostor, node_identity)
    with pytest.raises(WrongIssuerError) as info:
        verify_node_certificate(cert, root.certificate)
    assert info.type is WrongIssuerError


def test_crl_signed_by_another_root_is_refused(tmp_path: Path, root: TrustRoot) -> None:
    impostor = TrustRoot.create(tmp_path / "impostor")
    impostor.revoke(1234)
    with pytest.raises(WrongIssuerError):
        load_crl(impostor.crl_path, root.certificate)


def test_certificate_errors_are_distinct_classes() -> None:
    classes = [
        CertificateExpiredError,
        CertificateNotYetValidError,
        CertificateRevokedError,
        WrongIssuerError,
        CertificateInvalidError,
    ]
    for cls in classes:
        assert issubclass(cls, PKIError)
        assert not any(issubclass(cls, other) for other in classes if other is not cls)


def test_enrolment_refuses_bad_bindings(root: TrustRoot, node_identity: Identity) -> None:
    csr = make_csr(generate_tls_key(), "node-de-1")
    with pytest.raises(CertificateInvalidError, match="jurisdiction"):
        root.issue_node_certificate(csr, "node-de-1", "de", node_identity.public_key)
    with pytest.raises(CertificateInvalidError, match="32 raw bytes"):
        root.issue_node_certificate(csr, "node-de-1", "DE", b"short")
    with pytest.raises(CertificateInvalidError, match="party id"):
        root.issue_node_certificate(csr, "node/../x", "DE", node_identity.public_key)


def test_enrolment_refuses_a_non_p256_tls_key(root: TrustRoot, node_identity: Identity) -> None:
    for key in (ec.generate_private_key(ec.SECP384R1()), ed25519.Ed25519PrivateKey.generate()):
        builder = x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "node-de-1")])
        )
        algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
        csr = builder.sign(key, algorithm)
        with pytest.raises(CertificateInvalidError, match="P-256"):
            root.issue_node_certificate(csr, "node-de-1", "DE", node_identity.public_key)


def test_server_certificate_is_not_a_node_certificate(root: TrustRoot) -> None:
    csr = make_csr(generate_tls_key(), "coordinator")
    cert = root.issue_server_certificate(csr, "coordinator", ["localhost", "127.0.0.1", "gcdt.org"])
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "gcdt.org"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    with pytest.raises(CertificateInvalidError):
        node_bindings(cert)
    with pytest.raises(CertificateInvalidError, match="CA certificate"):
        verify_node_certificate(root.certificate, root.certificate)


def test_enrolment_request_proves_possession_and_yields_a_certificate(
    root: TrustRoot, node_identity: Identity
) -> None:
    tls_key = generate_tls_key()
    wire = make_enrolment_request(node_identity, tls_key, "DE").to_bytes()
    request = read_enrolment_request(Envelope.from_bytes(wire))
    assert request.identity_key_id == key_id(node_identity.public_key)
    cert = root.enrol(request)
    assert cert.public_key() == tls_key.public_key()
    enrolled = verify_node_certificate(cert, root.certificate)
    assert (enrolled.node_id, enrolled.jurisdiction) == ("node-de-1", "DE")
    assert enrolled.identity_public_key == node_identity.public_key


def test_enrolment_request_for_someone_elses_key_is_refused(node_identity: Identity) -> None:
    mallory = Identity.generate("node-de-1")
    body = make_enrolment_request(mallory, generate_tls_key(), "DE").to_json()
    # Mallory asks for a certificate on the honest node's identity key: no proof of possession.
    body["payload"]["identity_public_key"] = node_identity.public_key.hex()
    with pytest.raises(WrongSignerError):
        read_enrolment_request(Envelope.from_json(body))


def test_enrolment_request_with_a_foreign_csr_is_refused(node_identity: Identity) -> None:
    other_csr = make_csr(generate_tls_key(), "node-xx")
    body = make_enrolment_request(node_identity, generate_tls_key(), "DE").to_json()
    payload = dict(body["payload"], csr_pem=other_csr.public_bytes(Encoding.PEM).decode())
    tampered = seal(node_identity, "enrolment", None, payload)
    with pytest.raises(CertificateInvalidError, match="CN=node-de-1"):
        read_enrolment_request(tampered)
