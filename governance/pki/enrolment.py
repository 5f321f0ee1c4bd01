"""Enrolment requests: signed by the identity key they ask to have certified."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from governance.envelope import Envelope, key_id, open_envelope, seal
from governance.errors import (
    CertificateInvalidError,
)
from governance.identity import Identity
from governance.pki.common import check_jurisdiction, check_party_id
from governance.pki.files import make_csr

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
