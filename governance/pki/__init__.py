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

from governance.pki.common import (
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
    PKI_DIRNAME,
    HomeLayout,
    check_jurisdiction,
    check_party_id,
)
from governance.pki.enrolment import (
    ENROLMENT_KIND,
    EnrolmentRequest,
    make_enrolment_request,
    read_enrolment_request,
)
from governance.pki.files import (
    certificate_fingerprint,
    certificate_pem,
    generate_tls_key,
    load_certificate,
    load_private_key,
    make_csr,
    save_certificate,
    save_private_key,
)
from governance.pki.root import TrustRoot
from governance.pki.verify import EnrolledNode, load_crl, node_bindings, verify_node_certificate

__all__ = [
    "BACKDATE",
    "CA_CERT_FILE",
    "CA_KEY_FILE",
    "CA_VALIDITY_DAYS",
    "CRL_FILE",
    "CRL_VALIDITY_DAYS",
    "DEFAULT_LEAF_DAYS",
    "ENROLMENT_KIND",
    "IDENTITY_URI_PREFIX",
    "ISSUED_DIRNAME",
    "NODE_URI_PREFIX",
    "PKI_DIRNAME",
    "EnrolledNode",
    "EnrolmentRequest",
    "HomeLayout",
    "TrustRoot",
    "certificate_fingerprint",
    "certificate_pem",
    "check_jurisdiction",
    "check_party_id",
    "generate_tls_key",
    "load_certificate",
    "load_crl",
    "load_private_key",
    "make_csr",
    "make_enrolment_request",
    "node_bindings",
    "read_enrolment_request",
    "save_certificate",
    "save_private_key",
    "verify_node_certificate",
]
